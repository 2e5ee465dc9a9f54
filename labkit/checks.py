"""Assertion helpers for the check cells of the labs.

A failed check must tell the student what to fix: which array, what was
expected (shape, value, tolerance) and what was received. Each helper raises
``AssertionError`` with that information on the message's first line (the
grader shows the first line in its table) and details on the lines after.

These helpers import NumPy and ``rnnkit.gradcheck`` only, so a check cell
costs nothing beyond the lab's own imports.
"""

import re

import numpy as np

from rnnkit.gradcheck import numerical_gradient

__all__ = [
    "NotImplementedYet",
    "require",
    "check_shape",
    "check_close",
    "check_not_close",
    "check_grad",
]


class NotImplementedYet(AssertionError):
    """A check needed a function whose body is still the lab's stub."""


def require(fn_name, fn):
    """Return ``fn`` wrapped so that its stub reads "exercise X not implemented yet".

    A generated lab replaces each solution with ``raise
    NotImplementedError("exercise 1a not implemented yet: ...")``. Wrapping
    turns that error, raised however deep in the student's code (a later
    exercise calling an earlier stub included), into a failed check whose
    message names the exercise still to do.

    Args:
        fn_name: the function's name, for messages.
        fn: the function, or a namespace such as ``globals()`` to look it up in
            (so a deleted definition reads as a clear message, not a NameError).
    Returns:
        a function with the same arguments and results as ``fn``.
    """
    if isinstance(fn, dict):
        if fn_name not in fn:
            raise AssertionError(
                f"{fn_name} is not defined: run the cell that defines it "
                f"(or restore its 'def {fn_name}(...)' line)"
            )
        fn = fn[fn_name]
    if not callable(fn):
        raise AssertionError(f"{fn_name}: expected a function, got {type(fn).__name__}")

    def wrapped(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except NotImplementedError as err:
            text = str(err)
            if not re.match(r"exercise \S+ not implemented yet", text):
                text = f"{fn_name} not implemented yet ({text or 'NotImplementedError'})"
            raise NotImplementedYet(text) from None

    wrapped.__name__ = fn_name
    wrapped.__wrapped__ = fn
    return wrapped


def _describe(x):
    describe = getattr(type(x), "_labkit_describe", None)  # a value from the student's process
    if describe is not None:
        return describe(x)
    if isinstance(x, tuple):
        return f"a tuple of {len(x)} items"
    if isinstance(x, np.ndarray):
        return f"an array of shape {x.shape} and dtype {x.dtype}"
    return f"a {type(x).__name__}"


def check_shape(name, got, expected):
    """Fail unless ``got`` is a NumPy array of shape ``expected``.

    Args:
        name: what is checked, e.g. ``"h_next"``.
        got: the student's value.
        expected: a tuple of ints.
    """
    expected = tuple(expected)
    if not isinstance(got, np.ndarray):
        hint = ""
        if isinstance(got, tuple):
            hint = " (a forward returns (out, cache): did you index the tuple?)"
        raise AssertionError(
            f"{name}: expected an array of shape {expected}, got {_describe(got)}{hint}"
        )
    if got.shape != expected:
        raise AssertionError(f"{name}: expected shape {expected}, got {got.shape}")


def _elementwise_rel(got, expected):
    got, expected = got.astype(np.float64), expected.astype(np.float64)
    return np.abs(got - expected) / np.maximum(np.abs(got) + np.abs(expected), 1e-8)


def _value(a, idx):
    """``a[idx]`` with every digit that round-trips (a float32 0.6 reads 0.6000000238418579),
    and the dtype unless it is float64."""
    v = a[idx]
    text = repr(complex(v)) if np.iscomplexobj(v) else repr(float(v))
    return text if a.dtype == np.float64 else f"{text} ({a.dtype})"


def check_close(name, got, expected, rtol=1e-8, got_label="got", expected_label="expected"):
    """Fail unless ``got`` matches ``expected`` to relative error ``rtol``.

    The relative error is ``max |got - expected| / max(|got| + |expected|,
    1e-8)`` over all entries, as in :func:`rnnkit.gradcheck.rel_error`.

    Args:
        name: what is checked, e.g. ``"h"``.
        got: the student's array.
        expected: the reference array; its shape is the expected shape.
        rtol: the tolerance on the relative error.
    Returns:
        the relative error, a float.
    """
    expected = np.asarray(expected)
    check_shape(name, got, expected.shape)
    if not np.issubdtype(got.dtype, np.floating):
        raise AssertionError(f"{name}: expected a float array, got dtype {got.dtype}")
    if not np.all(np.isfinite(got)):
        bad = np.argwhere(~np.isfinite(got))[0]
        raise AssertionError(
            f"{name}: contains NaN or inf (first at index {tuple(int(i) for i in bad)})"
        )
    if got.size == 0:
        return 0.0
    rel = _elementwise_rel(got, expected)
    err = float(rel.max())
    if err > rtol:
        idx = tuple(int(i) for i in np.argwhere(rel > rtol)[0])
        raise AssertionError(
            f"{name}: relative error {err:.1e} exceeds tolerance {rtol:.0e}; first mismatch "
            f"at index {idx}: {got_label} {_value(got, idx)}, {expected_label} "
            f"{_value(expected, idx)}"
            f"\n  shape {got.shape}; {int(np.sum(rel > rtol))} of {rel.size} entries differ"
            + (f"; your dtype is {got.dtype}: compute in float64" if got.dtype != np.float64
               else "")
        )
    return err


def check_not_close(name, got, other, min_rel):
    """Fail unless ``got`` differs from ``other`` by a relative error above ``min_rel``.

    Args:
        name: what is compared, e.g. ``"dWh with k=2 vs full BPTT"``.
        got, other: arrays of the same shape.
        min_rel: the smallest relative difference that counts as "measurably different".
    Returns:
        the relative difference, a float.
    """
    other = np.asarray(other)
    check_shape(name, got, other.shape)
    err = float(_elementwise_rel(got, other).max()) if got.size else 0.0
    if not err > min_rel:
        raise AssertionError(
            f"{name}: expected a relative difference above {min_rel:.0e}, got {err:.1e}"
        )
    return err


def check_grad(name, analytic, f, x, df=None, rtol=1e-7):
    """Fail unless ``analytic`` equals the central-difference gradient of ``f`` at ``x``.

    Args:
        name: the gradient's name, e.g. ``"dWh"``.
        analytic: the student's gradient, same shape as ``x``.
        f: function of one array (a perturbed copy of ``x``) returning an array.
        x: float64 array, the point.
        df: upstream gradient of ``f(x)``; None if ``f`` returns a scalar.
        rtol: the tolerance on the relative error.
    Returns:
        the relative error, a float.
    """
    numeric = numerical_gradient(f, x, df)
    return check_close(
        name, analytic, numeric, rtol, got_label="yours", expected_label="finite differences"
    )
