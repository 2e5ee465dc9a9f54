"""Tests for the coupled-gate LSTM (NumPy and torch paths) and the adding problem."""

import numpy as np
import pytest
from cell_inputs import gated_cell_args

from rnnkit.gradcheck import check_backward, rel_error
from rnnkit.longlag import BASELINE_MSE, adding_problem
from rnnkit.lstm import lstm_forward
from rnnkit.lstm_variants import (
    coupled_lstm_backward,
    coupled_lstm_forward,
    coupled_lstm_step_backward,
    coupled_lstm_step_forward,
    coupled_to_lstm,
)

SHAPES = [(2, 3, 4, 5), (1, 1, 3, 1), (3, 4, 2, 3)]  # (N, T, D, H)


def make(N, T, D, H, seed=0):
    """x, h0, c0, Wx, Wh, b for the coupled cell (G = 3: f, g, o)."""
    return gated_cell_args(N, T, D, H, 3, states=2, seed=seed)


def direct_step(x, h, c, Wx, Wh, b):
    """The cell's equations written out, gate by gate, with no shared code."""
    H = h.shape[1]
    a = x @ Wx + h @ Wh + b
    f = 1 / (1 + np.exp(-a[:, :H]))
    g = np.tanh(a[:, H : 2 * H])
    o = 1 / (1 + np.exp(-a[:, 2 * H :]))
    c = f * c + (1 - f) * g
    return o * np.tanh(c), c


@pytest.mark.parametrize("shape", SHAPES)
def test_step_forward_matches_the_equations(shape):
    N, _, D, H = shape
    x, h0, c0, Wx, Wh, b = make(*shape)
    h, c, _ = coupled_lstm_step_forward(x[:, 0], h0, c0, Wx, Wh, b)
    h_ref, c_ref = direct_step(x[:, 0], h0, c0, Wx, Wh, b)
    assert rel_error(h, h_ref) < 1e-14 and rel_error(c, c_ref) < 1e-14


@pytest.mark.parametrize("shape", SHAPES)
def test_step_backward_matches_finite_differences(shape):
    N, _, D, H = shape
    x, h0, c0, Wx, Wh, b = make(*shape)
    rng = np.random.default_rng(5)
    dh, dc = rng.standard_normal((2, N, H))

    def forward(*args):  # both outputs at once, so both upstream gradients are checked
        h, c, cache = coupled_lstm_step_forward(*args)
        return np.concatenate((h, c), axis=1), cache

    def backward(dout, cache):  # grads in the order of forward's args: x, h, c, Wx, Wh, b
        return coupled_lstm_step_backward(dout[:, :H], dout[:, H:], cache)

    errors = check_backward(forward, backward, [x[:, 0], h0, c0, Wx, Wh, b],
                            dout=np.concatenate((dh, dc), axis=1))
    assert len(errors) == 6
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize("shape", SHAPES)
def test_sequence_backward_matches_finite_differences(shape):
    x, h0, c0, Wx, Wh, b = make(*shape)
    errors = check_backward(lambda *a: coupled_lstm_forward(*a, c0=c0), coupled_lstm_backward,
                            [x, h0, Wx, Wh, b])
    assert len(errors) == 5
    # elementwise relative error: entries of dWh near zero make this looser than a step's
    assert max(errors.values()) < 1e-6, errors


@pytest.mark.parametrize("shape", SHAPES)
def test_equals_a_standard_lstm_with_the_input_gate_tied(shape):
    x, h0, c0, Wx, Wh, b = make(*shape)
    h, _ = coupled_lstm_forward(x, h0, Wx, Wh, b, c0=c0)
    h_std, _ = lstm_forward(x, h0, *coupled_to_lstm(Wx, Wh, b), c0=c0)
    assert rel_error(h, h_std) < 1e-12


def test_backward_does_not_mutate_its_inputs():
    x, h0, c0, Wx, Wh, b = make(2, 3, 4, 5)
    h, cache = coupled_lstm_forward(x, h0, Wx, Wh, b, c0=c0)
    dh = np.ones_like(h)
    saved = [a.copy() for a in (dh, x, h0, Wx, Wh, b)]
    coupled_lstm_backward(dh, cache)
    for before, after in zip(saved, (dh, x, h0, Wx, Wh, b), strict=True):
        assert np.array_equal(before, after)


def test_bad_inputs_name_the_argument():
    x, h0, c0, Wx, Wh, b = make(2, 3, 4, 5)
    with pytest.raises(ValueError, match=r"Wx: expected"):
        coupled_lstm_forward(x, h0, Wx[:, :-1], Wh, b)
    with pytest.raises(ValueError, match=r"h0: expected shape"):
        coupled_lstm_forward(x, h0[:-1], Wx, Wh, b)
    with pytest.raises(TypeError, match=r"x: expected a floating dtype"):
        coupled_lstm_step_forward(x[:, 0].astype(int), h0, c0, Wx, Wh, b)
    with pytest.raises(TypeError, match=r"b: expected dtype float32"):
        coupled_lstm_forward(x.astype(np.float32), h0.astype(np.float32),
                             Wx.astype(np.float32), Wh.astype(np.float32), b)


def test_torch_coupled_lstm_matches_numpy_values_and_gradients():
    torch = pytest.importorskip("torch")
    from rnnkit.torch.lstm_variants import CoupledLSTM

    N, T, D, H = 3, 5, 4, 2
    x, h0, c0, Wx, Wh, b = make(N, T, D, H, seed=7)
    model = CoupledLSTM(D, H, dtype=torch.float64)
    with torch.no_grad():
        for name, value in (("Wx", Wx), ("Wh", Wh), ("b", b)):
            getattr(model, name).copy_(torch.from_numpy(value))
    xt = torch.from_numpy(x).requires_grad_()
    state = (torch.from_numpy(h0)[None], torch.from_numpy(c0)[None])
    out, (h_n, c_n) = model(xt, state)
    h, cache = coupled_lstm_forward(x, h0, Wx, Wh, b, c0=c0)
    assert rel_error(out.detach().numpy(), h) < 1e-12
    h_ref, c_ref = h0, c0
    for t in range(T):
        h_ref, c_ref = direct_step(x[:, t], h_ref, c_ref, Wx, Wh, b)
    assert rel_error(h_n[0].detach().numpy(), h_ref) < 1e-12
    assert rel_error(c_n[0].detach().numpy(), c_ref) < 1e-12
    dh = np.random.default_rng(8).standard_normal((N, T, H))
    (out * torch.from_numpy(dh)).sum().backward()
    dx, _, dWx, dWh, db = coupled_lstm_backward(dh, cache)
    for got, want in ((xt.grad, dx), (model.Wx.grad, dWx), (model.Wh.grad, dWh),
                      (model.b.grad, db)):
        assert rel_error(got.numpy(), want) < 1e-10


def test_torch_coupled_lstm_forget_bias_and_shapes():
    torch = pytest.importorskip("torch")
    from rnnkit.torch.lstm_variants import CoupledLSTM

    model = CoupledLSTM(2, 3, forget_bias=1.5)
    assert torch.equal(model.b[:3].detach(), torch.full((3,), 1.5))
    assert sum(p.numel() for p in model.parameters()) == 3 * 3 * (2 + 3 + 1)
    out, (h_n, c_n) = model(torch.randn(4, 6, 2))
    assert out.shape == (4, 6, 3) and h_n.shape == c_n.shape == (1, 4, 3)
    with pytest.raises(ValueError, match="x: expected shape"):
        model(torch.randn(4, 6, 3))


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
