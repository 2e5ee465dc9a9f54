"""MUT1, MUT2, MUT3 in NumPy: step and sequence, forward and hand-written backward.

Jozefowicz, Zaremba and Sutskever (ICML 2015) searched over ten thousand recurrent cells
and reported three, MUT1-3, that did as well as the GRU. All keep the GRU's skeleton, the
reset gate ``r`` inside the candidate and the update gate ``z`` blending candidate and old
state, with ``z`` on the candidate (lecture 001's convention)::

    z = sigmoid(x @ W_xz + [h_prev or tanh(h_prev)] @ W_hz + b_z)
    r = sigmoid([x @ W_xr or x] + h_prev @ W_hr + b_r)
    c = tanh((r * h_prev) @ W_hh + [x @ W_xh or tanh(x)] + b_h)
    h_next = c * z + h_prev * (1 - z)

and differ in what feeds z, r and the candidate c (``h`` is ``h_prev``)::

           z                           r                     c, input side
    MUT1   x @ W_xz                    x @ W_xr + h @ W_hr   tanh(x)
    MUT2   x @ W_xz + h @ W_hz         x + h @ W_hr          x @ W_xh
    MUT3   x @ W_xz + tanh(h) @ W_hz   x @ W_xr + h @ W_hr   x @ W_xh

MUT1 and MUT2 add ``x`` or ``tanh(x)``, unweighted, to an H-wide sum, so they need D == H.
The parameters are named as in the paper and in ``rnnkit.torch.cells.mut`` (same names, same
shapes, so converting is a copy) and come in the order: input-side weights ``W_x.`` (D, H),
hidden-side weights ``W_h.`` (H, H), then ``b_z, b_r, b_h`` (H,)::

    MUT1   W_xz, W_xr,       W_hr, W_hh,       b_z, b_r, b_h
    MUT2   W_xz, W_xh, W_hz, W_hr, W_hh,       b_z, b_r, b_h
    MUT3   W_xz, W_xr, W_xh, W_hz, W_hr, W_hh, b_z, b_r, b_h

The three cells share one implementation, driven by a ``_Wiring`` that says what feeds
their gates; book chapter 9 derives the backward pass. The sequence functions compute the
input side of all T steps before the loop and every weight gradient with one matmul after
it; the loop itself is naive and sequential, for reading, not for speed.
"""

from typing import NamedTuple

import numpy as np

from rnnkit._checks import check_cell_inputs, check_upstream
from rnnkit.layers import sigmoid

__all__ = [
    "mut1_step_forward", "mut1_step_backward", "mut1_forward", "mut1_backward",
    "mut2_step_forward", "mut2_step_backward", "mut2_forward", "mut2_backward",
    "mut3_step_forward", "mut3_step_backward", "mut3_forward", "mut3_backward",
    "MUT1Cache", "MUT1SeqCache", "MUT2Cache", "MUT2SeqCache", "MUT3Cache", "MUT3SeqCache",
]


def _caches(name, params):
    """The step and sequence cache types of one cell: NamedTuples of arrays."""
    step = ("x", "h_prev", *params, "z", "r", "c", "h_next")  # x (N, D), the rest (N, H)
    seq = ("x", "h0", *params, "h", "z", "r", "c")  # x (N, T, D), h0 (N, H), the rest (N, T, H)
    return (NamedTuple(f"{name}Cache", [(f, np.ndarray) for f in step]),
            NamedTuple(f"{name}SeqCache", [(f, np.ndarray) for f in seq]))


