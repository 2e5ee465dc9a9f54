"""The convolutional LSTM in NumPy: step and sequence, forward and hand-written backward.

Shi et al.'s ConvLSTM (book chapter 14), without peepholes: the LSTM of chapter 8 with every
matrix product replaced by a 'same' convolution, so that inputs, states and gates are images.
One convolution over the channel concatenation ``[x, h_prev]`` gives the four pre-activations,
in rnnkit's gate order i, f, g, o. Channels come first, as in torch's ``conv2d``:
``x (N, C, S1, S2)``, states ``(N, Hc, S1, S2)``, ``W (4*Hc, C+Hc, k, k)`` with k odd and
``b (4*Hc,)``.
The convolution is a cross-correlation (torch's convention) written as im2col: a strided view of
every k-by-k window of the zero-padded input, contracted with ``W`` in one ``einsum``.

Why the cell is not in ``rnnkit.cells.CELLS``: that registry describes cells whose data are
vectors, ``x (N, D)`` and states ``(N, H)``, with weights ``Wx (D, G*H)``, ``Wh (H, G*H)`` that
generic tests and the torch twins' base class (``rnnkit.torch.cells.Cell``) build from its
letters. Here the data are images and the one weight is a 4-D kernel over ``[x, h]``, so none of
those shapes fit; registering it would make every generic caller special-case it. The module
follows the rest of the contract: the four functions, argument and gradient order, ``None``
states and upstream gradients, NamedTuple caches, and errors that name the argument.
"""

from typing import NamedTuple

import numpy as np

from rnnkit._checks import check_float, check_upstream

# The gate algebra after the convolution is the LSTM's, with the gate blocks on axis 1 (channels)
# instead of on the feature axis: lstm's helpers slice axis 1, so they serve both cells.
from rnnkit.cells.lstm import _blocks, _sigmoid, _step_backward

__all__ = [
    "ConvLSTMCache",
    "conv_lstm_step_forward",
    "conv_lstm_step_backward",
    "conv_lstm_forward",
    "conv_lstm_backward",
]

G = 4  # gate blocks along the first axis of W and b: i, f, g, o


class ConvLSTMCache(NamedTuple):
    """What ``conv_lstm_step_backward`` needs from one step; every field an array."""

    cols: np.ndarray  # (N, C+Hc, S1, S2, k, k) every window of the padded [x, h_prev]
    c_prev: np.ndarray  # (N, Hc, S1, S2)
    W: np.ndarray  # (4Hc, C+Hc, k, k)
    ifgo: np.ndarray  # (N, 4Hc, S1, S2) gate activations i, f, g, o stacked on channels
    tanh_c: np.ndarray  # (N, Hc, S1, S2) tanh(c_next)


class ConvLSTMSeqCache(NamedTuple):
    """What ``conv_lstm_backward`` needs: one step cache per time step, stacked on axis 1."""

    cols: np.ndarray  # (N, T, C+Hc, S1, S2, k, k)
    c_prev: np.ndarray  # (N, T, Hc, S1, S2) c_0 .. c_{T-1}
    W: np.ndarray  # (4Hc, C+Hc, k, k)
    ifgo: np.ndarray  # (N, T, 4Hc, S1, S2)
    tanh_c: np.ndarray  # (N, T, Hc, S1, S2)
    h: np.ndarray  # (N, T, Hc, S1, S2), the forward's output (for the upstream check)
    c_n: np.ndarray  # (N, Hc, S1, S2)


def _check4(name, a, axes, dims):
    """``a`` is a float array whose shape matches the named axes; bind the new names in dims."""
    check_float(name, a)
    want = "(" + ", ".join(axes) + ")"
    if a.ndim != len(axes):
        raise ValueError(f"{name}: expected a {len(axes)}-D array of shape {want}, got "
                         f"{a.ndim}-D shape {a.shape}")
    for axis, (letter, size) in enumerate(zip(axes, a.shape, strict=True)):
        if dims.setdefault(letter, size) != size:
            sizes = "(" + ", ".join(str(dims.get(c, "?")) for c in axes) + ")"
            raise ValueError(f"{name}: expected shape {want} = {sizes}, got {a.shape}; axis "
                             f"{axis} ({letter}) should be {dims[letter]}")


