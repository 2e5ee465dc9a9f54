"""The child-sum Tree-LSTM: NumPy backward by hand == finite differences; a chain is the LSTM;
torch's level-batched forest == NumPy's node-by-node walk, values and gradients (autograd vs
the hand-written backpropagation through structure)."""

import numpy as np
import pytest

from rnnkit.cells.lstm import lstm_forward
from rnnkit.gradcheck import check_backward, rel_error
from rnnkit.models.tree import (
    node_heights,
    path_lengths,
    tree_lstm_backward,
    tree_lstm_forward,
)
from rnnkit.tasks.listops import listops_batch


def draw(rng, M, D, H):
    x = rng.standard_normal((M, D))
    Wx = rng.standard_normal((D, 4 * H)) / np.sqrt(D)
    Wh = rng.standard_normal((H, 4 * H)) / np.sqrt(H)
    return x, Wx, Wh, 0.5 * rng.standard_normal(4 * H)


def forest(seed, n=3, depths=(1, 2, 3)):
    return listops_batch(n, np.random.default_rng(seed), depths=depths)["parent"]


@pytest.mark.parametrize("seed", [0, 1])
def test_backward_through_structure_matches_finite_differences(seed):
    rng = np.random.default_rng(seed)
    parent = forest(seed)
    x, Wx, Wh, b = draw(rng, len(parent), 3, 4)
    errors = check_backward(tree_lstm_forward, tree_lstm_backward, [x, parent, Wx, Wh, b])
    assert list(errors) == ["x", "Wx", "Wh", "b"]
    assert max(errors.values()) < 1e-6, errors


def test_a_chain_is_the_lstm():
    # node t has the single child t - 1: the Tree-LSTM is chapter 8's LSTM run over x
    rng = np.random.default_rng(3)
    T, D, H = 6, 3, 4
    x, Wx, Wh, b = draw(rng, T, D, H)
    parent = np.append(np.arange(1, T), -1)
    h, _ = tree_lstm_forward(x, parent, Wx, Wh, b)
    h_seq, _, _ = lstm_forward(x[None], None, None, Wx, Wh, b)
    assert rel_error(h, h_seq[0]) < 1e-13


def test_heights_and_path_lengths():
    parent = np.array([2, 2, 4, 4, -1, -1])  # ((0 1) 3) and a lone leaf 5
    assert node_heights(parent).tolist() == [0, 0, 1, 0, 2, 0]
    assert path_lengths(parent).tolist() == [2, 2, 1, 1, 0, 0]


def test_bad_forests_are_refused():
    rng = np.random.default_rng(4)
    x, Wx, Wh, b = draw(rng, 3, 2, 2)
    with pytest.raises(ValueError, match=r"parent\[1\] = 0"):
        tree_lstm_forward(x, np.array([2, 0, -1]), Wx, Wh, b)
    with pytest.raises(ValueError, match=r"parent: expected shape \(M,\) = \(3,\)"):
        tree_lstm_forward(x, np.array([-1, -1]), Wx, Wh, b)
    with pytest.raises(TypeError, match="integer"):
        tree_lstm_forward(x, np.array([2.0, 2.0, -1.0]), Wx, Wh, b)


# ------------------------------------------------------------------------------- torch twin


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_torch_levels_equal_numpy_nodes(seed):
    torch = pytest.importorskip("torch", reason="the torch Tree-LSTM needs PyTorch")
    from rnnkit.torch.models.tree import TreeLSTM, tree_schedule

    rng = np.random.default_rng(seed)
    parent = forest(seed, n=5, depths=(0, 1, 2, 3, 4))  # includes a one-node tree
    D, H = 3, 4
    x, Wx, Wh, b = draw(rng, len(parent), D, H)
    dh = rng.standard_normal((len(parent), H))
    h, cache = tree_lstm_forward(x, parent, Wx, Wh, b)
    dx, _, dWx, dWh, db = tree_lstm_backward(dh, cache)

    model = TreeLSTM(D, H, dtype=torch.float64)
    with torch.no_grad():
        for name, a in (("Wx", Wx), ("Wh", Wh), ("b", b)):
            getattr(model, name).copy_(torch.from_numpy(a))
    xt = torch.tensor(x, requires_grad=True)
    sched = tree_schedule(parent)
    assert len(sched.levels) == node_heights(parent).max() + 1  # one step per height
    ht, ct = model(xt, sched)
    (ht * torch.from_numpy(dh)).sum().backward()
    assert rel_error(ht.detach().numpy(), h) < 1e-12
    assert rel_error(ct.detach().numpy(), cache.c) < 1e-12
    for name, want, got in (("dx", dx, xt.grad), ("dWx", dWx, model.Wx.grad),
                            ("dWh", dWh, model.Wh.grad), ("db", db, model.b.grad)):
        assert rel_error(got.numpy(), want) < 1e-10, name
    # a parent array directly (planned on the fly) gives the same
    assert torch.equal(model(xt, parent)[0], ht)
