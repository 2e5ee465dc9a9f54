"""Bidirectional layers and stacks of ``rnnkit.compose``: gradients and definitions.

The backward passes against finite differences; the backward direction is the same cell on
the reversed sequence; the output at step t depends on the inputs after t only through the
backward half. Parity with torch.nn (every combination of layers and directions) is in
test_torch_parity.py.
"""

import numpy as np
import pytest
from compose_helpers import draw_stack, flat, flat_inputs

from rnnkit.cells.lstm import lstm_forward
from rnnkit.compose.bidirectional import bidirectional_backward, bidirectional_forward
from rnnkit.compose.deep import stacked_forward
from rnnkit.gradcheck import check_backward


@pytest.mark.parametrize("L", [1, 2])
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru", "leaky"])
def test_bidirectional_stack_backward_matches_finite_differences(cell, L):
    rng = np.random.default_rng(L)
    N, T, D, H = 2, 4, 3, 3
    x, states, layers = draw_stack(cell, N, T, D, H, L, 2, rng)
    forward, backward = flat(cell, 2 * L, bidirectional=True)
    errors = check_backward(forward, backward, flat_inputs(x, states, layers, cell))
    assert max(errors.values()) < 1e-6, errors


def test_bidirectional_residual_stack_backward_matches_finite_differences():
    rng = np.random.default_rng(5)
    x, states, layers = draw_stack("gru", 2, 3, 3, 3, 3, 2, rng)
    forward, backward = flat("gru", 6, bidirectional=True, residual=True)
    errors = check_backward(forward, backward, flat_inputs(x, states, layers, "gru"))
    assert max(errors.values()) < 1e-6, errors


def test_backward_direction_is_the_cell_on_the_reversed_sequence():
    rng = np.random.default_rng(6)
    x, (h0, c0), (pf, pb) = draw_stack("lstm", 2, 5, 3, 4, 1, 2, rng)
    out, (h_n, c_n), _ = bidirectional_forward("lstm", x, (h0, c0), pf, pb)
    hf, cf, _ = lstm_forward(x, h0[0], c0[0], **pf)
    hb, cb, _ = lstm_forward(x[:, ::-1].copy(), h0[1], c0[1], **pb)
    assert np.array_equal(out[:, :, :4], hf) and np.array_equal(out[:, :, 4:], hb[:, ::-1])
    # torch.nn's final states: forward after step T, backward after step 1
    assert np.array_equal(h_n, np.stack([hf[:, -1], hb[:, -1]]))
    assert np.array_equal(c_n, np.stack([cf, cb]))
    assert np.array_equal(h_n[1], out[:, 0, 4:])


def test_only_the_backward_half_sees_the_future():
    rng = np.random.default_rng(7)
    x, _, (pf, pb) = draw_stack("gru", 1, 8, 2, 3, 1, 2, rng)
    out, _, _ = bidirectional_forward("gru", x, None, pf, pb)
    x2 = x.copy()
    x2[:, 6] += 1.0  # change the future of step 3
    out2, _, _ = bidirectional_forward("gru", x2, None, pf, pb)
    assert np.array_equal(out[:, :6, :3], out2[:, :6, :3])  # forward half: steps 0..5 unchanged
    assert np.abs(out[:, 3, 3:] - out2[:, 3, 3:]).max() > 1e-3  # backward half: changed


def test_none_upstream_and_states():
    rng = np.random.default_rng(8)
    x, _, (pf, pb) = draw_stack("rnn", 2, 3, 2, 3, 1, 2, rng)
    out, state_n, cache = bidirectional_forward("rnn", x, None, pf, pb)
    out0, _, _ = bidirectional_forward("rnn", x, (np.zeros((2, 2, 3)),), pf, pb)
    assert np.array_equal(out, out0)
    dx, (dh0,), _ = bidirectional_backward("rnn", None, None, cache)
    assert not dx.any() and not dh0.any() and dh0.shape == (2, 2, 3)
    out_s, _, _ = stacked_forward("rnn", x, None, [pf, pb], bidirectional=True)
    assert np.array_equal(out_s, out)
