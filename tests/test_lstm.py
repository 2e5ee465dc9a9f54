"""Tests for rnnkit.lstm: finite differences, torch.nn.LSTM parity, input checks."""

import numpy as np
import pytest
import torch
from cell_inputs import gated_cell_args

from rnnkit.gradcheck import check_backward, rel_error
from rnnkit.lstm import lstm_backward, lstm_forward, lstm_step_backward, lstm_step_forward

# (N, T, D, H): N=1, T=1, H=1 and D != H all appear.
SHAPES = [(2, 3, 4, 5), (1, 1, 3, 1), (1, 4, 2, 3), (3, 2, 5, 2)]


def make(N, T, D, H, seed=0, dtype=np.float64):
    """x, h0, c0, Wx, Wh, b for an LSTM (G = 4)."""
    return gated_cell_args(N, T, D, H, 4, states=2, seed=seed, dtype=dtype)


def to_torch_lstm(Wx, Wh, b, seed=1):
    """Build a float64 torch.nn.LSTM with our weights; b is split at random into b_ih + b_hh."""
    D, H = Wx.shape[0], Wh.shape[0]
    b_hh = np.random.default_rng(seed).standard_normal(4 * H)
    lstm = torch.nn.LSTM(D, H, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        lstm.weight_ih_l0.copy_(torch.from_numpy(Wx.T))
        lstm.weight_hh_l0.copy_(torch.from_numpy(Wh.T))
        lstm.bias_ih_l0.copy_(torch.from_numpy(b - b_hh))
        lstm.bias_hh_l0.copy_(torch.from_numpy(b_hh))
    return lstm


@pytest.mark.parametrize("shape", SHAPES)
def test_step_backward_matches_finite_differences(shape):
    N, _, D, H = shape
    x, h0, c0, Wx, Wh, b = make(*shape)

    def forward(x, h, c, Wx, Wh, b):  # both outputs in one array, so one dout covers them
        h_next, c_next, cache = lstm_step_forward(x, h, c, Wx, Wh, b)
        return np.concatenate((h_next, c_next), axis=1), cache

    def backward(dout, cache):
        return lstm_step_backward(dout[:, :H], dout[:, H:], cache)

    errors = check_backward(forward, backward, [x[:, 0], h0, c0, Wx, Wh, b])
    assert len(errors) == 6
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize("shape", SHAPES)
def test_sequence_backward_matches_finite_differences(shape):
    x, h0, c0, Wx, Wh, b = make(*shape)

    def forward(x, h0, Wx, Wh, b):
        return lstm_forward(x, h0, Wx, Wh, b, c0=c0)

    errors = check_backward(forward, lstm_backward, [x, h0, Wx, Wh, b])
    assert len(errors) == 5
    assert max(errors.values()) < 1e-6, errors


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (1, 1, 3, 1), (3, 7, 2, 4)])
def test_forward_and_gradients_match_torch_lstm(shape):
    x, h0, c0, Wx, Wh, b = make(*shape, seed=2)
    dh = np.random.default_rng(3).standard_normal((shape[0], shape[1], shape[3]))
    h, cache = lstm_forward(x, h0, Wx, Wh, b, c0=c0)
    dx, dh0, dWx, dWh, db = lstm_backward(dh, cache)

    lstm = to_torch_lstm(Wx, Wh, b)
    xt = torch.tensor(x, requires_grad=True)
    h0t = torch.tensor(h0[None], requires_grad=True)
    out, (h_n, c_n) = lstm(xt, (h0t, torch.tensor(c0[None])))
    (out * torch.from_numpy(dh)).sum().backward()

    assert rel_error(h, out.detach().numpy()) < 1e-12
    assert rel_error(h[:, -1], h_n[0].detach().numpy()) < 1e-12
    assert rel_error(cache.c_n, c_n[0].detach().numpy()) < 1e-12
    assert rel_error(dx, xt.grad.numpy()) < 1e-10
    assert rel_error(dh0, h0t.grad[0].numpy()) < 1e-10
    assert rel_error(dWx, lstm.weight_ih_l0.grad.numpy().T) < 1e-10
    assert rel_error(dWh, lstm.weight_hh_l0.grad.numpy().T) < 1e-10
    assert rel_error(db, lstm.bias_ih_l0.grad.numpy()) < 1e-10


