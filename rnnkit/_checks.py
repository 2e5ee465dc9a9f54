"""Input validation shared by every rnnkit function.

Errors name the argument, what was expected and what was received, so that a
student who passes ``x`` with its axes swapped reads ``x: expected shape
(N, T, D) = (2, 5, 3), got (5, 2, 3)`` rather than a broadcasting error ten
lines deeper.
"""

import numpy as np

__all__ = ["check_float", "check_shape", "check_labels", "dims_from", "check_arrays",
           "check_cell_inputs", "check_upstream"]


def check_float(name, x, allow_nan=False):
    """Return ``x`` as a floating ndarray, or raise ``TypeError``/``ValueError``.

    Args:
        name: the argument's name, used in the message.
        x: the value to check; must be a NumPy array of float16/32/64.
        allow_nan: if False, NaN or inf anywhere raises ``ValueError``.
    Returns:
        x, unchanged (no copy).
    """
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name}: expected a NumPy float array, got {type(x).__name__}")
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(
            f"{name}: expected a floating dtype (float32 or float64), got {x.dtype}; "
            f"convert with {name}.astype(np.float64)"
        )
    if not allow_nan and not np.all(np.isfinite(x)):
        bad = int(np.size(x) - np.count_nonzero(np.isfinite(x)))
        raise ValueError(f"{name}: expected finite values, got {bad} NaN or inf entries")
    return x


def check_shape(name, x, letters, dims, sources=None):
    """Check ``x.shape`` against named dimensions, binding any that are new.

    ``letters`` is a string such as ``"NTD"``, one letter per axis (for a
    gated parameter of width ``G*H`` use :func:`dims_from`). ``dims`` maps
    letters to sizes; letters not yet in ``dims`` are bound from ``x``.

    Args:
        name: the argument's name, used in the message.
        x: an array.
        letters: one letter per expected axis, e.g. ``"NTD"``.
        dims: dict letter -> int, updated in place with newly seen letters.
        sources: optional dict letter -> name of the argument a size came from;
            updated with the letters ``x`` binds, and quoted in the message.
    Returns:
        dims, updated.
    """
    shape = tuple(np.shape(x))
    expected_txt = "(" + ", ".join(letters) + ")"
    if len(shape) != len(letters):
        raise ValueError(
            f"{name}: expected {len(letters)}-D array of shape {expected_txt}, "
            f"got {len(shape)}-D shape {shape}"
        )
    for axis, (letter, size) in enumerate(zip(letters, shape, strict=True)):
        want = dims.get(letter)
        if want is None:
            dims[letter] = size
            if sources is not None:
                sources[letter] = name
        elif want != size:
            if sources is None:
                known = " (from " + ", ".join(f"{k}={v}" for k, v in dims.items()) + ")"
            else:  # the sizes that came from other arguments, and which
                others = [f"{k}={dims[k]} from {sources[k]}" for k in letters
                          if k in dims and sources.get(k, name) != name]
                others = list(dict.fromkeys(others))  # a letter may name two axes
                known = " (" + ", ".join(others) + ")" if others else ""
            want_shape = "(" + ", ".join(str(dims.get(c, "?")) for c in letters) + ")"
            raise ValueError(
                f"{name}: expected shape {expected_txt} = {want_shape}{known}, got {shape}; "
                f"axis {axis} ({letter}) should be {want}"
            )
    return dims


