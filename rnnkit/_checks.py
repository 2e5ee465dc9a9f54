"""Input validation shared by every rnnkit function.

Errors name the argument, what was expected and what was received, so that a
student who passes ``x`` with its axes swapped reads ``x: expected shape
(N, T, D) = (2, 5, 3), got (5, 2, 3)`` rather than a broadcasting error ten
lines deeper.
"""

import numpy as np

__all__ = ["check_float", "check_shape", "check_labels", "dims_from", "check_arrays",
           "check_upstream"]


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


def check_shape(name, x, letters, dims):
    """Check ``x.shape`` against named dimensions, binding any that are new.

    ``letters`` is a string such as ``"NTD"``, one letter per axis (for a
    gated parameter of width ``G*H`` use :func:`dims_from`). ``dims`` maps
    letters to sizes; letters not yet in ``dims`` are bound from ``x``.

    Args:
        name: the argument's name, used in the message.
        x: an array.
        letters: one letter per expected axis, e.g. ``"NTD"``.
        dims: dict letter -> int, updated in place with newly seen letters.
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
        elif want != size:
            known = ", ".join(f"{k}={v}" for k, v in dims.items())
            want_shape = "(" + ", ".join(str(dims.get(c, "?")) for c in letters) + ")"
            raise ValueError(
                f"{name}: expected shape {expected_txt} = {want_shape} "
                f"(from {known}), got {shape}; axis {axis} ({letter}) "
                f"should be {want}"
            )
    return dims


def dims_from(name, x, letters, dims, gates=1):
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
    Returns:
        dims, updated.
    """
    shape = tuple(np.shape(x))
    last = f"{gates}{letters[-1]}" if gates > 1 else letters[-1]
    expected_txt = "(" + ", ".join(tuple(letters[:-1]) + (last,)) + ")"
    if len(shape) != len(letters) or shape[-1] % gates:
        raise ValueError(f"{name}: expected shape {expected_txt}, got {shape}")
    sub = shape[:-1] + (shape[-1] // gates,)
    try:
        check_shape(name, np.broadcast_to(np.empty((), np.uint8), sub), letters, dims)
    except ValueError:
        want = [str(dims.get(c, "?")) for c in letters[:-1]]
        want.append(str(gates * dims[letters[-1]]) if letters[-1] in dims else "?")
        want = "(" + ", ".join(want) + ")"
        raise ValueError(f"{name}: expected shape {expected_txt} = {want}, got {shape}") from None
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


def check_upstream(name, d, out, letters):
    """Check an upstream gradient ``d`` against the forward output ``out`` it belongs to."""
    check_float(name, d)
    check_shape(name, d, letters, dict(zip(letters, out.shape, strict=True)))
    if d.dtype != out.dtype:
        raise TypeError(f"{name}: expected dtype {out.dtype} (the forward's), got {d.dtype}")
    return d
