"""The deep-transition RNN in NumPy: an MLP inside the recurrence (book chapter 10).

Pascanu et al. (2014) observed that a vanilla RNN's transition from ``h_{t-1}`` to ``h_t``
is a single affine map and a tanh: *shallow*, however many steps are unrolled. A
deep-transition RNN (DT-RNN) puts a hidden layer ``z`` between the two states::

    z_t = tanh(x_t @ Wx + h_{t-1} @ Wh + b)       # (N, H) the intermediate layer
    h_t = tanh(z_t @ Wz + bz)                      # (N, H)

so every step is a two-layer MLP of ``(x_t, h_{t-1})``. Here the intermediate layer has
the width H of the state (one letter fewer to carry; nothing else depends on it). The price
is a gradient path through time that crosses two tanh layers per step instead of one:
``dh_{t-1} = ((dh_t * (1 - h_t**2)) @ Wz.T * (1 - z_t**2)) @ Wh.T``. Pascanu et al.'s
DT(S)-RNN adds a shortcut from ``h_{t-1}`` to ``h_t`` around ``z`` for that reason.

The functions follow the contract of ``rnnkit.cells``: the sequence functions take the
input side ``x @ Wx + b`` of all T steps out of the loop, and ``dx``, ``dWx``, ``db``,
``dWz``, ``dbz`` are one matmul or sum each after it. A naive loop over time, for reading.
"""

from typing import NamedTuple

import numpy as np

from rnnkit._checks import check_cell_inputs, check_upstream

__all__ = ["DTRNNCache", "DTRNNSeqCache", "dt_rnn_step_forward", "dt_rnn_step_backward",
           "dt_rnn_forward", "dt_rnn_backward"]


class DTRNNCache(NamedTuple):
    """What ``dt_rnn_step_backward`` needs from one step; every field an array."""

    x: np.ndarray  # (N, D)
    h_prev: np.ndarray  # (N, H)
    Wx: np.ndarray  # (D, H)
    Wh: np.ndarray  # (H, H)
    Wz: np.ndarray  # (H, H)
    z: np.ndarray  # (N, H) the intermediate layer
    h_next: np.ndarray  # (N, H)


class DTRNNSeqCache(NamedTuple):
    """What ``dt_rnn_backward`` needs from a whole sequence; every field an array."""

    x: np.ndarray  # (N, T, D)
    h0: np.ndarray  # (N, H)
    Wx: np.ndarray  # (D, H)
    Wh: np.ndarray  # (H, H)
    Wz: np.ndarray  # (H, H)
    z: np.ndarray  # (N, T, H)
    h: np.ndarray  # (N, T, H) hidden states h_1 .. h_T


def _validate(x, h_prev, Wx, Wh, b, Wz, bz, step):
    """Check every argument once, at a public entry point; return ``(dims, h_prev)``."""
    dims, (h_prev,) = check_cell_inputs(
        x, [("h_prev" if step else "h0", h_prev)],
        [("Wh", Wh, "HH", 1), ("Wx", Wx, "DH", 1), ("b", b, "H", 1), ("Wz", Wz, "HH", 1),
         ("bz", bz, "H", 1)], step)
    return dims, h_prev


def _step(xw, h_prev, Wh, Wz, bz):
    """One step from the input side ``xw = x @ Wx + b``; return ``(z, h_next)``."""
    z = np.tanh(xw + h_prev @ Wh)  # (N, H) first layer of the transition
    return z, np.tanh(z @ Wz + bz)  # (N, H) second layer: the new state


def _step_backward(dh_next, z, h_next, Wh, Wz):
    """Backprop one transition down to the first layer; return ``(da2, da1, dh_prev)``."""
    da2 = dh_next * (1 - h_next**2)  # backprop through the outer tanh
    da1 = (da2 @ Wz.T) * (1 - z**2)  # ... through z @ Wz and the inner tanh
    return da2, da1, da1 @ Wh.T  # ... and into h_prev


