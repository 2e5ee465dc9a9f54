"""Tests for rnnkit.torch.cells.mut: shapes, gradients, the paper's equations evaluated directly.

The reference, tests/mut_paper.py, is written independently of the module: NumPy, float64,
column vectors as in Jozefowicz et al. (2015), one example at a time, W acting on the left. The
NumPy twin's hand-written backward is checked against these cells in tests/test_mut.py.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from mut_paper import paper_step  # noqa: E402

from rnnkit.gradcheck import rel_error  # noqa: E402
from rnnkit.torch.cells.mut import CELLS, MUT, MUT1Cell, MUT2Cell, MUT3Cell  # noqa: E402

KINDS = ["mut1", "mut2", "mut3"]


def rnnkit_params(cell):
    """The cell's parameters as NumPy arrays, in rnnkit's row layout."""
    return {n: t.detach().numpy() for n, t in cell.named_parameters()}


def make(kind, D, H, seed=0):
    torch.manual_seed(seed)
    cell = CELLS[kind](D, H, dtype=torch.float64)
    with torch.no_grad():  # wider than the default draw, so every gate is far from 0.5
        for p in cell.parameters():
            p.normal_(0.0, 0.7)
    return cell


@pytest.mark.parametrize("kind", KINDS)
def test_step_matches_the_papers_equations(kind):
    N, H = 3, 4
    D = H if kind != "mut3" else 5
    cell = make(kind, D, H)
    rng = np.random.default_rng(1)
    x, h = rng.standard_normal((N, D)), rng.standard_normal((N, H))
    got = cell(torch.from_numpy(x), torch.from_numpy(h)).detach().numpy()
    p = rnnkit_params(cell)
    want = np.stack([paper_step(kind, p, x[n], h[n]) for n in range(N)])
    assert got.shape == (N, H)
    assert rel_error(got, want) < 1e-12


@pytest.mark.parametrize("kind", KINDS)
def test_sequence_matches_the_reference_loop(kind):
    N, T, H = 2, 6, 3
    D = H if kind != "mut3" else 2
    model = MUT(kind, D, H, dtype=torch.float64)
    with torch.no_grad():
        model.cells[0].load_state_dict(make(kind, D, H, seed=2).state_dict())
    rng = np.random.default_rng(3)
    x, h0 = rng.standard_normal((N, T, D)), rng.standard_normal((1, N, H))
    out, h_n = model(torch.from_numpy(x), torch.from_numpy(h0))
    assert out.shape == (N, T, H) and h_n.shape == (1, N, H)
    p = rnnkit_params(model.cells[0])
    for n in range(N):
        h = h0[0, n]
        for t in range(T):
            h = paper_step(kind, p, x[n, t], h)
            assert rel_error(out[n, t].detach().numpy(), h) < 1e-12
    assert torch.equal(h_n[0], out[:, -1])


@pytest.mark.parametrize("kind", KINDS)
def test_zero_initial_state_by_default(kind):
    D = H = 3
    model = MUT(kind, D, H, dtype=torch.float64)
    x = torch.randn(2, 4, D, dtype=torch.float64)
    out, _ = model(x)
    out0, _ = model(x, torch.zeros(1, 2, H, dtype=torch.float64))
    assert torch.equal(out, out0)


@pytest.mark.parametrize("kind", KINDS)
def test_gradients_reach_every_parameter_and_the_first_input(kind):
    D = H = 4
    model = MUT(kind, D, H, dtype=torch.float64)
    x = torch.randn(3, 8, D, dtype=torch.float64, requires_grad=True)
    out, _ = model(x)
    out[:, -1].sum().backward()  # loss on the last step only: x[:, 0] is 7 steps back
    for name, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
        assert p.grad.abs().max() > 0, f"{name} got a zero gradient"
    assert x.grad[:, 0].abs().max() > 0


def test_parameter_counts_follow_the_equations():
    D, H = 5, 7
    n = {k: sum(p.numel() for p in c(H, H).parameters()) for k, c in CELLS.items()}
    assert n["mut1"] == 2 * H * H + 2 * H * H + 3 * H  # W_xz, W_xr (D=H); W_hr, W_hh
    assert n["mut2"] == 2 * H * H + 3 * H * H + 3 * H
    assert sum(p.numel() for p in MUT3Cell(D, H).parameters()) == 3 * D * H + 3 * H * H + 3 * H


@pytest.mark.parametrize("cls", [MUT1Cell, MUT2Cell])
def test_unweighted_input_needs_square_sizes(cls):
    with pytest.raises(ValueError, match=r"input_size == hidden_size \(4\), got 3"):
        cls(3, 4)


def test_bad_arguments_name_themselves():
    with pytest.raises(ValueError, match="kind"):
        MUT("mut4", 3, 3)
    with pytest.raises(ValueError, match="hidden_size"):
        MUT3Cell(3, 0)
    model = MUT("mut3", 2, 3)
    with pytest.raises(ValueError, match=r"x: expected shape"):
        model(torch.randn(4, 5, 3))
    with pytest.raises(ValueError, match=r"h0: expected shape \(L, N, H\) = .*axis 2 \(H\)"):
        model(torch.randn(4, 5, 2), torch.zeros(1, 2, 4))
    with pytest.raises(ValueError, match=r"x: expected shape \(N, T, D\) = \(2, \?, 2\)"):
        model(torch.randn(4, 5, 2), torch.zeros(1, 2, 3))  # N comes from the state
    with pytest.raises(TypeError, match="x: expected a torch.Tensor"):
        model(np.zeros((4, 5, 2)))
