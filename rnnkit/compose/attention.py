"""Attention in NumPy, forward and hand-written backward: additive and multiplicative.

A decoder state ``q`` (the query) looks at S encoder states ``keys`` and takes their average
weighted by how well each one matches (book chapter 12). With row vectors, for one example:

    additive (Bahdanau et al. 2015):   e_j = v . tanh(q Wq + k_j Wk)
    multiplicative (Luong et al. 2015): e_j = q W k_j^T          ("general"; W = I is "dot")
    a = softmax(e) over the valid j,    context = sum_j a_j k_j

``mask`` (N, S) marks the valid keys: padded positions get weight exactly 0, so padding never
changes the context. Both functions follow the contract of ``rnnkit.cells``: arguments data
first, then parameters; forward returns ``(context, weights, cache)``; backward takes one
upstream gradient per output (``None`` for none) and returns one gradient per argument, the
mask's slot ``None``. ``rnnkit.torch.compose.attention`` has the twins, with the same names.
"""

from typing import NamedTuple

import numpy as np

from rnnkit._checks import check_shape

__all__ = ["additive_attention_forward", "additive_attention_backward",
           "multiplicative_attention_forward", "multiplicative_attention_backward",
           "masked_softmax"]


def masked_softmax(e, mask=None):
    """Softmax over the last axis, with weight 0 where ``mask`` is False.

    Args:
        e: scores, (N, S).
        mask: bool (N, S), each row with at least one True; None: all valid.
    Returns:
        a: (N, S), rows summing to 1.
    """
    if mask is not None:
        if not mask.any(axis=-1).all():
            raise ValueError("mask: every row needs at least one valid position")
        e = np.where(mask, e, -np.inf)
    z = np.exp(e - e.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


def _softmax_backward(da, a):
    """Gradient of the scores from that of the softmax weights (masked entries get 0)."""
    return a * (da - np.sum(da * a, axis=-1, keepdims=True))


def _check(q, keys, mask, params):
    """Check shapes, sizes taken from the parameters first, then keys; return the mask."""
    dims = {}
    for name, p, letters in params:
        check_shape(name, p, letters, dims)
    check_shape("keys", keys, "NSK", dims)
    check_shape("q", q, "NQ", dims)
    if mask is not None:
        mask = np.asarray(mask)
        N, S = keys.shape[:2]
        if mask.dtype != bool or mask.shape != (N, S):
            raise ValueError(f"mask: expected bool (N, S) = ({N}, {S}), got {mask.dtype} "
                             f"{mask.shape}")
    return mask


def _upstream(dcontext, dweights, context, weights):
    dc = np.zeros_like(context) if dcontext is None else dcontext
    da = np.zeros_like(weights) if dweights is None else dweights
    if dc.shape != context.shape or da.shape != weights.shape:
        raise ValueError(f"dcontext, dweights: expected {context.shape} and {weights.shape}, "
                         f"got {dc.shape} and {da.shape}")
    return dc, da


class AdditiveCache(NamedTuple):
    q: np.ndarray  # (N, Hq)
    keys: np.ndarray  # (N, S, Hk)
    Wq: np.ndarray  # (Hq, A)
    Wk: np.ndarray  # (Hk, A)
    v: np.ndarray  # (A,)
    u: np.ndarray  # tanh(q Wq + k Wk), (N, S, A)
    a: np.ndarray  # the weights, (N, S)
    context: np.ndarray  # (N, Hk)


def additive_attention_forward(q, keys, mask, Wq, Wk, v):
    """Bahdanau attention: score every key against the query, average the keys.

    Args:
        q: queries (decoder states), (N, Hq).
        keys: encoder states, also the values, (N, S, Hk).
        mask: bool (N, S), True where a key is real; None: all are.
        Wq: (Hq, A); Wk: (Hk, A); v: (A,).
    Returns:
        context: (N, Hk); weights: (N, S); cache.
    """
    mask = _check(q, keys, mask, (("Wq", Wq, "QA"), ("Wk", Wk, "KA"), ("v", v, "A")))
    u = np.tanh((q @ Wq)[:, None, :] + keys @ Wk)  # (N, S, A)
    a = masked_softmax(u @ v, mask)  # (N, S)
    context = np.einsum("ns,nsk->nk", a, keys)  # (N, Hk)
    return context, a, AdditiveCache(q, keys, Wq, Wk, v, u, a, context)


def additive_attention_backward(dcontext, dweights, cache):
    """Backward of ``additive_attention_forward``.

    Args:
        dcontext: (N, Hk) or None; dweights: (N, S) or None; cache: from the forward.
    Returns:
        dq (N, Hq), dkeys (N, S, Hk), None (the mask), dWq (Hq, A), dWk (Hk, A), dv (A,).
    """
    q, keys, Wq, Wk, v, u, a, context = cache
    dc, da = _upstream(dcontext, dweights, context, a)
    # context = sum_j a_j k_j: keys get a_j dc directly, the weights <dc, k_j>
    dkeys = a[:, :, None] * dc[:, None, :]  # (N, S, Hk)
    da = da + np.einsum("nk,nsk->ns", dc, keys)
    de = _softmax_backward(da, a)  # (N, S); zero on masked keys
    dv = np.einsum("ns,nsa->a", de, u)
    du = de[:, :, None] * v * (1 - u**2)  # backprop through v . tanh(.)
    dWk = np.einsum("nsk,nsa->ka", keys, du)
    dkeys += du @ Wk.T
    dqa = du.sum(axis=1)  # the query term is broadcast over the S keys
    return dqa @ Wq.T, dkeys, None, q.T @ dqa, dWk, dv


class MultiplicativeCache(NamedTuple):
    q: np.ndarray  # (N, Hq)
    keys: np.ndarray  # (N, S, Hk)
    W: np.ndarray  # (Hq, Hk)
    a: np.ndarray  # (N, S)
    context: np.ndarray  # (N, Hk)


def multiplicative_attention_forward(q, keys, mask, W):
    """Luong's "general" attention: scores ``q W k_j^T``, then the same average.

    Args:
        q: (N, Hq); keys: (N, S, Hk); mask: bool (N, S) or None; W: (Hq, Hk).
    Returns:
        context: (N, Hk); weights: (N, S); cache.
    """
    mask = _check(q, keys, mask, (("W", W, "QK"),))
    e = np.einsum("nk,nsk->ns", q @ W, keys)  # (N, S)
    a = masked_softmax(e, mask)
    context = np.einsum("ns,nsk->nk", a, keys)
    return context, a, MultiplicativeCache(q, keys, W, a, context)


def multiplicative_attention_backward(dcontext, dweights, cache):
    """Backward of ``multiplicative_attention_forward``.

    Returns:
        dq (N, Hq), dkeys (N, S, Hk), None (the mask), dW (Hq, Hk).
    """
    q, keys, W, a, context = cache
    dc, da = _upstream(dcontext, dweights, context, a)
    dkeys = a[:, :, None] * dc[:, None, :]
    da = da + np.einsum("nk,nsk->ns", dc, keys)
    de = _softmax_backward(da, a)
    qW = q @ W  # (N, Hk)
    dkeys += de[:, :, None] * qW[:, None, :]
    dqW = np.einsum("ns,nsk->nk", de, keys)
    return dqW @ W.T, dkeys, None, q.T @ dqW
