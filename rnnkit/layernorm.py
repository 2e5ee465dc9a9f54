"""Layer normalisation, the op (Ba et al., 2016); the RNN that uses it is ``rnnkit.cells.ln_rnn``.

Layer norm standardises each example's H numbers with their own mean and
standard deviation, then applies a learned gain ``gamma`` and shift ``beta``::

    mu = mean(a),  sigma = sqrt(var(a) + eps)      # over the last axis only
    LN(a) = gamma * (a - mu) / sigma + beta

Its statistics come from one example at one step, so it needs no batch, no
other time steps and no running averages: it behaves the same in training and
when a model runs on a stream one step at a time. Book chapter 7 derives the backward
pass.
"""

from typing import NamedTuple

import numpy as np

from rnnkit._checks import check_arrays, check_float

__all__ = ["LayerNormCache", "layernorm_forward", "layernorm_backward", "normalize",
           "normalize_backward", "sum_over_rows"]


class LayerNormCache(NamedTuple):
    """What ``layernorm_backward`` needs; every field an array."""

    xhat: np.ndarray  # (..., H) the standardised input
    inv_sigma: np.ndarray  # (..., 1) 1 / sqrt(var + eps)
    gamma: np.ndarray  # (H,)


def normalize(a, gamma, beta, eps):
    """Normalise over the last axis; return ``(out, ahat, inv_sigma)``."""
    mu = a.mean(axis=-1, keepdims=True)
    inv_sigma = 1 / np.sqrt(a.var(axis=-1, keepdims=True) + eps)  # (..., 1)
    ahat = (a - mu) * inv_sigma
    return gamma * ahat + beta, ahat, inv_sigma


def normalize_backward(dout, ahat, inv_sigma, gamma):
    """Backprop ``gamma * ahat + beta`` and the standardisation; return ``(da, dgamma_terms)``.

    With ``g = dout * gamma``, the derivative of ``(a - mean a) / sigma`` gives
    ``da = (g - mean(g) - ahat * mean(g * ahat)) / sigma``: the two means
    remove the components along the constant vector and along ``ahat``,
    the two directions the normalisation cannot change.
    """
    g = dout * gamma
    da = inv_sigma * (
        g - g.mean(axis=-1, keepdims=True) - ahat * (g * ahat).mean(axis=-1, keepdims=True)
    )
    return da, dout * ahat


def sum_over_rows(g):
    return g.reshape(-1, g.shape[-1]).sum(axis=0)  # (H,)


def layernorm_forward(x, gamma, beta, eps=1e-5):
    """Layer-normalise ``x`` over its last axis (book chapter 7).

    Args:
        x: inputs, (..., H): for example (N, H) or (N, T, H).
        gamma: gain, (H,).
        beta: shift, (H,).
        eps: added to the variance, as in ``torch.nn.LayerNorm``.
    Returns:
        out: (..., H).
        cache: ``LayerNormCache`` for ``layernorm_backward``.
    """
    check_float("x", x)
    if x.ndim < 1:
        raise ValueError(f"x: expected an array of shape (..., H), got shape {x.shape}")
    check_arrays(("x", x[(0,) * (x.ndim - 1)], "H"), ("gamma", gamma, "H"), ("beta", beta, "H"))
    out, xhat, inv_sigma = normalize(x, gamma, beta, eps)
    return out, LayerNormCache(xhat, inv_sigma, gamma)


def layernorm_backward(dout, cache):
    """Backprop ``layernorm_forward``.

    Args:
        dout: upstream gradient, (..., H), the shape of the forward's output.
        cache: from ``layernorm_forward``.
    Returns:
        dx (..., H), dgamma (H,), dbeta (H,).
    """
    xhat, inv_sigma, gamma = cache
    check_float("dout", dout)
    if dout.shape != xhat.shape:
        raise ValueError(
            f"dout: expected the forward output's shape {xhat.shape}, got {dout.shape}"
        )
    dx, dgamma = normalize_backward(dout, xhat, inv_sigma, gamma)
    return dx, sum_over_rows(dgamma), sum_over_rows(dout)
