"""The vanilla (Elman) RNN in NumPy: step and sequence, forward and hand-written backward.

Book chapter 3 introduces the cell and chapter 4 derives its backward pass
(backpropagation through time). In the book's notation ``a = b + W h + U x``;
here, batch-major with row vectors, ``W`` is ``Wh`` and ``U`` is ``Wx``::

    a_t = x_t @ Wx + h_{t-1} @ Wh + b
    h_t = tanh(a_t)

The step functions are the textbook cell. The sequence functions run the same
step in a loop but take the input side out of it: ``x @ Wx + b`` for all T steps
is one ``(N*T, D) @ (D, H)`` matmul before the loop, and ``dx``, ``dWx``, ``db``
are one matmul or sum each after it. What stays in the loop, ``h_prev @ Wh`` and
the tanh, is inherently sequential: a naive loop over time, for reading, not for
speed (``torch.nn.RNN`` in ``rnnkit.torch`` is the fast path).
"""

from typing import NamedTuple

import numpy as np

from rnnkit._checks import check_cell_inputs, check_upstream

__all__ = ["RNNCache", "RNNSeqCache", "rnn_step_forward", "rnn_step_backward", "rnn_forward",
           "rnn_backward"]


class RNNCache(NamedTuple):
    """What ``rnn_step_backward`` needs from one step; every field an array."""

    x: np.ndarray  # (N, D)
    h_prev: np.ndarray  # (N, H)
    Wx: np.ndarray  # (D, H)
    Wh: np.ndarray  # (H, H)
    h_next: np.ndarray  # (N, H)


class RNNSeqCache(NamedTuple):
    """What ``rnn_backward`` needs from a whole sequence; every field an array."""

    x: np.ndarray  # (N, T, D)
    h0: np.ndarray  # (N, H)
    Wx: np.ndarray  # (D, H)
    Wh: np.ndarray  # (H, H)
    h: np.ndarray  # (N, T, H) hidden states h_1 .. h_T


def _validate(x, h_prev, Wx, Wh, b, step):
    """Check every argument once, at a public entry point; return ``(dims, h_prev)``."""
    dims, (h_prev,) = check_cell_inputs(
        x, [("h_prev" if step else "h0", h_prev)],
        [("Wh", Wh, "HH", 1), ("Wx", Wx, "DH", 1), ("b", b, "H", 1)], step)
    return dims, h_prev


def _step(xw, h_prev, Wh):
    """One step from the precomputed input side ``xw = x @ Wx + b``, (N, H)."""
    return np.tanh(xw + h_prev @ Wh)  # (N, H)


def _step_backward(dh_next, h_prev, Wh, h_next):
    """Backprop one step down to the pre-activation; return ``(da, dh_prev, dWh)``."""
    da = dh_next * (1 - h_next**2)  # backprop through tanh: tanh'(a) = 1 - tanh(a)^2
    return da, da @ Wh.T, h_prev.T @ da  # backprop h_prev @ Wh into h_prev and Wh


def rnn_step_forward(x, h_prev, Wx, Wh, b):
    """Run one vanilla RNN step (book chapter 3).

    Equation::

        h_next = tanh(x @ Wx + h_prev @ Wh + b)

    Args:
        x: input, (N, D).
        h_prev: previous hidden state, (N, H); zeros when None.
        Wx: input-to-hidden weights, (D, H).
        Wh: hidden-to-hidden weights, (H, H).
        b: bias, (H,).
    Returns:
        h_next: next hidden state, (N, H), the weights' dtype.
        cache: ``RNNCache`` for ``rnn_step_backward``.
    """
    _, h_prev = _validate(x, h_prev, Wx, Wh, b, step=True)
    h_next = _step(x @ Wx + b, h_prev, Wh)
    return h_next, RNNCache(x, h_prev, Wx, Wh, h_next)


