"""The coupled-gate LSTM in NumPy: step and sequence, forward and hand-written backward.

Lecture 003 writes an LSTM whose input gate is tied to the forget gate, ``i = 1 - f``:
whatever fraction of the old cell is forgotten is refilled from the candidate. It is a
variant of the standard cell (``rnnkit.cells.lstm``), which Greff et al. (2017) call CIFG,
"coupled input and forget gate". Three gate blocks instead of four, order f, g, o::

    a = x @ Wx + h_prev @ Wh + b          # (N, 3H), blocks a_f, a_g, a_o
    f, o = sigmoid(a_f), sigmoid(a_o);  g = tanh(a_g)
    c_next = f * c_prev + (1 - f) * g
    h_next = o * tanh(c_next)

Since ``1 - sigmoid(a) = sigmoid(-a)``, this is exactly a standard LSTM whose input-gate
block is the negated forget-gate block: ``coupled_to_lstm`` builds those parameters, which
is how the torch path (``rnnkit.torch.cells.coupled_lstm``) runs the cell on torch.nn.LSTM's
kernel. Book chapter 8 derives the backward pass and compares the two cells.

The sequence functions compute ``x @ Wx + b`` for all steps in one matmul and the weight
gradients with one matmul each after the loop; the loop over time is naive and sequential, for
reading, not for speed.
"""

from typing import NamedTuple

import numpy as np

from rnnkit._checks import check_cell_inputs, check_float, check_upstream, dims_from
from rnnkit.layers import sigmoid

__all__ = [
    "CoupledLSTMCache",
    "CoupledLSTMSeqCache",
    "coupled_lstm_step_forward",
    "coupled_lstm_step_backward",
    "coupled_lstm_forward",
    "coupled_lstm_backward",
    "coupled_to_lstm",
]

G = 3  # gate blocks: f, g, o


class CoupledLSTMCache(NamedTuple):
    """What ``coupled_lstm_step_backward`` needs from one step; every field an array."""

    x: np.ndarray  # (N, D)
    h_prev: np.ndarray  # (N, H)
    c_prev: np.ndarray  # (N, H)
    Wx: np.ndarray  # (D, 3H)
    Wh: np.ndarray  # (H, 3H)
    fgo: np.ndarray  # (N, 3H) activations f, g, o side by side
    tanh_c: np.ndarray  # (N, H) tanh(c_next)


class CoupledLSTMSeqCache(NamedTuple):
    """What ``coupled_lstm_backward`` needs from a whole sequence; every field an array."""

    x: np.ndarray  # (N, T, D)
    h0: np.ndarray  # (N, H)
    c0: np.ndarray  # (N, H)
    Wx: np.ndarray  # (D, 3H)
    Wh: np.ndarray  # (H, 3H)
    h: np.ndarray  # (N, T, H) hidden states h_1 .. h_T
    c: np.ndarray  # (N, T, H) cell states c_1 .. c_T
    fgo: np.ndarray  # (N, T, 3H)
    tanh_c: np.ndarray  # (N, T, H)


def _validate(x, h_prev, c_prev, Wx, Wh, b, step):
    """Check every argument once, at a public entry point; return ``(dims, h_prev, c_prev)``."""
    dims, (h_prev, c_prev) = check_cell_inputs(
        x, [("h_prev", h_prev), ("c_prev", c_prev)] if step else [("h0", h_prev), ("c0", c_prev)],
        [("Wh", Wh, "HH", G), ("Wx", Wx, "DH", G), ("b", b, "H", G)], step)
    return dims, h_prev, c_prev


def _step(xw, h_prev, c_prev, Wh):
    """One step from the precomputed input projection ``xw = x @ Wx + b`` (N, 3H)."""
    a = xw + h_prev @ Wh  # (N, 3H)
    a_f, a_g, a_o = np.split(a, G, axis=1)
    f = sigmoid(a_f)  # forget gate; the input gate is 1 - f
    g = np.tanh(a_g)  # candidate
    o = sigmoid(a_o)  # output gate
    c_next = f * c_prev + (1 - f) * g  # (N, H)
    tanh_c = np.tanh(c_next)
    return o * tanh_c, c_next, np.concatenate((f, g, o), axis=1), tanh_c


def _step_backward(dh_next, dc_next, c_prev, fgo, tanh_c):
    """Backprop one step down to the pre-activations; return ``(da, dc_prev)``."""
    f, g, o = np.split(fgo, G, axis=1)
    do = dh_next * tanh_c  # backprop h = o * tanh(c) into o
    dc = dc_next + dh_next * o * (1 - tanh_c**2)  # ... and into c, through tanh
    df = dc * (c_prev - g)  # backprop c = f * c_prev + (1 - f) * g into f
    dg = dc * (1 - f)  # ... into g
    dc_prev = dc * f  # ... into c_prev
    da = np.concatenate((df * f * (1 - f), dg * (1 - g**2), do * o * (1 - o)), axis=1)
    return da, dc_prev  # (N, 3H), (N, H)


def coupled_lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b):
    """Run one coupled-gate LSTM step (module docstring; book chapter 8).

    Args:
        x: input, (N, D).
        h_prev: previous hidden state, (N, H); zeros when None.
        c_prev: previous cell state, (N, H); zeros when None.
        Wx: input-to-hidden weights, (D, 3H), gate blocks f, g, o.
        Wh: hidden-to-hidden weights, (H, 3H).
        b: biases, (3H,).
    Returns:
        h_next (N, H), c_next (N, H), cache (``CoupledLSTMCache``).
    """
    _, h_prev, c_prev = _validate(x, h_prev, c_prev, Wx, Wh, b, step=True)
    h_next, c_next, fgo, tanh_c = _step(x @ Wx + b, h_prev, c_prev, Wh)
    return h_next, c_next, CoupledLSTMCache(x, h_prev, c_prev, Wx, Wh, fgo, tanh_c)


