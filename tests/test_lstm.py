"""rnnkit.cells.lstm beyond the contract (test_cells_contract.py): chapter 8's equations."""

import numpy as np
from cell_inputs import spec_arrays

from rnnkit.cells import CELLS
from rnnkit.cells.lstm import lstm_forward, lstm_step_forward


def sigm(a):
    return 1 / (1 + np.exp(-a))


def test_step_is_the_gate_equations_written_out(rng):
    x, (h, c), p = spec_arrays(CELLS["lstm"], 3, 1, 4, 5, rng)
    U = np.split(p["Wx"], 4, axis=1)  # blocks i, f, g, o, as in torch.nn.LSTM
    W = np.split(p["Wh"], 4, axis=1)
    b = np.split(p["b"], 4)
    a = [x[:, 0] @ U[k] + h @ W[k] + b[k] for k in range(4)]
    i, f, g, o = sigm(a[0]), sigm(a[1]), np.tanh(a[2]), sigm(a[3])
    c_ref = f * c + i * g
    h_ref = o * np.tanh(c_ref)
    h_next, c_next, cache = lstm_step_forward(x[:, 0], h, c, p["Wx"], p["Wh"], p["b"])
    np.testing.assert_allclose(h_next, h_ref, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(c_next, c_ref, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(cache.ifgo, np.concatenate((i, f, g, o), axis=1), rtol=1e-13)


def test_an_open_forget_gate_and_a_closed_input_gate_keep_the_cell(rng):
    x, (h0, c0), p = spec_arrays(CELLS["lstm"], 2, 30, 3, 4, rng)
    b = p["b"].copy()
    b[:4], b[4:8] = -40.0, 40.0  # i -> 0, f -> 1: nothing written, nothing forgotten
    h, c_n, cache = lstm_forward(x, h0, c0, p["Wx"], p["Wh"], b)
    np.testing.assert_allclose(c_n, c0, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(c_n, cache.c_n)
