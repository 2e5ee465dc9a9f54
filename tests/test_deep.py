"""Stacked networks of ``rnnkit.compose.deep`` and the deep-transition cell.

The stacks' backward passes against finite differences for several cells, depths and
residual connections; a one-layer stack equals the cell itself; a stack equals its layers
run by hand. The deep-transition cell's own contract (gradients, messages) is in
test_cells_contract.py with every other cell; here, its equations.
"""

import numpy as np
import pytest
from compose_helpers import draw_stack, flat, flat_inputs

from rnnkit.cells import CELLS
from rnnkit.cells.dt_rnn import dt_rnn_forward, dt_rnn_step_forward
from rnnkit.cells.rnn import rnn_forward
from rnnkit.compose.deep import stacked_backward, stacked_forward
from rnnkit.gradcheck import check_backward


@pytest.mark.parametrize("residual", [False, True])
@pytest.mark.parametrize("L", [1, 3])
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru", "dt_rnn"])
def test_stack_backward_matches_finite_differences(cell, L, residual):
    rng = np.random.default_rng([L, int(residual)])
    N, T, D, H = 2, 4, 3, 4
    x, states, layers = draw_stack(cell, N, T, D, H, L, 1, rng)
    forward, backward = flat(cell, L, residual=residual)
    errors = check_backward(forward, backward, flat_inputs(x, states, layers, cell))
    assert len(errors) == 1 + len(states) + L * len(CELLS[cell].params)
    assert max(errors.values()) < 1e-6, errors


def test_one_layer_stack_is_the_cell():
    rng = np.random.default_rng(0)
    x, (h0,), layers = draw_stack("rnn", 2, 5, 3, 4, 1, 1, rng)
    out, (h_n,), _ = stacked_forward("rnn", x, (h0,), layers)
    h, _ = rnn_forward(x, h0[0], **layers[0])
    assert np.array_equal(out, h) and np.array_equal(h_n[0], h[:, -1])


def test_stack_is_its_layers_in_turn_and_residual_adds_the_input():
    rng = np.random.default_rng(1)
    x, (h0,), layers = draw_stack("rnn", 2, 5, 3, 4, 3, 1, rng)
    for residual in (False, True):
        out, (h_n,), _ = stacked_forward("rnn", x, (h0,), layers, residual=residual)
        inp, finals = x, []
        for k, layer in enumerate(layers):
            h, _ = rnn_forward(inp, h0[k], **layer)
            finals.append(h[:, -1])
            inp = h + inp if residual and k > 0 else h
        assert np.allclose(out, inp, rtol=0, atol=1e-14)
        assert np.allclose(h_n, np.stack(finals), rtol=0, atol=1e-14)


def test_residual_stack_passes_the_gradient_down_unchanged():
    # with the cells' weights at zero, a residual stack is the identity above layer 0:
    # the gradient at layer 0's output is dout itself, whatever the depth
    rng = np.random.default_rng(2)
    x, states, layers = draw_stack("rnn", 2, 3, 4, 4, 5, 1, rng)
    for layer in layers[1:]:
        for v in layer.values():
            v[...] = 0
    dout = rng.standard_normal((2, 3, 4))
    _, _, cache = stacked_forward("rnn", x, states, layers, residual=True)
    dx_r, _, _ = stacked_backward("rnn", dout, None, cache)
    _, _, cache1 = stacked_forward("rnn", x, (states[0][:1],), layers[:1])
    dx_1, _, _ = stacked_backward("rnn", dout, None, cache1)
    assert np.allclose(dx_r, dx_1, rtol=0, atol=1e-14)


def test_bad_layers_are_named():
    rng = np.random.default_rng(3)
    x, states, layers = draw_stack("lstm", 2, 3, 4, 5, 1, 1, rng)
    with pytest.raises(ValueError, match=r"layers\[0\]: expected a dict with keys"):
        stacked_forward("lstm", x, None, [{"Wx": layers[0]["Wx"]}])
    with pytest.raises(ValueError, match="two dicts per layer"):
        stacked_forward("lstm", x, None, layers, bidirectional=True)
    with pytest.raises(ValueError, match="cell: expected one of"):
        stacked_forward("lsmt", x, None, layers)


def test_deep_transition_is_two_layers_per_step():
    rng = np.random.default_rng(4)
    N, D, H = 3, 2, 4
    x, h = rng.standard_normal((N, D)), rng.standard_normal((N, H))
    Wx, Wh, Wz = (rng.standard_normal(s) for s in ((D, H), (H, H), (H, H)))
    b, bz = rng.standard_normal(H), rng.standard_normal(H)
    h_next, _ = dt_rnn_step_forward(x, h, Wx, Wh, b, Wz, bz)
    # column form, one example at a time, as Pascanu et al. write it
    for n in range(N):
        z = np.tanh(Wx.T @ x[n] + Wh.T @ h[n] + b)
        assert np.allclose(h_next[n], np.tanh(Wz.T @ z + bz), rtol=0, atol=1e-14)
    # with Wz = I and bz = 0 the outer layer is only a tanh: h = tanh(tanh(a))
    hs, _ = dt_rnn_forward(x[:, None], h, Wx, Wh, b, np.eye(H), np.zeros(H))
    assert np.allclose(hs[:, 0], np.tanh(np.tanh(x @ Wx + h @ Wh + b)), rtol=0, atol=1e-15)
