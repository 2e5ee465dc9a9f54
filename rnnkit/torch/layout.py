"""The one place that knows torch.nn's weight layout: pure conversions, layer by layer.

rnnkit keeps one layout everywhere: ``Wx (D, G*H)``, ``Wh (H, G*H)``, ``b (G*H,)``
(+ ``b_hn (H,)`` for the GRU), so the math reads ``x @ Wx + h_prev @ Wh + b``.
``torch.nn.RNN/LSTM/GRU`` store, per layer k, ``weight_ih_lk (G*H, D)``,
``weight_hh_lk (G*H, H)`` and two biases ``bias_ih_lk``, ``bias_hh_lk`` (G*H,), in the
same gate order (LSTM i, f, g, o; GRU r, z, n). Converting is therefore a transpose,
plus this bias rule:

- RNN, LSTM: the two biases are always added, so ``b = bias_ih + bias_hh``; going back,
  ``bias_ih = b`` and ``bias_hh = 0``.
- GRU: r and z add both biases, but the candidate n keeps the hidden-side one inside
  ``r * (h @ Wh_n + b_hn)``. So ``b = bias_ih + [bias_hh_r, bias_hh_z, 0]`` and
  ``b_hn = bias_hh_n``; going back, ``bias_ih = b`` and ``bias_hh = [0, 0, b_hn]``.

What is exact: NumPy -> torch -> NumPy returns the very same numbers. torch -> NumPy
-> torch keeps every weight and ``bias_ih + bias_hh`` exactly (for the GRU, its r and z
blocks, and ``bias_ih_n``, ``bias_hh_n`` separately), but not how a sum was split
between the two biases: the model computes the same function, up to the rounding of
one addition.

Two representations, one set of numbers: a NumPy params dict per layer
(``{"Wx", "Wh", "b"[, "b_hn"]}``) and ``torch.nn`` state dicts. A bidirectional model has
a dict per layer and direction, in torch.nn's order ``[l0, l0_reverse, l1, ...]``; the
reverse direction's keys end in ``_reverse`` (``weight_ih_l0_reverse``), and layers above
the first read ``2H`` inputs. This module imports nothing
else from ``rnnkit.torch``: the cells call it for ``fast=True``, and ``rnnkit.torch.convert``
builds whole modules on it.
"""

import numpy as np
import torch
from torch import nn

from rnnkit._checks import check_float, check_shape, dims_from

__all__ = [
    "GATES",
    "to_torch_layout",
    "from_torch_layout",
    "numpy_to_state_dict",
    "state_dict_to_numpy",
    "state_dict_to_layers",
    "param_names",
]

GATES = {"rnn": 1, "lstm": 4, "gru": 3}
TORCH_NN = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
NAMES = ("weight_ih_l{}", "weight_hh_l{}", "bias_ih_l{}", "bias_hh_l{}")


def param_names(k, reverse=False):
    """torch.nn's four parameter names of layer ``k``, of its reverse direction if asked."""
    return tuple(n.format(k) + ("_reverse" if reverse else "") for n in NAMES)


def _gates(kind):
    if kind not in GATES:
        raise ValueError(f"kind: expected one of {sorted(GATES)}, got {kind!r}")
    return GATES[kind]


def _copy_t(w):
    """A contiguous copy of ``w.T``, differentiable (never a view of ``w``)."""
    return w.t().clone(memory_format=torch.contiguous_format)


def to_torch_layout(kind, Wx, Wh, b, b_hn=None):
    """Convert one layer from rnnkit's layout to torch.nn's, with differentiable ops.

    Args:
        kind: "rnn", "lstm" or "gru".
        Wx: (D, G*H) tensor; Wh: (H, G*H); b: (G*H,); b_hn: (H,), GRU only.
    Returns:
        (weight_ih (G*H, D), weight_hh (G*H, H), bias_ih (G*H,), bias_hh (G*H,)),
        new tensors (no views of the inputs), so gradients flow back to the inputs.
    """
    G = _gates(kind)
    if (kind == "gru") != (b_hn is not None):
        raise ValueError(f"b_hn: expected {'a (H,) tensor' if kind == 'gru' else 'None'} "
                         f"for kind={kind!r}, got {type(b_hn).__name__}")
    H = Wh.shape[0]
    if kind == "gru":
        bias_hh = torch.cat((b.new_zeros(2 * H), b_hn))  # [0, 0, b_hn]
    else:
        bias_hh = b.new_zeros(G * H)
    return _copy_t(Wx), _copy_t(Wh), b.clone(), bias_hh


def from_torch_layout(kind, weight_ih, weight_hh, bias_ih=None, bias_hh=None):
    """Convert one layer from torch.nn's layout to rnnkit's (missing biases are zeros).

    Args:
        kind: "rnn", "lstm" or "gru".
        weight_ih: (G*H, D) tensor; weight_hh: (G*H, H); bias_ih, bias_hh: (G*H,) or None.
    Returns:
        dict with "Wx" (D, G*H), "Wh" (H, G*H), "b" (G*H,) and, for the GRU, "b_hn" (H,).
    """
    _gates(kind)
    H = weight_hh.shape[1]
    if bias_ih is None:
        bias_ih = weight_ih.new_zeros(weight_ih.shape[0])
    if bias_hh is None:
        bias_hh = weight_ih.new_zeros(weight_ih.shape[0])
    params = {"Wx": _copy_t(weight_ih), "Wh": _copy_t(weight_hh)}
    if kind == "gru":
        params["b"] = torch.cat((bias_ih[: 2 * H] + bias_hh[: 2 * H], bias_ih[2 * H :]))
        params["b_hn"] = bias_hh[2 * H :].clone()
    else:
        params["b"] = bias_ih + bias_hh
    return params


