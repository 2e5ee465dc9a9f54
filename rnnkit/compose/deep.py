"""Deep (stacked) recurrent networks over any cell of the cell contract (book chapter 10).

Layer k reads the hidden states of layer k - 1 as its input sequence (Graves et al. 2013;
lecture 001's "deep RNNs")::

    h^(0)_t = x_t,    h^(k)_t = cell(h^(k-1)_t, h^(k)_{t-1}; params of layer k),  k = 1 .. L

Each layer may be bidirectional (``rnnkit.compose.bidirectional``): its output is then
``(N, T, 2H)`` and the next layer's input has width 2H. With ``residual=True`` every layer
above the first adds its input to its output, ``out^(k) = h^(k) + out^(k-1)`` (a vertical
skip, He et al. 2016; chapter 7 has the horizontal ones), so the gradient reaches the
bottom layers through an identity path as well as through every cell.

Shapes and order are ``torch.nn.RNN/LSTM/GRU``'s: ``layers`` holds one parameter dict per
layer and direction, ``[l0, l0_reverse, l1, l1_reverse, ...]``; initial and final states
are ``(L * dirs, N, H)`` in the same order. So ``rnnkit.torch``'s models and ``torch.nn``
load the same list, and the parity tests compare all three. The backward pass is the
cells' own backward passes, called top layer first; nothing here is differentiated twice.
"""

from typing import NamedTuple

import numpy as np

from rnnkit.compose.bidirectional import (
    bidirectional_backward,
    bidirectional_forward,
    cell_spec,
    param_args,
)

__all__ = ["StackedCache", "stacked_forward", "stacked_backward"]


class StackedCache(NamedTuple):
    """One cache per layer (the cell's, or a ``BidirectionalCache``), bottom layer first,
    and the sizes the backward pass needs, as an int array ``[L, dirs, residual]``."""

    layers: tuple
    config: np.ndarray


def _check_layers(layers, L_dirs):
    if not isinstance(layers, (list, tuple)) or not layers:
        raise TypeError(f"layers: expected a list of parameter dicts, one per layer and "
                        f"direction, got {type(layers).__name__}")
    if len(layers) % L_dirs:
        raise ValueError(f"layers: a bidirectional stack needs two dicts per layer "
                         f"(l0, l0_reverse, ...), got {len(layers)}")


def stacked_forward(cell, x, state0, layers, *, bidirectional=False, residual=False):
    """Run a stack of recurrent layers of one cell over a batch of sequences.

    Args:
        cell: a name in ``rnnkit.cells.CELLS`` or a CellSpec.
        x: inputs, (N, T, D).
        state0: None (zeros), or a tuple with one array per state of the cell (``(h0,)``
            or ``(h0, c0)``), each (L * dirs, N, H) in torch.nn's order.
        layers: L * dirs parameter dicts by name, torch.nn's order; layer k > 0 reads
            width dirs * H.
        bidirectional: dirs = 2 when True.
        residual: add each layer's input to its output, for every layer above the first.
    Returns:
        out: the top layer's output, (N, T, dirs * H).
        state_n: tuple, one array per state, each (L * dirs, N, H).
        cache: ``StackedCache`` for ``stacked_backward``.
    """
    spec = cell_spec(cell)
    dirs = 2 if bidirectional else 1
    _check_layers(layers, dirs)
    L = len(layers) // dirs
    out, finals, caches = x, [], []
    for k in range(L):
        s0 = None if state0 is None else tuple(s[k * dirs:(k + 1) * dirs] for s in state0)
        if bidirectional:
            h, s_n, cache = bidirectional_forward(spec, out, s0, layers[2 * k],
                                                  layers[2 * k + 1])
        else:
            states = [None] * len(spec.states) if s0 is None else [s[0] for s in s0]
            h, *rest, cache = spec.forward(out, *states,
                                           *param_args(spec, layers[k], f"layers[{k}]"))
            s_n = (h[:, -1][None], *(r[None] for r in rest))  # each (1, N, H)
        out = h + out if residual and k > 0 else h
        finals.append(s_n)
        caches.append(cache)
    state_n = tuple(np.concatenate(s) for s in zip(*finals, strict=True))
    return out, state_n, StackedCache(tuple(caches), np.array([L, dirs, int(residual)]))


def stacked_backward(cell, dout, dstate_n, cache):
    """Backprop through a stack: each layer's backward, top first.

    Args:
        cell: the cell given to ``stacked_forward``.
        dout: upstream gradient of ``out``, (N, T, dirs * H); None: zeros.
        dstate_n: None, or a tuple like ``state_n`` (entries may be None), each
            (L * dirs, N, H).
        cache: from ``stacked_forward``.
    Returns:
        dx (N, T, D); dstate0, a tuple like ``state0``; dlayers, a list of dicts by
        parameter name in ``layers``' order.
    """
    spec = cell_spec(cell)
    n_states = len(spec.states)
    L, dirs, residual = (int(v) for v in cache.config)
    dstate0 = [[None] * L for _ in range(n_states)]
    dlayers = [None] * L
    d_up = dout  # gradient arriving at the output of layer k
    for k in reversed(range(L)):
        c = cache.layers[k]
        dfin = None if dstate_n is None else tuple(
            None if s is None else s[k * dirs:(k + 1) * dirs] for s in dstate_n)
        if dirs == 2:
            dx_k, ds0, dparams = bidirectional_backward(spec, d_up, dfin, c)
        else:
            dh = np.zeros_like(c.h) if d_up is None else np.array(d_up)  # a copy: added to
            dfin = [None] * n_states if dfin is None else [
                None if s is None else s[0] for s in dfin]
            if dfin[0] is not None:
                dh[:, -1] += dfin[0]  # h_n is the last output
            grads = spec.backward(dh, *dfin[1:], c)
            dx_k, ds0 = grads[0], tuple(g[None] for g in grads[1:1 + n_states])
            dparams = (dict(zip((p[0] for p in spec.params), grads[1 + n_states:],
                                strict=True)),)
        for s in range(n_states):
            dstate0[s][k] = ds0[s]
        dlayers[k] = dparams
        if residual and k > 0 and d_up is not None:
            dx_k = dx_k + d_up  # the skip: out^(k) = h^(k) + out^(k-1)
        d_up = dx_k
    dstate0 = tuple(np.concatenate(s) for s in dstate0)
    return d_up, dstate0, [p for layer in dlayers for p in layer]
