"""Finite-difference gradient checks, shared by the tests, the book and the labs.

Every check runs in float64: with central differences and ``h = 1e-5`` the
truncation error is O(h^2) ~ 1e-10 and the rounding error O(eps / h) ~ 1e-11,
so relative errors of 1e-7 or below mean the analytic gradient is right.
Arrays are never perturbed in place: each evaluation receives a perturbed
*copy*, passed explicitly, so a function that caches or aliases its inputs
cannot fool the check.
"""

import inspect

import numpy as np

__all__ = ["rel_error", "numerical_gradient", "argument_names", "check_backward"]


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
        f: function of one array returning an array (or a scalar), or a tuple of
            arrays when ``df`` is a tuple.
        x: float64 array, the point; it is not modified.
        df: upstream gradient, same shape as ``f(x)``, or a tuple with one for each
            array ``f`` returns (the gradient is then that of the sum of the terms);
            ``None`` means f is scalar.
        h: step size.
    Returns:
        grad: array of ``x.shape``.
    """
    x = np.asarray(x)
    if x.dtype != np.float64:
        raise TypeError(f"numerical_gradient: x must be float64, got {x.dtype}")
    several = isinstance(df, (tuple, list))
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += h
        xm[i] -= h
        if several:
            diff = sum(np.sum((np.asarray(p) - np.asarray(m)) * d)
                       for p, m, d in zip(f(xp), f(xm), df, strict=True))
        else:
            fp, fm = np.asarray(f(xp)), np.asarray(f(xm))
            diff = np.sum((fp - fm) if df is None else (fp - fm) * df)
        grad[i] = diff / (2 * h)
    return grad


def argument_names(f, n):
    """Names of the first ``n`` positional parameters of ``f``; ``arg{k}`` where it has none.

    Args:
        f: a function.
        n: how many names.
    Returns:
        list of n strings.
    """
    try:
        params = list(inspect.signature(f).parameters.values())
    except (TypeError, ValueError):  # builtins and some C functions have no signature
        params = []
    names = []
    for p in params:
        if p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            break  # from *args on, positions have no names
        names.append(p.name)
    return [names[k] if k < len(names) else f"arg{k}" for k in range(n)]


def check_backward(forward, backward, inputs, dout=None, h=1e-5, seed=0):
    """Compare a hand-written backward with finite differences for every input.

    ``forward(*inputs)`` must return ``(*outs, cache)``, one or more outputs then
    the cache, and ``backward(*douts, cache)`` the gradients in the order of
    ``inputs`` (a single array if there is one input): the cell contract of
    ``rnnkit.cells``. The numerical gradient is that of ``sum_k <out_k, dout_k>``.
    Inputs that are not float arrays (labels, masks) are passed through and
    skipped; their gradient slot must be ``None`` or absent.

    Args:
        forward: function ``(*inputs) -> (*outs, cache)``.
        backward: function ``(*douts, cache) -> grads``.
        inputs: list of arrays (float64 for those to be checked).
        dout: upstream gradients: None draws each from N(0, 1) with ``seed``; one
            array when forward has one output; a tuple or list, one per output.
        h: finite-difference step.
        seed: seed for the random upstream gradients.
    Returns:
        dict: argument name (from forward's signature; ``arg{k}`` for positions it
        does not name, as with ``*args``) -> relative error, for each float input.
    """
    inputs = list(inputs)
    names = argument_names(forward, len(inputs))
    *outs, cache = forward(*inputs)
    if dout is None:
        rng = np.random.default_rng(seed)
        douts = [rng.standard_normal(np.shape(out)) for out in outs]
    elif isinstance(dout, (tuple, list)):
        douts = list(dout)
    else:
        douts = [dout]
    if len(douts) != len(outs):
        raise ValueError(f"check_backward: forward returned {len(outs)} outputs before the "
                         f"cache, got {len(douts)} upstream gradients")
    grads = backward(*douts, cache)
    if not isinstance(grads, tuple):
        grads = (grads,)
    errors = {}
    for k, x in enumerate(inputs):
        if not (isinstance(x, np.ndarray) and np.issubdtype(x.dtype, np.floating)):
            continue
        if x.dtype != np.float64:
            raise TypeError(
                f"check_backward: input {k} ({names[k]}) must be float64, got {x.dtype}")
        if k >= len(grads) or grads[k] is None:
            raise ValueError(f"check_backward: backward returned no gradient for input {k} "
                             f"({names[k]}); it returned {len(grads)} values")

        def f(xk, k=k):
            args = list(inputs)
            args[k] = xk
            outs_k = forward(*args)[:-1]
            return outs_k if len(douts) > 1 else outs_k[0]

        df = tuple(douts) if len(douts) > 1 else douts[0]
        num = numerical_gradient(f, x, df, h)
        errors[names[k]] = rel_error(num, grads[k])
    return errors
