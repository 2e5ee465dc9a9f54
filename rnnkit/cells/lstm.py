"""The LSTM cell in NumPy: step and sequence, forward and hand-written backward.

The equations are PyTorch's (``torch.nn.LSTM``), gate order i, f, g, o, so
converting weights is a transpose. Book chapter 8 writes them as
(eq-ch08-gates) to (eq-ch08-hidden) and derives the backward pass as
(eq-ch08-dc) to (eq-ch08-dparams); the code below carries those labels.

The sequence functions compute the input projection ``x @ Wx + b`` for all time
steps in one matmul and accumulate ``dWx``, ``dWh``, ``db`` and ``dx`` with one
matmul each after the loop over time. What remains inside the loop, the
``h_prev @ Wh`` product and the elementwise gate algebra, is inherently
sequential: this is a plain loop over time, for reading (the fused kernels are in
``rnnkit.torch``). Inside the sequence functions time comes first, so each step
works on contiguous memory, and each step writes its results straight into the
sequence's arrays; ``bench/bench_lstm.py`` measures it against ``torch.nn.LSTM``.
"""

from typing import NamedTuple

import numpy as np

from rnnkit._checks import check_cell_inputs, check_upstream

__all__ = [
    "LSTMCache",
    "LSTMSeqCache",
    "lstm_step_forward",
    "lstm_step_backward",
    "lstm_forward",
    "lstm_backward",
]

G = 4  # gate blocks along the last axis of Wx, Wh, b: i, f, g, o


class LSTMCache(NamedTuple):
    """What ``lstm_step_backward`` needs from one step; every field an array."""

    x: np.ndarray  # (N, D)
    h_prev: np.ndarray  # (N, H)
    c_prev: np.ndarray  # (N, H)
    Wx: np.ndarray  # (D, 4H)
    Wh: np.ndarray  # (H, 4H)
    ifgo: np.ndarray  # (N, 4H) gate activations i, f, g, o side by side
    tanh_c: np.ndarray  # (N, H) tanh(c_next)


class LSTMSeqCache(NamedTuple):
    """What ``lstm_backward`` needs from a whole sequence; every field an array.

    The hidden and cell states of every step are kept: ``h[:, -1]`` and
    ``c[:, -1]`` are the final states that ``lstm_forward`` returns.
    """

    x: np.ndarray  # (N, T, D)
    h0: np.ndarray  # (N, H)
    c0: np.ndarray  # (N, H)
    Wx: np.ndarray  # (D, 4H)
    Wh: np.ndarray  # (H, 4H)
    h: np.ndarray  # (N, T, H) hidden states h_1 .. h_T
    c: np.ndarray  # (N, T, H) cell states c_1 .. c_T
    ifgo: np.ndarray  # (N, T, 4H)
    tanh_c: np.ndarray  # (N, T, H)

    @property
    def c_n(self):
        """The final cell state c_T, shape (N, H)."""
        return self.c[:, -1]


def _validate(x, h_prev, c_prev, Wx, Wh, b, step):
    """Check every argument once, at a public entry point; return ``(dims, h_prev, c_prev)``."""
    dims, (h_prev, c_prev) = check_cell_inputs(
        x, [("h_prev", h_prev), ("c_prev", c_prev)] if step else [("h0", h_prev), ("c0", c_prev)],
        [("Wh", Wh, "HH", G), ("Wx", Wx, "DH", G), ("b", b, "H", G)], step)
    return dims, h_prev, c_prev


def _blocks(a):
    """The four gate blocks of ``a`` (N, 4H, ...) as views (N, H, ...) each: a_i, a_f, a_g, a_o.

    Blocks are sliced on axis 1, so the ConvLSTM (gate blocks on the channel axis of
    (N, 4Hc, S1, S2) arrays) shares this and the gate algebra of ``_step_backward``.

    The same as ``np.split(a, 4, axis=1)``, without its overhead (it shows at T calls).
    """
    H = a.shape[1] // G
    return a[:, :H], a[:, H : 2 * H], a[:, 2 * H : 3 * H], a[:, 3 * H :]


def _sigmoid(a, out):
    """Write ``1 / (1 + exp(-a))``, the book's formula, into ``out`` (no ``np.where``).

    ``exp(-a)`` overflows to inf for very negative ``a``, and ``1 / inf = 0`` is the right
    limit, so that overflow is expected and silenced. ``rnnkit.layers.sigmoid`` gives the
    same values through a branch (``np.where``) that costs several times more per call,
    which matters T times per sequence here.
    """
    with np.errstate(over="ignore"):
        np.exp(np.negative(a, out=out), out=out)  # exp(-a), written straight into out
    out += 1
    return np.reciprocal(out, out=out)


