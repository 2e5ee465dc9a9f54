"""Radar-like fields for nowcasting: Gaussian blobs that drift with a wind, grow and fade.

A stand-in for the radar echo maps of Shi et al. (book chapter 14), with a known answer: every
field is a sum of blobs ``a exp(-|p - c|^2 / (2 s^2))`` whose centres ``c`` move with one wind
vector per sequence (the whole field is advected, as rain is), whose widths ``s`` grow or
shrink linearly and whose amplitudes ``a`` rise and fall as a bump in time (a storm cell is
born, peaks and dies). Blobs may enter or leave the field. The next frame is therefore a
shift of the last one plus a slow change of shape and intensity: copying the last frame is a
fair baseline, and a model beats it by learning the motion from the frames alone.
"""

from typing import NamedTuple

import numpy as np

__all__ = ["RadarFields", "render_blobs", "radar_fields"]


class RadarFields(NamedTuple):
    """Generated frames and the blob parameters that drew them (B blobs, absent ones a = 0)."""

    frames: np.ndarray  # (N, T, 1, S, S), channels first
    wind: np.ndarray  # (N, 2) pixels per frame, (row, column)
    centres: np.ndarray  # (N, T, B, 2) (row, column)
    widths: np.ndarray  # (N, T, B)
    amplitudes: np.ndarray  # (N, T, B)


def render_blobs(centres, widths, amplitudes, size):
    """Draw the sum of Gaussian blobs on a ``size`` x ``size`` grid of pixel centres 0 .. size-1.

    Args:
        centres: (..., B, 2), (row, column) in pixels; widths: (..., B); amplitudes: (..., B).
        size: S, the side of the field.
    Returns:
        fields, (..., S, S).
    """
    grid = np.arange(size, dtype=np.float64)
    dr = grid[:, None] - centres[..., 0][..., None, None]  # (..., B, S, 1)
    dc = grid[None, :] - centres[..., 1][..., None, None]  # (..., B, 1, S)
    s2 = 2.0 * widths[..., None, None] ** 2
    blobs = amplitudes[..., None, None] * np.exp(-(dr**2 + dc**2) / s2)  # (..., B, S, S)
    return blobs.sum(axis=-3)


def radar_fields(N, T, rng, *, size=16, blobs=3, max_speed=1.0, dtype=np.float32):
    """Draw N sequences of T radar-like frames.

    Each sequence has a wind drawn uniformly from the disc of radius ``max_speed`` (pixels per
    frame) and between 1 and ``blobs`` blobs. A blob starts where the wind will carry it
    through the field around mid-sequence, with width in [1.2, 2.6] px changing by up to
    0.08 px per frame, and an amplitude ``a0 exp(-((t - t_peak) / tau)^2 / 2)`` with a0 in
    [0.5, 1], t_peak anywhere in [-T/2, 3T/2) and tau in [T/3, T].

    Args:
        N: number of sequences; T: frames per sequence (>= 2); rng: a numpy Generator.
        size: S, the side of the square field in pixels (>= 4); blobs: the most blobs per field.
        max_speed: the largest wind speed, pixels per frame (>= 0).
        dtype: float dtype of ``frames``.
    Returns:
        ``RadarFields`` (frames (N, T, 1, S, S) and the parameters that drew them).
    """
    for name, value, low in (("N", N, 1), ("T", T, 2), ("size", size, 4), ("blobs", blobs, 1)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < low:
            raise ValueError(f"{name}: expected an int of at least {low}, got {value!r}")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng: expected a numpy.random.Generator, got {type(rng).__name__}")
    if not np.isfinite(max_speed) or max_speed < 0:
        raise ValueError(f"max_speed: expected a finite number >= 0, got {max_speed!r}")
    B, t = blobs, np.arange(T, dtype=np.float64)
    angle, radius = rng.uniform(0, 2 * np.pi, N), max_speed * np.sqrt(rng.random(N))
    wind = np.stack((radius * np.sin(angle), radius * np.cos(angle)), axis=1)  # (N, 2)
    # centres at mid-sequence anywhere in the field, so the wind carries blobs through it
    mid = rng.uniform(1.0, size - 2.0, (N, B, 2))
    centres = mid[:, None] + (t - (T - 1) / 2)[None, :, None, None] * wind[:, None, None]
    w0, dw = rng.uniform(1.2, 2.6, (N, B)), rng.uniform(-0.08, 0.08, (N, B))
    widths = np.maximum(w0[:, None] + t[None, :, None] * dw[:, None], 0.7)  # (N, T, B)
    a0, t_peak = rng.uniform(0.5, 1.0, (N, B)), rng.uniform(-T / 2, 1.5 * T, (N, B))
    tau = rng.uniform(T / 3, T, (N, B))
    present = np.arange(B)[None, :] < rng.integers(1, B + 1, N)[:, None]  # (N, B)
    amplitudes = (a0 * present)[:, None] * np.exp(
        -0.5 * ((t[None, :, None] - t_peak[:, None]) / tau[:, None]) ** 2)  # (N, T, B)
    frames = render_blobs(centres, widths, amplitudes, size)[:, :, None].astype(dtype)
    return RadarFields(frames, wind, centres, widths, amplitudes)