class _Wiring:
    """What feeds one cell's gates, and the parameters that follow from it."""

    def __init__(self, name, x_in, z_h):
        self.name = name  # "MUT1"
        self.x_in = x_in  # how x enters z, r, c: "W" (x @ W_x.), "x" (x itself) or "tanh"
        self.z_h = z_h  # what W_hz multiplies: None (no W_hz), "h" (h_prev) or "tanh"
        self.params = (tuple(f"W_x{g}" for g, how in zip("zrh", x_in, strict=True) if how == "W")
                       + ("W_hz",) * (z_h is not None) + ("W_hr", "W_hh", "b_z", "b_r", "b_h"))
        self.square = x_in != ("W", "W", "W")  # x enters an H-wide sum unweighted
        self.Cache, self.SeqCache = _caches(name, self.params)


_MUT1 = _Wiring("MUT1", ("W", "W", "tanh"), None)
_MUT2 = _Wiring("MUT2", ("W", "x", "W"), "h")
_MUT3 = _Wiring("MUT3", ("W", "W", "W"), "tanh")
MUT1Cache, MUT1SeqCache = _MUT1.Cache, _MUT1.SeqCache
MUT2Cache, MUT2SeqCache = _MUT2.Cache, _MUT2.SeqCache
MUT3Cache, MUT3SeqCache = _MUT3.Cache, _MUT3.SeqCache


def _validate(cell, x, h, params, step):
    """Check every argument once, at a public entry point; return dims, h, name -> param.

    ``h`` comes back as zeros (N, H) when it was None. The (H, H) weights are checked first
    (H from them), then the (D, H) ones (D), the biases, the state (N) and x (T).
    """
    p = dict(zip(cell.params, params, strict=True))
    specs = [(n, a, "DH" if n[:3] == "W_x" else "HH" if n[0] == "W" else "H", 1)
             for n, a in p.items()]
    dims, (h,) = check_cell_inputs(x, [("h_prev" if step else "h0", h)],
                                   sorted(specs, key=lambda s: s[2] != "HH"), step)
    if cell.square and dims["D"] != dims["H"]:
        raise ValueError(
            f"x: {cell.name} adds x unweighted to an H-wide sum, so it needs D == H, got "
            f"D = {dims['D']} (x {x.shape}, W_xz {p['W_xz'].shape}), H = {dims['H']}; "
            f"project the inputs to H features first")
    return dims, h, p


def _x_side(cell, x, p):
    """Input-side terms of z, r and c, each ``x.shape[:-1] + (H,)`` (step or sequence)."""
    terms = {"W": lambda g: x @ p[f"W_x{g}"], "x": lambda g: x, "tanh": lambda g: np.tanh(x)}
    return [terms[how](g) + p[f"b_{g}"] for g, how in zip("zrh", cell.x_in, strict=True)]


def _z_h(cell, h_prev):
    """What W_hz multiplies: h_prev or tanh(h_prev), any shape."""
    return np.tanh(h_prev) if cell.z_h == "tanh" else h_prev


def _step(cell, xz, xr, xh, h_prev, p):
    """One step from the input-side terms (N, H) each; return h_next, z, r, c (N, H)."""
    az = xz if cell.z_h is None else xz + _z_h(cell, h_prev) @ p["W_hz"]
    z = sigmoid(az)
    r = sigmoid(xr + h_prev @ p["W_hr"])
    c = np.tanh((r * h_prev) @ p["W_hh"] + xh)
    return c * z + h_prev * (1 - z), z, r, c


def _step_backward(cell, dh_next, h_prev, z, r, c, p):
    """Backprop one step to the gates' pre-activations; return daz, dar, dac, dh_prev (N, H)."""
    dc = dh_next * z  # backprop h_next = c * z + h_prev * (1 - z) into c
    dz = dh_next * (c - h_prev)  # ... into z
    dh_prev = dh_next * (1 - z)  # ... into h_prev directly
    dac = dc * (1 - c**2)  # backprop through tanh
    drh = dac @ p["W_hh"].T  # backprop (r * h_prev) @ W_hh into r * h_prev
    dar = drh * h_prev * r * (1 - r)  # ... into r, then through sigmoid
    dh_prev += drh * r + dar @ p["W_hr"].T  # ... into h_prev, and through h_prev @ W_hr
    daz = dz * z * (1 - z)  # backprop through sigmoid
    if cell.z_h is not None:
        dzh = daz @ p["W_hz"].T  # backprop through _z_h(h_prev) @ W_hz
        dh_prev += dzh if cell.z_h == "h" else dzh * (1 - np.tanh(h_prev) ** 2)  # and tanh
    return daz, dar, dac, dh_prev


