"""Leaky recurrent units in NumPy: step and sequence, forward and hand-written backward.

A leaky unit keeps a fraction ``1 - 1/tau`` of its old state and mixes in a
fraction ``1/tau`` of the usual tanh update. ``tau`` is the unit's time
constant: ``tau = 1`` gives the vanilla (Elman) RNN, a large ``tau`` a state
that changes slowly and remembers long. Each unit may have its own ``tau``
(a vector of H time constants), and ``tau`` gets a gradient like every other
argument, so it can be fixed by hand or learned. Book chapter 7 derives the
backward pass and measures how memory grows with ``tau``.

The sequence functions compute ``x @ Wx + b`` for all steps in one matmul and
the weight gradients with one matmul each after the loop; the loop over time
is naive and sequential.
"""

from typing import NamedTuple

import numpy as np

from rnnkit._checks import check_cell_inputs, check_float, check_upstream

__all__ = [
    "LeakyCache",
    "LeakySeqCache",
    "leaky_step_forward",
    "leaky_step_backward",
    "leaky_forward",
    "leaky_backward",
]


class LeakyCache(NamedTuple):
    """What ``leaky_step_backward`` needs from one step; every field an array."""

    x: np.ndarray  # (N, D)
    h_prev: np.ndarray  # (N, H)
    Wx: np.ndarray  # (D, H)
    Wh: np.ndarray  # (H, H)
    tau: np.ndarray  # () or (H,) time constants, as passed
    u: np.ndarray  # (N, H) tanh(x @ Wx + h_prev @ Wh + b)


class LeakySeqCache(NamedTuple):
    """What ``leaky_backward`` needs from a whole sequence; every field an array."""

    x: np.ndarray  # (N, T, D)
    h0: np.ndarray  # (N, H)
    Wx: np.ndarray  # (D, H)
    Wh: np.ndarray  # (H, H)
    tau: np.ndarray  # () or (H,)
    h: np.ndarray  # (N, T, H) states h_1 .. h_T
    u: np.ndarray  # (N, T, H) the tanh updates


def _validate(x, h_prev, Wx, Wh, b, tau, step):
    """Check every argument once, at a public entry point; return (dims, h_prev, tau array)."""
    dims, (h_prev,) = check_cell_inputs(
        x, [("h_prev" if step else "h0", h_prev)],
        [("Wh", Wh, "HH", 1), ("Wx", Wx, "DH", 1), ("b", b, "H", 1)], step)
    if isinstance(tau, np.ndarray):
        check_float("tau", tau)
        if tau.shape not in ((), (dims["H"],)):
            raise ValueError(
                f"tau: expected a scalar or shape (H,) = ({dims['H']},) (H from Wh), "
                f"got {tau.shape}"
            )
        if tau.dtype != Wh.dtype:
            raise TypeError(f"tau: expected dtype {Wh.dtype} (the dtype of Wh), got {tau.dtype}")
    elif isinstance(tau, (int, float)) and not isinstance(tau, bool):
        tau = np.asarray(tau, dtype=Wh.dtype)
        check_float("tau", tau)
    else:
        raise TypeError(f"tau: expected a number or a float array of shape (H,), got {type(tau)}")
    if np.any(tau < 1):
        raise ValueError(f"tau: expected time constants >= 1, got a minimum of {float(tau.min())}")
    return dims, h_prev, tau


def _step(xw, h_prev, Wh, tau):
    """One step from the precomputed input projection ``xw = x @ Wx + b`` (N, H)."""
    u = np.tanh(xw + h_prev @ Wh)  # (N, H) the vanilla update
    h_next = h_prev + (u - h_prev) / tau  # = (1 - 1/tau) h_prev + (1/tau) u
    return h_next, u


def _step_backward(dh_next, h_prev, u, Wh, tau):
    """Backprop one step down to the pre-activation; return ``(da, dh_prev, dtau_terms)``."""
    da = dh_next / tau * (1 - u**2)  # backprop the 1/tau mix, then tanh
    dh_prev = dh_next * (1 - 1 / tau) + da @ Wh.T  # the leaky path plus the recurrent path
    dtau = dh_next * (h_prev - u) / tau**2  # (N, H): d/dtau of h_prev + (u - h_prev)/tau
    return da, dh_prev, dtau


def _sum_like(g, tau):
    """Sum per-unit terms (..., H) down to tau's shape: () or (H,)."""
    g = g.reshape(-1, g.shape[-1]).sum(axis=0)  # (H,)
    return g.sum() if tau.ndim == 0 else g


