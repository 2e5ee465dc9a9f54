"""rnnkit.cells.ln_rnn beyond the contract (test_cells_contract.py): weight-scale invariance."""

import numpy as np
from cell_inputs import spec_arrays

from rnnkit.cells import CELLS
from rnnkit.cells.ln_rnn import ln_rnn_backward, ln_rnn_forward


def test_state_and_its_gradients_ignore_the_scale_of_the_weights(rng):
    """Scaling Wx and Wh by c scales the pre-activation and its std by c: LN cancels it."""
    x, (h0,), p = spec_arrays(CELLS["ln_rnn"], 3, 5, 4, 6, rng)
    Wx, Wh, gamma, beta = p.values()
    h1, c1 = ln_rnn_forward(x, h0, Wx, Wh, gamma, beta, eps=0.0)
    h2, c2 = ln_rnn_forward(x, h0, 7 * Wx, 7 * Wh, gamma, beta, eps=0.0)
    np.testing.assert_allclose(h1, h2, rtol=1e-12, atol=1e-13)
    dh = np.ones_like(h1)
    np.testing.assert_allclose(ln_rnn_backward(dh, c1)[1], ln_rnn_backward(dh, c2)[1], rtol=1e-10)
