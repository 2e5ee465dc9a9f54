"""Linear recurrences ``h_t = a_t * h_{t-1} + b_t``, computed four ways (book chapter 15).

Every ``h_t`` of a linear recurrence with elementwise coefficients can be computed without a
loop over time, because one step is an affine map ``h -> a*h + b`` and affine maps compose
associatively: ``(a1, b1)`` then ``(a2, b2)`` is ``(a2*a1, a2*b1 + b2)``. ``linear_scan`` offers

- ``"sequential"``: the loop, T dependent steps; the reference the others are tested against.
- ``"doubling"``: the Hillis-Steele inclusive scan over the composition above: ceil(log2 T)
  rounds, round k composing each step with the one 2**k places before it; O(T log T) work,
  every round one vectorised operation over all of time.
- ``"log"``: Heinsen's log-space form (2023): ``h_t = A_t * (h0 + sum_{s<=t} b_s / A_s)`` with
  ``A_t = a_1 ... a_t``, evaluated as ``log|A_t|`` (a cumulative sum) plus a log-cumsum-exp, so
  that the products never leave log space. Signs are carried beside the logs (the paper takes
  complex logarithms, ``log(-x) = log x + i*pi``, which amounts to the same), so negative ``a``,
  ``b`` and ``h0`` are allowed; ``a`` must be nonzero (``log 0`` would reset ``A_t``) and a
  zero ``a`` raises ``ValueError``: use ``"doubling"`` for recurrences that reset.
- ``"cumprod"``: the same closed form with plain products, ``np.cumprod(a)``; it overflows or
  underflows as soon as ``A_t`` leaves the floating-point range (a few hundred steps of
  ``a = 0.1``), and is here to show why the log form exists.

The torch twin, with autograd, is ``rnnkit.torch.scan``.
"""

import numpy as np

from rnnkit._checks import check_float, check_shape

__all__ = ["METHODS", "linear_scan"]

METHODS = ("sequential", "doubling", "log", "cumprod")


def _sequential(a, b, h0):
    h = np.empty_like(b)
    h_prev = h0
    for t in range(a.shape[1]):
        h_prev = a[:, t] * h_prev + b[:, t]  # (N, H)
        h[:, t] = h_prev
    return h


def _doubling(a, b, h0):
    A, B = a.copy(), b.copy()  # step t as the affine map h -> A[t] * h + B[t]
    B[:, 0] += A[:, 0] * h0  # fold h0 into the first step: h_0 = a_0 * h0 + b_0
    shift = 1
    while shift < a.shape[1]:  # after this round, step t covers steps t-2*shift+1 .. t
        B[:, shift:] = A[:, shift:] * B[:, :-shift] + B[:, shift:]
        A[:, shift:] = A[:, shift:] * A[:, :-shift]
        shift *= 2
    return B


def _logcumsumexp(x):
    """Return ``log(cumsum(exp(x), axis=1))`` without leaving log space."""
    return np.logaddexp.accumulate(x, axis=1)


def _log(a, b, h0):
    with np.errstate(divide="ignore"):  # log 0 = -inf is wanted for zero b and zero h0
        log_A = np.cumsum(np.log(np.abs(a)), axis=1)  # (N, T, H): log|a_1 ... a_t|
        sign_A = np.cumprod(np.sign(a), axis=1)
        # the terms h0 and b_s / A_s, as log-magnitude and sign; h0 is term 0, with A_0 = 1
        log_terms = np.concatenate([np.log(np.abs(h0))[:, None], np.log(np.abs(b)) - log_A], 1)
    sign_terms = np.concatenate([np.sign(h0)[:, None], np.sign(b) * sign_A], axis=1)
    neg_inf = np.array(-np.inf, dtype=a.dtype)
    pos = _logcumsumexp(np.where(sign_terms > 0, log_terms, neg_inf))[:, 1:]  # (N, T, H)
    neg = _logcumsumexp(np.where(sign_terms < 0, log_terms, neg_inf))[:, 1:]
    with np.errstate(over="ignore"):  # exp(-inf) = 0: all terms of one sign
        return sign_A * (np.exp(log_A + pos) - np.exp(log_A + neg))


def _cumprod(a, b, h0):
    with np.errstate(divide="ignore", over="ignore", under="ignore", invalid="ignore"):
        A = np.cumprod(a, axis=1)  # (N, T, H): overflows or underflows for long T
        return A * (h0[:, None] + np.cumsum(b / A, axis=1))


def linear_scan(a, b, h0, method="doubling"):
    """Return every state of ``h_t = a_t * h_{t-1} + b_t`` (elementwise), starting from ``h0``.

    Args:
        a: coefficients, shape (N, T, H), float32 or float64; nonzero for ``method="log"``.
        b: inputs, shape (N, T, H), the same dtype as ``a``.
        h0: initial state, shape (N, H), the same dtype.
        method: ``"sequential"`` (the loop), ``"doubling"`` (Hillis-Steele scan), ``"log"``
            (Heinsen's log-space form) or ``"cumprod"`` (the naive closed form, which
            overflows; for demonstration). The module docstring describes each.
    Returns:
        h: shape (N, T, H), ``h[:, t]`` the state after step t, in the dtype of ``a``.
    """
    if method not in METHODS:
        raise ValueError(f"method: expected one of {', '.join(map(repr, METHODS))}, "
                         f"got {method!r}")
    dims, sources = {}, {}
    for name, x, letters in (("a", a, "NTH"), ("b", b, "NTH"), ("h0", h0, "NH")):
        check_float(name, x)
        check_shape(name, x, letters, dims, sources)
    for name, x in (("b", b), ("h0", h0)):
        if x.dtype != a.dtype:
            raise TypeError(f"{name}: expected dtype {a.dtype} like a, got {x.dtype}")
    if method == "log" and not np.all(a != 0):
        raise ValueError(f"a: method='log' needs nonzero coefficients (log 0 = -inf), got "
                         f"{int(np.size(a) - np.count_nonzero(a))} zeros; use "
                         f"method='doubling' for a recurrence that resets")
    if dims["T"] == 0:
        return np.empty_like(b)
    return {"sequential": _sequential, "doubling": _doubling, "log": _log,
            "cumprod": _cumprod}[method](a, b, h0)
