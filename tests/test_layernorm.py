"""Tests for rnnkit.layernorm: finite differences, torch's layer_norm and autograd, bad input."""

import numpy as np
import pytest

from rnnkit.gradcheck import check_backward
from rnnkit.layernorm import (
    layernorm_backward,
    layernorm_forward,
    ln_rnn_backward,
    ln_rnn_forward,
    ln_rnn_step_backward,
    ln_rnn_step_forward,
)

torch = pytest.importorskip("torch")
F = torch.nn.functional

N, T, D, H = 3, 5, 4, 6


def rnn_params(rng):
    x = rng.standard_normal((N, T, D))
    h0 = rng.standard_normal((N, H)) * 0.5
    Wx = rng.standard_normal((D, H)) * 0.5
    Wh = rng.standard_normal((H, H)) * 0.4
    gamma = 1 + 0.3 * rng.standard_normal(H)
    beta = 0.2 * rng.standard_normal(H)
    return x, h0, Wx, Wh, gamma, beta


@pytest.mark.parametrize("shape", [(N, H), (N, T, H)])
def test_layernorm_backward_matches_finite_differences(shape):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape) * 2 + 1
    gamma, beta = 1 + rng.standard_normal(H) * 0.3, rng.standard_normal(H)
    errors = check_backward(layernorm_forward, layernorm_backward, [x, gamma, beta])
    assert set(errors) == {0, 1, 2}
    assert max(errors.values()) < 1e-7, errors


def test_layernorm_matches_torch():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((N, T, H)) * 3 - 1
    gamma, beta = 1 + rng.standard_normal(H) * 0.3, rng.standard_normal(H)
    out, cache = layernorm_forward(x, gamma, beta, eps=1e-5)
    dout = rng.standard_normal(out.shape)
    dx, dgamma, dbeta = layernorm_backward(dout, cache)
    tx, tg, tb = (torch.tensor(a, requires_grad=True) for a in (x, gamma, beta))
    ref = F.layer_norm(tx, (H,), tg, tb, eps=1e-5)
    ref.backward(torch.tensor(dout))
    np.testing.assert_allclose(out, ref.detach().numpy(), rtol=1e-12, atol=1e-12)
    for mine, t in ((dx, tx), (dgamma, tg), (dbeta, tb)):
        np.testing.assert_allclose(mine, t.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_ln_rnn_step_backward_matches_finite_differences():
    x, h0, Wx, Wh, gamma, beta = rnn_params(np.random.default_rng(2))
    errors = check_backward(
        ln_rnn_step_forward, ln_rnn_step_backward, [x[:, 0], h0, Wx, Wh, gamma, beta]
    )
    assert set(errors) == {0, 1, 2, 3, 4, 5}
    assert max(errors.values()) < 1e-7, errors


def test_ln_rnn_sequence_backward_matches_finite_differences():
    args = rnn_params(np.random.default_rng(3))
    errors = check_backward(ln_rnn_forward, ln_rnn_backward, list(args))
    assert set(errors) == {0, 1, 2, 3, 4, 5}
    assert max(errors.values()) < 1e-7, errors


def test_ln_rnn_matches_torch_autograd():
    rng = np.random.default_rng(4)
    args = rnn_params(rng)
    h, cache = ln_rnn_forward(*args)
    dh = rng.standard_normal(h.shape)
    grads = ln_rnn_backward(dh, cache)
    tx, th0, tWx, tWh, tg, tb = (torch.tensor(a, requires_grad=True) for a in args)
    hs, h_prev = [], th0
    for t in range(T):  # torch's own layer_norm inside a written-out loop
        h_prev = torch.tanh(F.layer_norm(tx[:, t] @ tWx + h_prev @ tWh, (H,), tg, tb, eps=1e-5))
        hs.append(h_prev)
    th = torch.stack(hs, dim=1)
    th.backward(torch.tensor(dh))
    np.testing.assert_allclose(h, th.detach().numpy(), rtol=1e-12, atol=1e-12)
    for mine, ref in zip(grads, (tx, th0, tWx, tWh, tg, tb), strict=True):
        np.testing.assert_allclose(mine, ref.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_sequence_equals_loop_of_steps():
    args = rnn_params(np.random.default_rng(5))
    x, h0, Wx, Wh, gamma, beta = args
    h, _ = ln_rnn_forward(*args)
    h_prev = h0
    for t in range(T):
        h_prev, _ = ln_rnn_step_forward(x[:, t], h_prev, Wx, Wh, gamma, beta)
        np.testing.assert_allclose(h[:, t], h_prev, rtol=1e-14, atol=1e-15)


def test_ln_rnn_is_invariant_to_weight_scale():
    """Scaling Wx and Wh by c scales the pre-activation and its std by c: LN cancels it."""
    x, h0, Wx, Wh, gamma, beta = rnn_params(np.random.default_rng(6))
    h1, c1 = ln_rnn_forward(x, h0, Wx, Wh, gamma, beta, eps=0.0)
    h2, c2 = ln_rnn_forward(x, h0, 7 * Wx, 7 * Wh, gamma, beta, eps=0.0)
    np.testing.assert_allclose(h1, h2, rtol=1e-12, atol=1e-13)
    dh = np.ones_like(h1)
    np.testing.assert_allclose(ln_rnn_backward(dh, c1)[1], ln_rnn_backward(dh, c2)[1], rtol=1e-10)


def test_backward_does_not_mutate_inputs():
    rng = np.random.default_rng(7)
    args = rnn_params(rng)
    copies = [a.copy() for a in args]
    h, cache = ln_rnn_forward(*args)
    dh = rng.standard_normal(h.shape)
    dh_copy = dh.copy()
    ln_rnn_backward(dh, cache)
    for a, c in zip(args, copies, strict=True):
        np.testing.assert_array_equal(a, c)
    np.testing.assert_array_equal(dh, dh_copy)


def test_bad_inputs_name_the_argument():
    x, h0, Wx, Wh, gamma, beta = rnn_params(np.random.default_rng(8))
    with pytest.raises(ValueError, match=r"gamma: expected shape \(H\) = \(6\).*got \(5,\)"):
        layernorm_forward(h0, gamma[:5], beta)
    with pytest.raises(TypeError, match=r"beta: expected dtype float64 \(the dtype of x\)"):
        layernorm_forward(h0, gamma, beta.astype(np.float32))
    with pytest.raises(TypeError, match=r"x: expected a floating dtype"):
        layernorm_forward(np.ones((2, H), dtype=int), gamma, beta)
    out, cache = layernorm_forward(x[:, 0], np.ones(D), np.zeros(D))
    with pytest.raises(ValueError, match=r"dout: expected the forward output's shape \(3, 4\)"):
        layernorm_backward(np.ones((3, 5)), cache)
    with pytest.raises(ValueError, match=r"h0: expected shape \(N, H\) = \(3, \?\).*got \(2, 6\)"):
        ln_rnn_forward(x, h0[:2], Wx, Wh, gamma, beta)
    with pytest.raises(ValueError, match=r"Wx: expected shape \(D, H\) = \(4, 6\).*got \(5, 6\)"):
        ln_rnn_forward(x, h0, np.ones((5, H)), Wh, gamma, beta)
    _, cache = ln_rnn_step_forward(x[:, 0], h0, Wx, Wh, gamma, beta)
    with pytest.raises(ValueError, match=r"dh_next: expected shape \(N, H\) = \(3, 6\)"):
        ln_rnn_step_backward(np.ones((3, 5)), cache)