def leaky_step_forward(x, h_prev, Wx, Wh, b, tau):
    """Run one step of a leaky RNN (book chapter 7).

    Equations::

        u = tanh(x @ Wx + h_prev @ Wh + b)
        h_next = (1 - 1/tau) * h_prev + (1/tau) * u

    Args:
        x: input, (N, D).
        h_prev: previous state, (N, H); zeros when None.
        Wx: input-to-hidden weights, (D, H).
        Wh: hidden-to-hidden weights, (H, H).
        b: bias, (H,).
        tau: time constants >= 1: a number, a 0-d array, or one per unit, (H,).
    Returns:
        h_next: (N, H).
        cache: ``LeakyCache`` for ``leaky_step_backward``.
    """
    _, h_prev, tau_arr = _validate(x, h_prev, Wx, Wh, b, tau, step=True)
    h_next, u = _step(x @ Wx + b, h_prev, Wh, tau_arr)
    return h_next, LeakyCache(x, h_prev, Wx, Wh, tau_arr, u)


def leaky_step_backward(dh_next, cache):
    """Backprop one leaky step (book chapter 7).

    Args:
        dh_next: gradient of the loss with respect to h_next, (N, H); None: zeros.
        cache: from ``leaky_step_forward``.
    Returns:
        dx (N, D), dh_prev (N, H), dWx (D, H), dWh (H, H), db (H,),
        dtau (tau's shape: () or (H,)).
    """
    x, h_prev, Wx, Wh, tau, u = cache
    dh_next = check_upstream("dh_next", dh_next, u, "NH")  # u: h_next's shape and dtype
    da, dh_prev, dtau = _step_backward(dh_next, h_prev, u, Wh, tau)
    # backprop a = x @ Wx + h_prev @ Wh + b into each of its terms
    return da @ Wx.T, dh_prev, x.T @ da, h_prev.T @ da, da.sum(axis=0), _sum_like(dtau, tau)


def leaky_forward(x, h0, Wx, Wh, b, tau):
    """Run a leaky RNN over a whole sequence: a loop of steps (book chapter 7).

    Args:
        x: inputs, (N, T, D), T >= 1.
        h0: initial state, (N, H); zeros when None.
        Wx: (D, H); Wh: (H, H); b: (H,).
        tau: time constants >= 1: a number, a 0-d array, or one per unit, (H,).
    Returns:
        h: states for every step, (N, T, H).
        cache: ``LeakySeqCache`` for ``leaky_backward``.
    """
    dims, h0, tau_arr = _validate(x, h0, Wx, Wh, b, tau, step=False)
    N, T, D, H = dims["N"], dims["T"], dims["D"], dims["H"]
    xw = (x.reshape(N * T, D) @ Wx + b).reshape(N, T, H)  # input projection for every step
    h = np.empty((N, T, H), dtype=x.dtype)
    u = np.empty((N, T, H), dtype=x.dtype)
    h_prev = h0
    for t in range(T):
        h_prev, u[:, t] = _step(xw[:, t], h_prev, Wh, tau_arr)
        h[:, t] = h_prev
    return h, LeakySeqCache(x, h0, Wx, Wh, tau_arr, h, u)


def leaky_backward(dh, cache):
    """Backprop through a whole sequence (BPTT; book chapter 7).

    Args:
        dh: gradient of the loss with respect to every state, (N, T, H); None: zeros.
        cache: from ``leaky_forward``.
    Returns:
        dx (N, T, D), dh0 (N, H), dWx (D, H), dWh (H, H), db (H,),
        dtau (tau's shape: () or (H,)).
    """
    x, h0, Wx, Wh, tau, h, u = cache
    N, T, D = x.shape
    H = h0.shape[1]
    dh = check_upstream("dh", dh, h, "NTH")
    h_prevs = np.concatenate((h0[:, None], h[:, :-1]), axis=1)  # (N, T, H) h_0 .. h_{T-1}
    da = np.empty_like(u)  # (N, T, H)
    dtau = np.empty_like(u)  # (N, T, H) per-step terms of the tau gradient
    dh_prev = np.zeros_like(h0)
    for t in reversed(range(T)):
        # h_t feeds the loss directly and the next step: the two gradients add
        da[:, t], dh_prev, dtau[:, t] = _step_backward(
            dh[:, t] + dh_prev, h_prevs[:, t], u[:, t], Wh, tau
        )
    # shared weights (and time constants): their gradients sum over time
    da2 = da.reshape(N * T, H)
    dx = (da2 @ Wx.T).reshape(N, T, D)
    dWx = x.reshape(N * T, D).T @ da2
    dWh = h_prevs.reshape(N * T, H).T @ da2
    return dx, dh_prev, dWx, dWh, da2.sum(axis=0), _sum_like(dtau, tau)
