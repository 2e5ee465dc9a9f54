"""Linear recurrences ``h_t = a_t * h_{t-1} + b_t`` on the torch path, with autograd (chapter 15).

The NumPy twin ``rnnkit.scan`` describes the methods; this module has the same
``linear_scan(a, b, h0, method)`` with methods ``"sequential"`` (the loop), ``"doubling"``
(Hillis-Steele, ceil(log2 T) rounds), ``"log"`` (Heinsen 2023, log space with the signs
carried beside the logs; ``a`` must be nonzero) and ``"cumprod"`` (the naive closed form, which
overflows), and one more entry point:

- ``log_space_scan(log_a, log_b, log_h0=None)``: the recurrence for positive ``a``, ``b`` and
  ``h0`` given by their logarithms, as the minGRU computes it (Feng et al. 2024): the caller
  forms ``log a = -softplus(k)`` directly, so a gate saturated to ``z = 1`` in float32 gives a
  very negative ``log a`` and not the ``log 0`` that ``1 - z`` would.
"""

import torch

__all__ = ["METHODS", "linear_scan", "log_space_scan"]

METHODS = ("sequential", "doubling", "log", "cumprod")


def _check(name, x, ndim, letters, like=None):
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"{name}: expected a floating dtype, got {x.dtype}")
    if x.dim() != ndim:
        raise ValueError(f"{name}: expected {ndim}-D tensor of shape {letters}, "
                         f"got shape {tuple(x.shape)}")
    if like is not None:
        want = tuple(like.shape) if ndim == like.dim() else (like.shape[0], like.shape[2])
        if tuple(x.shape) != want or x.dtype != like.dtype or x.device != like.device:
            raise ValueError(f"{name}: expected shape {letters} = {want}, dtype {like.dtype} "
                             f"on {like.device}, got {tuple(x.shape)}, {x.dtype} on {x.device}")


def _sequential(a, b, h0):
    # unbind, not a[:, t]: the backward of T slices would build T full-size gradients of a
    h, h_prev = [], h0
    for a_t, b_t in zip(a.unbind(1), b.unbind(1), strict=True):
        h_prev = a_t * h_prev + b_t  # (N, H)
        h.append(h_prev)
    return torch.stack(h, 1)


def _doubling(a, b, h0):
    A, B = a, torch.cat([a[:, :1] * h0[:, None] + b[:, :1], b[:, 1:]], 1)  # h0 folded in
    shift = 1
    while shift < a.shape[1]:  # out of place, so that autograd sees every round
        B = torch.cat([B[:, :shift], A[:, shift:] * B[:, :-shift] + B[:, shift:]], 1)
        A = torch.cat([A[:, :shift], A[:, shift:] * A[:, :-shift]], 1)
        shift *= 2
    return B


def _log(a, b, h0):
    log_A = torch.cumsum(torch.log(a.abs()), 1)  # (N, T, H)
    sign_A = torch.cumprod(torch.sign(a), 1)
    log_terms = torch.cat([torch.log(h0.abs())[:, None], torch.log(b.abs()) - log_A], 1)
    sign_terms = torch.cat([torch.sign(h0)[:, None], torch.sign(b) * sign_A], 1)
    neg_inf = torch.full_like(log_terms, -float("inf"))
    pos = torch.logcumsumexp(torch.where(sign_terms > 0, log_terms, neg_inf), 1)[:, 1:]
    neg = torch.logcumsumexp(torch.where(sign_terms < 0, log_terms, neg_inf), 1)[:, 1:]
    return sign_A * (torch.exp(log_A + pos) - torch.exp(log_A + neg))


def _cumprod(a, b, h0):
    A = torch.cumprod(a, 1)  # (N, T, H): overflows or underflows for long T
    return A * (h0[:, None] + torch.cumsum(b / A, 1))


def linear_scan(a, b, h0, method="doubling"):
    """Return every state of ``h_t = a_t * h_{t-1} + b_t`` (elementwise), starting from ``h0``.

    Args:
        a: coefficients, shape (N, T, H); nonzero for ``method="log"``.
        b: inputs, shape (N, T, H), the dtype and device of ``a``.
        h0: initial state, shape (N, H).
        method: ``"sequential"``, ``"doubling"`` (Hillis-Steele), ``"log"`` (Heinsen's
            log-space form) or ``"cumprod"`` (naive closed form; overflows).
    Returns:
        h: shape (N, T, H); differentiable in ``a``, ``b`` and ``h0`` (for ``"log"``, where
        the entries of ``b`` and ``h0`` are nonzero).
    """
    if method not in METHODS:
        raise ValueError(f"method: expected one of {', '.join(map(repr, METHODS))}, "
                         f"got {method!r}")
    _check("a", a, 3, "(N, T, H)")
    _check("b", b, 3, "(N, T, H)", like=a)
    _check("h0", h0, 2, "(N, H)", like=a)
    if method == "log" and not bool((a != 0).all()):
        raise ValueError(f"a: method='log' needs nonzero coefficients (log 0 = -inf), got "
                         f"{int((a == 0).sum())} zeros; use method='doubling' for a "
                         f"recurrence that resets")
    if a.shape[1] == 0:
        return b.clone()
    return {"sequential": _sequential, "doubling": _doubling, "log": _log,
            "cumprod": _cumprod}[method](a, b, h0)


def log_space_scan(log_a, log_b, log_h0=None):
    """Return ``h`` with ``h_t = a_t * h_{t-1} + b_t``, all positive, given their logarithms.

    ``log h_t = log A_t + logcumsumexp_s(log b_s - log A_s)`` with ``log A_t = sum log a``,
    the initial state entering as term 0 (Heinsen 2023); no product is formed outside log space.

    Args:
        log_a: log of the coefficients, shape (N, T, H), finite.
        log_b: log of the inputs, shape (N, T, H).
        log_h0: log of the initial state, shape (N, H), or None for ``h0 = 0``.
    Returns:
        h: shape (N, T, H), positive.
    """
    _check("log_a", log_a, 3, "(N, T, H)")
    _check("log_b", log_b, 3, "(N, T, H)", like=log_a)
    log_A = torch.cumsum(log_a, 1)  # (N, T, H)
    terms = log_b - log_A
    if log_h0 is not None:
        _check("log_h0", log_h0, 2, "(N, H)", like=log_a)
        terms = torch.cat([log_h0[:, None], terms], 1)
        return torch.exp(log_A + torch.logcumsumexp(terms, 1)[:, 1:])
    return torch.exp(log_A + torch.logcumsumexp(terms, 1))
