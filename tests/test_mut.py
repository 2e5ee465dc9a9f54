"""Tests for rnnkit.cells.mut: finite differences, the paper's equations, torch autograd parity."""

import numpy as np
import pytest
from cell_inputs import spec_params
from mut_paper import paper_step

from rnnkit.cells import CELLS, mut
from rnnkit.gradcheck import check_backward, rel_error

KINDS = ["mut1", "mut2", "mut3"]


def fns(kind):
    """step_forward, step_backward, forward, backward of one cell."""
    return tuple(getattr(mut, f"{kind}_{f}")
                 for f in ("step_forward", "step_backward", "forward", "backward"))


def make(kind, N, T, D, H, seed=0, dtype=np.float64):
    """x (N, T, D), h0 (N, H) and the cell's parameters in forward's order, by name."""
    rng = np.random.default_rng(seed)
    params = {k: v.astype(dtype) for k, v in spec_params(CELLS[kind], D, H, rng).items()}
    x = rng.standard_normal((N, T, D)).astype(dtype)
    h0 = rng.standard_normal((N, H)).astype(dtype)
    return x, h0, params


def shapes(kind):
    """(N, T, D, H) to test: D == H for MUT1 and MUT2, also D != H for MUT3."""
    square = [(2, 3, 4, 4), (1, 1, 1, 1), (3, 4, 2, 2)]
    return square if CELLS[kind].square else square + [(2, 3, 5, 4), (1, 2, 2, 3)]


CASES = [(kind, shape) for kind in KINDS for shape in shapes(kind)]


def test_registered_with_the_contract_and_the_order_of_the_docstring():
    assert [n for n, _, _ in CELLS["mut1"].params] == "W_xz W_xr W_hr W_hh b_z b_r b_h".split()
    assert [n for n, _, _ in CELLS["mut2"].params] == \
        "W_xz W_xh W_hz W_hr W_hh b_z b_r b_h".split()
    assert [n for n, _, _ in CELLS["mut3"].params] == \
        "W_xz W_xr W_xh W_hz W_hr W_hh b_z b_r b_h".split()
    assert [CELLS[k].square for k in KINDS] == [True, True, False]
    for kind in KINDS:
        assert (CELLS[kind].states, CELLS[kind].forward) == (("h",), fns(kind)[2])


@pytest.mark.parametrize("kind, shape", CASES)
def test_step_backward_matches_finite_differences(kind, shape):
    step_forward, step_backward, _, _ = fns(kind)
    x, h0, p = make(kind, *shape)
    errors = check_backward(step_forward, step_backward, [x[:, 0], h0, *p.values()])
    assert len(errors) == 2 + len(p)  # dx, dh_prev, one per parameter
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize("kind, shape", CASES)
def test_sequence_backward_matches_finite_differences(kind, shape):
    _, _, forward, backward = fns(kind)
    x, h0, p = make(kind, *shape, seed=1)
    errors = check_backward(forward, backward, [x, h0, *p.values()])
    assert len(errors) == 2 + len(p)
    assert max(errors.values()) < 1e-6, errors


