"""One bidirectional recurrent layer over any cell of the cell contract (book chapter 10).

Schuster and Paliwal (1997): run one cell forwards over ``x_1 .. x_T`` and a second cell, with
its own parameters, backwards over ``x_T .. x_1``, and report both states at every step::

    out_t = [h_t(forward), h_t(backward)]        # (N, 2H): the past and the future of step t

The backward direction is nothing new: it is the same sequence function applied to the
time-reversed input, its outputs reversed again. So is its backward pass: flip the upstream
gradient, call the cell's backward, flip ``dx``. The final states are ``torch.nn``'s: the
forward direction's after step T, the backward direction's after step 1 (it ends there).
"""

from typing import NamedTuple

import numpy as np

from rnnkit.cells import CELLS, CellSpec

__all__ = ["BidirectionalCache", "cell_spec", "param_args", "bidirectional_forward",
           "bidirectional_backward"]


class BidirectionalCache(NamedTuple):
    """The two directions' caches, forward first (each the cell's own NamedTuple)."""

    fwd: tuple
    bwd: tuple


def cell_spec(cell):
    """The ``CellSpec`` for ``cell``, a name in ``rnnkit.cells.CELLS`` or a spec itself."""
    if isinstance(cell, CellSpec):
        return cell
    if cell not in CELLS:
        raise ValueError(f"cell: expected one of {sorted(CELLS)} or a CellSpec, got {cell!r}")
    return CELLS[cell]


def param_args(spec, params, name="params"):
    """The parameters of one layer, in the cell's argument order, from a dict by name."""
    want = [p[0] for p in spec.params]
    if not isinstance(params, dict) or set(params) != set(want):
        got = sorted(params) if isinstance(params, dict) else type(params).__name__
        raise ValueError(f"{name}: expected a dict with keys {want} ({spec.name}), got {got}")
    return [params[n] for n in want]


def _run(spec, x, states, params, reverse):
    """One direction: the cell's sequence forward on x, or on x reversed in time."""
    xs = x[:, ::-1] if reverse else x
    h, *rest, cache = spec.forward(np.ascontiguousarray(xs), *states, *params)
    return (h[:, ::-1] if reverse else h), rest, cache


def bidirectional_forward(cell, x, state0, params_fwd, params_bwd):
    """Run a bidirectional layer of ``cell`` over a batch of sequences.

    Args:
        cell: a name in ``rnnkit.cells.CELLS`` ("rnn", "lstm", "gru", ...) or a CellSpec.
        x: inputs, (N, T, D).
        state0: None (zeros), or a tuple with one array per state of the cell (``(h0,)`` or
            ``(h0, c0)``), each (2, N, H): direction 0 forward, 1 backward, as in torch.nn.
        params_fwd, params_bwd: the two directions' parameters, dicts by name
            (``{"Wx": (D, G*H), "Wh": (H, G*H), "b": (G*H,)}`` for the gated cells).
    Returns:
        out: (N, T, 2H), ``[forward h_t, backward h_t]`` at every step t.
        state_n: tuple, one array per state, each (2, N, H): the forward direction's final
            state (after step T) and the backward direction's (after step 1).
        cache: ``BidirectionalCache`` for ``bidirectional_backward``.
    """
    spec = cell_spec(cell)
    outs, finals, caches = [], [], []
    for d, params in enumerate((params_fwd, params_bwd)):
        args = param_args(spec, params, ("params_fwd", "params_bwd")[d])
        states = [None] * len(spec.states) if state0 is None else [s[d] for s in state0]
        h, rest, cache = _run(spec, x, states, args, reverse=d == 1)
        outs.append(h)
        finals.append((h[:, -1] if d == 0 else h[:, 0], *rest))  # where each direction ends
        caches.append(cache)
    state_n = tuple(np.stack(s) for s in zip(*finals, strict=True))  # each (2, N, H)
    return np.concatenate(outs, axis=2), state_n, BidirectionalCache(*caches)


def bidirectional_backward(cell, dout, dstate_n, cache):
    """Backprop through a bidirectional layer.

    Args:
        cell: the cell given to ``bidirectional_forward``.
        dout: upstream gradient of ``out``, (N, T, 2H); None: zeros.
        dstate_n: None, or a tuple like ``state_n`` (entries may be None): upstream
            gradients of the final states, each (2, N, H).
        cache: from ``bidirectional_forward``.
    Returns:
        dx (N, T, D); dstate0, a tuple like ``state0`` (each (2, N, H)); and
        (dparams_fwd, dparams_bwd), dicts by parameter name.
    """
    spec = cell_spec(cell)
    n_states = len(spec.states)
    dx, dstate0, dparams = 0.0, [[] for _ in range(n_states)], []
    H = cache.fwd.h.shape[2]  # every sequence cache keeps h (N, T, H)
    for d, c in enumerate(cache):
        rev = d == 1
        dh = np.zeros_like(c.h) if dout is None else dout[:, :, d * H:(d + 1) * H]
        dh = np.array(dh[:, ::-1] if rev else dh)  # in the direction's own time, a copy
        dfinal = [None] * n_states if dstate_n is None else [
            None if s is None else s[d] for s in dstate_n]
        if dfinal[0] is not None:
            dh[:, -1] += dfinal[0]  # h_n is the direction's last output
        grads = spec.backward(dh, *dfinal[1:], c)
        dx_d = grads[0][:, ::-1] if rev else grads[0]
        dx = dx + dx_d
        for k in range(n_states):
            dstate0[k].append(grads[1 + k])
        dparams.append(dict(zip((p[0] for p in spec.params), grads[1 + n_states:],
                                strict=True)))
    return np.ascontiguousarray(dx), tuple(np.stack(s) for s in dstate0), tuple(dparams)
