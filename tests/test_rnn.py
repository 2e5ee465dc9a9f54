"""rnnkit.rnn against finite differences, torch autograd and torch.nn.RNN, all in float64."""

import numpy as np
import pytest

from rnnkit.gradcheck import check_backward
from rnnkit.rnn import rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward

SHAPES = [(1, 1, 1, 1), (2, 3, 4, 5), (3, 4, 5, 1), (1, 5, 2, 3), (4, 1, 3, 3)]  # (N, T, D, H)


def make(N, T, D, H, seed=0, dtype=np.float64):
    """Random inputs at a scale where tanh is neither linear nor saturated."""
    r = np.random.default_rng(seed)
    x = r.standard_normal((N, T, D))
    h0 = 0.5 * r.standard_normal((N, H))
    Wx = r.standard_normal((D, H)) / np.sqrt(D)
    Wh = 0.8 * r.standard_normal((H, H)) / np.sqrt(H)
    b = 0.1 * r.standard_normal(H)
    return [a.astype(dtype) for a in (x, h0, Wx, Wh, b)]


@pytest.mark.parametrize("N,T,D,H", SHAPES)
def test_step_backward_matches_finite_differences(N, T, D, H):
    x, h0, Wx, Wh, b = make(N, T, D, H, seed=T)
    errors = check_backward(rnn_step_forward, rnn_step_backward, [x[:, 0], h0, Wx, Wh, b])
    assert sorted(errors) == [0, 1, 2, 3, 4]
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize("N,T,D,H", SHAPES)
def test_sequence_backward_matches_finite_differences(N, T, D, H):
    inputs = make(N, T, D, H, seed=N + T)
    errors = check_backward(rnn_forward, rnn_backward, inputs)
    assert sorted(errors) == [0, 1, 2, 3, 4]
    assert max(errors.values()) < 1e-6, errors


@pytest.mark.parametrize("N,T,D,H", [(2, 6, 3, 4), (1, 1, 2, 1)])
def test_forward_and_backward_match_torch(N, T, D, H):
    torch = pytest.importorskip("torch")
    torch.backends.cuda.matmul.allow_tf32 = False
    x, h0, Wx, Wh, b = make(N, T, D, H, seed=7)
    dh = np.random.default_rng(8).standard_normal((N, T, H))
    h, cache = rnn_forward(x, h0, Wx, Wh, b)
    grads = rnn_backward(dh, cache)

    # autograd through the same equations, written with torch ops
    tx, th0, tWx, tWh, tb = (torch.tensor(a, requires_grad=True) for a in (x, h0, Wx, Wh, b))
    hs, h_prev = [], th0
    for t in range(T):
        h_prev = torch.tanh(tx[:, t] @ tWx + h_prev @ tWh + tb)
        hs.append(h_prev)
    th = torch.stack(hs, dim=1)
    (th * torch.tensor(dh)).sum().backward()
    np.testing.assert_allclose(h, th.detach().numpy(), rtol=1e-12, atol=1e-14)
    for name, ours, theirs in zip(("dx", "dh0", "dWx", "dWh", "db"), grads,
                                  (tx, th0, tWx, tWh, tb), strict=True):  # fmt: skip
        np.testing.assert_allclose(ours, theirs.grad.numpy(), rtol=1e-10, atol=1e-13, err_msg=name)

    # torch.nn.RNN: weights stored (H, D), two biases; an independent implementation
    rnn = torch.nn.RNN(D, H, nonlinearity="tanh", batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.tensor(Wx.T))
        rnn.weight_hh_l0.copy_(torch.tensor(Wh.T))
        rnn.bias_ih_l0.copy_(torch.tensor(b))
        rnn.bias_hh_l0.zero_()
    out, h_n = rnn(torch.tensor(x), torch.tensor(h0)[None])
    np.testing.assert_allclose(h, out.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(h[:, -1], h_n[0].detach().numpy(), rtol=1e-12, atol=1e-14)


def test_sequence_of_length_one_is_one_step():
    x, h0, Wx, Wh, b = make(3, 1, 4, 2, seed=3)
    h, cache = rnn_forward(x, h0, Wx, Wh, b)
    h1, step_cache = rnn_step_forward(x[:, 0], h0, Wx, Wh, b)
    np.testing.assert_allclose(h[:, 0], h1, rtol=1e-15)
    dh = np.ones_like(h)
    seq = rnn_backward(dh, cache)
    step = rnn_step_backward(dh[:, 0], step_cache)
    np.testing.assert_allclose(seq[0][:, 0], step[0], rtol=1e-13)
    for a, c in zip(seq[1:], step[1:], strict=True):
        np.testing.assert_allclose(a, c, rtol=1e-13, atol=1e-15)


def test_float32_stays_float32():
    x, h0, Wx, Wh, b = make(2, 3, 4, 5, dtype=np.float32)
    h, cache = rnn_forward(x, h0, Wx, Wh, b)
    assert h.dtype == np.float32
    assert all(g.dtype == np.float32 for g in rnn_backward(np.ones_like(h), cache))
    h1, step_cache = rnn_step_forward(x[:, 0], h0, Wx, Wh, b)
    assert h1.dtype == np.float32
    assert all(g.dtype == np.float32 for g in rnn_step_backward(np.ones_like(h1), step_cache))
    h64, _ = rnn_forward(*make(2, 3, 4, 5))
    np.testing.assert_allclose(h, h64, rtol=1e-5, atol=1e-6)


def test_backward_does_not_mutate_inputs_or_cache():
    inputs = make(2, 4, 3, 5, seed=11)
    h, cache = rnn_forward(*inputs)
    dh = np.random.default_rng(12).standard_normal(h.shape)
    saved = [a.copy() for a in (*inputs, h, dh)]
    first = rnn_backward(dh, cache)
    second = rnn_backward(dh, cache)  # a second call sees the same cache, so the same grads
    for before, after in zip(saved, (*inputs, h, dh), strict=True):
        np.testing.assert_array_equal(before, after)
    for a, c in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, c)