def _validate(x, h_prev, c_prev, W, b, step):
    """Check every argument once; return ``(dims, h_prev, c_prev)`` with None as zeros."""
    check_float("W", W)
    if W.ndim != 4 or W.shape[0] % G or W.shape[2] != W.shape[3] or W.shape[2] % 2 == 0:
        raise ValueError(f"W: expected shape (4*Hc, C+Hc, k, k) with an odd k (a 'same' "
                         f"convolution), got {W.shape}")
    Hc = W.shape[0] // G
    if W.shape[1] <= Hc:
        raise ValueError(f"W: expected shape (4*Hc, C+Hc, k, k) with C >= 1; Hc = {Hc} from "
                         f"axis 0, so axis 1 should exceed {Hc}, got {W.shape}")
    dims = {"Hc": Hc, "C": W.shape[1] - Hc}
    _check4("b", b, ("4*Hc",), {"4*Hc": G * Hc})
    prev = ("h_prev", "c_prev") if step else ("h0", "c0")
    for name, s in zip(prev, (h_prev, c_prev), strict=True):
        if s is not None:
            _check4(name, s, ("N", "Hc", "S1", "S2"), dims)
    _check4("x", x, ("N", "C", "S1", "S2") if step else ("N", "T", "C", "S1", "S2"), dims)
    if not step and dims["T"] == 0:
        raise ValueError(f"x: expected at least one time step (T >= 1), got shape {x.shape}")
    for name, a in (("b", b), ("x", x), *zip(prev, (h_prev, c_prev), strict=True)):
        if a is not None and a.dtype != W.dtype:
            raise TypeError(f"{name}: expected dtype {W.dtype} (the dtype of W), got {a.dtype}")
    zeros = np.zeros((dims["N"], Hc, dims["S1"], dims["S2"]), dtype=W.dtype)
    return dims, (zeros if h_prev is None else h_prev), (zeros.copy() if c_prev is None else c_prev)


def _windows(z, k):
    """Every k-by-k window of z (N, C, S1, S2) zero-padded by k // 2: (N, C, S1, S2, k, k)."""
    p = k // 2
    zp = np.pad(z, ((0, 0), (0, 0), (p, p), (p, p)))
    return np.lib.stride_tricks.sliding_window_view(zp, (k, k), axis=(2, 3))


def conv_lstm_step_forward(x, h_prev, c_prev, W, b):
    """Run one ConvLSTM step (book chapter 14).

    Equations, with ``*`` a 'same' convolution and ``a`` split into four channel blocks::

        a = W * [x, h_prev] + b                         # (N, 4Hc, S1, S2)
        i, f, o = sigmoid(a_i), sigmoid(a_f), sigmoid(a_o);  g = tanh(a_g)
        c_next = f * c_prev + i * g                     # elementwise from here on
        h_next = o * tanh(c_next)

    Args:
        x: input frames, (N, C, S1, S2).
        h_prev: previous hidden state, (N, Hc, S1, S2); zeros when None.
        c_prev: previous cell state, (N, Hc, S1, S2); zeros when None.
        W: kernel, (4*Hc, C+Hc, k, k), k odd, gate blocks i, f, g, o on axis 0.
        b: biases, (4*Hc,).
    Returns:
        h_next (N, Hc, S1, S2), c_next (N, Hc, S1, S2), cache (``ConvLSTMCache``).
    """
    _, h_prev, c_prev = _validate(x, h_prev, c_prev, W, b, step=True)
    cols = _windows(np.concatenate((x, h_prev), axis=1), W.shape[2])  # im2col, a view
    a = np.einsum("ncyxij,gcij->ngyx", cols, W, optimize=True) + b[:, None, None]
    ifgo = _sigmoid(a, out=np.empty_like(a))  # i, f, o are sigmoids of their blocks ...
    i, f, g, o = _blocks(ifgo)  # views (N, Hc, S1, S2)
    np.tanh(_blocks(a)[2], out=g)  # ... g is a tanh
    c_next = f * c_prev + i * g
    tanh_c = np.tanh(c_next)
    h_next = o * tanh_c
    return h_next, c_next, ConvLSTMCache(cols, c_prev, W, ifgo, tanh_c)


