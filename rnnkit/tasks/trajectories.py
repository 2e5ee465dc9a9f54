"""Pedestrian trajectories: walkers who keep their course and step around each other.

A stand-in for the pedestrian data sets of Alahi et al.'s Social LSTM (book chapter 14), with
known dynamics. Each scene has P walkers who start on a circle and head across it, so their
paths cross near the middle. Each walker wants to keep a preferred velocity (constant
velocity) and is pushed away from the others (mutual repulsion), a simple social-force model::

    dv_i/dt = (v_pref_i - v_i) / tau + sum_{j != i} A exp(-d_ij / R) n_ij

with ``d_ij`` the distance between walkers i and j and ``n_ij`` the unit vector from j to i.
Integrated with explicit Euler sub-steps; positions are recorded every ``dt`` seconds. Without
neighbours a walker moves at constant velocity exactly, so a constant-velocity extrapolation
is right until someone comes close, and wrong by how much the encounters bend the paths.
"""

from typing import NamedTuple

import numpy as np

__all__ = ["Scenes", "walk", "pedestrian_scenes"]


class Scenes(NamedTuple):
    """Generated scenes: positions every ``dt`` seconds and each walker's preferred velocity."""

    positions: np.ndarray  # (N, T, P, 2) metres
    preferred: np.ndarray  # (N, P, 2) metres per second


def walk(start, preferred, T, *, dt=0.4, substeps=4, tau=0.5, A=2.0, R=0.5):
    """Integrate the social-force walk from given starts (velocities start at the preferred).

    Args:
        start: (N, P, 2) positions at t = 0; preferred: (N, P, 2) preferred velocities.
        T: positions to record (the first is ``start``); dt: seconds between them.
        substeps: Euler steps per dt; tau: relaxation time (s); A: repulsion (m/s^2) at
            distance 0; R: its range (m).
    Returns:
        positions, (N, T, P, 2).
    """
    pos, vel = start.astype(np.float64).copy(), preferred.astype(np.float64).copy()
    out, h, P = [pos.copy()], dt / substeps, start.shape[1]
    off_diagonal = ~np.eye(P, dtype=bool)[None, :, :, None]  # no walker pushes itself
    for _ in range(T - 1):
        for _ in range(substeps):
            diff = pos[:, :, None] - pos[:, None, :]  # (N, P, P, 2): i minus j
            d = np.sqrt((diff**2).sum(-1, keepdims=True)) + 1e-9
            push = np.where(off_diagonal, A * np.exp(-d / R) * diff / d, 0.0).sum(axis=2)
            vel = vel + h * ((preferred - vel) / tau + push)
            pos = pos + h * vel
        out.append(pos.copy())
    return np.stack(out, axis=1)


def pedestrian_scenes(N, rng, *, people=4, T=20, dt=0.4, radius=4.0, speed=(1.0, 1.6),
                      **force):
    """Draw N scenes of ``people`` walkers crossing a circle of ``radius`` metres.

    Walker k starts near angle 2 pi k / P on the circle (jittered) and heads for a point near
    the opposite side, at a speed drawn from ``speed`` (m/s).

    Args:
        N: scenes; rng: a numpy Generator; people: P (>= 1); T: positions per walk (>= 2);
        dt: seconds between positions; radius: of the circle (m); speed: (low, high) m/s.
        **force: passed to ``walk`` (tau, A, R, substeps).
    Returns:
        ``Scenes``: positions (N, T, P, 2) and preferred velocities (N, P, 2).
    """
    for name, value, low in (("N", N, 1), ("people", people, 1), ("T", T, 2)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < low:
            raise ValueError(f"{name}: expected an int of at least {low}, got {value!r}")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng: expected a numpy.random.Generator, got {type(rng).__name__}")
    P = people
    angle = 2 * np.pi * (np.arange(P) / P + rng.uniform(-0.08, 0.08, (N, P)))
    start = radius * np.stack((np.cos(angle), np.sin(angle)), axis=-1)  # (N, P, 2)
    aim = -radius * np.stack((np.cos(angle + rng.uniform(-0.4, 0.4, (N, P))),
                              np.sin(angle + rng.uniform(-0.4, 0.4, (N, P)))), axis=-1)
    heading = (aim - start) / np.linalg.norm(aim - start, axis=-1, keepdims=True)
    preferred = heading * rng.uniform(*speed, (N, P, 1))
    # start a little later or earlier along the way, so the walkers do not all meet at once
    start = start + heading * rng.uniform(-1.0, 1.0, (N, P, 1))
    return Scenes(walk(start, preferred, T, dt=dt, **force), preferred)