# ------------------------------------------------------------------------------------ bad input


def test_wrong_shape_names_argument_expected_and_received():
    x, h0, Wx, Wh, b = make(2, 5, 3, 4)
    with pytest.raises(
        ValueError, match=r"x: expected 3-D array of shape \(N, T, D\), got 2-D shape \(2, 3\)"
    ):
        rnn_forward(x[:, 0], h0, Wx, Wh, b)
    with pytest.raises(ValueError, match=r"h0: expected shape \(N, H\) = \(2, \?\).*got \(5, 4\)"):
        rnn_forward(x, np.zeros((5, 4)), Wx, Wh, b)
    with pytest.raises(ValueError, match=r"Wx: expected shape \(D, H\) = \(3, 4\).*got \(4, 3\)"):
        rnn_forward(x, h0, Wx.T.copy(), Wh, b)
    with pytest.raises(ValueError, match=r"b: expected shape \(H\) = \(4\).*got \(3,\)"):
        rnn_step_forward(x[:, 0], h0, Wx, Wh, b[:3])
    h, cache = rnn_forward(x, h0, Wx, Wh, b)
    with pytest.raises(
        ValueError, match=r"dh: expected shape \(N, T, H\) = \(2, 5, 4\).*got \(5, 2, 4\)"
    ):
        rnn_backward(np.zeros((5, 2, 4)), cache)


def test_int_dtype_and_mixed_dtypes():
    x, h0, Wx, Wh, b = make(2, 5, 3, 4)
    with pytest.raises(TypeError, match=r"x: expected a floating dtype .*got int64"):
        rnn_forward(x.astype(np.int64), h0, Wx, Wh, b)
    with pytest.raises(
        TypeError, match=r"Wh: expected dtype float64 \(the dtype of x\), got float32"
    ):
        rnn_forward(x, h0, Wx, Wh.astype(np.float32), b)
    h, cache = rnn_forward(x, h0, Wx, Wh, b)
    with pytest.raises(
        TypeError, match=r"dh: expected dtype float64 \(the forward's\), got float32"
    ):
        rnn_backward(np.ones(h.shape, np.float32), cache)


def test_nan_input():
    x, h0, Wx, Wh, b = make(2, 5, 3, 4)
    h0[1, 2] = np.nan
    with pytest.raises(ValueError, match=r"h_prev: expected finite values, got 1 NaN or inf"):
        rnn_step_forward(x[:, 0], h0, Wx, Wh, b)
    with pytest.raises(ValueError, match=r"h0: expected finite values, got 1 NaN or inf"):
        rnn_forward(x, h0, Wx, Wh, b)
