"""rnnkit.torch.models.esn equals its NumPy twin, rnnkit.models.esn, on the same reservoir."""

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the torch ESN needs PyTorch")

from rnnkit.gradcheck import rel_error  # noqa: E402
from rnnkit.models import esn  # noqa: E402
from rnnkit.torch.models import esn as tesn  # noqa: E402


@pytest.mark.parametrize("tau", [1.0, 3.0, "per-unit"])
def test_states_readout_and_predictions_match_numpy(tau):
    rng = np.random.default_rng(0)
    N, T, D, H, V = 2, 40, 3, 20, 2
    res = esn.reservoir_init(D, H, radius=0.9, bias_scale=0.2, rng=rng)
    tau = 1.0 + rng.random(H) * 4 if tau == "per-unit" else tau
    x, h0 = rng.standard_normal((N, T, D)), rng.standard_normal((N, H))
    y = rng.standard_normal((N, T, V))
    states = esn.reservoir_states(x, h0, *res, tau=tau)
    W_out, b_out = esn.readout_fit(states, y, alpha=1e-3, washout=5)
    pred = esn.readout_predict(states, W_out, b_out)

    t = torch.from_numpy
    tstates = tesn.reservoir_states(t(x), t(h0), *map(t, res),
                                    tau=t(tau) if isinstance(tau, np.ndarray) else tau)
    tW, tb = tesn.readout_fit(tstates, t(y), alpha=1e-3, washout=5)
    assert rel_error(states, tstates.numpy()) < 1e-12
    assert rel_error(W_out, tW.numpy()) < 1e-8 and rel_error(b_out, tb.numpy()) < 1e-8
    assert rel_error(pred, tesn.readout_predict(tstates, tW, tb).numpy()) < 1e-8


def test_bad_arguments_name_themselves():
    x, Wx, Wh, b = torch.zeros(2, 5, 3), torch.zeros(3, 4), torch.zeros(4, 4), torch.zeros(4)
    with pytest.raises(ValueError, match=r"x: expected shape \(N, T, D\)"):
        tesn.reservoir_states(torch.zeros(2, 5, 2), None, Wx, Wh, b)
    with pytest.raises(ValueError, match="tau: expected time constants >= 1"):
        tesn.reservoir_states(x, None, Wx, Wh, b, tau=0.5)
    with pytest.raises(ValueError, match=r"washout: expected an integer in \[0, T\)"):
        tesn.readout_fit(torch.zeros(2, 5, 4), torch.zeros(2, 5, 1), washout=5)
