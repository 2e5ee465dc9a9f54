"""rnnkit.tasks.adding: the adding problem's structure and its baseline."""

import numpy as np
import pytest

from rnnkit.tasks.adding import BASELINE_MSE, adding_problem


def test_adding_problem_structure():
    x, y = adding_problem(500, 20, np.random.default_rng(0))
    assert x.shape == (500, 20, 2) and y.shape == (500,) and x.dtype == y.dtype == np.float32
    markers = x[..., 1]
    assert np.all(markers.sum(axis=1) == 2)
    assert np.all(markers[:, :10].sum(axis=1) == 1)  # one marker in each half
    assert np.all((x[..., 0] >= 0) & (x[..., 0] < 1))
    assert np.allclose(y, (x[..., 0] * markers).sum(axis=1))


def test_adding_problem_baseline_is_the_variance_of_the_target():
    _, y = adding_problem(200_000, 4, np.random.default_rng(1), dtype=np.float64)
    mse_of_one = np.mean((y - 1.0) ** 2)
    assert abs(mse_of_one - BASELINE_MSE) < 0.003  # standard error ~ 0.0003
    assert abs(BASELINE_MSE - 2 / 12) < 1e-15


def test_adding_problem_rejects_bad_arguments():
    with pytest.raises(ValueError, match="T: expected"):
        adding_problem(3, 1, np.random.default_rng(0))
    with pytest.raises(TypeError, match="rng"):
        adding_problem(3, 5, 0)
