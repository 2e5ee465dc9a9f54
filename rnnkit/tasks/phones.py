"""Formant-like "phones" in noise: a framewise labelling task in the shape of speech.

A stand-in for the acoustic frames of speech recognition (book chapter 14: stacked and
bidirectional LSTMs, Graves et al. 2013). Each sequence is a run of phones of random duration;
a phone is a pair of formants, bumps of energy at two fixed frequency bands of its class
(``FORMANTS``), and every frame is a ``bands``-wide spectrum-like vector: the bumps plus
Gaussian noise. As in speech, the formants glide from one phone to the next (coarticulation):
over the last ``glide`` frames of a phone they move linearly towards the next phone's, so the
end of a phone looks like the start of the next one. The label of a frame is its phone.

What a model can know: inside a phone, averaging frames beats the noise (depth and memory
help); at the end of a phone only the future says that the glide is a glide (a bidirectional
model helps).
"""

from typing import NamedTuple

import numpy as np

__all__ = ["FORMANTS", "Utterances", "phone_frames"]

#: the (low, high) formant bands of each phone class, on a scale of 16 bands
FORMANTS = np.array([(2.0, 7.0), (2.0, 11.0), (4.0, 9.0), (4.0, 13.0), (6.0, 11.0),
                     (3.0, 9.0)])


class Utterances(NamedTuple):
    """Generated frames, their phone labels and the formant tracks that drew them."""

    frames: np.ndarray  # (N, T, bands)
    labels: np.ndarray  # (N, T) int64 phone class of every frame
    formants: np.ndarray  # (N, T, 2) formant positions, in bands
    starts: np.ndarray  # (N, T) bool, True at the first frame of every phone


def phone_frames(N, T, rng, *, bands=16, durations=(3, 9), glide=2, width=1.0, noise=0.8,
                 dtype=np.float32):
    """Draw N utterances of T frames.

    Args:
        N: utterances; T: frames each (>= 1); rng: a numpy Generator.
        bands: width of a frame (>= 14, so every formant lies inside).
        durations: (shortest, longest) phone, in frames, both inclusive (shortest > glide).
        glide: frames at the end of a phone that move towards the next phone's formants.
        width: of a formant bump, in bands; noise: standard deviation of the added noise.
        dtype: float dtype of ``frames``.
    Returns:
        ``Utterances``. Consecutive phones always differ.
    """
    for name, value, low in (("N", N, 1), ("T", T, 1), ("bands", bands, 14)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < low:
            raise ValueError(f"{name}: expected an int of at least {low}, got {value!r}")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng: expected a numpy.random.Generator, got {type(rng).__name__}")
    lo, hi = durations
    if not 0 <= glide < lo <= hi:
        raise ValueError(f"durations: expected (shortest, longest) with glide ({glide}) < "
                         f"shortest <= longest, got {durations!r}")
    K = len(FORMANTS)
    labels = np.empty((N, T), dtype=np.int64)
    formants = np.empty((N, T, 2))
    starts = np.zeros((N, T), dtype=bool)
    for n in range(N):
        t, k = 0, int(rng.integers(K))
        nxt = (k + int(rng.integers(1, K))) % K  # a different phone follows
        while t < T:
            d = int(rng.integers(lo, hi + 1))
            starts[n, t] = True
            span = slice(t, min(t + d, T))
            labels[n, span] = k
            track = np.repeat(FORMANTS[k][None], d, axis=0)
            ramp = np.arange(1, glide + 1) / (glide + 1)  # towards the next phone, never there
            track[d - glide:] += ramp[:, None] * (FORMANTS[nxt] - FORMANTS[k])
            formants[n, span] = track[: span.stop - t]
            t, k, nxt = t + d, nxt, (nxt + int(rng.integers(1, K))) % K
    band = np.arange(bands, dtype=np.float64)
    bumps = np.exp(-0.5 * ((band - formants[..., :1]) / width) ** 2) + np.exp(
        -0.5 * ((band - formants[..., 1:]) / width) ** 2)  # (N, T, bands)
    frames = bumps + noise * rng.standard_normal(bumps.shape)
    return Utterances(frames.astype(dtype), labels, formants, starts)
