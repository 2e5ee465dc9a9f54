"""Tests for rnnkit.leaky: finite differences, torch autograd, torch.nn.RNN at tau = 1."""

import numpy as np
import pytest

from rnnkit.gradcheck import check_backward
from rnnkit.leaky import leaky_backward, leaky_forward, leaky_step_backward, leaky_step_forward

torch = pytest.importorskip("torch")

N, T, D, H = 3, 5, 4, 6


def params(rng, tau_shape=(H,)):
    x = rng.standard_normal((N, T, D))
    h0 = rng.standard_normal((N, H)) * 0.5
    Wx = rng.standard_normal((D, H)) * 0.5
    Wh = rng.standard_normal((H, H)) * 0.4
    b = rng.standard_normal(H) * 0.1
    tau = np.asarray(1 + 4 * rng.random(tau_shape))  # time constants in [1, 5)
    return x, h0, Wx, Wh, b, tau


@pytest.mark.parametrize("tau_shape", [(H,), ()])
def test_step_backward_matches_finite_differences(tau_shape):
    x, h0, Wx, Wh, b, tau = params(np.random.default_rng(0), tau_shape)
    errors = check_backward(leaky_step_forward, leaky_step_backward, [x[:, 0], h0, Wx, Wh, b, tau])
    assert set(errors) == {0, 1, 2, 3, 4, 5}
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize("tau_shape", [(H,), ()])
def test_sequence_backward_matches_finite_differences(tau_shape):
    x, h0, Wx, Wh, b, tau = params(np.random.default_rng(1), tau_shape)
    errors = check_backward(leaky_forward, leaky_backward, [x, h0, Wx, Wh, b, tau])
    assert set(errors) == {0, 1, 2, 3, 4, 5}
    assert max(errors.values()) < 1e-7, errors


def test_sequence_matches_torch_autograd():
    rng = np.random.default_rng(2)
    args = params(rng)
    h, cache = leaky_forward(*args)
    dh = rng.standard_normal(h.shape)
    grads = leaky_backward(dh, cache)

    tx, th0, tWx, tWh, tb, ttau = (torch.tensor(a, requires_grad=True) for a in args)
    hs, h_prev = [], th0
    for t in range(T):  # the equations written out, independently of rnnkit
        u = torch.tanh(tx[:, t] @ tWx + h_prev @ tWh + tb)
        h_prev = (1 - 1 / ttau) * h_prev + u / ttau
        hs.append(h_prev)
    th = torch.stack(hs, dim=1)
    th.backward(torch.tensor(dh))
    np.testing.assert_allclose(h, th.detach().numpy(), rtol=1e-12, atol=1e-12)
    for mine, ref in zip(grads, (tx, th0, tWx, tWh, tb, ttau), strict=True):
        np.testing.assert_allclose(mine, ref.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_tau_one_is_torch_nn_rnn():
    rng = np.random.default_rng(3)
    x, h0, Wx, Wh, b, _ = params(rng)
    h, _ = leaky_forward(x, h0, Wx, Wh, b, 1.0)
    rnn = torch.nn.RNN(D, H, batch_first=True, nonlinearity="tanh").double()
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.tensor(Wx.T))
        rnn.weight_hh_l0.copy_(torch.tensor(Wh.T))
        rnn.bias_ih_l0.copy_(torch.tensor(b))
        rnn.bias_hh_l0.zero_()
        ref, _ = rnn(torch.tensor(x), torch.tensor(h0)[None])
    np.testing.assert_allclose(h, ref.numpy(), rtol=1e-12, atol=1e-12)


def test_large_tau_keeps_the_state():
    """With tau = 1e6 a step moves the state by at most 2 / tau (|tanh| <= 1, |h| <= 1)."""
    rng = np.random.default_rng(4)
    x, _, Wx, Wh, b, _ = params(rng)
    h0 = np.tanh(rng.standard_normal((N, H)))
    h, _ = leaky_forward(x, h0, Wx, Wh, b, 1e6)
    assert np.max(np.abs(h[:, -1] - h0)) <= T * 2e-6


def test_python_float_tau_gives_scalar_gradient():
    x, h0, Wx, Wh, b, _ = params(np.random.default_rng(5))
    h, cache = leaky_forward(x, h0, Wx, Wh, b, 2.5)
    dtau = leaky_backward(np.ones_like(h), cache)[-1]
    assert np.shape(dtau) == ()
    # the scalar gradient is the sum of the per-unit gradients at the same value
    h2, cache2 = leaky_forward(x, h0, Wx, Wh, b, np.full(H, 2.5))
    np.testing.assert_allclose(dtau, leaky_backward(np.ones_like(h2), cache2)[-1].sum())


def test_backward_does_not_mutate_inputs():
    rng = np.random.default_rng(6)
    args = params(rng)
    copies = [a.copy() for a in args]
    h, cache = leaky_forward(*args)
    dh = rng.standard_normal(h.shape)
    dh_copy = dh.copy()
    leaky_backward(dh, cache)
    for a, c in zip(args, copies, strict=True):
        np.testing.assert_array_equal(a, c)
    np.testing.assert_array_equal(dh, dh_copy)


def test_bad_inputs_name_the_argument():
    x, h0, Wx, Wh, b, tau = params(np.random.default_rng(7))
    msg = r"tau: expected time constants >= 1, got a minimum of 0\.5"
    with pytest.raises(ValueError, match=msg):
        leaky_forward(x, h0, Wx, Wh, b, 0.5)
    msg = r"tau: expected a scalar or shape \(H,\) = \(6,\), got \(5,\)"
    with pytest.raises(ValueError, match=msg):
        leaky_forward(x, h0, Wx, Wh, b, np.ones(5))
    with pytest.raises(ValueError, match=r"x: expected 3-D array of shape \(N, T, D\)"):
        leaky_forward(x[:, 0], h0, Wx, Wh, b, tau)
    with pytest.raises(ValueError, match=r"Wh: expected shape \(H, H\) = \(6, 6\).*got \(6, 5\)"):
        leaky_forward(x, h0, Wx, Wh[:, :5], b, tau)
    msg = r"h0: expected dtype float64 \(the dtype of x\), got float32"
    with pytest.raises(TypeError, match=msg):
        leaky_forward(x, h0.astype(np.float32), Wx, Wh, b, tau)
    with pytest.raises(TypeError, match=r"tau: expected a number"):
        leaky_forward(x, h0, Wx, Wh, b, "2")
    with pytest.raises(ValueError, match=r"b: expected finite values"):
        leaky_forward(x, h0, Wx, Wh, np.full(H, np.nan), tau)
    h, cache = leaky_forward(x, h0, Wx, Wh, b, tau)
    with pytest.raises(ValueError, match=r"dh: expected shape \(N, T, H\) = \(3, 5, 6\)"):
        leaky_backward(h[:, :-1], cache)
    _, step_cache = leaky_step_forward(x[:, 0], h0, Wx, Wh, b, tau)
    with pytest.raises(ValueError, match=r"dh_next: expected 2-D array"):
        leaky_step_backward(h, step_cache)