def _grads(cell, x, h_prev, r, daz, dar, dac, p):
    """Backprop the pre-activation gradients into x and every parameter.

    Works for one step (``x`` (N, D), the rest (N, H)) and for a sequence (``x`` (N, T, D),
    the rest (N, T, H)): shared weights sum their gradients over time in one matmul each.
    Returns ``dx`` of x's shape and the parameter gradients in ``cell.params`` order.
    """
    def flat(a):
        return a.reshape(-1, a.shape[-1])  # (N*T, .) rows

    dx, g = np.zeros_like(x), {}
    for gate, how, da in zip("zrh", cell.x_in, (daz, dar, dac), strict=True):
        if how == "W":  # backprop x @ W_x. into x and W_x.
            dx += da @ p[f"W_x{gate}"].T
            g[f"W_x{gate}"] = flat(x).T @ flat(da)
        else:  # x itself, or through tanh (recomputed rather than cached)
            dx += da if how == "x" else da * (1 - np.tanh(x) ** 2)
        g[f"b_{gate}"] = flat(da).sum(axis=0)  # the bias is added to every row
    if cell.z_h is not None:
        g["W_hz"] = flat(_z_h(cell, h_prev)).T @ flat(daz)  # backprop _z_h(h_prev) @ W_hz
    g["W_hr"] = flat(h_prev).T @ flat(dar)  # backprop h_prev @ W_hr into W_hr
    g["W_hh"] = flat(r * h_prev).T @ flat(dac)  # backprop (r * h_prev) @ W_hh into W_hh
    return dx, tuple(g[n] for n in cell.params)


def _run_step(cell, x, h_prev, params):
    """Check, then run one step: (h_next (N, H), cache)."""
    _, h_prev, p = _validate(cell, x, h_prev, params, step=True)
    h_next, z, r, c = _step(cell, *_x_side(cell, x, p), h_prev, p)
    return h_next, cell.Cache(x, h_prev, *params, z, r, c, h_next)


def _run_step_backward(cell, dh_next, cache):
    """Backprop one step: (dx, dh_prev, *dparams)."""
    x, h_prev, *_, z, r, c, h_next = cache
    dh_next = check_upstream("dh_next", dh_next, h_next, "NH")  # None: zeros
    p = cache._asdict()  # the parameters by name (and the rest, unused)
    daz, dar, dac, dh_prev = _step_backward(cell, dh_next, h_prev, z, r, c, p)
    dx, dparams = _grads(cell, x, h_prev, r, daz, dar, dac, p)
    return dx, dh_prev, *dparams


def _run(cell, x, h0, params):
    """Check, then run a whole sequence: (h (N, T, H), cache)."""
    dims, h0, p = _validate(cell, x, h0, params, step=False)
    N, T, H = dims["N"], dims["T"], dims["H"]
    xz, xr, xh = _x_side(cell, x, p)  # (N, T, H) each: the input side of every step at once
    h, z, r, c = (np.empty((N, T, H), dtype=h0.dtype) for _ in range(4))
    h_prev = h0
    for t in range(T):
        h_prev, z[:, t], r[:, t], c[:, t] = _step(cell, xz[:, t], xr[:, t], xh[:, t], h_prev, p)
        h[:, t] = h_prev
    return h, cell.SeqCache(x, h0, *params, h, z, r, c)


