"""Echo state networks on the torch path: drive a fixed reservoir, fit a ridge readout.

The NumPy twin is ``rnnkit.models.esn`` (book chapter 7), with the same functions and
arguments on tensors: the reservoir is a leaky tanh RNN (``rnnkit.torch.cells.LeakyCell``,
``tau = 1`` is the vanilla cell) whose weights are drawn once (``rnnkit.models.esn.
reservoir_init``) and never trained; only the readout is fitted, in closed form::

    h_t = (1 - 1/tau) h_{t-1} + (1/tau) tanh(x_t @ Wx + h_{t-1} @ Wh + b)
    y_t = h_t @ W_out + b_out,   W_out = (S^T S + alpha I)^{-1} S^T Y  on centred S, Y

On a GPU the reservoir loop and the solve run there, for reservoirs of thousands of units.
"""

import torch

from rnnkit._checks import check_shape
from rnnkit.torch.cells.leaky import LeakyCell

__all__ = ["reservoir_states", "readout_fit", "readout_predict"]


@torch.no_grad()
def reservoir_states(x, h0, Wx, Wh, b, tau=1.0):
    """Drive the reservoir with ``x`` and return every state (no gradient is recorded).

    Args:
        x: inputs, (N, T, D).
        h0: initial state, (N, H), or None for zeros.
        Wx: (D, H); Wh: (H, H); b: (H,); tensors of x's dtype and device.
        tau: time constant(s) >= 1: a number, or a (H,) tensor.
    Returns:
        h: states h_1 .. h_T, (N, T, H).
    """
    dims = {}
    for name, t, letters in (("Wx", Wx, "DH"), ("Wh", Wh, "HH"), ("b", b, "H"), ("x", x, "NTD")):
        check_shape(name, t, letters, dims)
    cell = LeakyCell(dims["D"], dims["H"], device=x.device, dtype=x.dtype)
    for name, value in (("Wx", Wx), ("Wh", Wh), ("b", b), ("tau", tau)):
        getattr(cell, name).copy_(torch.as_tensor(value, dtype=x.dtype))
    if torch.any(cell.tau < 1):
        raise ValueError(f"tau: expected time constants >= 1, got a minimum of "
                         f"{float(cell.tau.min())}")
    h = x.new_zeros(dims["N"], dims["H"]) if h0 is None else h0
    check_shape("h0", h, "NH", dims)
    states = []
    for xw_t in cell.project(x.transpose(0, 1)).unbind(0):  # (N, H) input side of each step
        (h,) = cell.step(xw_t, (h,))
        states.append(h)
    return torch.stack(states, dim=1)


def readout_fit(states, targets, alpha=1e-6, washout=0):
    """Fit ``targets ~ states @ W_out + b_out`` by ridge regression (the NumPy twin's rule).

    Args:
        states: (N, T, H); targets: (N, T, V); alpha >= 0; washout: steps dropped, in [0, T).
    Returns:
        W_out (H, V), b_out (V,).
    """
    dims = {}
    check_shape("states", states, "NTH", dims)
    check_shape("targets", targets, "NTV", dims)
    if not (isinstance(washout, int) and 0 <= washout < dims["T"]):
        raise ValueError(f"washout: expected an integer in [0, T) = [0, {dims['T']}), "
                         f"got {washout}")
    if not alpha >= 0:
        raise ValueError(f"alpha: expected a penalty >= 0, got {alpha}")
    S = states[:, washout:].reshape(-1, dims["H"])
    Y = targets[:, washout:].reshape(-1, dims["V"])
    s_mean, y_mean = S.mean(0), Y.mean(0)
    Sc, Yc = S - s_mean, Y - y_mean
    eye = torch.eye(dims["H"], dtype=S.dtype, device=S.device)
    W_out = torch.linalg.solve(Sc.T @ Sc + alpha * eye, Sc.T @ Yc)  # (H, V)
    return W_out, y_mean - s_mean @ W_out


def readout_predict(states, W_out, b_out):
    """Apply a fitted readout at every step: ``states (N, T, H)`` -> ``(N, T, V)``."""
    dims = {}
    for name, t, letters in (("W_out", W_out, "HV"), ("b_out", b_out, "V"),
                             ("states", states, "NTH")):
        check_shape(name, t, letters, dims)
    return states @ W_out + b_out
