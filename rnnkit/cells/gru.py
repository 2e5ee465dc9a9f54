"""The GRU cell in NumPy: step and sequence, forward and hand-written backward.

The equations are PyTorch's (``torch.nn.GRU``), gate order r, z, n, with the
update gate z on the *old* state and the reset gate applied after the hidden
matmul::

    ax = x @ Wx + b                          # (N, 3H) input side, blocks r, z, n
    ah = h_prev @ Wh                         # (N, 3H) hidden side
    r = sigmoid(ax_r + ah_r)
    z = sigmoid(ax_z + ah_z)
    n = tanh(ax_n + r * (ah_n + b_hn))
    h_next = (1 - z) * n + z * h_prev

``b`` holds torch's ``b_ih + b_hh`` for the r and z blocks but only ``b_ih``
for n; ``b_hn`` is torch's hidden-side n bias, which sits inside ``r * (...)``
and so cannot be folded into ``b``.

Lecture 000 puts z on the old state as torch does; lecture 001 writes
``h_next = (1 - z) * h_prev + z * n``, the same family with z and 1 - z
swapped (negate the z blocks of Wx, Wh and b to go from one to the other,
since sigmoid(-a) = 1 - sigmoid(a)). Both lectures apply the reset gate
before the matmul, ``(r * h_prev) @ Wh_n``, as Cho et al. (2014) did; torch
and cuDNN apply it after, a different function of the same size. Book
chapter 9 compares the conventions and derives the backward pass.

The sequence functions compute ``x @ Wx + b`` for all time steps in one matmul
and the weight gradients with one matmul each after the loop; the loop itself
is naive and sequential (the fused kernels are in ``rnnkit.torch``).
"""

from typing import NamedTuple

import numpy as np

from rnnkit._checks import check_cell_inputs, check_upstream
from rnnkit.layers import sigmoid

__all__ = [
    "GRUCache",
    "GRUSeqCache",
    "gru_step_forward",
    "gru_step_backward",
    "gru_forward",
    "gru_backward",
]

G = 3  # gate blocks along the last axis of Wx, Wh, b: r, z, n


class GRUCache(NamedTuple):
    """What ``gru_step_backward`` needs from one step; every field an array."""

    x: np.ndarray  # (N, D)
    h_prev: np.ndarray  # (N, H)
    Wx: np.ndarray  # (D, 3H)
    Wh: np.ndarray  # (H, 3H)
    rzn: np.ndarray  # (N, 3H) gate activations r, z, n side by side
    hn: np.ndarray  # (N, H) h_prev @ Wh_n + b_hn, the term r multiplies


class GRUSeqCache(NamedTuple):
    """What ``gru_backward`` needs from a whole sequence; every field an array."""

    x: np.ndarray  # (N, T, D)
    h0: np.ndarray  # (N, H)
    Wx: np.ndarray  # (D, 3H)
    Wh: np.ndarray  # (H, 3H)
    h: np.ndarray  # (N, T, H) hidden states h_1 .. h_T
    rzn: np.ndarray  # (N, T, 3H)
    hn: np.ndarray  # (N, T, H)


def _validate(x, h_prev, Wx, Wh, b, b_hn, step):
    """Check every argument once, at a public entry point; return ``(dims, h_prev)``."""
    dims, (h_prev,) = check_cell_inputs(
        x, [("h_prev" if step else "h0", h_prev)],
        [("Wh", Wh, "HH", G), ("Wx", Wx, "DH", G), ("b", b, "H", G), ("b_hn", b_hn, "H", 1)],
        step)
    return dims, h_prev


def _step(xw, h_prev, Wh, b_hn):
    """One step from the precomputed input projection ``xw = x @ Wx + b`` (N, 3H)."""
    H = h_prev.shape[1]
    ah = h_prev @ Wh  # (N, 3H)
    rzn = np.empty_like(xw)
    rzn[:, : 2 * H] = sigmoid(xw[:, : 2 * H] + ah[:, : 2 * H])  # r, z
    hn = ah[:, 2 * H :] + b_hn  # (N, H)
    rzn[:, 2 * H :] = np.tanh(xw[:, 2 * H :] + rzn[:, :H] * hn)  # n
    z, n = rzn[:, H : 2 * H], rzn[:, 2 * H :]
    h_next = (1 - z) * n + z * h_prev  # (N, H)
    return h_next, rzn, hn


def _step_backward(dh_next, h_prev, rzn, hn):
    """Backprop one step to the pre-activations.

    Returns ``(dax, dah, dh_direct)``: gradients for the input-side sums
    ``x @ Wx + b`` (N, 3H) and the hidden-side ``h_prev @ Wh`` (N, 3H; its n
    block is also ``db_hn``), and the part of ``dh_prev`` that skips the matmul.
    """
    r, z, n = np.split(rzn, G, axis=1)
    dn = dh_next * (1 - z)  # backprop h = (1 - z) * n + z * h_prev into n
    dz = dh_next * (h_prev - n)  # ... into z
    dh_direct = dh_next * z  # ... into h_prev directly
    dan = dn * (1 - n**2)  # backprop through tanh
    dr = dan * hn  # backprop r * hn into r
    dhn = dan * r  # ... into hn = h_prev @ Wh_n + b_hn
    dar = dr * r * (1 - r)  # backprop through sigmoid
    daz = dz * z * (1 - z)  # backprop through sigmoid
    dax = np.concatenate((dar, daz, dan), axis=1)  # (N, 3H)
    dah = np.concatenate((dar, daz, dhn), axis=1)  # (N, 3H)
    return dax, dah, dh_direct


