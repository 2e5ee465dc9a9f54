"""The coupled-gate LSTM in NumPy: step and sequence, forward and hand-written backward.

Lecture 003 writes an LSTM whose input gate is tied to the forget gate, ``i = 1 - f``:
whatever fraction of the old cell is forgotten is refilled from the candidate. It is a
variant of the standard cell (``rnnkit.lstm``), which Greff et al. (2017) call CIFG,
"coupled input and forget gate". Three gate blocks instead of four, order f, g, o::

    a = x @ Wx + h_prev @ Wh + b          # (N, 3H), blocks a_f, a_g, a_o
    f, o = sigmoid(a_f), sigmoid(a_o);  g = tanh(a_g)
    c_next = f * c_prev + (1 - f) * g
    h_next = o * tanh(c_next)

Since ``1 - sigmoid(a) = sigmoid(-a)``, this is exactly a standard LSTM whose input-gate
block is the negated forget-gate block: ``coupled_to_lstm`` builds those parameters, which
is how the torch path (``rnnkit.torch.lstm_variants``) runs the cell on torch.nn.LSTM's
kernel. Book chapter 8 derives the backward pass and compares the two cells.

The sequence functions are a naive loop over time, for reading, not for speed.
"""

from typing import NamedTuple

import numpy as np

from rnnkit._checks import check_arrays, check_float, check_shape, dims_from
from rnnkit.layers import sigmoid

__all__ = [
    "CoupledLSTMCache",
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


def _validate(x, h_prev, c_prev, Wx, Wh, b, step):
    """Check every argument once, at a public entry point; return the dims."""
    h_name, c_name = ("h_prev", "c_prev") if step else ("h0", "c0")
    return check_arrays(("x", x, "ND" if step else "NTD"), (h_name, h_prev, "NH"),
                        (c_name, c_prev, "NH"), ("Wx", Wx, "DH", G), ("Wh", Wh, "HH", G),
                        ("b", b, "H", G))


def _step(x, h_prev, c_prev, Wx, Wh, b):
    H = h_prev.shape[1]
    a = x @ Wx + h_prev @ Wh + b  # (N, 3H)
    fgo = np.empty_like(a)
    fgo[:, :H] = sigmoid(a[:, :H])  # f
    fgo[:, H : 2 * H] = np.tanh(a[:, H : 2 * H])  # g
    fgo[:, 2 * H :] = sigmoid(a[:, 2 * H :])  # o
    f, g, o = np.split(fgo, G, axis=1)
    c_next = f * c_prev + (1 - f) * g  # (N, H)
    tanh_c = np.tanh(c_next)
    return o * tanh_c, c_next, CoupledLSTMCache(x, h_prev, c_prev, Wx, Wh, fgo, tanh_c)


def _step_backward(dh_next, dc_next, cache):
    x, h_prev, c_prev, Wx, Wh, fgo, tanh_c = cache
    f, g, o = np.split(fgo, G, axis=1)
    do = dh_next * tanh_c  # backprop h = o * tanh(c) into o
    dc = dc_next + dh_next * o * (1 - tanh_c**2)  # ... and into c, through tanh
    df = dc * (c_prev - g)  # backprop c = f * c_prev + (1 - f) * g into f
    dg = dc * (1 - f)  # ... into g
    dc_prev = dc * f  # ... into c_prev
    da = np.concatenate((df * f * (1 - f), dg * (1 - g**2), do * o * (1 - o)), axis=1)
    # backprop a = x @ Wx + h_prev @ Wh + b into each of its terms
    return da @ Wx.T, da @ Wh.T, dc_prev, x.T @ da, h_prev.T @ da, da.sum(axis=0)


def coupled_lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b):
    """Run one coupled-gate LSTM step (module docstring; book chapter 8).

    Args:
        x: input, (N, D).
        h_prev: previous hidden state, (N, H).
        c_prev: previous cell state, (N, H).
        Wx: input-to-hidden weights, (D, 3H), gate blocks f, g, o.
        Wh: hidden-to-hidden weights, (H, 3H).
        b: biases, (3H,).
    Returns:
        h_next (N, H), c_next (N, H), cache (``CoupledLSTMCache``).
    """
    _validate(x, h_prev, c_prev, Wx, Wh, b, step=True)
    return _step(x, h_prev, c_prev, Wx, Wh, b)