@pytest.mark.parametrize("kind", KINDS)
def test_forward_matches_the_papers_equations_one_example_at_a_time(kind):
    _, _, forward, _ = fns(kind)
    N, T, H = 3, 4, 4
    x, h0, p = make(kind, N, T, H if CELLS[kind].square else 6, H, seed=2)
    h, _ = forward(x, h0, *p.values())
    for n in range(N):
        h_t = h0[n]
        for t in range(T):
            h_t = paper_step(kind, p, x[n, t], h_t)
            np.testing.assert_allclose(h[n, t], h_t, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("kind", KINDS)
def test_update_gate_multiplies_the_candidate(kind):
    # z -> 0 (b_z very negative) copies h_prev through; lecture 001's convention, not torch's
    step_forward = fns(kind)[0]
    x, h0, p = make(kind, 2, 1, 3, 3)
    p["b_z"] = np.full(3, -40.0)
    h_next, _ = step_forward(x[:, 0], h0, *p.values())
    np.testing.assert_allclose(h_next, h0, rtol=0, atol=1e-15)


@pytest.mark.parametrize("kind", KINDS)
def test_sequence_equals_loop_of_public_steps_and_none_means_zeros(kind):
    step_forward, step_backward, forward, backward = fns(kind)
    x, h0, p = make(kind, 3, 4, 2, 2, seed=3)
    h, _ = forward(x, h0, *p.values())
    h_prev = h0
    for t in range(x.shape[1]):
        h_prev, _ = step_forward(x[:, t], h_prev, *p.values())
        np.testing.assert_allclose(h[:, t], h_prev, rtol=1e-13, atol=1e-15)
    h_none, cache = forward(x, None, *p.values())
    np.testing.assert_array_equal(h_none, forward(x, np.zeros_like(h0), *p.values())[0])
    assert all(not g.any() for g in backward(None, cache))  # no upstream gradient: zeros
    h_next, step_cache = step_forward(x[:, 0], None, *p.values())
    np.testing.assert_array_equal(h_next, h_none[:, 0])
    assert all(not g.any() for g in step_backward(None, step_cache))


@pytest.mark.parametrize("kind", KINDS)
def test_float32_stays_float32_and_backward_leaves_its_inputs_alone(kind):
    step_forward, step_backward, forward, backward = fns(kind)
    x, h0, p = make(kind, 2, 3, 4, 4, dtype=np.float32)
    dh = np.random.default_rng(4).standard_normal((2, 3, 4)).astype(np.float32)
    h, cache = forward(x, h0, *p.values())
    h_next, step_cache = step_forward(x[:, 0], h0, *p.values())
    before = [a.copy() for a in (dh, *cache, h_next, *step_cache)]
    grads = backward(dh, cache) + step_backward(h_next, step_cache)
    after = (dh, *cache, h_next, *step_cache)
    assert all(np.array_equal(a, b) for a, b in zip(before, after, strict=True))
    arrays = [h, h_next, *cache, *step_cache, *grads]
    assert all(a.dtype == np.float32 for a in arrays), [a.dtype for a in arrays]


@pytest.mark.parametrize("kind", ["mut1", "mut2"])
def test_mut1_and_mut2_need_D_equal_to_H(kind):
    step_forward, _, forward, _ = fns(kind)
    x, h0, p = make(kind, 2, 3, 5, 4)  # consistent shapes, but D = 5 != H = 4
    msg = rf"x: {kind.upper()} adds x unweighted to an H-wide sum, so it needs D == H, got D = 5"
    with pytest.raises(ValueError, match=msg):
        forward(x, h0, *p.values())
    with pytest.raises(ValueError, match=msg):
        step_forward(x[:, 0], h0, *p.values())


def test_bad_arguments_are_named():
    x, h0, p = make("mut3", 2, 3, 5, 4)
    args = dict(p, W_xr=p["W_xr"][:4])
    with pytest.raises(ValueError, match=r"W_xr: expected shape \(D, H\) = \(5, 4\)"):
        mut.mut3_forward(x, h0, *args.values())
    with pytest.raises(ValueError, match=r"h0: expected shape \(N, H\)"):
        mut.mut3_forward(x, h0[:, :3], *p.values())
    with pytest.raises(ValueError, match=r"x: expected at least one time step"):
        mut.mut3_forward(x[:, :0], h0, *p.values())
    _, cache = mut.mut3_forward(x, h0, *p.values())
    with pytest.raises(ValueError, match=r"dh: expected shape \(N, T, H\)"):
        mut.mut3_backward(np.zeros((2, 3, 5)), cache)


def torch_mut():
    """The torch twins' module, wherever this checkout keeps it."""
    import rnnkit.torch  # noqa: F401  (says what to install when torch is missing)

    try:
        from rnnkit.torch.cells import mut as module
    except ImportError:
        from rnnkit.torch import mut as module
    return module


@pytest.mark.parametrize("kind, shape", [(k, s) for k in KINDS
                                         for s in [(2, 5, 4, 4), (1, 1, 3, 3), (3, 4, 5, 3)]
                                         if not (CELLS[k].square and s[2] != s[3])])
def test_forward_and_gradients_match_torch_autograd(kind, shape):
    torch = pytest.importorskip("torch", reason="the parity test runs the torch twin")
    _, _, forward, backward = fns(kind)
    N, T, D, H = shape
    x, h0, p = make(kind, *shape, seed=5)
    dh = np.random.default_rng(6).standard_normal((N, T, H))
    h, cache = forward(x, h0, *p.values())
    dx, dh0, *dparams = backward(dh, cache)

    cell = torch_mut().CELLS[kind](D, H, dtype=torch.float64)
    with torch.no_grad():
        for name, value in p.items():  # the same names and shapes on both sides
            getattr(cell, name).copy_(torch.from_numpy(value))
    xt = torch.tensor(x, requires_grad=True)
    h0t = torch.tensor(h0, requires_grad=True)
    ht, hs = h0t, []
    for t in range(T):
        ht = cell(xt[:, t], ht)
        hs.append(ht)
    out = torch.stack(hs, dim=1)
    (out * torch.from_numpy(dh)).sum().backward()

    assert rel_error(h, out.detach().numpy()) < 1e-12
    assert rel_error(dx, xt.grad.numpy()) < 1e-10
    assert rel_error(dh0, h0t.grad.numpy()) < 1e-10
    for name, grad in zip(p, dparams, strict=True):
        assert rel_error(grad, getattr(cell, name).grad.numpy()) < 1e-10, name
