"""The adding problem: a generated long-lag task for comparing recurrent cells.

Hochreiter and Schmidhuber (1997) used it to show what an LSTM can bridge. Each sequence
has T steps of two numbers: a value drawn from U(0, 1) and a marker, 1 at exactly two
steps and 0 elsewhere. The target is the sum of the two marked values. Here the first
marker falls in the first half of the sequence and the second in the second half, so the
model must hold one number for T/2 steps or more while ignoring everything else.

Predicting the constant 1 (the mean of the target) scores a mean squared error of
Var(u1 + u2) = 2/12 = 1/6: a model whose error stays near ``BASELINE_MSE`` has learned
nothing about the markers. Book chapters 8 and 9 and lab 5 train on it.
"""

import numpy as np

__all__ = ["adding_problem", "BASELINE_MSE"]

BASELINE_MSE = 1.0 / 6.0  # MSE of always predicting 1.0, the target's mean


def adding_problem(N, T, rng, dtype=np.float32):
    """Draw N sequences of the adding problem.

    Args:
        N: number of sequences.
        T: steps per sequence, at least 2.
        rng: a ``numpy.random.Generator``.
        dtype: float dtype of both arrays.
    Returns:
        x: inputs, (N, T, 2): ``x[..., 0]`` the values, ``x[..., 1]`` the markers.
        y: targets, (N,): the sum of the two marked values.
    """
    if not isinstance(N, (int, np.integer)) or N < 1:
        raise ValueError(f"N: expected a positive int, got {N!r}")
    if not isinstance(T, (int, np.integer)) or T < 2:
        raise ValueError(f"T: expected an int of at least 2, got {T!r}")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng: expected a numpy.random.Generator, got {type(rng).__name__}")
    x = np.zeros((N, T, 2), dtype=dtype)
    x[:, :, 0] = rng.random((N, T))
    rows = np.arange(N)
    first = rng.integers(0, T // 2, N)  # somewhere in the first half
    second = rng.integers(T // 2, T, N)  # somewhere in the second half
    x[rows, first, 1] = 1
    x[rows, second, 1] = 1
    y = x[rows, first, 0] + x[rows, second, 0]
    return x, y.astype(dtype)
