"""rnnkit.cells.coupled_lstm beyond the contract (test_cells_contract.py): the tied gates."""

import numpy as np
import pytest
from cell_inputs import spec_arrays

from rnnkit.cells import CELLS
from rnnkit.cells.coupled_lstm import (
    coupled_lstm_forward,
    coupled_lstm_step_forward,
    coupled_to_lstm,
)
from rnnkit.cells.lstm import lstm_forward
from rnnkit.gradcheck import rel_error

SHAPES = [(2, 3, 4, 5), (1, 1, 3, 1), (3, 4, 2, 3)]  # (N, T, D, H)


def draw(N, T, D, H, seed=0):
    """x, h0, c0, Wx, Wh, b for the coupled cell (G = 3: f, g, o)."""
    x, (h0, c0), p = spec_arrays(CELLS["coupled_lstm"], N, T, D, H, np.random.default_rng(seed))
    return x, h0, c0, p["Wx"], p["Wh"], p["b"]


def direct_step(x, h, c, Wx, Wh, b):
    """The cell's equations written out, gate by gate, with no shared code."""
    H = h.shape[1]
    a = x @ Wx + h @ Wh + b
    f = 1 / (1 + np.exp(-a[:, :H]))
    g = np.tanh(a[:, H : 2 * H])
    o = 1 / (1 + np.exp(-a[:, 2 * H :]))
    c = f * c + (1 - f) * g
    return o * np.tanh(c), c


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_step_forward_matches_the_equations(shape):
    x, h0, c0, Wx, Wh, b = draw(*shape)
    h, c, _ = coupled_lstm_step_forward(x[:, 0], h0, c0, Wx, Wh, b)
    h_ref, c_ref = direct_step(x[:, 0], h0, c0, Wx, Wh, b)
    assert rel_error(h, h_ref) < 1e-14 and rel_error(c, c_ref) < 1e-14


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_equals_a_standard_lstm_with_the_input_gate_tied(shape):
    x, h0, c0, Wx, Wh, b = draw(*shape)
    h, c_n, _ = coupled_lstm_forward(x, h0, c0, Wx, Wh, b)
    h_std, c_std, _ = lstm_forward(x, h0, c0, *coupled_to_lstm(Wx, Wh, b))
    assert rel_error(h, h_std) < 1e-12 and rel_error(c_n, c_std) < 1e-12


def test_the_cell_stays_inside_minus_one_one():
    # c_next is an average of c_prev and g in (-1, 1): from |c0| < 1 it never gets out
    x, h0, _, Wx, Wh, b = draw(4, 200, 3, 5, seed=1)
    _, _, cache = coupled_lstm_forward(3 * x, h0, None, 3 * Wx, 3 * Wh, 3 * b)
    assert np.abs(cache.c).max() <= 1  # tanh may round to exactly 1


def test_coupled_to_lstm_rejects_bad_shapes():
    _, _, _, Wx, Wh, b = draw(2, 3, 4, 5)
    with pytest.raises(ValueError,
                       match=r"Wh: expected shape \(H, 3H\) = \(5, 15\), got \(5, 14\)"):
        coupled_to_lstm(Wx, Wh[:, :-1], b)