def _run_backward(cell, dh, cache):
    """Backprop through a whole sequence (BPTT): (dx, dh0, *dparams)."""
    x, h0, *_, h, z, r, c = cache
    dh = check_upstream("dh", dh, h, "NTH")  # None: zeros
    p = cache._asdict()  # the parameters by name (and the rest, unused)
    h_prevs = np.concatenate((h0[:, None], h[:, :-1]), axis=1)  # (N, T, H) h_0 .. h_{T-1}
    daz, dar, dac = (np.empty_like(h) for _ in range(3))  # (N, T, H) each
    dh_prev = np.zeros_like(h0)  # nothing flows back from beyond the last step
    for t in reversed(range(h.shape[1])):
        # h_t feeds the loss at t and the step t+1: the two gradients add
        daz[:, t], dar[:, t], dac[:, t], dh_prev = _step_backward(
            cell, dh[:, t] + dh_prev, h_prevs[:, t], z[:, t], r[:, t], c[:, t], p)
    dx, dparams = _grads(cell, x, h_prevs, r, daz, dar, dac, p)  # summed over time
    return dx, dh_prev, *dparams


# The public functions: the cell contract (rnnkit.cells) for each of the three cells.


def mut1_step_forward(x, h_prev, W_xz, W_xr, W_hr, W_hh, b_z, b_r, b_h):
    """Run one MUT1 step (module docstring; book chapter 9).

    Args:
        x: input, (N, D), D == H; h_prev: previous hidden state, (N, H), zeros when None.
        W_xz, W_xr: (D, H); W_hr, W_hh: (H, H); b_z, b_r, b_h: (H,).
    Returns:
        h_next: (N, H); cache: ``MUT1Cache`` for ``mut1_step_backward``.
    """
    return _run_step(_MUT1, x, h_prev, (W_xz, W_xr, W_hr, W_hh, b_z, b_r, b_h))


def mut1_step_backward(dh_next, cache):
    """Backprop one MUT1 step, given dh_next (N, H).

    Returns:
        dx (N, D), dh_prev (N, H), dW_xz, dW_xr (D, H), dW_hr, dW_hh (H, H), db_z, db_r, db_h (H,).
    """
    return _run_step_backward(_MUT1, dh_next, cache)


def mut1_forward(x, h0, W_xz, W_xr, W_hr, W_hh, b_z, b_r, b_h):
    """Run MUT1 over a whole sequence: a loop of steps (book chapter 9).

    Args:
        x: inputs, (N, T, D), D == H; h0: initial state, (N, H), zeros when None.
        W_xz, W_xr: (D, H); W_hr, W_hh: (H, H); b_z, b_r, b_h: (H,).
    Returns:
        h: hidden states h_1 .. h_T, (N, T, H); cache: ``MUT1SeqCache`` for ``mut1_backward``.
    """
    return _run(_MUT1, x, h0, (W_xz, W_xr, W_hr, W_hh, b_z, b_r, b_h))


def mut1_backward(dh, cache):
    """Backprop through a whole MUT1 sequence (BPTT), given dh (N, T, H).

    Returns:
        dx (N, T, D), dh0 (N, H), dW_xz, dW_xr (D, H), dW_hr, dW_hh (H, H), db_z, db_r, db_h (H,).
    """
    return _run_backward(_MUT1, dh, cache)


def mut2_step_forward(x, h_prev, W_xz, W_xh, W_hz, W_hr, W_hh, b_z, b_r, b_h):
    """Run one MUT2 step (module docstring; book chapter 9).

    Args:
        x: input, (N, D), D == H; h_prev: previous hidden state, (N, H), zeros when None.
        W_xz, W_xh: (D, H); W_hz, W_hr, W_hh: (H, H); b_z, b_r, b_h: (H,).
    Returns:
        h_next: (N, H); cache: ``MUT2Cache`` for ``mut2_step_backward``.
    """
    return _run_step(_MUT2, x, h_prev, (W_xz, W_xh, W_hz, W_hr, W_hh, b_z, b_r, b_h))


