"""Layer normalisation, and a vanilla RNN that layer-normalises every step (Ba et al., 2016).

Layer norm standardises each example's H numbers with their own mean and
standard deviation, then applies a learned gain ``gamma`` and shift ``beta``::

    mu = mean(a),  sigma = sqrt(var(a) + eps)      # over the last axis only
    LN(a) = gamma * (a - mu) / sigma + beta

Its statistics come from one example at one step, so it needs no batch, no
other time steps and no running averages: it behaves the same in training and
when a model runs on a stream one step at a time. The layer-normalised RNN
normalises the summed pre-activation at every step::

    h_next = tanh(LN(x @ Wx + h_prev @ Wh; gamma, beta))

``beta`` plays the role of the bias (a bias added before LN would be removed
by the mean subtraction). Book chapter 7 derives the backward pass and shows
that the state and its gradients no longer depend on the scale of the weights.
"""

from typing import NamedTuple

import numpy as np

from rnnkit._checks import check_arrays, check_float, check_shape

__all__ = [
    "LayerNormCache",
    "LNRNNCache",
    "LNRNNSeqCache",
    "layernorm_forward",
    "layernorm_backward",
    "ln_rnn_step_forward",
    "ln_rnn_step_backward",
    "ln_rnn_forward",
    "ln_rnn_backward",
]


class LayerNormCache(NamedTuple):
    """What ``layernorm_backward`` needs; every field an array."""

    xhat: np.ndarray  # (..., H) the standardised input
    inv_sigma: np.ndarray  # (..., 1) 1 / sqrt(var + eps)
    gamma: np.ndarray  # (H,)


class LNRNNCache(NamedTuple):
    """What ``ln_rnn_step_backward`` needs from one step; every field an array."""

    x: np.ndarray  # (N, D)
    h_prev: np.ndarray  # (N, H)
    Wx: np.ndarray  # (D, H)
    Wh: np.ndarray  # (H, H)
    gamma: np.ndarray  # (H,)
    ahat: np.ndarray  # (N, H) standardised pre-activation
    inv_sigma: np.ndarray  # (N, 1)
    h_next: np.ndarray  # (N, H)


class LNRNNSeqCache(NamedTuple):
    """What ``ln_rnn_backward`` needs from a whole sequence; every field an array."""

    x: np.ndarray  # (N, T, D)
    h0: np.ndarray  # (N, H)
    Wx: np.ndarray  # (D, H)
    Wh: np.ndarray  # (H, H)
    gamma: np.ndarray  # (H,)
    ahat: np.ndarray  # (N, T, H)
    inv_sigma: np.ndarray  # (N, T, 1)
    h: np.ndarray  # (N, T, H) states h_1 .. h_T


def _ln(a, gamma, beta, eps):
    """Normalise over the last axis; return ``(out, ahat, inv_sigma)``."""
    mu = a.mean(axis=-1, keepdims=True)
    inv_sigma = 1 / np.sqrt(a.var(axis=-1, keepdims=True) + eps)  # (..., 1)
    ahat = (a - mu) * inv_sigma
    return gamma * ahat + beta, ahat, inv_sigma


def _ln_backward(dout, ahat, inv_sigma, gamma):
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


def _sum_to_h(g):
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
    out, xhat, inv_sigma = _ln(x, gamma, beta, eps)
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
    dx, dgamma = _ln_backward(dout, xhat, inv_sigma, gamma)
    return dx, _sum_to_h(dgamma), _sum_to_h(dout)


def _validate(x, h_prev, Wx, Wh, gamma, beta, step):
    """Check every argument once, at a public entry point; return the dims."""
    h_name = "h_prev" if step else "h0"
    return check_arrays(("x", x, "ND" if step else "NTD"), (h_name, h_prev, "NH"),
                        ("Wx", Wx, "DH"), ("Wh", Wh, "HH"), ("gamma", gamma, "H"),
                        ("beta", beta, "H"))


def ln_rnn_step_forward(x, h_prev, Wx, Wh, gamma, beta, eps=1e-5):
    """Run one step of a layer-normalised tanh RNN (book chapter 7).

    Equations, with mean and variance taken over the H units of each example::

        a = x @ Wx + h_prev @ Wh
        h_next = tanh(gamma * (a - mean(a)) / sqrt(var(a) + eps) + beta)

    Args:
        x: input, (N, D).
        h_prev: previous state, (N, H).
        Wx: (D, H); Wh: (H, H).
        gamma: gain, (H,); beta: shift (the bias), (H,).
        eps: added to the variance.
    Returns:
        h_next: (N, H).
        cache: ``LNRNNCache`` for ``ln_rnn_step_backward``.
    """
    _validate(x, h_prev, Wx, Wh, gamma, beta, step=True)
    z, ahat, inv_sigma = _ln(x @ Wx + h_prev @ Wh, gamma, beta, eps)
    h_next = np.tanh(z)
    return h_next, LNRNNCache(x, h_prev, Wx, Wh, gamma, ahat, inv_sigma, h_next)