def coupled_lstm_step_backward(dh_next, dc_next, cache):
    """Backprop one coupled-gate LSTM step (book chapter 8).

    Args:
        dh_next: gradient with respect to h_next, (N, H).
        dc_next: gradient with respect to c_next, (N, H).
        cache: from ``coupled_lstm_step_forward``.
    Returns:
        dx (N, D), dh_prev (N, H), dc_prev (N, H), dWx (D, 3H), dWh (H, 3H), db (3H,).
    """
    dims = {"N": cache.h_prev.shape[0], "H": cache.h_prev.shape[1]}
    for name, arr in (("dh_next", dh_next), ("dc_next", dc_next)):
        check_float(name, arr)
        check_shape(name, arr, "NH", dims)
    return _step_backward(dh_next, dc_next, cache)


def coupled_lstm_forward(x, h0, Wx, Wh, b, c0=None):
    """Run a coupled-gate LSTM over a sequence: a loop of steps (book chapter 8).

    Args:
        x: inputs, (N, T, D).
        h0: initial hidden state, (N, H).
        Wx: (D, 3H); Wh: (H, 3H); b: (3H,); gate blocks f, g, o.
        c0: initial cell state, (N, H); zeros when None.
    Returns:
        h: hidden states for every step, (N, T, H).
        cache: a tuple of T step caches, for ``coupled_lstm_backward``.
    """
    dims = _validate(x, h0, c0, Wx, Wh, b, step=False)
    h = np.empty((dims["N"], dims["T"], dims["H"]), dtype=x.dtype)
    h_prev, c_prev = h0, np.zeros_like(h0) if c0 is None else c0
    caches = []
    for t in range(dims["T"]):
        h_prev, c_prev, cache = _step(x[:, t], h_prev, c_prev, Wx, Wh, b)
        h[:, t] = h_prev
        caches.append(cache)
    return h, tuple(caches)


def coupled_lstm_backward(dh, cache):
    """Backprop through a whole sequence (BPTT; book chapter 8).

    The loss is assumed to depend on the hidden states only; no gradient for ``c0``.

    Args:
        dh: gradient with respect to every hidden state, (N, T, H).
        cache: from ``coupled_lstm_forward``.
    Returns:
        dx (N, T, D), dh0 (N, H), dWx (D, 3H), dWh (H, 3H), db (3H,).
    """
    first = cache[0]
    N, H = first.h_prev.shape
    check_float("dh", dh)
    check_shape("dh", dh, "NTH", {"N": N, "T": len(cache), "H": H})
    dx = np.empty((N, len(cache), first.x.shape[1]), dtype=dh.dtype)
    dWx, dWh = np.zeros_like(first.Wx), np.zeros_like(first.Wh)
    db = np.zeros(first.Wx.shape[1], dtype=dh.dtype)
    dh_prev, dc_prev = np.zeros((N, H), dtype=dh.dtype), np.zeros((N, H), dtype=dh.dtype)
    for t in reversed(range(len(cache))):
        # h_t feeds the loss and the next step: the two gradients add
        dx[:, t], dh_prev, dc_prev, dWx_t, dWh_t, db_t = _step_backward(
            dh[:, t] + dh_prev, dc_prev, cache[t])
        dWx += dWx_t  # shared weights: gradients sum over time
        dWh += dWh_t
        db += db_t
    return dx, dh_prev, dWx, dWh, db


def coupled_to_lstm(Wx, Wh, b):
    """Return standard-LSTM parameters (blocks i, f, g, o) computing the same function.

    The input-gate block is the negated forget-gate block, so ``i = sigmoid(-a_f) = 1 - f``.

    Args:
        Wx: (D, 3H); Wh: (H, 3H); b: (3H,); blocks f, g, o.
    Returns:
        Wx4 (D, 4H), Wh4 (H, 4H), b4 (4H,), for ``rnnkit.lstm``.
    """
    dims = {}
    for name, arr, letters in (("Wx", Wx, "DH"), ("Wh", Wh, "HH"), ("b", b, "H")):
        check_float(name, arr)
        dims_from(name, arr, letters, dims, gates=G)
    H = dims["H"]
    return tuple(np.concatenate((-p[..., :H], p), axis=-1) for p in (Wx, Wh, b))
