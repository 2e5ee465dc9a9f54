"""Echo state networks (Jaeger, 2001): a fixed random reservoir and a trained linear readout.

Nothing recurrent is trained. The reservoir is a tanh RNN whose weights are
drawn once at random, with the recurrent matrix rescaled to a chosen spectral
radius (largest absolute eigenvalue); only the readout, a linear map from the
states to the targets, is fitted, in closed form by ridge regression::

    h_t = tanh(x_t @ Wx + h_{t-1} @ Wh + b)           # reservoir, fixed
    y_t = h_t @ W_out + b_out                          # readout, fitted
    W_out = argmin sum_t |h_t @ W + b - y_t|^2 + alpha |W|^2

A spectral radius below one usually gives the *echo-state property*: the
state forgets where it started and becomes a function of the recent inputs
only. Book chapter 7 shows that property and the effect of the radius.
"""

from typing import NamedTuple

import numpy as np

from rnnkit._checks import check_float, check_shape
from rnnkit.cells.leaky import leaky_forward

__all__ = [
    "Reservoir",
    "spectral_radius",
    "reservoir_init",
    "reservoir_states",
    "readout_fit",
    "readout_predict",
]


class Reservoir(NamedTuple):
    """The fixed weights of a reservoir, in rnnkit's layout."""

    Wx: np.ndarray  # (D, H)
    Wh: np.ndarray  # (H, H)
    b: np.ndarray  # (H,)


def spectral_radius(W):
    """Return the largest absolute eigenvalue of a square matrix, as a float.

    Args:
        W: (H, H).
    """
    check_float("W", W)
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise ValueError(f"W: expected a square matrix (H, H), got shape {W.shape}")
    return float(np.max(np.abs(np.linalg.eigvals(W))))


def reservoir_init(D, H, radius=0.9, input_scale=1.0, density=1.0, bias_scale=0.0, rng=None):
    """Draw a random reservoir whose recurrent matrix has spectral radius ``radius``.

    ``Wh`` has Gaussian entries, a fraction ``density`` of them kept (a sparse
    reservoir is cheaper and no worse), then is rescaled exactly to the radius.
    ``Wx`` and ``b`` are uniform in ``[-input_scale, input_scale]`` and
    ``[-bias_scale, bias_scale]``.

    Args:
        D: input size; H: reservoir size.
        radius: the spectral radius of ``Wh``, > 0.
        input_scale: half-width of the uniform input weights.
        density: fraction of non-zero recurrent weights, in (0, 1].
        bias_scale: half-width of the uniform biases.
        rng: a ``np.random.Generator``; a fresh ``default_rng(0)`` when None.
    Returns:
        ``Reservoir(Wx (D, H), Wh (H, H), b (H,))``, float64.
    """
    if not (isinstance(D, int) and isinstance(H, int) and D > 0 and H > 0):
        raise ValueError(f"D, H: expected positive integers, got D={D!r}, H={H!r}")
    if not radius > 0:
        raise ValueError(f"radius: expected a positive spectral radius, got {radius}")
    if not 0 < density <= 1:
        raise ValueError(f"density: expected a fraction in (0, 1], got {density}")
    rng = np.random.default_rng(0) if rng is None else rng
    Wh = rng.standard_normal((H, H)) * (rng.random((H, H)) < density)
    rho = spectral_radius(Wh)
    if rho == 0:  # possible only for a very sparse draw
        raise ValueError(f"density: {density} left a nilpotent reservoir; use a larger density")
    Wh *= radius / rho
    Wx = rng.uniform(-input_scale, input_scale, (D, H))
    b = rng.uniform(-bias_scale, bias_scale, H)
    return Reservoir(Wx, Wh, b)


def reservoir_states(x, h0, Wx, Wh, b, tau=1.0):
    """Drive the reservoir with ``x`` and return every state.

    With ``tau > 1`` the units are leaky (``rnnkit.cells.leaky``), a common ESN variant.

    Args:
        x: inputs, (N, T, D).
        h0: initial state, (N, H); zeros when None.
        Wx: (D, H); Wh: (H, H); b: (H,).
        tau: time constant(s) >= 1, a number or (H,).
    Returns:
        h: states h_1 .. h_T, (N, T, H).
    """
    h, _ = leaky_forward(x, h0, Wx, Wh, b, tau)
    return h


def readout_fit(states, targets, alpha=1e-6, washout=0):
    """Fit ``targets ~ states @ W_out + b_out`` by ridge regression, in closed form.

    The first ``washout`` steps of every sequence are dropped (the state still
    remembers ``h0`` there). The bias is not penalised: states and targets are
    centred, ``W_out = (S^T S + alpha I)^{-1} S^T Y`` on the centred data, and
    ``b_out = mean(y) - mean(s) @ W_out``.

    Args:
        states: reservoir states, (N, T, H).
        targets: what to predict at each step, (N, T, V).
        alpha: ridge penalty, >= 0.
        washout: number of initial steps to ignore, 0 <= washout < T.
    Returns:
        W_out (H, V), b_out (V,).
    """
    dims = {}
    for name, arr, letters in (("states", states, "NTH"), ("targets", targets, "NTV")):
        check_float(name, arr)
        check_shape(name, arr, letters, dims)
    if not (isinstance(washout, int) and 0 <= washout < dims["T"]):
        T = dims["T"]
        raise ValueError(f"washout: expected an integer in [0, T) = [0, {T}), got {washout}")
    if not alpha >= 0:
        raise ValueError(f"alpha: expected a penalty >= 0, got {alpha}")
    S = states[:, washout:].reshape(-1, dims["H"])  # (N*(T-washout), H)
    Y = targets[:, washout:].reshape(-1, dims["V"])  # (N*(T-washout), V)
    s_mean, y_mean = S.mean(axis=0), Y.mean(axis=0)
    Sc, Yc = S - s_mean, Y - y_mean
    W_out = np.linalg.solve(Sc.T @ Sc + alpha * np.eye(dims["H"]), Sc.T @ Yc)  # (H, V)
    return W_out, y_mean - s_mean @ W_out


def readout_predict(states, W_out, b_out):
    """Apply a fitted readout at every step.

    Args:
        states: (N, T, H).
        W_out: (H, V); b_out: (V,).
    Returns:
        predictions, (N, T, V).
    """
    dims = {}
    named = (("states", states, "NTH"), ("W_out", W_out, "HV"), ("b_out", b_out, "V"))
    for name, arr, letters in named:
        check_float(name, arr)
        check_shape(name, arr, letters, dims)
    return states @ W_out + b_out
