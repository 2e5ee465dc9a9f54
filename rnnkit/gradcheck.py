"""Finite-difference gradient checks, shared by the tests, the book and the labs.

Every check runs in float64: with central differences and ``h = 1e-5`` the
truncation error is O(h^2) ~ 1e-10 and the rounding error O(eps / h) ~ 1e-11,
so relative errors of 1e-7 or below mean the analytic gradient is right.
Arrays are never perturbed in place: each evaluation receives a perturbed
*copy*, passed explicitly, so a function that caches or aliases its inputs
cannot fool the check.
"""

import numpy as np

__all__ = ["rel_error", "numerical_gradient", "check_backward"]


def rel_error(x, y):
    """Return ``max |x - y| / max(|x| + |y|, 1e-8)`` elementwise, as a float.

    Args:
        x, y: arrays of the same shape.
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"rel_error: shapes differ, got {x.shape} and {y.shape}")
    if x.size == 0:
        return 0.0
    return float(np.max(np.abs(x - y) / np.maximum(np.abs(x) + np.abs(y), 1e-8)))


def numerical_gradient(f, x, df=None, h=1e-5):
    """Central-difference gradient of ``sum(f(x) * df)`` with respect to ``x``.

    Args:
        f: function of one array returning an array (or a scalar).
        x: float64 array, the point; it is not modified.
        df: upstream gradient, same shape as ``f(x)``; ``None`` means f is scalar.
        h: step size.
    Returns:
        grad: array of ``x.shape``.
    """
    x = np.asarray(x)
    if x.dtype != np.float64:
        raise TypeError(f"numerical_gradient: x must be float64, got {x.dtype}")
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += h
        xm[i] -= h
        fp, fm = np.asarray(f(xp)), np.asarray(f(xm))
        diff = (fp - fm) if df is None else (fp - fm) * df
        grad[i] = np.sum(diff) / (2 * h)
    return grad


def check_backward(forward, backward, inputs, dout=None, h=1e-5, seed=0):
    """Compare a hand-written backward with finite differences for every input.

    ``forward(*inputs)`` must return ``(out, cache)`` and ``backward(dout,
    cache)`` the gradients in the order of ``inputs`` (a single array if there
    is one input). Inputs that are not float arrays (labels, masks) are passed
    through and skipped; their gradient slot must be ``None`` or absent.

    Args:
        forward: function ``(*inputs) -> (out, cache)``.
        backward: function ``(dout, cache) -> grads``.
        inputs: list of arrays (float64 for those to be checked).
        dout: upstream gradient of ``out``; random N(0, 1) if None.
        h: finite-difference step.
        seed: seed for the random ``dout``.
    Returns:
        dict: argument index -> relative error, for each float input.
    """
    inputs = list(inputs)
    out, cache = forward(*inputs)
    if dout is None:
        dout = np.random.default_rng(seed).standard_normal(np.shape(out))
    grads = backward(dout, cache)
    if not isinstance(grads, tuple):
        grads = (grads,)
    errors = {}
    for k, x in enumerate(inputs):
        if not (isinstance(x, np.ndarray) and np.issubdtype(x.dtype, np.floating)):
            continue
        if x.dtype != np.float64:
            raise TypeError(f"check_backward: input {k} must be float64, got {x.dtype}")

        def f(xk, k=k):
            args = list(inputs)
            args[k] = xk
            return forward(*args)[0]

        num = numerical_gradient(f, x, dout, h)
        errors[k] = rel_error(num, grads[k])
    return errors
