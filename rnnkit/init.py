"""Weight initialisation for the recurrent cells, with explicit random generators.

Every function takes a ``np.random.Generator`` (``np.random.default_rng(seed)``)
rather than touching NumPy's global state, so a chapter or lab that passes the
same seed gets the same weights. Weights use the ``x @ W`` layout: a matrix of
shape ``(fan_in, fan_out)``.

``init_rnn_params`` is what the book and labs use: Xavier (Glorot) inputs,
orthogonal recurrent blocks (every singular value of each block is 1, so a
linear recurrence neither grows nor shrinks the state at the start of
training; book chapter 6) and zero biases, to which an LSTM adds a positive
forget-gate bias (``lstm_forget_bias``; book chapter 8).
"""

import numbers

import numpy as np

from rnnkit._checks import check_float, dims_from

__all__ = ["xavier_uniform", "xavier_normal", "orthogonal", "lstm_forget_bias", "init_rnn_params"]


def _check_dtype(dtype):
    if not np.issubdtype(np.dtype(dtype), np.floating):
        raise TypeError(f"dtype: expected a float dtype such as np.float32, got {np.dtype(dtype)}")


def _check_args(shape, rng, dtype):
    """Return ``shape`` as a tuple of two positive ints after checking ``rng`` and ``dtype``."""
    _check_dtype(dtype)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"rng: expected a np.random.Generator such as np.random.default_rng(0), "
            f"got {type(rng).__name__}"
        )
    shape = tuple(shape)
    if len(shape) != 2 or not all(isinstance(s, numbers.Integral) and s > 0 for s in shape):
        raise ValueError(f"shape: expected two positive ints (fan_in, fan_out), got {shape}")
    return shape


def xavier_uniform(shape, rng, gain=1.0, dtype=np.float64):
    """Draw from U(-a, a) with ``a = gain * sqrt(6 / (fan_in + fan_out))`` (Glorot & Bengio, 2010).

    The variance ``a**2 / 3 = gain**2 * 2 / (fan_in + fan_out)`` balances the
    forward and the backward signal of a linear layer.

    Args:
        shape: (fan_in, fan_out), e.g. (D, H) for ``x @ W``.
        rng: a ``np.random.Generator``.
        gain: scale factor.
        dtype: float dtype of the result.
    Returns:
        array of ``shape``.
    """
    fan_in, fan_out = _check_args(shape, rng, dtype)
    a = gain * np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-a, a, size=(fan_in, fan_out)).astype(dtype)


def xavier_normal(shape, rng, gain=1.0, dtype=np.float64):
    """Draw from N(0, std**2) with ``std = gain * sqrt(2 / (fan_in + fan_out))`` (Glorot & Bengio).

    Args:
        shape: (fan_in, fan_out).
        rng: a ``np.random.Generator``.
        gain: scale factor.
        dtype: float dtype of the result.
    Returns:
        array of ``shape``.
    """
    fan_in, fan_out = _check_args(shape, rng, dtype)
    std = gain * np.sqrt(2.0 / (fan_in + fan_out))
    return (std * rng.standard_normal((fan_in, fan_out))).astype(dtype)


def orthogonal(shape, rng, gain=1.0, dtype=np.float64):
    """Draw a uniformly random (Haar) orthogonal matrix, times ``gain`` (Saxe et al., 2014).

    QR-factorise a Gaussian matrix and flip each column of Q by the sign of the
    matching diagonal entry of R: without the flip, LAPACK's sign convention
    makes Q's distribution lopsided rather than uniform over orthogonal matrices.

    Args:
        shape: (rows, cols); a tall or square result has orthonormal columns
            (``Q.T @ Q = I``), a wide one orthonormal rows (``Q @ Q.T = I``).
        rng: a ``np.random.Generator``.
        gain: scale factor.
        dtype: float dtype of the result.
    Returns:
        array of ``shape``.
    """
    rows, cols = _check_args(shape, rng, dtype)
    A = rng.standard_normal((max(rows, cols), min(rows, cols)))
    Q, R = np.linalg.qr(A)  # Q: (max, min) with orthonormal columns
    Q *= np.where(np.diag(R) < 0, -1.0, 1.0)  # the sign fix
    if rows < cols:
        Q = Q.T
    return (gain * Q).astype(dtype)


def lstm_forget_bias(b, H, value=1.0):
    """Return a copy of an LSTM bias with its forget-gate block set to ``value``.

    A positive forget bias starts the cell remembering (f = sigmoid(1) ~ 0.73)
    instead of halving its memory every step (Gers et al., 2000; Jozefowicz et
    al., 2015).

    Args:
        b: LSTM bias, (4H,), gate blocks i, f, g, o.
        H: hidden size.
        value: the forget-gate bias.
    Returns:
        a new array of b's shape and dtype; ``b[H:2H]`` is ``value``, the rest is b's.
    """
    check_float("b", b)
    dims_from("b", b, "H", {"H": H}, gates=4)
    out = b.copy()
    out[H : 2 * H] = value  # gate order i, f, g, o: f is the second block
    return out


def init_rnn_params(D, H, gates, rng, dtype=np.float64):
    """Initialise ``Wx``, ``Wh``, ``b`` for a cell with ``gates`` blocks (1 RNN, 3 GRU, 4 LSTM).

    Each gate block is initialised on its own, because each is its own map:
    ``Wx[:, k*H:(k+1)*H]`` is Xavier-uniform with fans (D, H), ``Wh``'s block is
    an independent orthogonal (H, H) matrix, and ``b`` is zero. For an LSTM,
    follow with ``lstm_forget_bias``; a GRU also needs ``b_hn = np.zeros(H)``.

    Args:
        D: input size.
        H: hidden size.
        gates: G, the number of gate blocks.
        rng: a ``np.random.Generator``.
        dtype: float dtype of the arrays.
    Returns:
        dict with ``Wx`` (D, G*H), ``Wh`` (H, G*H), ``b`` (G*H,).
    """
    for name, n in (("D", D), ("H", H), ("gates", gates)):
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
            raise ValueError(f"{name}: expected a positive int, got {n!r}")
    _check_dtype(dtype)
    Wx = np.concatenate([xavier_uniform((D, H), rng, dtype=dtype) for _ in range(gates)], axis=1)
    Wh = np.concatenate([orthogonal((H, H), rng, dtype=dtype) for _ in range(gates)], axis=1)
    return {"Wx": Wx, "Wh": Wh, "b": np.zeros(gates * H, dtype=dtype)}