def _as_layers(params):
    if isinstance(params, dict):
        return [params]
    if isinstance(params, (list, tuple)) and params and all(isinstance(p, dict) for p in params):
        return list(params)
    raise TypeError(f"params: expected a dict or a list of dicts (one per layer), got "
                    f"{type(params).__name__}")


def _check_numpy_layers(kind, layers, dirs=1):
    """Validate NumPy layer dicts: keys, float dtypes, shapes, and D = dirs * H above layer 0."""
    G = _gates(kind)
    keys = {"Wx", "Wh", "b"} | ({"b_hn"} if kind == "gru" else set())
    if len(layers) % dirs:
        raise ValueError(f"params: a bidirectional model needs two dicts per layer "
                         f"(l0, l0_reverse, ...), got {len(layers)}")
    H = None
    for k, layer in enumerate(layers):
        if set(layer) != keys:
            raise ValueError(f"params[{k}]: expected keys {sorted(keys)}, got {sorted(layer)}")
        dims = {} if H is None else {"H": H} if k < dirs else {"D": dirs * H, "H": H}
        for name, letters in (("Wx", "DH"), ("Wh", "HH"), ("b", "H")):
            check_float(f"params[{k}][{name!r}]", layer[name])
            dims_from(f"params[{k}][{name!r}]", layer[name], letters, dims, gates=G)
        if kind == "gru":
            check_float(f"params[{k}]['b_hn']", layer["b_hn"])
            check_shape(f"params[{k}]['b_hn']", layer["b_hn"], "H", dims)
        H = dims["H"]


def numpy_to_state_dict(kind, params, bidirectional=False):
    """Convert NumPy params to a ``torch.nn.RNN/LSTM/GRU`` state dict.

    Args:
        kind: "rnn", "lstm" or "gru".
        params: one dict ``{"Wx" (D, G*H), "Wh" (H, G*H), "b" (G*H,)[, "b_hn" (H,)]}``
            or a list of them, one per layer and direction, torch.nn's order (layers above
            the first have D = dirs * H).
        bidirectional: the list alternates directions: ``[l0, l0_reverse, l1, ...]``.
    Returns:
        dict ``weight_ih_l{k}`` (G*H, D), ``weight_hh_l{k}`` (G*H, H), ``bias_ih_l{k}``,
        ``bias_hh_l{k}`` (G*H,) (and the same names ending in ``_reverse``) of CPU tensors,
        the arrays' dtype, for ``load_state_dict``.
    """
    layers = _as_layers(params)
    dirs = 2 if bidirectional else 1
    _check_numpy_layers(kind, layers, dirs)
    out = {}
    for j, layer in enumerate(layers):
        args = [torch.from_numpy(np.asarray(layer[n])) for n in ("Wx", "Wh", "b", "b_hn")
                if n in layer]
        names = param_names(j // dirs, reverse=j % dirs == 1)
        for name, tensor in zip(names, to_torch_layout(kind, *args), strict=True):
            out[name] = tensor
    return out


def state_dict_to_layers(kind, state_dict):
    """Read every layer (and direction) of a torch.nn state dict into rnnkit-layout dicts.

    A bidirectional state dict gives ``[l0, l0_reverse, l1, ...]``, torch.nn's order.
    """
    odd = [k for k in state_dict if k.startswith("weight_hr")]
    if odd:
        raise ValueError(f"state_dict: projected RNNs (proj_size > 0) are not supported, "
                         f"found {odd[:2]}")
    dirs = 2 if "weight_ih_l0_reverse" in state_dict else 1
    layers, k = [], 0
    while f"weight_ih_l{k}" in state_dict:
        for d in range(dirs):
            names = param_names(k, reverse=d == 1)
            if names[0] not in state_dict:
                raise ValueError(f"state_dict: layer {k} of a bidirectional RNN has no "
                                 f"{names[0]}")
            tensors = [state_dict.get(name) for name in names]
            layers.append(from_torch_layout(kind, *[t if t is None else t.detach()
                                                    for t in tensors]))
        k += 1
    if not layers:
        raise ValueError(f"state_dict: expected keys weight_ih_l0, weight_hh_l0, ..., got "
                         f"{list(state_dict)[:4]}")
    return layers


def state_dict_to_numpy(kind, state_dict):
    """Convert a ``torch.nn.RNN/LSTM/GRU`` state dict (or module) to NumPy params.

    Args:
        kind: "rnn", "lstm" or "gru".
        state_dict: a state dict, or the module itself; no projection.
    Returns:
        list of dicts, one per layer and direction (``[l0, l0_reverse, l1, ...]``):
        "Wx" (D, G*H), "Wh" (H, G*H), "b" (G*H,)[, "b_hn" (H,)].
    """
    if isinstance(state_dict, nn.Module):
        state_dict = state_dict.state_dict()
    layers = state_dict_to_layers(kind, state_dict)
    return [{n: t.cpu().numpy() for n, t in layer.items()} for layer in layers]
