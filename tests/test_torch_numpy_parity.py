"""The NumPy cells against independent torch oracles: torch.nn modules and autograd.

Each NumPy cell's forward and hand-written backward are compared, in float64 (TF32 off,
see conftest), with ``torch.nn.RNN``, ``LSTM``, ``GRU`` loaded by hand (torch's
``(G*H, D)`` layout and two biases, split at random) or with autograd through the cell's
equations written out in torch ops. Nothing from ``rnnkit.torch`` is used, so these check
the NumPy reference alone; the rnnkit.torch twins are checked in test_torch_cells.py.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the torch oracles need PyTorch")

from cell_inputs import spec_arrays  # noqa: E402

from rnnkit.cells import CELLS  # noqa: E402
from rnnkit.cells.coupled_lstm import coupled_lstm_backward, coupled_lstm_forward  # noqa: E402
from rnnkit.cells.gru import gru_backward, gru_forward  # noqa: E402
from rnnkit.cells.leaky import leaky_backward, leaky_forward  # noqa: E402
from rnnkit.cells.ln_rnn import ln_rnn_backward, ln_rnn_forward  # noqa: E402
from rnnkit.cells.lstm import lstm_backward, lstm_forward  # noqa: E402
from rnnkit.cells.rnn import rnn_backward, rnn_forward  # noqa: E402
from rnnkit.gradcheck import rel_error  # noqa: E402
from rnnkit.layernorm import layernorm_backward, layernorm_forward  # noqa: E402

F = torch.nn.functional
SHAPES = [(2, 3, 4, 5), (1, 1, 3, 1), (3, 7, 2, 4)]  # (N, T, D, H)


def draw(name, N, T, D, H, seed=0):
    """x, the initial states and the parameters (a dict) of a NumPy cell, float64."""
    x, states, params = spec_arrays(CELLS[name], N, T, D, H, np.random.default_rng(seed))
    return x, states, params


def leaves(*arrays):
    return [torch.tensor(a, requires_grad=True) for a in arrays]


def load(module, Wx, Wh, b_ih, b_hh):
    """Copy rnnkit-layout weights into a one-layer torch.nn module: torch stores W.T."""
    with torch.no_grad():
        module.weight_ih_l0.copy_(torch.from_numpy(Wx.T))
        module.weight_hh_l0.copy_(torch.from_numpy(Wh.T))
        module.bias_ih_l0.copy_(torch.from_numpy(b_ih))
        module.bias_hh_l0.copy_(torch.from_numpy(b_hh))
    return module


def assert_close(name, mine, theirs, tol=1e-10):
    theirs = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else theirs
    assert rel_error(mine, theirs) < tol, name


# --------------------------------------------------------------------------- torch.nn


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_rnn_matches_torch_nn_rnn(shape):
    N, T, D, H = shape
    x, (h0,), p = draw("rnn", *shape, seed=7)
    dh = np.random.default_rng(8).standard_normal((N, T, H))
    h, cache = rnn_forward(x, h0, p["Wx"], p["Wh"], p["b"])
    grads = rnn_backward(dh, cache)
    b_hh = np.random.default_rng(9).standard_normal(H)  # torch's two biases add up to b
    rnn = load(torch.nn.RNN(D, H, batch_first=True, dtype=torch.float64),
               p["Wx"], p["Wh"], p["b"] - b_hh, b_hh)
    xt, h0t = leaves(x, h0[None])
    out, h_n = rnn(xt, h0t)
    (out * torch.from_numpy(dh)).sum().backward()
    assert_close("h", h, out, 1e-12)
    assert_close("h_n", h[:, -1], h_n[0], 1e-12)
    theirs = (xt.grad, h0t.grad[0], rnn.weight_ih_l0.grad.T, rnn.weight_hh_l0.grad.T,
              rnn.bias_ih_l0.grad)
    for name, mine, ref in zip(("dx", "dh0", "dWx", "dWh", "db"), grads, theirs, strict=True):
        assert_close(name, mine, ref)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_lstm_matches_torch_nn_lstm(shape):
    N, T, D, H = shape
    x, (h0, c0), p = draw("lstm", *shape, seed=2)
    rng = np.random.default_rng(3)
    dh, dc_n = rng.standard_normal((N, T, H)), rng.standard_normal((N, H))
    h, c_n, cache = lstm_forward(x, h0, c0, p["Wx"], p["Wh"], p["b"])
    grads = lstm_backward(dh, dc_n, cache)
    b_hh = np.random.default_rng(1).standard_normal(4 * H)
    lstm = load(torch.nn.LSTM(D, H, batch_first=True, dtype=torch.float64),
                p["Wx"], p["Wh"], p["b"] - b_hh, b_hh)
    xt, h0t, c0t = leaves(x, h0[None], c0[None])
    out, (h_n, c_nt) = lstm(xt, (h0t, c0t))
    ((out * torch.from_numpy(dh)).sum() + (c_nt[0] * torch.from_numpy(dc_n)).sum()).backward()
    assert_close("h", h, out, 1e-12)
    assert_close("h_n", h[:, -1], h_n[0], 1e-12)
    assert_close("c_n", c_n, c_nt[0], 1e-12)
    theirs = (xt.grad, h0t.grad[0], c0t.grad[0], lstm.weight_ih_l0.grad.T,
              lstm.weight_hh_l0.grad.T, lstm.bias_ih_l0.grad)
    names = ("dx", "dh0", "dc0", "dWx", "dWh", "db")
    for name, mine, ref in zip(names, grads, theirs, strict=True):
        assert_close(name, mine, ref)


def test_lstm_none_states_are_torch_default_zeros():
    x, _, p = draw("lstm", 2, 4, 3, 5)
    h, c_n, _ = lstm_forward(x, None, None, p["Wx"], p["Wh"], p["b"])
    lstm = load(torch.nn.LSTM(3, 5, batch_first=True, dtype=torch.float64),
                p["Wx"], p["Wh"], p["b"], np.zeros(20))
    with torch.no_grad():
        out, (_, c_nt) = lstm(torch.from_numpy(x))  # no state given: zeros
    assert_close("h", h, out, 1e-12)
    assert_close("c_n", c_n, c_nt[0], 1e-12)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_gru_matches_torch_nn_gru(shape):
    """b holds b_ih + b_hh for r and z, b_ih for n; b_hn is the n block of b_hh."""
    N, T, D, H = shape
    x, (h0,), p = draw("gru", *shape, seed=2)
    dh = np.random.default_rng(3).standard_normal((N, T, H))
    h, cache = gru_forward(x, h0, p["Wx"], p["Wh"], p["b"], p["b_hn"])
    dx, dh0, dWx, dWh, db, db_hn = gru_backward(dh, cache)
    b_hh = np.concatenate((np.random.default_rng(1).standard_normal(2 * H), p["b_hn"]))
    b_ih = np.concatenate((p["b"][: 2 * H] - b_hh[: 2 * H], p["b"][2 * H :]))
    gru = load(torch.nn.GRU(D, H, batch_first=True, dtype=torch.float64),
               p["Wx"], p["Wh"], b_ih, b_hh)
    xt, h0t = leaves(x, h0[None])
    out, h_n = gru(xt, h0t)
    (out * torch.from_numpy(dh)).sum().backward()
    g_ih, g_hh = gru.bias_ih_l0.grad.numpy(), gru.bias_hh_l0.grad.numpy()
    assert_close("h", h, out, 1e-12)
    assert_close("h_n", h[:, -1], h_n[0], 1e-12)
    assert_close("dx", dx, xt.grad)
    assert_close("dh0", dh0, h0t.grad[0])
    assert_close("dWx", dWx, gru.weight_ih_l0.grad.T)
    assert_close("dWh", dWh, gru.weight_hh_l0.grad.T)
    assert_close("db", db, g_ih)  # every block of b is an input-side bias
    assert_close("db (r, z)", db[: 2 * H], g_hh[: 2 * H])  # r and z are also hidden-side
    assert_close("db_hn", db_hn, g_hh[2 * H :])


def test_leaky_with_tau_one_is_torch_nn_rnn():
    x, (h0,), p = draw("leaky", 3, 5, 4, 6, seed=3)
    h, _ = leaky_forward(x, h0, p["Wx"], p["Wh"], p["b"], 1.0)
    rnn = load(torch.nn.RNN(4, 6, batch_first=True, dtype=torch.float64),
               p["Wx"], p["Wh"], p["b"], np.zeros(6))
    with torch.no_grad():
        out, _ = rnn(torch.from_numpy(x), torch.from_numpy(h0)[None])
    assert_close("h", h, out, 1e-12)


# ------------------------------------------------------- autograd through the equations


def autograd_check(forward, backward, args, equations, n_states=1):
    """Run forward/backward and autograd through ``equations(*tensors) -> (h, *finals)``."""
    h, *finals, cache = forward(*args)
    rng = np.random.default_rng(11)
    douts = [rng.standard_normal(h.shape), *(rng.standard_normal(f.shape) for f in finals)]
    grads = backward(*douts, cache)
    tensors = leaves(*args)
    h_t, *finals_t = equations(*tensors)
    loss = sum((o * torch.from_numpy(d)).sum() for o, d in zip((h_t, *finals_t), douts,
                                                                 strict=True))
    loss.backward()
    assert_close("h", h, h_t, 1e-12)
    for k, (mine, t) in enumerate(zip(grads, tensors, strict=True)):
        assert_close(f"gradient {k}", mine, t.grad)


def test_leaky_matches_autograd():
    x, (h0,), p = draw("leaky", 3, 5, 4, 6, seed=2)

    def equations(x, h0, Wx, Wh, b, tau):
        hs, h = [], h0
        for t in range(x.shape[1]):
            u = torch.tanh(x[:, t] @ Wx + h @ Wh + b)
            h = (1 - 1 / tau) * h + u / tau
            hs.append(h)
        return (torch.stack(hs, dim=1),)

    autograd_check(leaky_forward, leaky_backward, [x, h0, *p.values()], equations)


def test_ln_rnn_matches_autograd_through_torch_layer_norm():
    x, (h0,), p = draw("ln_rnn", 3, 5, 4, 6, seed=4)

    def equations(x, h0, Wx, Wh, gamma, beta):
        hs, h = [], h0
        for t in range(x.shape[1]):
            h = torch.tanh(F.layer_norm(x[:, t] @ Wx + h @ Wh, (6,), gamma, beta, eps=1e-5))
            hs.append(h)
        return (torch.stack(hs, dim=1),)

    autograd_check(ln_rnn_forward, ln_rnn_backward, [x, h0, *p.values()], equations)


def test_coupled_lstm_matches_autograd():
    x, (h0, c0), p = draw("coupled_lstm", 3, 5, 4, 2, seed=7)

    def equations(x, h0, c0, Wx, Wh, b):
        hs, h, c = [], h0, c0
        for t in range(x.shape[1]):
            a_f, a_g, a_o = torch.chunk(x[:, t] @ Wx + h @ Wh + b, 3, dim=1)
            f, g, o = torch.sigmoid(a_f), torch.tanh(a_g), torch.sigmoid(a_o)
            c = f * c + (1 - f) * g
            h = o * torch.tanh(c)
            hs.append(h)
        return torch.stack(hs, dim=1), c

    autograd_check(coupled_lstm_forward, coupled_lstm_backward, [x, h0, c0, *p.values()],
                   equations)


def test_layernorm_matches_torch_layer_norm(rng):
    x = rng.standard_normal((3, 5, 6)) * 3 - 1
    gamma, beta = 1 + rng.standard_normal(6) * 0.3, rng.standard_normal(6)
    out, cache = layernorm_forward(x, gamma, beta, eps=1e-5)
    dout = rng.standard_normal(out.shape)
    grads = layernorm_backward(dout, cache)
    tx, tg, tb = leaves(x, gamma, beta)
    ref = F.layer_norm(tx, (6,), tg, tb, eps=1e-5)
    ref.backward(torch.from_numpy(dout))
    assert_close("out", out, ref, 1e-12)
    for name, mine, t in zip(("dx", "dgamma", "dbeta"), grads, (tx, tg, tb), strict=True):
        assert_close(name, mine, t.grad)