def _step(xw, h_prev, c_prev, Wh, out=None):
    """One step from the precomputed input projection ``xw = x @ Wx + b`` (N, 4H).

    Returns ``h_next, c_next, ifgo, tanh_c``. ``out``: four arrays of those shapes to write
    them into (one time step of a sequence's buffers, so that nothing is copied afterwards),
    or None for new arrays. The gates may be written over ``xw`` itself (``out[2] is xw``):
    ``xw`` is read once, before any gate is written.
    """
    N, H = c_prev.shape
    if out is None:
        out = (np.empty_like(c_prev), np.empty_like(c_prev),
               np.empty((N, G * H), dtype=c_prev.dtype), np.empty_like(c_prev))
    h_next, c_next, ifgo, tanh_c = out
    a = h_prev @ Wh
    a += xw  # (N, 4H) pre-activations of the four blocks
    _sigmoid(a, out=ifgo)  # i, f, o = sigmoid(a_i, a_f, a_o) (eq-ch08-gates)
    i, f, g, o = _blocks(ifgo)  # views: writing g writes ifgo
    np.tanh(_blocks(a)[2], out=g)  # the candidate g = tanh(a_g), written over its block
    np.multiply(f, c_prev, out=c_next)
    c_next += i * g  # c_next = f * c_prev + i * g (eq-ch08-cell)
    np.tanh(c_next, out=tanh_c)
    np.multiply(o, tanh_c, out=h_next)  # h_next = o * tanh(c_next) (eq-ch08-hidden)
    return h_next, c_next, ifgo, tanh_c


def _step_backward(dh_next, dc_next, c_prev, ifgo, tanh_c, out=None):
    """Backprop one step down to the pre-activations; return ``(da, dc_prev)``.

    ``out``: an (N, 4H) array to write ``da`` into (one time step of the sequence's buffer),
    or None. Each gate's gradient is written into its block of ``da``; then all four blocks
    are multiplied at once by the derivatives of their squashing functions.
    """
    i, f, g, o = _blocks(ifgo)
    da = np.empty_like(ifgo) if out is None else out
    di, df, dg, do = _blocks(da)  # views: writing them writes da
    np.multiply(dh_next, tanh_c, out=do)  # backprop h = o * tanh(c) into o
    dc = dh_next * o
    dc *= 1 - tanh_c**2
    dc += dc_next  # ... and into c, through tanh (eq-ch08-dc)
    np.multiply(dc, c_prev, out=df)  # backprop c = f * c_prev + i * g into f (eq-ch08-dcprev)
    np.multiply(dc, g, out=di)  # ... into i
    np.multiply(dc, i, out=dg)  # ... into g
    dc_prev = dc * f  # ... into c_prev: the uninterrupted path
    # backprop through sigmoid (i, f, o) and tanh (g) (eq-ch08-da): s (1 - s) over all four
    # blocks, then 1 - g**2 written over g's block; one pass each instead of one per gate
    squash = 1 - ifgo
    squash *= ifgo
    np.subtract(1, g * g, out=_blocks(squash)[2])
    da *= squash
    return da, dc_prev


def lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b):
    """Run one LSTM step (book chapter 8).

    Equations, with ``a`` split into four blocks of width H::

        a = x @ Wx + h_prev @ Wh + b
        i, f, o = sigmoid(a_i), sigmoid(a_f), sigmoid(a_o);  g = tanh(a_g)
        c_next = f * c_prev + i * g
        h_next = o * tanh(c_next)

    Args:
        x: input, (N, D).
        h_prev: previous hidden state, (N, H); zeros when None.
        c_prev: previous cell state, (N, H); zeros when None.
        Wx: input-to-hidden weights, (D, 4H), gate blocks i, f, g, o.
        Wh: hidden-to-hidden weights, (H, 4H).
        b: biases, (4H,).
    Returns:
        h_next: (N, H).
        c_next: (N, H).
        cache: ``LSTMCache`` for ``lstm_step_backward``.
    """
    _, h_prev, c_prev = _validate(x, h_prev, c_prev, Wx, Wh, b, step=True)
    h_next, c_next, ifgo, tanh_c = _step(x @ Wx + b, h_prev, c_prev, Wh)
    return h_next, c_next, LSTMCache(x, h_prev, c_prev, Wx, Wh, ifgo, tanh_c)


def lstm_step_backward(dh_next, dc_next, cache):
    """Backprop one LSTM step (book chapter 8).

    Args:
        dh_next: gradient of the loss with respect to h_next, (N, H); None: zeros.
        dc_next: gradient with respect to c_next, (N, H); None: zeros.
        cache: from ``lstm_step_forward``.
    Returns:
        dx (N, D), dh_prev (N, H), dc_prev (N, H), dWx (D, 4H), dWh (H, 4H), db (4H,).
    """
    x, h_prev, c_prev, Wx, Wh, ifgo, tanh_c = cache
    # tanh(c_next) has the shape and dtype of both outputs, h_next and c_next
    dh_next = check_upstream("dh_next", dh_next, tanh_c, "NH")
    dc_next = check_upstream("dc_next", dc_next, tanh_c, "NH")
    da, dc_prev = _step_backward(dh_next, dc_next, c_prev, ifgo, tanh_c)
    # backprop a = x @ Wx + h_prev @ Wh + b into each of its terms (eq-ch08-dparams)
    return da @ Wx.T, da @ Wh.T, dc_prev, x.T @ da, h_prev.T @ da, da.sum(axis=0)


