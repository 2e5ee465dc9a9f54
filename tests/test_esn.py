"""rnnkit.models.esn: spectral radius, echo-state property, ridge readout against lstsq."""

import subprocess
import sys

import numpy as np
import pytest

from rnnkit.models.esn import (
    readout_fit,
    readout_predict,
    reservoir_init,
    reservoir_states,
    spectral_radius,
)


@pytest.mark.parametrize("radius, density", [(0.5, 1.0), (1.3, 0.2)])
def test_reservoir_has_the_requested_spectral_radius(radius, density):
    res = reservoir_init(2, 40, radius=radius, density=density, rng=np.random.default_rng(0))
    assert res.Wx.shape == (2, 40) and res.Wh.shape == (40, 40) and res.b.shape == (40,)
    # independent of eigvals: Gelfand's formula, |W^k|^(1/k) -> radius as k grows
    k = 400
    Wk = np.linalg.matrix_power(res.Wh / radius, k)  # rescaled so the powers stay finite
    gelfand = radius * np.linalg.norm(Wk, 2) ** (1 / k)
    assert abs(gelfand - radius) / radius < 0.02
    assert abs(spectral_radius(res.Wh) - radius) < 1e-10
    if density < 1:
        assert abs(np.mean(res.Wh != 0) - density) < 0.05


def test_states_are_a_tanh_rnn():
    rng = np.random.default_rng(1)
    res = reservoir_init(3, 10, radius=0.9, bias_scale=0.2, rng=rng)
    x = rng.standard_normal((2, 7, 3))
    h0 = rng.standard_normal((2, 10)) * 0.1
    h = reservoir_states(x, h0, *res)
    h_prev = h0
    for t in range(7):  # the recurrence written out
        h_prev = np.tanh(x[:, t] @ res.Wx + h_prev @ res.Wh + res.b)
        np.testing.assert_allclose(h[:, t], h_prev, rtol=1e-13, atol=1e-14)


def test_echo_state_property_below_one_and_not_far_above():
    """Two different starting states, same input: the states merge for radius 0.8, not for 3."""
    rng = np.random.default_rng(2)
    x = rng.uniform(-0.5, 0.5, (1, 300, 1))
    gaps = {}
    for radius in (0.8, 3.0):
        res = reservoir_init(1, 50, radius=radius, input_scale=0.5, rng=np.random.default_rng(3))
        ha = reservoir_states(x, np.full((1, 50), 0.9), *res)
        hb = reservoir_states(x, np.full((1, 50), -0.9), *res)
        gaps[radius] = np.linalg.norm(ha[0, -1] - hb[0, -1])
    assert gaps[0.8] < 1e-8, gaps
    assert gaps[3.0] > 1e-2, gaps


def test_readout_fit_matches_lstsq_on_augmented_system():
    rng = np.random.default_rng(4)
    states = rng.standard_normal((2, 40, 8))
    targets = states @ rng.standard_normal((8, 3)) + 0.1 * rng.standard_normal((2, 40, 3)) + 2.0
    alpha, washout = 0.3, 5
    W_out, b_out = readout_fit(states, targets, alpha=alpha, washout=washout)
    # reference: minimise |S W + 1 b - Y|^2 + alpha |W|^2 with lstsq on stacked rows
    S = states[:, washout:].reshape(-1, 8)
    Y = targets[:, washout:].reshape(-1, 3)
    A = np.block([[S, np.ones((len(S), 1))], [np.sqrt(alpha) * np.eye(8), np.zeros((8, 1))]])
    B = np.vstack([Y, np.zeros((8, 3))])
    sol = np.linalg.lstsq(A, B, rcond=None)[0]
    np.testing.assert_allclose(W_out, sol[:8], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(b_out, sol[8], rtol=1e-10, atol=1e-12)
    pred = readout_predict(states, W_out, b_out)
    np.testing.assert_allclose(pred, states @ sol[:8] + sol[8], rtol=1e-10, atol=1e-12)


def test_esn_learns_a_delayed_copy():
    """A reservoir with radius 0.9 remembers its input a few steps back; the readout recalls it."""
    rng = np.random.default_rng(5)
    u = rng.uniform(-1, 1, (1, 1200, 1))
    delay = 3
    y = np.roll(u, delay, axis=1)
    res = reservoir_init(1, 100, radius=0.9, input_scale=0.3, rng=np.random.default_rng(6))
    h = reservoir_states(u, np.zeros((1, 100)), *res)
    W_out, b_out = readout_fit(h[:, :1000], y[:, :1000], alpha=1e-8, washout=50)
    pred = readout_predict(h[:, 1000:], W_out, b_out)
    nrmse = np.sqrt(np.mean((pred - y[:, 1000:]) ** 2) / np.var(y[:, 1000:]))
    assert nrmse < 0.05, nrmse


def test_bad_inputs_name_the_argument():
    with pytest.raises(ValueError, match=r"radius: expected a positive spectral radius, got -1"):
        reservoir_init(1, 5, radius=-1)
    with pytest.raises(ValueError, match=r"density: expected a fraction in \(0, 1\], got 0"):
        reservoir_init(1, 5, density=0)
    msg = r"W: expected a square matrix \(H, H\), got shape \(2, 3\)"
    with pytest.raises(ValueError, match=msg):
        spectral_radius(np.ones((2, 3)))
    states, targets = np.ones((2, 10, 4)), np.ones((2, 9, 1))
    with pytest.raises(ValueError, match=r"targets: expected shape \(N, T, V\) = \(2, 10, \?\)"):
        readout_fit(states, targets)
    with pytest.raises(ValueError, match=r"washout: expected an integer in \[0, T\) = \[0, 10\)"):
        readout_fit(states, np.ones((2, 10, 1)), washout=10)
    msg = r"W_out: expected shape \(H, V\) = \(4, \?\).*got \(3, 1\)"
    with pytest.raises(ValueError, match=msg):
        readout_predict(states, np.ones((3, 1)), np.ones(1))


def test_numpy_modules_do_not_import_torch():
    code = (
        "import sys, rnnkit.models.esn, rnnkit.cells.leaky, rnnkit.layernorm; "
        "sys.exit(1 if 'torch' in sys.modules else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