def test_c0_defaults_to_zeros_like_torch():
    x, h0, _, Wx, Wh, b = make(2, 4, 3, 5)
    h, cache = lstm_forward(x, h0, Wx, Wh, b)
    h_zero, _ = lstm_forward(x, h0, Wx, Wh, b, c0=np.zeros_like(h0))
    h_one, _ = lstm_forward(x, h0, Wx, Wh, b, c0=np.ones_like(h0))
    assert np.array_equal(cache.c0, np.zeros_like(h0))
    assert np.array_equal(h, h_zero)
    assert not np.allclose(h, h_one)  # c0 does reach the output
    h0t = torch.from_numpy(h0[None])
    out, _ = to_torch_lstm(Wx, Wh, b)(torch.from_numpy(x), (h0t, torch.zeros_like(h0t)))
    assert rel_error(h, out.detach().numpy()) < 1e-12


def test_carrying_h_and_c_between_batches_equals_one_long_run():
    x, h0, c0, Wx, Wh, b = make(2, 6, 3, 4)
    h_full, cache_full = lstm_forward(x, h0, Wx, Wh, b, c0=c0)
    h1, cache1 = lstm_forward(x[:, :4], h0, Wx, Wh, b, c0=c0)
    h2, cache2 = lstm_forward(x[:, 4:], h1[:, -1], Wx, Wh, b, c0=cache1.c_n)
    assert np.array_equal(np.concatenate((h1, h2), axis=1), h_full)
    assert np.array_equal(cache2.c_n, cache_full.c_n)
    assert np.array_equal(cache_full.c_n, cache_full.c[:, -1])


