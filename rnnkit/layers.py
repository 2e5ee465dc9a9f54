"""The non-recurrent layers around a recurrent cell, and stable nonlinearities.

An RNN language model or captioner is ``word_embedding_forward`` -> a cell ->
``temporal_affine_forward`` -> ``temporal_softmax_loss``; ``affine_forward``
maps image features to the initial hidden state. Each forward returns
``(out, cache)`` and each backward takes ``(dout, cache)``, returning the
gradients in the order of the forward's arguments.

``sigmoid``, ``softmax`` and ``log_softmax`` never overflow: they only
exponentiate non-positive numbers. Underflow to zero is the right answer for
``exp`` of a very negative number, so those functions silence that one
floating-point flag locally (they stay quiet under ``np.errstate(all="raise")``).
"""

import numpy as np

from rnnkit._checks import check_arrays, check_float, check_labels, check_shape

__all__ = [
    "affine_forward",
    "affine_backward",
    "temporal_affine_forward",
    "temporal_affine_backward",
    "word_embedding_forward",
    "word_embedding_backward",
    "temporal_softmax_loss",
    "sigmoid",
    "softmax",
    "log_softmax",
]


def _check_dout(dout, shape, dtype):
    """Check an upstream gradient against the forward output's shape and dtype."""
    check_float("dout", dout)
    if dout.shape != shape:
        raise ValueError(f"dout: expected the forward output's shape {shape}, got {dout.shape}")
    if dout.dtype != dtype:
        raise TypeError(f"dout: expected dtype {dtype} (the forward's), got {dout.dtype}")


# ----------------------------------------------------------------- nonlinearities


def sigmoid(x):
    """Return the logistic function ``1 / (1 + exp(-x))`` elementwise, without overflow.

    Two branches share ``z = exp(-|x|)``: for x >= 0 the textbook form
    ``1 / (1 + z)``; for x < 0 the equivalent ``exp(x) / (1 + exp(x)) = z / (1 + z)``.

    Args:
        x: float array, any shape.
    Returns:
        array of x's shape and dtype, values in [0, 1].
    """
    check_float("x", x, allow_nan=True)
    with np.errstate(under="ignore"):  # exp(-1000) = 0 is correct
        z = np.exp(-np.abs(x))  # in (0, 1]: never overflows
        s = 1 / (1 + z)
        return np.where(x >= 0, s, z * s)


def log_softmax(x, axis=-1):
    """Return ``log(softmax(x))`` along ``axis``, computed without overflow.

    ``log_softmax(x) = x - m - log(sum(exp(x - m)))`` with ``m = max(x)``: the
    largest term is exp(0) = 1, so the sum lies in [1, K] and its log is finite.

    Args:
        x: float array, any shape; K = x.shape[axis] classes.
        axis: the class axis.
    Returns:
        array of x's shape and dtype, values <= 0.
    """
    check_float("x", x, allow_nan=True)
    shifted = x - np.max(x, axis=axis, keepdims=True)
    with np.errstate(under="ignore"):
        return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def softmax(x, axis=-1):
    """Return ``exp(x) / sum(exp(x))`` along ``axis``, computed without overflow.

    Args:
        x: float array, any shape; K = x.shape[axis] classes.
        axis: the class axis.
    Returns:
        array of x's shape and dtype; non-negative, summing to 1 along ``axis``.
    """
    check_float("x", x, allow_nan=True)
    with np.errstate(under="ignore"):
        e = np.exp(x - np.max(x, axis=axis, keepdims=True))  # largest entry is exactly 1
        return e / np.sum(e, axis=axis, keepdims=True)


# ------------------------------------------------------------------------ affine


def affine_forward(x, w, b):
    """Compute ``out = x @ w + b`` (for example image features to h0).

    Args:
        x: inputs, (N, D).
        w: weights, (D, H).
        b: biases, (H,).
    Returns:
        out: (N, H).
        cache: (x, w).
    """
    check_arrays(("x", x, "ND"), ("w", w, "DH"), ("b", b, "H"))
    out = x @ w + b  # (N, H)
    return out, (x, w)


def affine_backward(dout, cache):
    """Backprop ``out = x @ w + b``.

    Args:
        dout: upstream gradient, (N, H).
        cache: from ``affine_forward``.
    Returns:
        dx (N, D), dw (D, H), db (H,).
    """
    x, w = cache
    _check_dout(dout, (x.shape[0], w.shape[1]), x.dtype)
    return dout @ w.T, x.T @ dout, dout.sum(axis=0)


