"""Tests for rnnkit.gru: finite differences, torch.nn.GRU parity, input checks."""

import numpy as np
import pytest
import torch
from cell_inputs import gated_cell_args

from rnnkit.gradcheck import check_backward, rel_error
from rnnkit.gru import gru_backward, gru_forward, gru_step_backward, gru_step_forward

# (N, T, D, H): N=1, T=1, H=1 and D != H all appear.
SHAPES = [(2, 3, 4, 5), (1, 1, 3, 1), (1, 4, 2, 3), (3, 2, 5, 2)]


def make(N, T, D, H, seed=0, dtype=np.float64):
    """x, h0, Wx, Wh, b, b_hn for a GRU (G = 3)."""
    return gated_cell_args(N, T, D, H, 3, b_hn=True, seed=seed, dtype=dtype)


def to_torch_gru(Wx, Wh, b, b_hn, seed=1):
    """Build a float64 torch.nn.GRU with our weights.

    torch keeps two biases per gate: ours are b = b_ih + b_hh for r and z,
    b = b_ih for n, and b_hn = the n block of b_hh. The r and z parts of b are
    split at random between b_ih and b_hh, which must not matter.
    """
    D, H = Wx.shape[0], Wh.shape[0]
    b_hh = np.concatenate((np.random.default_rng(seed).standard_normal(2 * H), b_hn))
    b_ih = np.concatenate((b[: 2 * H] - b_hh[: 2 * H], b[2 * H :]))
    gru = torch.nn.GRU(D, H, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        gru.weight_ih_l0.copy_(torch.from_numpy(Wx.T))
        gru.weight_hh_l0.copy_(torch.from_numpy(Wh.T))
        gru.bias_ih_l0.copy_(torch.from_numpy(b_ih))
        gru.bias_hh_l0.copy_(torch.from_numpy(b_hh))
    return gru


@pytest.mark.parametrize("shape", SHAPES)
def test_step_backward_matches_finite_differences(shape):
    x, h0, Wx, Wh, b, b_hn = make(*shape)
    errors = check_backward(gru_step_forward, gru_step_backward, [x[:, 0], h0, Wx, Wh, b, b_hn])
    assert len(errors) == 6
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize("shape", SHAPES)
def test_sequence_backward_matches_finite_differences(shape):
    errors = check_backward(gru_forward, gru_backward, make(*shape))
    assert len(errors) == 6
    assert max(errors.values()) < 1e-6, errors


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (1, 1, 3, 1), (3, 7, 2, 4)])
def test_forward_and_gradients_match_torch_gru(shape):
    x, h0, Wx, Wh, b, b_hn = make(*shape, seed=2)
    dh = np.random.default_rng(3).standard_normal((shape[0], shape[1], shape[3]))
    h, cache = gru_forward(x, h0, Wx, Wh, b, b_hn)
    dx, dh0, dWx, dWh, db, db_hn = gru_backward(dh, cache)

    gru = to_torch_gru(Wx, Wh, b, b_hn)
    xt = torch.tensor(x, requires_grad=True)
    h0t = torch.tensor(h0[None], requires_grad=True)
    out, h_n = gru(xt, h0t)
    (out * torch.from_numpy(dh)).sum().backward()

    H = shape[3]
    g_ih, g_hh = gru.bias_ih_l0.grad.numpy(), gru.bias_hh_l0.grad.numpy()
    assert rel_error(h, out.detach().numpy()) < 1e-12
    assert rel_error(h[:, -1], h_n[0].detach().numpy()) < 1e-12
    assert rel_error(dx, xt.grad.numpy()) < 1e-10
    assert rel_error(dh0, h0t.grad[0].numpy()) < 1e-10
    assert rel_error(dWx, gru.weight_ih_l0.grad.numpy().T) < 1e-10
    assert rel_error(dWh, gru.weight_hh_l0.grad.numpy().T) < 1e-10
    assert rel_error(db, g_ih) < 1e-10  # every block of b is an input-side bias
    assert rel_error(db[: 2 * H], g_hh[: 2 * H]) < 1e-10  # r and z also hidden-side
    assert rel_error(db_hn, g_hh[2 * H :]) < 1e-10


def test_update_gate_sits_on_the_old_state():
    # z -> 1 (large z bias) must copy h_prev through; lecture 001's convention would drop it.
    x, h0, Wx, Wh, b, b_hn = make(2, 1, 3, 4)
    b = b.copy()
    b[4:8] = 40.0
    h, _ = gru_forward(x, h0, Wx, Wh, b, b_hn)
    np.testing.assert_allclose(h[:, 0], h0, rtol=0, atol=1e-15)
    b[4:8] = -40.0  # z -> 0: the output is the candidate n alone, which ignores h0 if Wh = 0
    h_a, _ = gru_forward(x, h0, Wx, 0 * Wh, b, b_hn)
    h_b, _ = gru_forward(x, -h0, Wx, 0 * Wh, b, b_hn)
    np.testing.assert_allclose(h_a, h_b, rtol=0, atol=1e-15)


def test_sequence_equals_loop_of_public_steps():
    x, h0, Wx, Wh, b, b_hn = make(3, 4, 2, 3)
    h, _ = gru_forward(x, h0, Wx, Wh, b, b_hn)
    h_prev = h0
    for t in range(x.shape[1]):
        h_prev, _ = gru_step_forward(x[:, t], h_prev, Wx, Wh, b, b_hn)
        np.testing.assert_allclose(h[:, t], h_prev, rtol=1e-13, atol=1e-15)


