"""rnnkit.cells.rnn beyond the contract (test_cells_contract.py): a sequence worked by hand."""

import numpy as np

from rnnkit.cells.rnn import rnn_backward, rnn_forward

L2, L3 = np.log(2.0), np.log(3.0)


def test_two_steps_by_hand():
    # one unit, h0 = 0, b = 0: step 1 sees x = ln 3, so h_1 = tanh(ln 3) = 0.8; step 2 sees
    # x = 0 and h_1 * Wh = 0.8 * 1.25 ln 2 = ln 2, so h_2 = tanh(ln 2) = 0.6
    x, Wh = np.array([[[L3], [0.0]]]), np.array([[1.25 * L2]])
    h, cache = rnn_forward(x, np.zeros((1, 1)), np.eye(1), Wh, np.zeros(1))
    np.testing.assert_allclose(h, [[[0.8], [0.6]]], rtol=1e-15)
    # the loss is h_2: da_2 = 1 - 0.36 = 0.64, which reaches step 1 as 0.64 Wh = 0.8 ln 2,
    # so da_1 = 0.8 ln 2 (1 - 0.64) = 0.288 ln 2
    dx, dh0, dWx, dWh, db = rnn_backward(np.array([[[0.0], [1.0]]]), cache)
    np.testing.assert_allclose(dx, [[[0.288 * L2], [0.64]]], rtol=1e-14)
    np.testing.assert_allclose(dh0, [[0.36 * L2**2]], rtol=1e-14)
    np.testing.assert_allclose(dWx, [[0.288 * L2 * L3]], rtol=1e-14)
    np.testing.assert_allclose(dWh, [[0.8 * 0.64]], rtol=1e-14)
    np.testing.assert_allclose(db, [0.64 + 0.288 * L2], rtol=1e-14)