def temporal_affine_forward(x, w, b):
    """Apply one affine map at every time step: ``out[:, t] = x[:, t] @ w + b``.

    Args:
        x: hidden states, (N, T, H).
        w: weights, (H, V).
        b: biases, (V,).
    Returns:
        out: scores, (N, T, V).
        cache: (x, w).
    """
    check_arrays(("x", x, "NTH"), ("w", w, "HV"), ("b", b, "V"))
    out = x @ w + b  # (N, T, V): one matmul for all steps
    return out, (x, w)


def temporal_affine_backward(dout, cache):
    """Backprop ``temporal_affine_forward``; w and b are shared, so their gradients sum over N, T.

    Args:
        dout: upstream gradient, (N, T, V).
        cache: from ``temporal_affine_forward``.
    Returns:
        dx (N, T, H), dw (H, V), db (V,).
    """
    x, w = cache
    N, T, H = x.shape
    V = w.shape[1]
    _check_dout(dout, (N, T, V), x.dtype)
    dw = x.reshape(N * T, H).T @ dout.reshape(N * T, V)  # (H, V)
    return dout @ w.T, dw, dout.sum(axis=(0, 1))


# ---------------------------------------------------------------------- embedding


def word_embedding_forward(x, W):
    """Look up one row of ``W`` per word index: ``out[n, t] = W[x[n, t]]``.

    Args:
        x: integer word indices in [0, V), (N, T).
        W: embedding matrix, (V, D).
    Returns:
        out: (N, T, D), W's dtype.
        cache: (x, W).
    """
    check_float("W", W)
    dims = check_shape("W", W, "VD", {})
    check_labels("x", x, dims["V"], "NT", dims)
    return W[x], (x, W)


def word_embedding_backward(dout, cache):
    """Backprop the lookup: each row of ``dW`` sums the gradients of every place its word occurs.

    ``np.add.at`` accumulates repeated indices; ``dW[x] += dout`` would keep only one of them.

    Args:
        dout: upstream gradient, (N, T, D).
        cache: from ``word_embedding_forward``.
    Returns:
        dW: (V, D). (x holds integers and has no gradient.)
    """
    x, W = cache
    _check_dout(dout, x.shape + (W.shape[1],), W.dtype)
    dW = np.zeros_like(W)
    np.add.at(dW, x, dout)
    return dW


# --------------------------------------------------------------------------- loss


def temporal_softmax_loss(scores, y, mask=None):
    """Softmax cross-entropy at every time step, summed over time and averaged over the batch.

    ``loss = -(1/N) * sum_{n,t} mask[n, t] * log softmax(scores[n, t])[y[n, t]]``,
    and its gradient ``dscores[n, t] = mask[n, t] * (softmax(scores[n, t]) - onehot(y[n, t])) / N``.
    Masked steps (padding) contribute nothing, but their labels must still lie in [0, V).

    Args:
        scores: unnormalised log-probabilities, (N, T, V).
        y: integer targets in [0, V), (N, T).
        mask: bool or 0/1 array, (N, T); None means every step counts.
    Returns:
        loss: a Python float.
        dscores: gradient of the loss with respect to scores, (N, T, V), scores' dtype.
    """
    check_float("scores", scores)
    dims = check_shape("scores", scores, "NTV", {})
    check_labels("y", y, dims["V"], "NT", dims)
    N, T, V = scores.shape
    if mask is None:
        mask = np.ones((N, T), dtype=bool)
    else:
        if not isinstance(mask, np.ndarray):
            raise TypeError(f"mask: expected a NumPy bool or 0/1 array, got {type(mask).__name__}")
        check_shape("mask", mask, "NT", dims)
        if mask.dtype != bool and not np.all((mask == 0) | (mask == 1)):
            raise ValueError("mask: expected bool or 0/1 entries, got other values")
        mask = mask.astype(bool)
    n, t = np.indices((N, T))  # (N, T) each: with y, they index the target entries
    with np.errstate(under="ignore"):  # tiny probabilities may round to zero
        logp = log_softmax(scores)  # (N, T, V)
        loss = -np.sum(logp[n, t, y], where=mask) / N
        dscores = np.exp(logp)  # softmax probabilities, (N, T, V)
        dscores[n, t, y] -= 1  # minus the one-hot targets
        dscores *= mask[..., None]  # masked steps pass no gradient
        dscores /= N
    return float(loss), dscores