def coupled_lstm_step_backward(dh_next, dc_next, cache):
    """Backprop one coupled-gate LSTM step (book chapter 8).

    Args:
        dh_next: gradient with respect to h_next, (N, H); None: zeros.
        dc_next: gradient with respect to c_next, (N, H); None: zeros.
        cache: from ``coupled_lstm_step_forward``.
    Returns:
        dx (N, D), dh_prev (N, H), dc_prev (N, H), dWx (D, 3H), dWh (H, 3H), db (3H,).
    """
    x, h_prev, c_prev, Wx, Wh, fgo, tanh_c = cache
    # tanh(c_next) has the shape and dtype of both outputs, h_next and c_next
    dh_next = check_upstream("dh_next", dh_next, tanh_c, "NH")
    dc_next = check_upstream("dc_next", dc_next, tanh_c, "NH")
    da, dc_prev = _step_backward(dh_next, dc_next, c_prev, fgo, tanh_c)
    # backprop a = x @ Wx + h_prev @ Wh + b into each of its terms
    return da @ Wx.T, da @ Wh.T, dc_prev, x.T @ da, h_prev.T @ da, da.sum(axis=0)


def coupled_lstm_forward(x, h0, c0, Wx, Wh, b):
    """Run a coupled-gate LSTM over a sequence: a loop of steps (book chapter 8).

    Args:
        x: inputs, (N, T, D), T >= 1.
        h0: initial hidden state, (N, H); zeros when None.
        c0: initial cell state, (N, H); zeros when None.
        Wx: (D, 3H); Wh: (H, 3H); b: (3H,); gate blocks f, g, o.
    Returns:
        h: hidden states for every step, (N, T, H).
        c_n: the final cell state, (N, H).
        cache: ``CoupledLSTMSeqCache`` for ``coupled_lstm_backward``.
    """
    dims, h0, c0 = _validate(x, h0, c0, Wx, Wh, b, step=False)
    N, T, D, H = dims["N"], dims["T"], dims["D"], dims["H"]
    xw = (x.reshape(N * T, D) @ Wx + b).reshape(N, T, G * H)  # input projection, one matmul
    h = np.empty((N, T, H), dtype=x.dtype)
    c = np.empty((N, T, H), dtype=x.dtype)
    fgo = np.empty((N, T, G * H), dtype=x.dtype)
    tanh_c = np.empty((N, T, H), dtype=x.dtype)
    h_prev, c_prev = h0, c0
    for t in range(T):
        h_prev, c_prev, fgo[:, t], tanh_c[:, t] = _step(xw[:, t], h_prev, c_prev, Wh)
        h[:, t], c[:, t] = h_prev, c_prev
    return h, c[:, -1], CoupledLSTMSeqCache(x, h0, c0, Wx, Wh, h, c, fgo, tanh_c)


def coupled_lstm_backward(dh, dc_n, cache):
    """Backprop through a whole sequence (BPTT; book chapter 8).

    Args:
        dh: gradient with respect to every hidden state, (N, T, H); None: zeros.
        dc_n: gradient with respect to the final cell state, (N, H); None: zeros.
        cache: from ``coupled_lstm_forward``.
    Returns:
        dx (N, T, D), dh0 (N, H), dc0 (N, H), dWx (D, 3H), dWh (H, 3H), db (3H,).
    """
    x, h0, c0, Wx, Wh, h, c, fgo, tanh_c = cache
    N, T, D = x.shape
    dh = check_upstream("dh", dh, h, "NTH")
    dc_prev = check_upstream("dc_n", dc_n, c[:, -1], "NH")
    c_prevs = np.concatenate((c0[:, None], c[:, :-1]), axis=1)  # (N, T, H) c_0 .. c_{T-1}
    h_prevs = np.concatenate((h0[:, None], h[:, :-1]), axis=1)  # (N, T, H) h_0 .. h_{T-1}
    da = np.empty_like(fgo)  # (N, T, 3H)
    dh_prev = np.zeros_like(h0)
    for t in reversed(range(T)):
        # h_t feeds the loss and the next step: the two gradients add
        da[:, t], dc_prev = _step_backward(
            dh[:, t] + dh_prev, dc_prev, c_prevs[:, t], fgo[:, t], tanh_c[:, t])
        dh_prev = da[:, t] @ Wh.T  # backprop h_prev @ Wh into h_prev
    # shared weights: their gradients sum over time, one matmul each
    da2 = da.reshape(N * T, -1)  # (N*T, 3H)
    dx = (da2 @ Wx.T).reshape(N, T, D)
    dWx = x.reshape(N * T, D).T @ da2
    dWh = h_prevs.reshape(N * T, -1).T @ da2
    return dx, dh_prev, dc_prev, dWx, dWh, da2.sum(axis=0)


def coupled_to_lstm(Wx, Wh, b):
    """Return standard-LSTM parameters (blocks i, f, g, o) computing the same function.

    The input-gate block is the negated forget-gate block, so ``i = sigmoid(-a_f) = 1 - f``.

    Args:
        Wx: (D, 3H); Wh: (H, 3H); b: (3H,); blocks f, g, o.
    Returns:
        Wx4 (D, 4H), Wh4 (H, 4H), b4 (4H,), for ``rnnkit.cells.lstm``.
    """
    dims = {}
    for name, arr, letters in (("Wx", Wx, "DH"), ("Wh", Wh, "HH"), ("b", b, "H")):
        check_float(name, arr)
        dims_from(name, arr, letters, dims, gates=G)
    H = dims["H"]
    return tuple(np.concatenate((-p[..., :H], p), axis=-1) for p in (Wx, Wh, b))
