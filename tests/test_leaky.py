"""rnnkit.cells.leaky beyond the contract (test_cells_contract.py): the time constant tau."""

import numpy as np
import pytest

from rnnkit.cells.leaky import (
    leaky_backward,
    leaky_forward,
    leaky_step_backward,
    leaky_step_forward,
)
from rnnkit.cells.rnn import rnn_forward
from rnnkit.gradcheck import check_backward

N, T, D, H = 3, 5, 4, 6


def params(rng, tau_shape=(H,)):
    x = rng.standard_normal((N, T, D))
    h0 = rng.standard_normal((N, H)) * 0.5
    Wx = rng.standard_normal((D, H)) * 0.5
    Wh = rng.standard_normal((H, H)) * 0.4
    b = rng.standard_normal(H) * 0.1
    tau = np.asarray(1 + 4 * rng.random(tau_shape))  # time constants in [1, 5)
    return x, h0, Wx, Wh, b, tau


def test_a_scalar_tau_gets_a_scalar_gradient_that_matches_finite_differences(rng):
    x, h0, Wx, Wh, b, tau = params(rng, ())
    errors = check_backward(leaky_step_forward, leaky_step_backward, [x[:, 0], h0, Wx, Wh, b, tau])
    assert max(errors.values()) < 1e-7, errors
    errors = check_backward(leaky_forward, leaky_backward, [x, h0, Wx, Wh, b, tau])
    assert max(errors.values()) < 1e-7, errors
    # a Python float works too, and its gradient is the sum of the per-unit gradients
    h, cache = leaky_forward(x, h0, Wx, Wh, b, 2.5)
    dtau = leaky_backward(np.ones_like(h), cache)[-1]
    assert np.shape(dtau) == ()
    h2, cache2 = leaky_forward(x, h0, Wx, Wh, b, np.full(H, 2.5))
    np.testing.assert_allclose(dtau, leaky_backward(np.ones_like(h2), cache2)[-1].sum())


def test_tau_one_is_the_vanilla_rnn(rng):
    x, h0, Wx, Wh, b, _ = params(rng)
    h, _ = leaky_forward(x, h0, Wx, Wh, b, 1.0)
    np.testing.assert_allclose(h, rnn_forward(x, h0, Wx, Wh, b)[0], rtol=1e-14, atol=1e-15)


def test_large_tau_keeps_the_state(rng):
    """With tau = 1e6 a step moves the state by at most 2 / tau (|tanh| <= 1, |h| <= 1)."""
    x, _, Wx, Wh, b, _ = params(rng)
    h0 = np.tanh(rng.standard_normal((N, H)))
    h, _ = leaky_forward(x, h0, Wx, Wh, b, 1e6)
    assert np.max(np.abs(h[:, -1] - h0)) <= T * 2e-6


def test_bad_tau_is_named(rng):
    x, h0, Wx, Wh, b, tau = params(rng)
    with pytest.raises(ValueError,
                       match=r"tau: expected time constants >= 1, got a minimum of 0\.5"):
        leaky_forward(x, h0, Wx, Wh, b, 0.5)
    with pytest.raises(ValueError, match=r"tau: expected a scalar or shape \(H,\) = \(6,\) "
                       r"\(H from Wh\), got \(5,\)"):
        leaky_forward(x, h0, Wx, Wh, b, np.ones(5))
    with pytest.raises(TypeError, match=r"tau: expected a number or a float array"):
        leaky_forward(x, h0, Wx, Wh, b, "2")
    with pytest.raises(TypeError, match=r"tau: expected dtype float64 \(the dtype of Wh\), "
                       r"got float32"):
        leaky_forward(x, h0, Wx, Wh, b, tau.astype(np.float32))
    with pytest.raises(ValueError, match=r"tau: expected finite values"):
        leaky_step_forward(x[:, 0], h0, Wx, Wh, b, np.full(H, np.inf))