def test_float32_stays_float32_and_agrees_with_float64():
    args64 = make(2, 3, 4, 5)
    args32 = [a.astype(np.float32) for a in args64]
    dh = np.random.default_rng(4).standard_normal((2, 3, 5))
    h, cache = gru_forward(*args32)
    grads = gru_backward(dh.astype(np.float32), cache)
    x, h0, Wx, Wh, b, b_hn = args32
    h_next, step_cache = gru_step_forward(x[:, 0], h0, Wx, Wh, b, b_hn)
    step_grads = gru_step_backward(h_next, step_cache)
    arrays = [h, h_next, *cache, *step_cache, *grads, *step_grads]
    assert all(a.dtype == np.float32 for a in arrays), [a.dtype for a in arrays]

    h64, cache64 = gru_forward(*args64)
    np.testing.assert_allclose(h, h64, rtol=1e-4, atol=1e-5)
    for g32, g64 in zip(grads, gru_backward(dh, cache64), strict=True):
        np.testing.assert_allclose(g32, g64, rtol=1e-3, atol=1e-4)


def test_backward_does_not_mutate_its_inputs():
    args = make(2, 3, 4, 5)
    dh = np.random.default_rng(5).standard_normal((2, 3, 5))
    _, cache = gru_forward(*args)
    before = [a.copy() for a in (dh, *cache)]
    gru_backward(dh, cache)
    gru_backward(dh, cache)
    assert all(np.array_equal(a, c) for a, c in zip(before, (dh, *cache), strict=True))
    x, h0, Wx, Wh, b, b_hn = args
    h_next, step_cache = gru_step_forward(x[:, 0], h0, Wx, Wh, b, b_hn)
    before = [a.copy() for a in (h_next, *step_cache)]
    gru_step_backward(h_next, step_cache)
    after = (h_next, *step_cache)
    assert all(np.array_equal(a, c) for a, c in zip(before, after, strict=True))


X, H0, WX, WH, B, BHN = make(2, 3, 4, 5)  # N=2, T=3, D=4, H=5
F32 = [a.astype(np.float32) for a in (X, WX, WH, B, BHN)]
BAD_CALLS = [  # (call, exception, message pattern)
    (lambda: gru_forward(X[:, 0], H0, WX, WH, B, BHN),
     ValueError, r"x: expected 3-D array of shape \(N, T, D\), got 2-D shape \(2, 4\)"),
    (lambda: gru_forward(X, H0[:1], WX, WH, B, BHN),
     ValueError, r"h0: expected shape \(N, H\) = \(2, \?\).*got \(1, 5\)"),
    (lambda: gru_forward(X, H0, WX[:, :12], WH, B, BHN),
     ValueError, r"Wx: expected shape \(D, 3H\) = \(4, 15\), got \(4, 12\)"),
    (lambda: gru_forward(X, H0, np.zeros((4, 20)), WH, B, BHN),
     ValueError, r"Wx: expected shape \(D, 3H\), got \(4, 20\)"),
    (lambda: gru_forward(X, H0, WX, WH[:4], B, BHN),
     ValueError, r"Wh: expected shape \(H, 3H\) = \(5, 15\), got \(4, 15\)"),
    (lambda: gru_forward(X, H0, WX, WH, B[:12], BHN),
     ValueError, r"b: expected shape \(3H\) = \(15\), got \(12,\)"),
    (lambda: gru_forward(X, H0, WX, WH, B, B),
     ValueError, r"b_hn: expected shape \(H\).*got \(15,\)"),
    (lambda: gru_step_forward(X[:, 0], H0[:1], WX, WH, B, BHN),
     ValueError, r"h_prev: expected shape \(N, H\) = \(2, \?\).*got \(1, 5\)"),
    (lambda: gru_forward(X.astype(np.int32), H0, WX, WH, B, BHN),
     TypeError, r"x: expected a floating dtype.*got int32"),
    (lambda: gru_forward(X, np.full_like(H0, np.inf), WX, WH, B, BHN),
     ValueError, r"h0: expected finite values, got 10 NaN or inf"),
    (lambda: gru_forward(F32[0], H0, *F32[1:]),
     TypeError, r"h0: expected dtype float32 \(the dtype of x\), got float64"),
    (lambda: gru_forward(F32[0], H0.astype(np.float32), F32[1], F32[2], B, F32[4]),
     TypeError, r"b: expected dtype float32 \(the dtype of x\), got float64"),
    (lambda: gru_backward(np.zeros((2, 5, 3)), gru_forward(X, H0, WX, WH, B, BHN)[1]),
     ValueError, r"dh: expected shape \(N, T, H\) = \(2, 3, 5\).*got \(2, 5, 3\)"),
    (lambda: gru_step_backward(H0[:, :4], gru_step_forward(X[:, 0], H0, WX, WH, B, BHN)[1]),
     ValueError, r"dh_next: expected shape \(N, H\).*got \(2, 4\)"),
]


@pytest.mark.parametrize(
    "call, error, pattern", BAD_CALLS, ids=[p.split(":")[0] for _, _, p in BAD_CALLS]
)
def test_bad_inputs_name_the_argument_and_the_shapes(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()