def mut2_step_backward(dh_next, cache):
    """Backprop one MUT2 step, given dh_next (N, H).

    Returns:
        dx (N, D), dh_prev (N, H), dW_xz, dW_xh (D, H), dW_hz, dW_hr, dW_hh (H, H),
        db_z, db_r, db_h (H,).
    """
    return _run_step_backward(_MUT2, dh_next, cache)


def mut2_forward(x, h0, W_xz, W_xh, W_hz, W_hr, W_hh, b_z, b_r, b_h):
    """Run MUT2 over a whole sequence: a loop of steps (book chapter 9).

    Args:
        x: inputs, (N, T, D), D == H; h0: initial state, (N, H), zeros when None.
        W_xz, W_xh: (D, H); W_hz, W_hr, W_hh: (H, H); b_z, b_r, b_h: (H,).
    Returns:
        h: hidden states h_1 .. h_T, (N, T, H); cache: ``MUT2SeqCache`` for ``mut2_backward``.
    """
    return _run(_MUT2, x, h0, (W_xz, W_xh, W_hz, W_hr, W_hh, b_z, b_r, b_h))


def mut2_backward(dh, cache):
    """Backprop through a whole MUT2 sequence (BPTT), given dh (N, T, H).

    Returns:
        dx (N, T, D), dh0 (N, H), dW_xz, dW_xh (D, H), dW_hz, dW_hr, dW_hh (H, H),
        db_z, db_r, db_h (H,).
    """
    return _run_backward(_MUT2, dh, cache)


def mut3_step_forward(x, h_prev, W_xz, W_xr, W_xh, W_hz, W_hr, W_hh, b_z, b_r, b_h):
    """Run one MUT3 step (module docstring; book chapter 9).

    Args:
        x: input, (N, D), any D; h_prev: previous hidden state, (N, H), zeros when None.
        W_xz, W_xr, W_xh: (D, H); W_hz, W_hr, W_hh: (H, H); b_z, b_r, b_h: (H,).
    Returns:
        h_next: (N, H); cache: ``MUT3Cache`` for ``mut3_step_backward``.
    """
    return _run_step(_MUT3, x, h_prev, (W_xz, W_xr, W_xh, W_hz, W_hr, W_hh, b_z, b_r, b_h))


def mut3_step_backward(dh_next, cache):
    """Backprop one MUT3 step, given dh_next (N, H).

    Returns:
        dx (N, D), dh_prev (N, H), dW_xz, dW_xr, dW_xh (D, H), dW_hz, dW_hr, dW_hh (H, H),
        db_z, db_r, db_h (H,).
    """
    return _run_step_backward(_MUT3, dh_next, cache)


def mut3_forward(x, h0, W_xz, W_xr, W_xh, W_hz, W_hr, W_hh, b_z, b_r, b_h):
    """Run MUT3 over a whole sequence: a loop of steps (book chapter 9).

    Args:
        x: inputs, (N, T, D), any D; h0: initial state, (N, H), zeros when None.
        W_xz, W_xr, W_xh: (D, H); W_hz, W_hr, W_hh: (H, H); b_z, b_r, b_h: (H,).
    Returns:
        h: hidden states h_1 .. h_T, (N, T, H); cache: ``MUT3SeqCache`` for ``mut3_backward``.
    """
    return _run(_MUT3, x, h0, (W_xz, W_xr, W_xh, W_hz, W_hr, W_hh, b_z, b_r, b_h))


def mut3_backward(dh, cache):
    """Backprop through a whole MUT3 sequence (BPTT), given dh (N, T, H).

    Returns:
        dx (N, T, D), dh0 (N, H), dW_xz, dW_xr, dW_xh (D, H), dW_hz, dW_hr, dW_hh (H, H),
        db_z, db_r, db_h (H,).
    """
    return _run_backward(_MUT3, dh, cache)