def dims_from(name, x, letters, dims, gates=1, sources=None):
    """Check a parameter array whose last axis holds ``gates`` blocks of size H.

    ``letters`` names the axes, the last one standing for one gate's block:
    ``dims_from("Wx", Wx, "DH", dims, gates=4)`` checks ``Wx.shape == (D, 4H)``
    and binds D and H if they are new.

    Args:
        name: the argument's name, used in the message.
        x: an array.
        letters: one letter per axis, e.g. ``"DH"`` or ``"H"``.
        dims: dict letter -> int, updated in place.
        gates: G, the number of gate blocks along the last axis.
        sources: optional dict letter -> argument name, as in :func:`check_shape`.
    Returns:
        dims, updated.
    """
    shape = tuple(np.shape(x))
    last = f"{gates}{letters[-1]}" if gates > 1 else letters[-1]
    expected_txt = "(" + ", ".join(tuple(letters[:-1]) + (last,)) + ")"

    def error():
        want = [str(dims.get(c, "?")) for c in letters[:-1]]
        want.append(str(gates * dims[letters[-1]]) if letters[-1] in dims else "?")
        want = " = (" + ", ".join(want) + ")" if any(c in dims for c in letters) else ""
        others = [f"{k}={dims[k]} from {sources[k]}" for k in dict.fromkeys(letters)
                  if k in (sources or {}) and sources[k] != name]
        known = " (" + ", ".join(others) + ")" if others else ""
        return ValueError(f"{name}: expected shape {expected_txt}{want}{known}, got {shape}")

    if len(shape) != len(letters) or shape[-1] % gates:
        raise error()
    sub = shape[:-1] + (shape[-1] // gates,)
    new_dims, new_sources = dict(dims), None if sources is None else dict(sources)
    try:  # on copies, so that the message quotes only what was known before
        check_shape(name, np.broadcast_to(np.empty((), np.uint8), sub), letters, new_dims,
                    new_sources)
    except ValueError:
        raise error() from None
    dims.update(new_dims)
    if sources is not None:
        sources.update(new_sources)
    return dims


def check_labels(name, y, V, letters, dims):
    """Check integer labels: integer dtype, shape, and every entry in ``[0, V)``."""
    if not isinstance(y, np.ndarray) or not np.issubdtype(y.dtype, np.integer):
        got = y.dtype if isinstance(y, np.ndarray) else type(y).__name__
        raise TypeError(f"{name}: expected an integer array of labels, got {got}")
    check_shape(name, y, letters, dims)
    if y.size and (y.min() < 0 or y.max() >= V):
        raise ValueError(
            f"{name}: expected labels in [0, {V}) (V={V}), got values from "
            f"{int(y.min())} to {int(y.max())}"
        )
    return y


def check_arrays(*specs):
    """Validate a function's array arguments together and return their named sizes.

    Each spec is ``(name, array, letters)`` or ``(name, array, letters, gates)``
    (see :func:`check_shape` and :func:`dims_from`); a spec whose array is
    ``None`` (an optional argument left out) is skipped. Every array must be a
    finite float array of the right shape, and all must share the first one's
    dtype: float32 in gives float32 out, never a silent upcast.

    Returns:
        dims: dict letter -> size, e.g. ``{"N": 2, "T": 5, "D": 3, "H": 4}``.
    """
    dims, dtype, first = {}, None, None
    for name, arr, letters, *gates in specs:
        if arr is None:
            continue
        check_float(name, arr)
        if gates and gates[0] > 1:
            dims_from(name, arr, letters, dims, gates=gates[0])
        else:
            check_shape(name, arr, letters, dims)
        if dtype is None:
            dtype, first = arr.dtype, name
        elif arr.dtype != dtype:
            raise TypeError(
                f"{name}: expected dtype {dtype} (the dtype of {first}), got {arr.dtype}")
    return dims


def check_cell_inputs(x, states, params, step):
    """Check a recurrent cell's arguments together; return the sizes and the initial states.

    Sizes come from the arguments least likely to be wrong: H and D from the
    parameters, checked first in the order given (the cells list ``Wh`` first:
    its shape ``(H, G*H)`` alone fixes H), N from the states that are given
    (from those ``x`` agrees with, when they disagree), T (and N, when every
    state is None) from ``x``. The first argument that
    disagrees is named, with the size expected and the argument it came from;
    an ``x`` whose first two axes are swapped gets a hint that rnnkit is
    batch-first. Sequences need T >= 1. The dtype is the one most arrays share
    (ties go to the parameters); it is the dtype of the result.

    Args:
        x: the input, (N, D) for a step or (N, T, D) for a sequence.
        states: ``(name, array or None)`` for each state, each (N, H).
        params: ``(name, array, letters, gates)`` for each parameter, e.g.
            ``("Wh", Wh, "HH", 4)`` for ``Wh (H, 4H)``.
        step: True for a step function (x is (N, D)), False for a sequence.
    Returns:
        dims: dict letter -> size, e.g. ``{"H": 5, "D": 3, "N": 2, "T": 7}``.
        states: tuple of the states, each None replaced by zeros (N, H) of the dtype.
    """
    named = [(name, arr) for name, arr, *_ in params]
    named += [(name, arr) for name, arr in states if arr is not None] + [("x", x)]
    for name, arr in named:
        check_float(name, arr)
    dims, sources = {}, {}
    for name, arr, letters, gates in params:
        if gates > 1:
            dims_from(name, arr, letters, dims, gates, sources)
        else:
            check_shape(name, arr, letters, dims, sources)
    given = [(name, arr) for name, arr in states if arr is not None]
    if len({arr.shape[:1] for _, arr in given}) > 1 and x.ndim:  # the states disagree on N:
        given.sort(key=lambda s: s[1].shape[:1] != x.shape[:1])  # trust those x agrees with
    for name, arr in given:
        check_shape(name, arr, "NH", dims, sources)
    _check_x(x, "ND" if step else "NTD", dims, sources)
    dtypes = [arr.dtype for _, arr in named]
    dtype = max(dtypes, key=dtypes.count)  # the most common; ties: the first, a parameter's
    for name, arr in named:
        if arr.dtype != dtype:
            holders = ", ".join(n for n, a in named if a.dtype == dtype)
            raise TypeError(f"{name}: expected dtype {dtype} (the dtype of {holders}), "
                            f"got {arr.dtype}")
    zeros = np.zeros((dims["N"], dims["H"]), dtype=dtype)
    return dims, tuple(zeros.copy() if arr is None else arr for _, arr in states)


def _check_x(x, letters, dims, sources):
    """Check the input of a cell against the sizes the other arguments fixed."""
    try:
        check_shape("x", x, letters, dims, sources)
    except ValueError as err:
        N, D = dims.get("N"), dims.get("D")
        if x.ndim == 3 and x.shape[0] != N and x.shape[1] == N and x.shape[2] == D:
            raise ValueError(f"{err}; time-major? rnnkit is batch-first (N, T, D)") from None
        raise
    if letters == "NTD" and dims["T"] == 0:
        raise ValueError(f"x: expected at least one time step (T >= 1), got shape {x.shape}")


def check_upstream(name, d, out, letters):
    """Check the upstream gradient ``d`` of the forward output ``out``; None means zeros.

    Every backward passes each upstream gradient through here, so all report
    the same way: ``d`` must be a finite float array with ``out``'s shape (axes
    named by ``letters``, e.g. ``"NTH"``) and dtype.

    Args:
        name: the argument's name, used in the message.
        d: the upstream gradient, or None when nothing flows into ``out``.
        out: the forward output ``d`` belongs to (or an array of its shape and dtype).
        letters: one letter per axis of ``out``.
    Returns:
        d, unchanged (no copy), or zeros like ``out`` when d is None.
    """
    if d is None:
        return np.zeros_like(out)
    check_float(name, d)
    check_shape(name, d, letters, dict(zip(letters, out.shape, strict=True)))
    if d.dtype != out.dtype:
        raise TypeError(f"{name}: expected dtype {out.dtype} (the forward's), got {d.dtype}")
    return d