def gru_step_forward(x, h_prev, Wx, Wh, b, b_hn):
    """Run one GRU step with torch's equations (module docstring; book chapter 9).

    Args:
        x: input, (N, D).
        h_prev: previous hidden state, (N, H); zeros when None.
        Wx: input-to-hidden weights, (D, 3H), gate blocks r, z, n.
        Wh: hidden-to-hidden weights, (H, 3H).
        b: biases, (3H,): input plus hidden biases for r and z, input bias for n.
        b_hn: hidden-side bias of the candidate n, (H,).
    Returns:
        h_next: (N, H).
        cache: ``GRUCache`` for ``gru_step_backward``.
    """
    _, h_prev = _validate(x, h_prev, Wx, Wh, b, b_hn, step=True)
    h_next, rzn, hn = _step(x @ Wx + b, h_prev, Wh, b_hn)
    return h_next, GRUCache(x, h_prev, Wx, Wh, rzn, hn)


def gru_step_backward(dh_next, cache):
    """Backprop one GRU step (book chapter 9).

    Args:
        dh_next: gradient of the loss with respect to h_next, (N, H); None: zeros.
        cache: from ``gru_step_forward``.
    Returns:
        dx (N, D), dh_prev (N, H), dWx (D, 3H), dWh (H, 3H), db (3H,), db_hn (H,).
    """
    x, h_prev, Wx, Wh, rzn, hn = cache
    dh_next = check_upstream("dh_next", dh_next, hn, "NH")  # hn: h_next's shape and dtype
    H = h_prev.shape[1]
    dax, dah, dh_direct = _step_backward(dh_next, h_prev, rzn, hn)
    dh_prev = dh_direct + dah @ Wh.T  # both paths from h_prev add
    return dax @ Wx.T, dh_prev, x.T @ dax, h_prev.T @ dah, dax.sum(0), dah[:, 2 * H :].sum(0)


def gru_forward(x, h0, Wx, Wh, b, b_hn):
    """Run a GRU over a whole sequence: a loop of steps (book chapter 9).

    Args:
        x: inputs, (N, T, D), T >= 1.
        h0: initial hidden state, (N, H); zeros when None.
        Wx: (D, 3H); Wh: (H, 3H); b: (3H,); gate blocks r, z, n.
        b_hn: hidden-side bias of the candidate n, (H,).
    Returns:
        h: hidden states for every step, (N, T, H); ``h[:, -1]`` is the final state.
        cache: ``GRUSeqCache`` for ``gru_backward``.
    """
    dims, h0 = _validate(x, h0, Wx, Wh, b, b_hn, step=False)
    N, T, D, H = dims["N"], dims["T"], dims["D"], dims["H"]
    # input projection for every step in one matmul
    xw = (x.reshape(N * T, D) @ Wx + b).reshape(N, T, G * H)  # (N, T, 3H)
    h = np.empty((N, T, H), dtype=x.dtype)
    rzn = np.empty((N, T, G * H), dtype=x.dtype)
    hn = np.empty((N, T, H), dtype=x.dtype)
    h_prev = h0
    for t in range(T):
        h_prev, rzn[:, t], hn[:, t] = _step(xw[:, t], h_prev, Wh, b_hn)
        h[:, t] = h_prev
    return h, GRUSeqCache(x, h0, Wx, Wh, h, rzn, hn)


def gru_backward(dh, cache):
    """Backprop through a whole sequence (BPTT; book chapter 9).

    Args:
        dh: gradient of the loss with respect to every hidden state, (N, T, H); None: zeros.
        cache: from ``gru_forward``.
    Returns:
        dx (N, T, D), dh0 (N, H), dWx (D, 3H), dWh (H, 3H), db (3H,), db_hn (H,).
    """
    x, h0, Wx, Wh, h, rzn, hn = cache
    N, T, D = x.shape
    H = h0.shape[1]
    dh = check_upstream("dh", dh, h, "NTH")
    h_prevs = np.concatenate((h0[:, None], h[:, :-1]), axis=1)  # (N, T, H) h_0 .. h_{T-1}
    dax = np.empty_like(rzn)  # (N, T, 3H)
    dah = np.empty_like(rzn)  # (N, T, 3H)
    dh_prev = np.zeros_like(h0)
    for t in reversed(range(T)):
        # h_t feeds the loss directly and the next step: the two gradients add
        dax[:, t], dah[:, t], dh_direct = _step_backward(
            dh[:, t] + dh_prev, h_prevs[:, t], rzn[:, t], hn[:, t]
        )
        dh_prev = dh_direct + dah[:, t] @ Wh.T  # both paths from h_prev add
    # shared weights: their gradients sum over time, one matmul each
    dax2, dah2 = dax.reshape(N * T, -1), dah.reshape(N * T, -1)  # (N*T, 3H)
    dx = (dax2 @ Wx.T).reshape(N, T, D)
    dWx = x.reshape(N * T, D).T @ dax2
    dWh = h_prevs.reshape(N * T, -1).T @ dah2
    return dx, dh_prev, dWx, dWh, dax2.sum(0), dah2[:, 2 * H :].sum(0)