def conv_lstm_step_backward(dh_next, dc_next, cache):
    """Backprop one ConvLSTM step (book chapter 14).

    Args:
        dh_next: gradient with respect to h_next, (N, Hc, S1, S2); None: zeros.
        dc_next: gradient with respect to c_next, (N, Hc, S1, S2); None: zeros.
        cache: from ``conv_lstm_step_forward``.
    Returns:
        dx (N, C, S1, S2), dh_prev (N, Hc, S1, S2), dc_prev (N, Hc, S1, S2),
        dW (4*Hc, C+Hc, k, k), db (4*Hc,).
    """
    cols, c_prev, W, ifgo, tanh_c = cache
    dh_next = check_upstream("dh_next", dh_next, tanh_c, "NHYX")
    dc_next = check_upstream("dc_next", dc_next, tanh_c, "NHYX")
    # backprop h = o * tanh(c) and c = f * c_prev + i * g down to the pre-activations, exactly
    # as in the LSTM (book chapter 8), elementwise per pixel: da (N, 4Hc, S1, S2)
    da, dc_prev = _step_backward(dh_next, dc_next, c_prev, ifgo, tanh_c)
    # backprop a = W * z + b: dW correlates da with the windows of z; dz is da convolved
    # with W, i.e. correlated with W flipped in both spatial axes
    dW = np.einsum("ngyx,ncyxij->gcij", da, cols, optimize=True)
    k = W.shape[2]
    dz = np.einsum("ngyxij,gcij->ncyx", _windows(da, k), W[:, :, ::-1, ::-1], optimize=True)
    C = W.shape[1] - W.shape[0] // G
    return dz[:, :C], dz[:, C:], dc_prev, dW, da.sum(axis=(0, 2, 3))


def conv_lstm_forward(x, h0, c0, W, b):
    """Run a ConvLSTM over a sequence of frames: a loop of steps (book chapter 14).

    Args:
        x: frames, (N, T, C, S1, S2), T >= 1.
        h0, c0: initial states, (N, Hc, S1, S2); zeros when None.
        W: (4*Hc, C+Hc, k, k); b: (4*Hc,).
    Returns:
        h: hidden states for every step, (N, T, Hc, S1, S2).
        c_n: the final cell state, (N, Hc, S1, S2).
        cache: ``ConvLSTMSeqCache`` for ``conv_lstm_backward``.
    """
    dims, h_prev, c_prev = _validate(x, h0, c0, W, b, step=False)
    steps = []
    for t in range(dims["T"]):
        h_prev, c_prev, cache = conv_lstm_step_forward(x[:, t], h_prev, c_prev, W, b)
        steps.append((h_prev, cache))
    h = np.stack([s[0] for s in steps], axis=1)
    caches = [s[1] for s in steps]
    cols, c_prevs, ifgo, tanh_c = (np.stack([getattr(c, f) for c in caches], axis=1)
                                   for f in ("cols", "c_prev", "ifgo", "tanh_c"))
    return h, c_prev, ConvLSTMSeqCache(cols, c_prevs, W, ifgo, tanh_c, h, c_prev)


def conv_lstm_backward(dh, dc_n, cache):
    """Backprop through a whole sequence of frames (BPTT; book chapter 14).

    Args:
        dh: gradient with respect to every hidden state, (N, T, Hc, S1, S2); None: zeros.
        dc_n: gradient with respect to the final cell state, (N, Hc, S1, S2); None: zeros.
        cache: from ``conv_lstm_forward``.
    Returns:
        dx (N, T, C, S1, S2), dh0 (N, Hc, S1, S2), dc0 (N, Hc, S1, S2),
        dW (4*Hc, C+Hc, k, k), db (4*Hc,).
    """
    cols, c_prevs, W, ifgo, tanh_c, h, c_n = cache
    dh = check_upstream("dh", dh, h, "NTHYX")
    dc_prev = check_upstream("dc_n", dc_n, c_n, "NHYX")
    T = h.shape[1]
    dh_prev, dW, db, dx = np.zeros_like(c_n), np.zeros_like(W), 0.0, [None] * T
    for t in reversed(range(T)):
        step = ConvLSTMCache(cols[:, t], c_prevs[:, t], W, ifgo[:, t], tanh_c[:, t])
        # h_t feeds the loss directly and the next step: the two gradients add
        dx[t], dh_prev, dc_prev, dW_t, db_t = conv_lstm_step_backward(dh[:, t] + dh_prev,
                                                                      dc_prev, step)
        dW += dW_t  # shared weights: their gradients sum over time
        db = db + db_t
    return np.stack(dx, axis=1), dh_prev, dc_prev, dW, db
