"""The convolutional LSTM: NumPy backward against finite differences and torch autograd, the torch
cell and sequence model against the NumPy reference and against conv2d written out, bad input."""

import numpy as np
import pytest

from rnnkit.cells.conv_lstm import (
    conv_lstm_backward,
    conv_lstm_forward,
    conv_lstm_step_backward,
    conv_lstm_step_forward,
)
from rnnkit.gradcheck import check_backward, numerical_gradient, rel_error

torch = pytest.importorskip("torch")
from rnnkit.torch.cells.conv_lstm import ConvLSTM, ConvLSTMCell  # noqa: E402


@pytest.fixture(autouse=True)
def _float64_no_tf32():
    old = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    yield
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = old


def _args(rng, N=2, C=2, Hc=3, S1=5, S2=7, k=3, T=None, bias_scale=0.5, w_scale=0.3):
    x_shape = (N, C, S1, S2) if T is None else (N, T, C, S1, S2)
    return [rng.standard_normal(x_shape), rng.standard_normal((N, Hc, S1, S2)),
            rng.standard_normal((N, Hc, S1, S2)),
            w_scale * rng.standard_normal((4 * Hc, C + Hc, k, k)),
            bias_scale * rng.standard_normal(4 * Hc)]


def _reference_step(x, h, c, W, b):
    """The step written out with torch's conv2d, an independent oracle for the forward."""
    a = torch.nn.functional.conv2d(torch.cat((x, h), 1), W, b, padding=W.shape[-1] // 2)
    a_i, a_f, a_g, a_o = a.chunk(4, 1)
    c_next = torch.sigmoid(a_f) * c + torch.sigmoid(a_i) * torch.tanh(a_g)
    return torch.sigmoid(a_o) * torch.tanh(c_next), c_next


@pytest.mark.parametrize("S1, S2, k", [(5, 7, 3), (3, 3, 5), (1, 4, 3), (6, 5, 1)])
def test_step_backward_matches_finite_differences(S1, S2, k):
    args = _args(np.random.default_rng(0), S1=S1, S2=S2, k=k)  # nonzero h_prev, c_prev
    errors = check_backward(conv_lstm_step_forward, conv_lstm_step_backward, args)
    assert max(errors.values()) < 1e-6, errors


def test_step_backward_with_saturated_gates():
    """Biases of +-8 push every gate near 0 or 1, where sigma' and tanh' are tiny.

    Many gradient entries are then ~1e-7, below what central differences resolve entry by
    entry, so the finite-difference check is scaled by the largest entry of each gradient;
    torch autograd, exact, is held to the entrywise relative error.
    """
    rng = np.random.default_rng(1)
    args = _args(rng, k=3, w_scale=0.1)  # the convolution's sum has a std of about 0.7
    Hc = 3
    args[4] = np.repeat([8.0, -8.0, 8.0, -8.0], Hc) + 0.1 * rng.standard_normal(4 * Hc)
    h, c, cache = conv_lstm_step_forward(*args)
    i, f, g, o = np.split(cache.ifgo, 4, axis=1)
    assert i.min() > 0.98 and f.max() < 0.02 and g.min() > 0.98 and o.max() < 0.02
    dh, dc = rng.standard_normal(h.shape), rng.standard_normal(c.shape)
    grads = conv_lstm_step_backward(dh, dc, cache)
    for k, (name, a) in enumerate(zip(("x", "h_prev", "c_prev", "W", "b"), args, strict=True)):
        def f(v, k=k):
            return conv_lstm_step_forward(*args[:k], v, *args[k + 1:])[:2]
        num = numerical_gradient(f, a, (dh, dc))
        assert np.abs(num - grads[k]).max() < 1e-7 * np.abs(num).max(), name
    ts = [torch.tensor(a, requires_grad=True) for a in args]
    h_t, c_t = _reference_step(*ts)
    ((h_t * torch.from_numpy(dh)).sum() + (c_t * torch.from_numpy(dc)).sum()).backward()
    for name, grad, t in zip(("x", "h_prev", "c_prev", "W", "b"), grads, ts, strict=True):
        assert rel_error(grad, t.grad.numpy()) < 1e-7, name  # rounding in sums that cancel


@pytest.mark.parametrize("T, S1, S2, k", [(3, 5, 3, 3), (1, 4, 5, 3), (2, 3, 3, 5)])
def test_sequence_backward_matches_finite_differences(T, S1, S2, k):
    args = _args(np.random.default_rng(2), N=2, C=1, Hc=2, S1=S1, S2=S2, k=k, T=T)
    rng = np.random.default_rng(3)
    h, c_n, _ = conv_lstm_forward(*args)
    errors = check_backward(conv_lstm_forward, conv_lstm_backward, args,
                            dout=(rng.standard_normal(h.shape), rng.standard_normal(c_n.shape)))
    assert max(errors.values()) < 1e-6, errors


def test_numpy_matches_torch_autograd_step_and_sequence():
    rng = np.random.default_rng(4)
    for T in (None, 4):
        args = _args(rng, S1=7, S2=5, k=5, T=T)
        ts = [torch.tensor(a, requires_grad=True) for a in args]
        if T is None:
            h, c, cache = conv_lstm_step_forward(*args)
            h_t, c_t = _reference_step(*ts)
            dh, dc = rng.standard_normal(h.shape), rng.standard_normal(c.shape)
            grads = conv_lstm_step_backward(dh, dc, cache)
        else:
            h, c, cache = conv_lstm_forward(*args)
            state, hs = (ts[1], ts[2]), []
            for t in range(T):
                state = _reference_step(ts[0][:, t], *state, ts[3], ts[4])
                hs.append(state[0])
            h_t, c_t = torch.stack(hs, 1), state[1]
            dh, dc = rng.standard_normal(h.shape), rng.standard_normal(c.shape)
            grads = conv_lstm_backward(dh, dc, cache)
        assert rel_error(h, h_t.detach().numpy()) < 1e-12
        assert rel_error(c, c_t.detach().numpy()) < 1e-12
        ((h_t * torch.from_numpy(dh)).sum() + (c_t * torch.from_numpy(dc)).sum()).backward()
        for name, g, t in zip(("x", "h", "c", "W", "b"), grads, ts, strict=True):
            assert rel_error(g, t.grad.numpy()) < 1e-10, name


def test_sequence_with_saturated_gates_matches_torch_autograd():
    """Gates near 0 and 1 over an odd number of steps from nonzero states: BPTT through
    forget gates of about 1 (and inputs gates of about 0) against torch autograd."""
    rng = np.random.default_rng(8)
    x, h0, c0, W, b = _args(rng, C=1, Hc=2, S1=3, S2=5, k=3, T=5, w_scale=0.1)
    b = np.repeat([-8.0, 8.0, 0.0, 8.0], 2)  # i ~ 0, f ~ 1, o ~ 1: the cell state is kept
    h, c_n, cache = conv_lstm_forward(x, h0, c0, W, b)
    assert np.abs(c_n - c0).max() < 0.1  # kept, nearly unchanged over five steps
    ts = [torch.tensor(a, requires_grad=True) for a in (x, h0, c0, W, b)]
    state, hs = (ts[1], ts[2]), []
    for t in range(5):
        state = _reference_step(ts[0][:, t], *state, ts[3], ts[4])
        hs.append(state[0])
    dh, dc = rng.standard_normal(h.shape), rng.standard_normal(c_n.shape)
    ((torch.stack(hs, 1) * torch.from_numpy(dh)).sum()
     + (state[1] * torch.from_numpy(dc)).sum()).backward()
    for name, g, t in zip(("x", "h0", "c0", "W", "b"), conv_lstm_backward(dh, dc, cache), ts,
                          strict=True):
        assert rel_error(g, t.grad.numpy()) < 1e-7, name


def test_torch_modules_match_numpy_and_their_gradients_autograd():
    rng = np.random.default_rng(5)
    x, h0, c0, W, b = _args(rng, N=3, C=2, Hc=4, S1=5, S2=3, k=3, T=5)
    model = ConvLSTM(2, 4, 3, dtype=torch.float64)
    with torch.no_grad():
        model.cells[0].W.copy_(torch.from_numpy(W))
        model.cells[0].b.copy_(torch.from_numpy(b))
    xt = torch.tensor(x, requires_grad=True)
    out, (h_n, c_n) = model(xt, (torch.from_numpy(h0)[None], torch.from_numpy(c0)[None]))
    h, c_last, cache = conv_lstm_forward(x, h0, c0, W, b)
    assert out.shape == (3, 5, 4, 5, 3) and h_n.shape == c_n.shape == (1, 3, 4, 5, 3)
    assert rel_error(out.detach().numpy(), h) < 1e-12
    assert rel_error(c_n[0].detach().numpy(), c_last) < 1e-12
    assert torch.equal(h_n[0], out[:, -1])
    dh = rng.standard_normal(h.shape)
    (out * torch.from_numpy(dh)).sum().backward()
    dx, _, _, dW, db = conv_lstm_backward(dh, None, cache)
    assert rel_error(xt.grad.numpy(), dx) < 1e-10
    assert rel_error(model.cells[0].W.grad.numpy(), dW) < 1e-10
    assert rel_error(model.cells[0].b.grad.numpy(), db) < 1e-10
    # the cell, one step, with zero states when none are given
    cell = ConvLSTMCell(2, 4, 3, dtype=torch.float64)
    h1, c1 = cell(torch.from_numpy(x[:, 0]))
    h1n, c1n, _ = conv_lstm_step_forward(x[:, 0], None, None, cell.W.detach().numpy(),
                                         cell.b.detach().numpy())
    assert rel_error(h1.detach().numpy(), h1n) < 1e-12 and rel_error(c1.detach().numpy(),
                                                                       c1n) < 1e-12


def test_two_layer_model_stacks_cells():
    torch.manual_seed(0)
    model = ConvLSTM(1, 2, 3, num_layers=2, dtype=torch.float64)
    x = torch.randn(2, 4, 1, 5, 5, dtype=torch.float64)
    out, (h_n, c_n) = model(x)
    low, _ = ConvLSTM(1, 2, 3, dtype=torch.float64), None
    low.cells[0].load_state_dict(model.cells[0].state_dict())
    mid, _ = low(x)
    top = ConvLSTM(2, 2, 3, dtype=torch.float64)
    top.cells[0].load_state_dict(model.cells[1].state_dict())
    expect, _ = top(mid)
    assert h_n.shape == (2, 2, 2, 5, 5) and torch.allclose(out, expect, atol=1e-14)


def test_state_carries_over_time():
    """Two halves with the state handed over equal one run over the whole sequence."""
    rng = np.random.default_rng(6)
    x, h0, c0, W, b = _args(rng, T=6)
    h, c_n, _ = conv_lstm_forward(x, h0, c0, W, b)
    h1, c1, _ = conv_lstm_forward(x[:, :3], h0, c0, W, b)
    h2, c2, _ = conv_lstm_forward(x[:, 3:], h1[:, -1], c1, W, b)
    assert np.array_equal(np.concatenate((h1, h2), 1), h) and np.array_equal(c2, c_n)


def test_bad_inputs_name_the_argument():
    rng = np.random.default_rng(7)
    x, h, c, W, b = _args(rng)
    with pytest.raises(ValueError, match="W: .*odd k"):
        conv_lstm_step_forward(x, h, c, W[:, :, :2, :2], b)
    with pytest.raises(ValueError, match=r"W: expected shape \(4\*Hc"):
        conv_lstm_step_forward(x, h, c, W[:11], b)
    with pytest.raises(ValueError, match="b: expected shape"):
        conv_lstm_step_forward(x, h, c, W, b[:5])
    with pytest.raises(ValueError, match=r"x: expected shape \(N, C, S1, S2\)"):
        conv_lstm_step_forward(x[:, :1], h, c, W, b)
    with pytest.raises(ValueError, match="x: .*S2"):
        conv_lstm_step_forward(x[..., :4], h, c, W, b)
    with pytest.raises(ValueError, match="c_prev: .*Hc"):
        conv_lstm_step_forward(x, h, c[:, :2], W, b)
    with pytest.raises(ValueError, match="x: expected a 5-D"):
        conv_lstm_forward(x, h, c, W, b)
    with pytest.raises(ValueError, match="x: expected at least one time step"):
        conv_lstm_forward(np.zeros((2, 0, 2, 5, 7)), None, None, W, b)
    with pytest.raises(TypeError, match="h_prev: expected dtype float64"):
        conv_lstm_step_forward(x, h.astype(np.float32), c, W, b)
    with pytest.raises(TypeError, match="x: expected a floating dtype"):
        conv_lstm_step_forward(x.astype(int), h, c, W, b)
    _, _, cache = conv_lstm_step_forward(x, h, c, W, b)
    with pytest.raises(ValueError, match="dh_next: expected shape"):
        conv_lstm_step_backward(np.zeros((2, 3, 5, 6)), None, cache)
    cell = ConvLSTMCell(2, 3, 3, dtype=torch.float64)
    with pytest.raises(ValueError, match="kernel_size: expected an odd"):
        ConvLSTMCell(2, 3, 4)
    with pytest.raises(ValueError, match="x: .*axis 1 \\(C\\) should be 2"):
        cell(torch.zeros(2, 3, 5, 5, dtype=torch.float64))
    with pytest.raises(TypeError, match="x: expected dtype torch.float64"):
        cell(torch.zeros(2, 2, 5, 5))
    with pytest.raises(TypeError, match="state: expected a tuple"):
        cell(torch.zeros(2, 2, 5, 5, dtype=torch.float64), torch.zeros(2, 3, 5, 5))
    with pytest.raises(ValueError, match="x: expected a 5-D"):
        ConvLSTM(2, 3, 3, dtype=torch.float64)(torch.zeros(2, 2, 5, 5, dtype=torch.float64))
    with pytest.raises(ValueError, match="h0: .*axis 0 \\(L\\) should be 1"):
        ConvLSTM(2, 3, 3, dtype=torch.float64)(
            torch.zeros(2, 4, 2, 5, 5, dtype=torch.float64),
            (torch.zeros(2, 2, 3, 5, 5, dtype=torch.float64),) * 2)
