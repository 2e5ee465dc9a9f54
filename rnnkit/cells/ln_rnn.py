"""A vanilla RNN that layer-normalises its pre-activation at every step (Ba et al., 2016).

Layer norm (``rnnkit.layernorm``) standardises each example's H numbers with their own mean
and standard deviation, so it needs no batch statistics and runs the same on a stream one
step at a time. The cell normalises the summed pre-activation, not the state::

    a = x @ Wx + h_prev @ Wh
    h_next = tanh(LN(a; gamma, beta))

``beta`` plays the role of the bias (a bias added before LN would be removed by the mean
subtraction). Book chapter 7 derives the backward pass and shows that the state and its
gradients no longer depend on the scale of the weights.
"""

from typing import NamedTuple

import numpy as np

from rnnkit._checks import check_cell_inputs, check_upstream
from rnnkit.layernorm import normalize, normalize_backward, sum_over_rows

__all__ = ["LNRNNCache", "LNRNNSeqCache", "ln_rnn_step_forward", "ln_rnn_step_backward",
           "ln_rnn_forward", "ln_rnn_backward"]


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


def _validate(x, h_prev, Wx, Wh, gamma, beta, step):
    """Check every argument once, at a public entry point; return ``(dims, h_prev)``."""
    dims, (h_prev,) = check_cell_inputs(
        x, [("h_prev" if step else "h0", h_prev)],
        [("Wh", Wh, "HH", 1), ("Wx", Wx, "DH", 1), ("gamma", gamma, "H", 1),
         ("beta", beta, "H", 1)], step)
    return dims, h_prev


def ln_rnn_step_forward(x, h_prev, Wx, Wh, gamma, beta, eps=1e-5):
    """Run one step of a layer-normalised tanh RNN (book chapter 7).

    Equations, with mean and variance taken over the H units of each example::

        a = x @ Wx + h_prev @ Wh
        h_next = tanh(gamma * (a - mean(a)) / sqrt(var(a) + eps) + beta)

    Args:
        x: input, (N, D).
        h_prev: previous state, (N, H); zeros when None.
        Wx: (D, H); Wh: (H, H).
        gamma: gain, (H,); beta: shift (the bias), (H,).
        eps: added to the variance.
    Returns:
        h_next: (N, H).
        cache: ``LNRNNCache`` for ``ln_rnn_step_backward``.
    """
    _, h_prev = _validate(x, h_prev, Wx, Wh, gamma, beta, step=True)
    z, ahat, inv_sigma = normalize(x @ Wx + h_prev @ Wh, gamma, beta, eps)
    h_next = np.tanh(z)
    return h_next, LNRNNCache(x, h_prev, Wx, Wh, gamma, ahat, inv_sigma, h_next)


def ln_rnn_step_backward(dh_next, cache):
    """Backprop one layer-normalised RNN step (book chapter 7).

    Args:
        dh_next: gradient of the loss with respect to h_next, (N, H); None: zeros.
        cache: from ``ln_rnn_step_forward``.
    Returns:
        dx (N, D), dh_prev (N, H), dWx (D, H), dWh (H, H), dgamma (H,), dbeta (H,).
    """
    x, h_prev, Wx, Wh, gamma, ahat, inv_sigma, h_next = cache
    dh_next = check_upstream("dh_next", dh_next, h_next, "NH")
    dz = dh_next * (1 - h_next**2)  # backprop tanh
    da, dgamma = normalize_backward(dz, ahat, inv_sigma, gamma)  # backprop the normalisation
    # backprop a = x @ Wx + h_prev @ Wh into each of its terms
    return da @ Wx.T, da @ Wh.T, x.T @ da, h_prev.T @ da, dgamma.sum(axis=0), dz.sum(axis=0)


def ln_rnn_forward(x, h0, Wx, Wh, gamma, beta, eps=1e-5):
    """Run a layer-normalised tanh RNN over a sequence: a loop of steps (book chapter 7).

    Args:
        x: inputs, (N, T, D), T >= 1.
        h0: initial state, (N, H); zeros when None.
        Wx: (D, H); Wh: (H, H); gamma: (H,); beta: (H,).
        eps: added to the variance.
    Returns:
        h: states for every step, (N, T, H).
        cache: ``LNRNNSeqCache`` for ``ln_rnn_backward``.
    """
    dims, h0 = _validate(x, h0, Wx, Wh, gamma, beta, step=False)
    N, T, D, H = dims["N"], dims["T"], dims["D"], dims["H"]
    xw = (x.reshape(N * T, D) @ Wx).reshape(N, T, H)  # input projection for every step
    h = np.empty((N, T, H), dtype=x.dtype)
    ahat = np.empty((N, T, H), dtype=x.dtype)
    inv_sigma = np.empty((N, T, 1), dtype=x.dtype)
    h_prev = h0
    for t in range(T):
        z, ahat[:, t], inv_sigma[:, t] = normalize(xw[:, t] + h_prev @ Wh, gamma, beta, eps)
        h_prev = h[:, t] = np.tanh(z)
    return h, LNRNNSeqCache(x, h0, Wx, Wh, gamma, ahat, inv_sigma, h)


def ln_rnn_backward(dh, cache):
    """Backprop through a whole sequence (BPTT; book chapter 7).

    Args:
        dh: gradient of the loss with respect to every state, (N, T, H); None: zeros.
        cache: from ``ln_rnn_forward``.
    Returns:
        dx (N, T, D), dh0 (N, H), dWx (D, H), dWh (H, H), dgamma (H,), dbeta (H,).
    """
    x, h0, Wx, Wh, gamma, ahat, inv_sigma, h = cache
    N, T, D = x.shape
    H = h0.shape[1]
    dh = check_upstream("dh", dh, h, "NTH")
    da = np.empty_like(h)  # (N, T, H)
    dz = np.empty_like(h)  # (N, T, H)
    dh_prev = np.zeros_like(h0)
    for t in reversed(range(T)):
        # h_t feeds the loss directly and the next step: the two gradients add
        dz[:, t] = (dh[:, t] + dh_prev) * (1 - h[:, t] ** 2)  # backprop tanh
        da[:, t], _ = normalize_backward(dz[:, t], ahat[:, t], inv_sigma[:, t], gamma)
        dh_prev = da[:, t] @ Wh.T  # backprop h_prev @ Wh into h_prev
    h_prevs = np.concatenate((h0[:, None], h[:, :-1]), axis=1)  # (N, T, H) h_0 .. h_{T-1}
    # shared weights, gain and shift: their gradients sum over time
    da2 = da.reshape(N * T, H)
    dx = (da2 @ Wx.T).reshape(N, T, D)
    dWx = x.reshape(N * T, D).T @ da2
    dWh = h_prevs.reshape(N * T, H).T @ da2
    return dx, dh_prev, dWx, dWh, sum_over_rows(dz * ahat), sum_over_rows(dz)
