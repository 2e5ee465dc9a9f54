"""rnnkit's NumPy forward passes against fixed arrays computed by torch.nn (no torch needed).

The arrays live in ``tests/fixtures/expected_arrays.py``, written once by
``tests/fixtures/make_expected.py`` from ``torch.nn.RNN``, ``LSTM`` and ``GRU``
in float64. This file must not import torch: it is the parity check that
still runs where torch is not installed.
"""

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rnnkit.cells.gru import gru_forward
from rnnkit.cells.lstm import lstm_forward
from rnnkit.cells.rnn import rnn_forward
from rnnkit.gradcheck import rel_error

FIXTURE = Path(__file__).parent / "fixtures" / "expected_arrays.py"


def load_expected():
    """Import the fixture module by path and turn each (shape, values) into an array."""
    spec = importlib.util.spec_from_file_location("expected_arrays", FIXTURE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    def arrays(table):
        return {k: np.array(v, dtype=np.float64).reshape(s) for k, (s, v) in table.items()}

    names = ("shared", "rnn", "lstm", "gru")
    return {name: arrays(getattr(module, name.upper())) for name in names}


E = load_expected()
X, H0, C0 = E["shared"]["x"], E["shared"]["h0"], E["shared"]["c0"]


def test_fixture_has_the_documented_shapes():
    N, T, D = X.shape
    H = H0.shape[1]
    assert (N, T, D, H) == (2, 3, 4, 3)
    for cell, G in (("rnn", 1), ("lstm", 4), ("gru", 3)):
        p = E[cell]
        assert p["Wx"].shape == (D, G * H) and p["Wh"].shape == (H, G * H), cell
        assert p["b"].shape == (G * H,) and p["h"].shape == (N, T, H), cell


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_forward_matches_torch_nn_arrays(cell):
    p = E[cell]
    if cell == "rnn":
        h, _ = rnn_forward(X, H0, p["Wx"], p["Wh"], p["b"])
    elif cell == "lstm":
        h, c_n, _ = lstm_forward(X, H0, C0, p["Wx"], p["Wh"], p["b"])
        assert rel_error(c_n, p["c_n"]) < 1e-12
    else:
        h, _ = gru_forward(X, H0, p["Wx"], p["Wh"], p["b"], p["b_hn"])
    assert rel_error(h, p["h"]) < 1e-12


def test_runs_without_importing_torch():
    # a fresh interpreter: in this one, other test files may already have imported torch
    code = (
        "import runpy, sys\n"
        f"ns = runpy.run_path({str(Path(__file__))!r})\n"
        "for cell in ('rnn', 'lstm', 'gru'):\n"
        "    ns['test_forward_matches_torch_nn_arrays'](cell)\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
