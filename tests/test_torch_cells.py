"""Every torch cell equals its NumPy twin: values, and autograd equals the hand-written backward.

One parametrized suite over ``rnnkit.cells.CELLS`` and ``rnnkit.torch.cells.TWINS``: the
step and the sequence (the teaching loop and, where the cell has one, torch.nn's fused
kernel), float64, TF32 off (conftest). The NumPy side runs forward and its hand-written
backward under the cell contract; the torch side runs autograd on the same numbers, so each
checks the other. Stacked, multi-layer parity with torch.nn is in test_torch_parity.py.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the torch twins need PyTorch")

import cell_inputs  # noqa: E402

from rnnkit.cells import CELLS  # noqa: E402
from rnnkit.gradcheck import rel_error  # noqa: E402
from rnnkit.torch.cells import SEQUENCES, TWINS  # noqa: E402
from rnnkit.torch.convert import load_numpy_params, numpy_params  # noqa: E402

TOL = 1e-10
N, T, D, H = 3, 5, 4, 6
NO_CUDA = "no CUDA device: the GPU parity run needs one"
DEVICES = ["cpu", pytest.param("cuda", marks=[
    pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason=NO_CUDA)])]


def test_every_numpy_cell_has_a_torch_twin():
    assert sorted(TWINS) == sorted(SEQUENCES) == sorted(CELLS)
    for name, spec in CELLS.items():
        assert TWINS[name].numpy_name == name and SEQUENCES[name].cell_class is TWINS[name]
        assert TWINS[name].square == getattr(spec, "square", False), name


def draw(name, seed=0):
    """x (N, T, D), the initial states and the parameters of cell ``name``, float64."""
    spec = CELLS[name]
    D_ = H if getattr(spec, "square", False) else D
    x, states, params = cell_inputs.spec_arrays(spec, N, T, D_, H, np.random.default_rng(seed))
    return spec, x, states, params


def twin(name, params, D_, *, sequence=False, fast=False, device="cpu"):
    if sequence:
        model = SEQUENCES[name](D_, H, fast=fast, dtype=torch.float64)
    else:
        model = TWINS[name](D_, H, dtype=torch.float64)
    load_numpy_params(model, [params] if sequence else params)
    return model.to(device)


def leaf(a, device="cpu"):
    return torch.tensor(a, requires_grad=True, device=device)


def as_numpy(t):
    return t.detach().cpu().numpy()


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", sorted(CELLS))
def test_step_parity(name, device):
    spec, x, states, params = draw(name)
    x1 = x[:, 0]
    *outs, cache = spec.step_forward(x1, *states, *params.values())
    douts = [np.random.default_rng(1).standard_normal(o.shape) for o in outs]
    grads = spec.step_backward(*douts, cache)

    cell = twin(name, params, x.shape[2], device=device)
    xt, st = leaf(x1, device), [leaf(s, device) for s in states]
    got = cell(xt, st[0] if len(st) == 1 else tuple(st))  # the public entry point
    got = got if isinstance(got, tuple) else (got,)
    loss = sum((g * leaf(d, device)).sum() for g, d in zip(got, douts, strict=True))
    loss.backward()
    for o, g in zip(outs, got, strict=True):
        assert rel_error(o, as_numpy(g)) < TOL
    torch_grads = [xt.grad, *(s.grad for s in st), *(p.grad for p in cell.parameters())]
    names = ["x", *spec.states, *params]
    for n, mine, theirs in zip(names, grads, torch_grads, strict=True):
        assert rel_error(mine, as_numpy(theirs)) < TOL, n


# the loop for every cell; fast=True for the cells with a fused torch.nn kernel
PATHS = [(n, False) for n in sorted(CELLS)] + [(n, True) for n in sorted(CELLS)
                                               if TWINS[n].torch_nn is not None]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name, fast", PATHS)
def test_sequence_parity(name, fast, device):
    spec, x, states, params = draw(name, seed=2)
    *outs, cache = spec.forward(x, *states, *params.values())
    rng = np.random.default_rng(3)
    douts = [rng.standard_normal(o.shape) for o in outs]
    grads = spec.backward(*douts, cache)

    model = twin(name, params, x.shape[2], sequence=True, fast=fast, device=device)
    xt, st = leaf(x, device), [leaf(s[None], device) for s in states]  # (1, N, H): one layer
    out, final = model(xt, st[0] if len(st) == 1 else tuple(st))
    final = final if isinstance(final, tuple) else (final,)
    got = [out, *(f[0] for f in final[1:])]  # h (N, T, H), then c_n (N, H) for two states
    loss = sum((g * leaf(d, device)).sum() for g, d in zip(got, douts, strict=True))
    loss.backward()
    for o, g in zip(outs, got, strict=True):
        assert rel_error(o, as_numpy(g)) < TOL
    torch_grads = [xt.grad, *(s.grad[0] for s in st), *(p.grad for p in model.parameters())]
    names = ["x", *(f"{s}0" for s in spec.states), *params]
    for n, mine, theirs in zip(names, grads, torch_grads, strict=True):
        assert rel_error(mine, as_numpy(theirs)) < TOL, n


@pytest.mark.parametrize("name", sorted(CELLS))
def test_numpy_params_round_trip_is_exact(name):
    _, x, _, params = draw(name, seed=4)
    back = numpy_params(twin(name, params, x.shape[2]))
    assert list(back) == list(params)  # same names, same order as the NumPy contract
    for k in params:
        assert np.array_equal(back[k], params[k]), k