def rnn_step_backward(dh_next, cache):
    """Backprop one vanilla RNN step (book chapter 4).

    With ``da = dh_next * (1 - h_next**2)``: ``dx = da @ Wx.T``,
    ``dh_prev = da @ Wh.T``, ``dWx = x.T @ da``, ``dWh = h_prev.T @ da``,
    ``db = sum over the batch of da``.

    Args:
        dh_next: gradient of the loss with respect to h_next, (N, H); None: zeros.
        cache: from ``rnn_step_forward``.
    Returns:
        dx (N, D), dh_prev (N, H), dWx (D, H), dWh (H, H), db (H,).
    """
    x, h_prev, Wx, Wh, h_next = cache
    dh_next = check_upstream("dh_next", dh_next, h_next, "NH")
    da, dh_prev, dWh = _step_backward(dh_next, h_prev, Wh, h_next)
    # backprop a = x @ Wx + ... + b into its input-side terms
    return da @ Wx.T, dh_prev, x.T @ da, dWh, da.sum(axis=0)


def rnn_forward(x, h0, Wx, Wh, b):
    """Run a vanilla RNN over a whole sequence: a loop of steps (book chapter 3).

    Args:
        x: inputs, (N, T, D), T >= 1.
        h0: initial hidden state, (N, H); zeros when None.
        Wx: (D, H); Wh: (H, H); b: (H,).
    Returns:
        h: hidden states h_1 .. h_T, (N, T, H), the weights' dtype; ``h[:, -1]`` is
            the state to carry into the next batch under truncated BPTT.
        cache: ``RNNSeqCache`` for ``rnn_backward``.
    """
    dims, h0 = _validate(x, h0, Wx, Wh, b, step=False)
    N, T, D, H = dims["N"], dims["T"], dims["D"], dims["H"]
    xw = (x.reshape(N * T, D) @ Wx + b).reshape(N, T, H)  # input side of every step at once
    h = np.empty((N, T, H), dtype=x.dtype)
    h_prev = h0
    for t in range(T):
        h[:, t] = h_prev = _step(xw[:, t], h_prev, Wh)
    return h, RNNSeqCache(x, h0, Wx, Wh, h)


def rnn_backward(dh, cache):
    """Backprop through a whole sequence (BPTT; book chapter 4).

    ``dh[:, t]`` is the gradient arriving at h_t from the loss at step t only
    (for example from ``temporal_affine_backward``); the loop adds the gradient
    that flows back from step t+1.

    Args:
        dh: upstream gradient for every hidden state, (N, T, H); None: zeros.
        cache: from ``rnn_forward``.
    Returns:
        dx (N, T, D), dh0 (N, H), dWx (D, H), dWh (H, H), db (H,).
    """
    x, h0, Wx, Wh, h = cache
    N, T, D = x.shape
    H = h0.shape[1]
    dh = check_upstream("dh", dh, h, "NTH")
    h_prevs = np.concatenate((h0[:, None], h[:, :-1]), axis=1)  # (N, T, H): h_0 .. h_{T-1}
    da = np.empty_like(h)  # (N, T, H) pre-activation gradients
    dh_prev = np.zeros_like(h0)  # nothing flows back from beyond the last step
    dWh = np.zeros_like(Wh)
    for t in reversed(range(T)):
        # h_t feeds the loss at t and the step t+1: the two gradients add
        da[:, t], dh_prev, dWh_t = _step_backward(dh[:, t] + dh_prev, h_prevs[:, t], Wh, h[:, t])
        dWh += dWh_t  # shared weights: one Wh at every step, so its gradient sums over time
    # Wx and b are shared too: sum_t x_t.T @ da_t is one matmul over all N*T rows
    da2 = da.reshape(N * T, H)
    dx = (da2 @ Wx.T).reshape(N, T, D)
    dWx = x.reshape(N * T, D).T @ da2
    return dx, dh_prev, dWx, dWh, da2.sum(axis=0)
