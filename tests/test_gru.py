"""rnnkit.cells.gru beyond the contract (test_cells_contract.py): where the gates sit."""

import numpy as np
import pytest
from cell_inputs import spec_arrays

from rnnkit.cells import CELLS
from rnnkit.cells.gru import gru_forward


def draw(rng, T=1):
    x, (h0,), p = spec_arrays(CELLS["gru"], 2, T, 3, 4, rng)
    return x, h0, p["Wx"], p["Wh"], p["b"].copy(), p["b_hn"]


def test_update_gate_sits_on_the_old_state(rng):
    # z -> 1 (large z bias) must copy h_prev through; lecture 001's convention would drop it
    x, h0, Wx, Wh, b, b_hn = draw(rng)
    b[4:8] = 40.0
    h, _ = gru_forward(x, h0, Wx, Wh, b, b_hn)
    np.testing.assert_allclose(h[:, 0], h0, rtol=0, atol=1e-15)
    b[4:8] = -40.0  # z -> 0: the output is the candidate n alone, which ignores h0 if Wh = 0
    h_a, _ = gru_forward(x, h0, Wx, 0 * Wh, b, b_hn)
    h_b, _ = gru_forward(x, -h0, Wx, 0 * Wh, b, b_hn)
    np.testing.assert_allclose(h_a, h_b, rtol=0, atol=1e-15)


def test_reset_gate_multiplies_the_hidden_bias_of_the_candidate(rng):
    # torch's order: n = tanh(x W_n + b_n + r * (h W_hn + b_hn)); with r -> 0, b_hn drops out,
    # which is why it cannot be folded into b
    x, h0, Wx, Wh, b, b_hn = draw(rng, T=3)
    b[:4] = -40.0
    h_a, _ = gru_forward(x, h0, Wx, Wh, b, b_hn)
    h_b, _ = gru_forward(x, h0, Wx, Wh, b, b_hn + 5.0)
    np.testing.assert_allclose(h_a, h_b, rtol=0, atol=1e-14)
    b[:4] = 40.0  # r -> 1: now it counts
    h_c, _ = gru_forward(x, h0, Wx, Wh, b, b_hn)
    h_d, _ = gru_forward(x, h0, Wx, Wh, b, b_hn + 5.0)
    assert np.abs(h_c - h_d).max() > 1e-2


def test_torch_gru_and_rnnkit_torch_gru_put_the_update_gate_on_the_old_state(rng):
    # Book chapter 9: Cho et al.'s form h = z * h_prev + (1 - z) * n, in torch.nn.GRU (whose
    # layout rnnkit converts) and in rnnkit.torch's loop alike
    torch = pytest.importorskip("torch")
    from rnnkit.torch import GRU
    from rnnkit.torch.layout import numpy_to_state_dict

    x, h0, Wx, Wh, b, b_hn = draw(rng)
    b[4:8] = 40.0  # z = 1 exactly in float64
    ref = torch.nn.GRU(3, 4, batch_first=True, dtype=torch.float64)
    ref.load_state_dict(numpy_to_state_dict("gru", {"Wx": Wx, "Wh": Wh, "b": b, "b_hn": b_hn}))
    loop = GRU(3, 4, dtype=torch.float64)
    with torch.no_grad():
        for name, value in (("Wx", Wx), ("Wh", Wh), ("b", b), ("b_hn", b_hn)):
            getattr(loop.cells[0], name).copy_(torch.from_numpy(value))
        for model in (ref, loop):
            out, _ = model(torch.from_numpy(x), torch.from_numpy(h0)[None])
            np.testing.assert_allclose(out[:, 0].numpy(), h0, rtol=0, atol=1e-15)