def test_sequence_equals_loop_of_public_steps():
    x, h0, c0, Wx, Wh, b = make(3, 4, 2, 3)
    h, cache = lstm_forward(x, h0, Wx, Wh, b, c0=c0)
    h_prev, c_prev = h0, c0
    for t in range(x.shape[1]):
        h_prev, c_prev, _ = lstm_step_forward(x[:, t], h_prev, c_prev, Wx, Wh, b)
        np.testing.assert_allclose(h[:, t], h_prev, rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(cache.c[:, t], c_prev, rtol=1e-13, atol=1e-15)


def test_float32_stays_float32_and_agrees_with_float64():
    args64 = make(2, 3, 4, 5)
    args32 = [a.astype(np.float32) for a in args64]
    dh = np.random.default_rng(4).standard_normal((2, 3, 5))
    x, h0, c0, Wx, Wh, b = args32
    h, cache = lstm_forward(x, h0, Wx, Wh, b, c0=c0)
    grads = lstm_backward(dh.astype(np.float32), cache)
    h_next, c_next, step_cache = lstm_step_forward(x[:, 0], h0, c0, Wx, Wh, b)
    step_grads = lstm_step_backward(h_next, c_next, step_cache)
    arrays = [h, h_next, c_next, *cache, *step_cache, *grads, *step_grads]
    assert all(a.dtype == np.float32 for a in arrays), [a.dtype for a in arrays]

    x, h0, c0, Wx, Wh, b = args64
    h64, cache64 = lstm_forward(x, h0, Wx, Wh, b, c0=c0)
    np.testing.assert_allclose(h, h64, rtol=1e-4, atol=1e-5)
    for g32, g64 in zip(grads, lstm_backward(dh, cache64), strict=True):
        np.testing.assert_allclose(g32, g64, rtol=1e-3, atol=1e-4)


def test_backward_does_not_mutate_its_inputs():
    x, h0, c0, Wx, Wh, b = make(2, 3, 4, 5)
    dh = np.random.default_rng(5).standard_normal((2, 3, 5))
    _, cache = lstm_forward(x, h0, Wx, Wh, b, c0=c0)
    before = [a.copy() for a in (dh, *cache)]
    lstm_backward(dh, cache)
    lstm_backward(dh, cache)
    assert all(np.array_equal(a, c) for a, c in zip(before, (dh, *cache), strict=True))
    h_next, c_next, step_cache = lstm_step_forward(x[:, 0], h0, c0, Wx, Wh, b)
    before = [a.copy() for a in (h_next, c_next, *step_cache)]
    lstm_step_backward(h_next, c_next, step_cache)
    after = (h_next, c_next, *step_cache)
    assert all(np.array_equal(a, c) for a, c in zip(before, after, strict=True))


X, H0, C0, WX, WH, B = make(2, 3, 4, 5)  # N=2, T=3, D=4, H=5
F32 = [a.astype(np.float32) for a in (X, WX, WH, B)]
BAD_CALLS = [  # (call, exception, message pattern)
    (lambda: lstm_forward(X[:, 0], H0, WX, WH, B),
     ValueError, r"x: expected 3-D array of shape \(N, T, D\), got 2-D shape \(2, 4\)"),
    (lambda: lstm_forward(X, np.zeros((3, 5)), WX, WH, B),
     ValueError, r"h0: expected shape \(N, H\) = \(2, \?\).*got \(3, 5\)"),
    (lambda: lstm_forward(X, H0, WX[:, :16], WH, B),
     ValueError, r"Wx: expected shape \(D, 4H\) = \(4, 20\), got \(4, 16\)"),
    (lambda: lstm_forward(X, H0, WX[:, :15], WH, B),
     ValueError, r"Wx: expected shape \(D, 4H\), got \(4, 15\)"),
    (lambda: lstm_forward(X, H0, WX.T.copy(), WH, B),
     ValueError, r"Wx: expected shape \(D, 4H\) = \(4, 20\), got \(20, 4\)"),
    (lambda: lstm_forward(X, H0, WX, WH, B[:5]),
     ValueError, r"b: expected shape \(4H\).*got \(5,\)"),
    (lambda: lstm_forward(X, H0, WX, WH, B, c0=C0[:, :4]),
     ValueError, r"c0: expected shape \(N, H\).*got \(2, 4\)"),
    (lambda: lstm_step_forward(X[:, 0], H0, C0[:1], WX, WH, B),
     ValueError, r"c_prev: expected shape \(N, H\).*got \(1, 5\)"),
    (lambda: lstm_forward(X.astype(np.int64), H0, WX, WH, B),
     TypeError, r"x: expected a floating dtype.*got int64"),
    (lambda: lstm_forward(X, H0, WX, np.where(WH == WH[0, 0], np.nan, WH), B),
     ValueError, r"Wh: expected finite values, got 1 NaN"),
    (lambda: lstm_forward(F32[0], H0, *F32[1:]),
     TypeError, r"h0: expected dtype float32 \(the dtype of x\), got float64"),
    (lambda: lstm_backward(np.zeros((2, 5, 3)), lstm_forward(X, H0, WX, WH, B)[1]),
     ValueError, r"dh: expected shape \(N, T, H\) = \(2, 3, 5\).*got \(2, 5, 3\)"),
    (lambda: lstm_step_backward(H0, C0[:, :4], lstm_step_forward(X[:, 0], H0, C0, WX, WH, B)[2]),
     ValueError, r"dc_next: expected shape \(N, H\).*got \(2, 4\)"),
]


@pytest.mark.parametrize(
    "call, error, pattern", BAD_CALLS, ids=[p.split(":")[0] for _, _, p in BAD_CALLS]
)
def test_bad_inputs_name_the_argument_and_the_shapes(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()