def lstm_forward(x, h0, c0, Wx, Wh, b):
    """Run an LSTM over a whole sequence: a loop of steps (book chapter 8).

    Args:
        x: inputs, (N, T, D), T >= 1.
        h0: initial hidden state, (N, H); zeros when None.
        c0: initial cell state, (N, H); zeros when None.
        Wx: (D, 4H); Wh: (H, 4H); b: (4H,); gate blocks i, f, g, o.
    Returns:
        h: hidden states for every step, (N, T, H).
        c_n: the final cell state, (N, H); ``(h[:, -1], c_n)`` is the state to
            carry into the next batch, torch's ``(h_n, c_n)``.
        cache: ``LSTMSeqCache`` for ``lstm_backward``.
    """
    dims, h0, c0 = _validate(x, h0, c0, Wx, Wh, b, step=False)
    N, T, D, H = dims["N"], dims["T"], dims["D"], dims["H"]
    # Inside, time comes first, (T, N, ...), so that each step reads and writes one
    # contiguous block; the cache shows the same arrays as (N, T, ...) views.
    xw = np.ascontiguousarray(x.transpose(1, 0, 2)).reshape(T * N, D) @ Wx
    xw += b
    xw = xw.reshape(T, N, G * H)  # the input projection of every step in one matmul
    # one block for the three: NumPy asks the kernel for huge pages for arrays of 4 MB and
    # more, so a fresh block costs a few page faults instead of one per 4 kB page
    h, c, tanh_c = np.empty((3, T, N, H), dtype=x.dtype)
    ifgo = xw  # step t reads xw[t] once, then writes its gates over it: no second buffer
    h_prev, c_prev = h0, c0
    for t in range(T):
        _step(xw[t], h_prev, c_prev, Wh, out=(h[t], c[t], ifgo[t], tanh_c[t]))
        h_prev, c_prev = h[t], c[t]
    h, c, ifgo, tanh_c = (a.transpose(1, 0, 2) for a in (h, c, ifgo, tanh_c))  # (N, T, ...)
    return np.ascontiguousarray(h), c[:, -1], LSTMSeqCache(x, h0, c0, Wx, Wh, h, c, ifgo, tanh_c)


def lstm_backward(dh, dc_n, cache):
    """Backprop through a whole sequence (BPTT; book chapter 8).

    Args:
        dh: gradient of the loss with respect to every hidden state, (N, T, H); None: zeros.
        dc_n: gradient with respect to the final cell state, (N, H); None when the loss
            does not read it (the usual case: ``c`` reaches the loss through ``h``).
        cache: from ``lstm_forward``.
    Returns:
        dx (N, T, D), dh0 (N, H), dc0 (N, H), dWx (D, 4H), dWh (H, 4H), db (4H,).
    """
    x, h0, c0, Wx, Wh, h, c, ifgo, tanh_c = cache
    N, T, D = x.shape
    dh = check_upstream("dh", dh, h, "NTH")
    dc_prev = check_upstream("dc_n", dc_n, c[:, -1], "NH")
    # time first, as in lstm_forward: the cache's arrays are views of (T, N, ...) arrays
    dh, h, c, ifgo, tanh_c = (a.transpose(1, 0, 2) for a in (dh, h, c, ifgo, tanh_c))
    da = np.empty_like(ifgo)  # (T, N, 4H)
    dh_prev = np.zeros_like(h0)
    WhT = np.ascontiguousarray(Wh.T)  # (4H, H); BLAS multiplies a contiguous copy faster
    for t in reversed(range(T)):
        c_prev = c[t - 1] if t > 0 else c0
        # h_t feeds the loss directly and the next step: the two gradients add
        dh_prev += dh[t]
        _, dc_prev = _step_backward(dh_prev, dc_prev, c_prev, ifgo[t], tanh_c[t], out=da[t])
        dh_prev = da[t] @ WhT  # backprop h_prev @ Wh into h_prev
    # shared weights: their gradients sum over time, one matmul each (eq-ch08-dparams)
    da2 = da.reshape(T * N, -1)  # (T*N, 4H)
    dx = (da2 @ Wx.T).reshape(T, N, D).transpose(1, 0, 2)
    dWx = np.ascontiguousarray(x.transpose(1, 0, 2)).reshape(T * N, D).T @ da2
    # step t multiplied h_{t-1} by Wh: h_0 at t = 0, then the states h_1 .. h_{T-1}
    H = h0.shape[1]
    dWh = h0.T @ da[0] + h[:-1].reshape((T - 1) * N, H).T @ da[1:].reshape((T - 1) * N, G * H)
    return np.ascontiguousarray(dx), dh_prev, dc_prev, dWx, dWh, da2.sum(axis=0)