def ln_rnn_step_backward(dh_next, cache):
    """Backprop one layer-normalised RNN step (book chapter 7).

    Args:
        dh_next: gradient of the loss with respect to h_next, (N, H).
        cache: from ``ln_rnn_step_forward``.
    Returns:
        dx (N, D), dh_prev (N, H), dWx (D, H), dWh (H, H), dgamma (H,), dbeta (H,).
    """
    x, h_prev, Wx, Wh, gamma, ahat, inv_sigma, h_next = cache
    check_float("dh_next", dh_next)
    check_shape("dh_next", dh_next, "NH", {"N": h_prev.shape[0], "H": h_prev.shape[1]})
    dz = dh_next * (1 - h_next**2)  # backprop tanh
    da, dgamma = _ln_backward(dz, ahat, inv_sigma, gamma)  # backprop the normalisation
    # backprop a = x @ Wx + h_prev @ Wh into each of its terms
    return da @ Wx.T, da @ Wh.T, x.T @ da, h_prev.T @ da, dgamma.sum(axis=0), dz.sum(axis=0)


def ln_rnn_forward(x, h0, Wx, Wh, gamma, beta, eps=1e-5):
    """Run a layer-normalised tanh RNN over a sequence: a loop of steps (book chapter 7).

    Args:
        x: inputs, (N, T, D).
        h0: initial state, (N, H).
        Wx: (D, H); Wh: (H, H); gamma: (H,); beta: (H,).
        eps: added to the variance.
    Returns:
        h: states for every step, (N, T, H).
        cache: ``LNRNNSeqCache`` for ``ln_rnn_backward``.
    """
    dims = _validate(x, h0, Wx, Wh, gamma, beta, step=False)
    N, T, D, H = dims["N"], dims["T"], dims["D"], dims["H"]
    xw = (x.reshape(N * T, D) @ Wx).reshape(N, T, H)  # input projection for every step
    h = np.empty((N, T, H), dtype=x.dtype)
    ahat = np.empty((N, T, H), dtype=x.dtype)
    inv_sigma = np.empty((N, T, 1), dtype=x.dtype)
    h_prev = h0
    for t in range(T):
        z, ahat[:, t], inv_sigma[:, t] = _ln(xw[:, t] + h_prev @ Wh, gamma, beta, eps)
        h_prev = h[:, t] = np.tanh(z)
    return h, LNRNNSeqCache(x, h0, Wx, Wh, gamma, ahat, inv_sigma, h)


def ln_rnn_backward(dh, cache):
    """Backprop through a whole sequence (BPTT; book chapter 7).

    Args:
        dh: gradient of the loss with respect to every state, (N, T, H).
        cache: from ``ln_rnn_forward``.
    Returns:
        dx (N, T, D), dh0 (N, H), dWx (D, H), dWh (H, H), dgamma (H,), dbeta (H,).
    """
    x, h0, Wx, Wh, gamma, ahat, inv_sigma, h = cache
    N, T, D = x.shape
    H = h0.shape[1]
    check_float("dh", dh)
    check_shape("dh", dh, "NTH", {"N": N, "T": T, "H": H})
    da = np.empty_like(h)  # (N, T, H)
    dz = np.empty_like(h)  # (N, T, H)
    dh_prev = np.zeros_like(h0)
    for t in reversed(range(T)):
        # h_t feeds the loss directly and the next step: the two gradients add
        dz[:, t] = (dh[:, t] + dh_prev) * (1 - h[:, t] ** 2)  # backprop tanh
        da[:, t], _ = _ln_backward(dz[:, t], ahat[:, t], inv_sigma[:, t], gamma)
        dh_prev = da[:, t] @ Wh.T  # backprop h_prev @ Wh into h_prev
    h_prevs = np.concatenate((h0[:, None], h[:, :-1]), axis=1)  # (N, T, H) h_0 .. h_{T-1}
    # shared weights, gain and shift: their gradients sum over time
    da2 = da.reshape(N * T, H)
    dx = (da2 @ Wx.T).reshape(N, T, D)
    dWx = x.reshape(N * T, D).T @ da2
    dWh = h_prevs.reshape(N * T, H).T @ da2
    return dx, dh_prev, dWx, dWh, _sum_to_h(dz * ahat), _sum_to_h(dz)