def dt_rnn_step_forward(x, h_prev, Wx, Wh, b, Wz, bz):
    """Run one deep-transition step (book chapter 10).

    Equations::

        z = tanh(x @ Wx + h_prev @ Wh + b)
        h_next = tanh(z @ Wz + bz)

    Args:
        x: input, (N, D).
        h_prev: previous hidden state, (N, H); zeros when None.
        Wx: (D, H); Wh: (H, H); b: (H,): the first layer of the transition.
        Wz: (H, H); bz: (H,): the second layer.
    Returns:
        h_next: (N, H), the weights' dtype.
        cache: ``DTRNNCache`` for ``dt_rnn_step_backward``.
    """
    _, h_prev = _validate(x, h_prev, Wx, Wh, b, Wz, bz, step=True)
    z, h_next = _step(x @ Wx + b, h_prev, Wh, Wz, bz)
    return h_next, DTRNNCache(x, h_prev, Wx, Wh, Wz, z, h_next)


def dt_rnn_step_backward(dh_next, cache):
    """Backprop one deep-transition step (book chapter 10).

    Args:
        dh_next: gradient with respect to h_next, (N, H); None: zeros.
        cache: from ``dt_rnn_step_forward``.
    Returns:
        dx (N, D), dh_prev (N, H), dWx (D, H), dWh (H, H), db (H,), dWz (H, H), dbz (H,).
    """
    x, h_prev, Wx, Wh, Wz, z, h_next = cache
    dh_next = check_upstream("dh_next", dh_next, h_next, "NH")
    da2, da1, dh_prev = _step_backward(dh_next, z, h_next, Wh, Wz)
    return (da1 @ Wx.T, dh_prev, x.T @ da1, h_prev.T @ da1, da1.sum(axis=0), z.T @ da2,
            da2.sum(axis=0))


def dt_rnn_forward(x, h0, Wx, Wh, b, Wz, bz):
    """Run a deep-transition RNN over a whole sequence: a loop of steps (book chapter 10).

    Args:
        x: inputs, (N, T, D), T >= 1.
        h0: initial hidden state, (N, H); zeros when None.
        Wx: (D, H); Wh: (H, H); b: (H,); Wz: (H, H); bz: (H,).
    Returns:
        h: hidden states h_1 .. h_T, (N, T, H).
        cache: ``DTRNNSeqCache`` for ``dt_rnn_backward``.
    """
    dims, h0 = _validate(x, h0, Wx, Wh, b, Wz, bz, step=False)
    N, T, D, H = dims["N"], dims["T"], dims["D"], dims["H"]
    xw = (x.reshape(N * T, D) @ Wx + b).reshape(N, T, H)  # input side of every step at once
    z = np.empty((N, T, H), dtype=x.dtype)
    h = np.empty((N, T, H), dtype=x.dtype)
    h_prev = h0
    for t in range(T):
        z[:, t], h[:, t] = _step(xw[:, t], h_prev, Wh, Wz, bz)
        h_prev = h[:, t]
    return h, DTRNNSeqCache(x, h0, Wx, Wh, Wz, z, h)


def dt_rnn_backward(dh, cache):
    """Backprop through a whole sequence (BPTT through a two-layer transition; chapter 10).

    Args:
        dh: upstream gradient for every hidden state, (N, T, H); None: zeros.
        cache: from ``dt_rnn_forward``.
    Returns:
        dx (N, T, D), dh0 (N, H), dWx (D, H), dWh (H, H), db (H,), dWz (H, H), dbz (H,).
    """
    x, h0, Wx, Wh, Wz, z, h = cache
    N, T, D = x.shape
    H = h0.shape[1]
    dh = check_upstream("dh", dh, h, "NTH")
    h_prevs = np.concatenate((h0[:, None], h[:, :-1]), axis=1)  # (N, T, H) h_0 .. h_{T-1}
    da1, da2 = np.empty_like(h), np.empty_like(h)  # (N, T, H) pre-activation gradients
    dh_prev = np.zeros_like(h0)
    for t in reversed(range(T)):
        # h_t feeds the loss at t and the step t+1: the two gradients add
        da2[:, t], da1[:, t], dh_prev = _step_backward(dh[:, t] + dh_prev, z[:, t], h[:, t],
                                                       Wh, Wz)
    # every weight is shared over time: one matmul each over all N*T rows
    da1_2, da2_2 = da1.reshape(N * T, H), da2.reshape(N * T, H)
    dx = (da1_2 @ Wx.T).reshape(N, T, D)
    dWx = x.reshape(N * T, D).T @ da1_2
    dWh = h_prevs.reshape(N * T, H).T @ da1_2
    dWz = z.reshape(N * T, H).T @ da2_2
    return dx, dh_prev, dWx, dWh, da1_2.sum(axis=0), dWz, da2_2.sum(axis=0)
