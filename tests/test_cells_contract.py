"""The cell contract of ``rnnkit.cells`` (its module docstring), checked for every cell in CELLS.

One parametrized suite instead of a hand-copied file per cell: argument names and order,
gradients of step and sequence against finite differences for every argument (initial
states included), caches, dtypes, None states and upstream gradients, inputs left alone,
and error messages that name the argument at fault. What is true of one cell only (its
equations, its special parameters) is in that cell's own test file; parity with torch is in
the ``test_torch_*`` files.
"""

import inspect

import numpy as np
import pytest
from cell_inputs import spec_arrays

from rnnkit.cells import CELLS
from rnnkit.gradcheck import check_backward

NAMES = sorted(CELLS)
SHAPES = [(2, 3, 4, 5), (1, 1, 3, 1), (3, 4, 2, 3)]  # (N, T, D, H): N = T = H = 1, D != H
N, T, D, H = 2, 3, 4, 5  # for the tests that need one shape only; N != T


def draw(name, N=N, T=T, D=D, H=H, seed=0, dtype=np.float64):
    """x (N, T, D), the initial states and the parameters of cell ``name``, as a list."""
    spec = CELLS[name]
    D = H if spec.square else D  # MUT1 and MUT2 add x to an H-wide sum
    x, states, params = spec_arrays(spec, N, T, D, H, np.random.default_rng(seed), dtype)
    return spec, x, states, list(params.values())


def arg_names(spec, step):
    """Forward's argument names under the contract: x, the states, the parameters."""
    suffix = "_prev" if step else "0"
    return ["x", *(s + suffix for s in spec.states), *(p[0] for p in spec.params)]


def param_source(spec, letters):
    """The parameter a size is read from: the first (H, .) weight for H, (D, .) for D."""
    first = "H" if letters == "HH" else "D"
    return next(p[0] for p in spec.params if p[1][0] == first and len(p[1]) == 2)


def arrays(obj):
    """Every array in a (possibly nested) tuple of outputs, caches and gradients."""
    if isinstance(obj, np.ndarray):
        return [obj]
    return [a for item in obj for a in arrays(item)] if isinstance(obj, tuple) else []


# ---------------------------------------------------------------------------- names and order


@pytest.mark.parametrize("name", NAMES)
def test_signatures_follow_the_contract(name):
    spec = CELLS[name]

    def positional(f):
        return [p.name for p in inspect.signature(f).parameters.values()
                if p.default is inspect.Parameter.empty]

    assert positional(spec.step_forward) == arg_names(spec, step=True)
    assert positional(spec.forward) == arg_names(spec, step=False)
    assert positional(spec.step_backward) == [f"d{s}_next" for s in spec.states] + ["cache"]
    # the sequence returns every h but only the final value of a second state
    assert positional(spec.backward) == ["dh", *(f"d{s}_n" for s in spec.states[1:]), "cache"]


# ---------------------------------------------------------------------- finite differences


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", NAMES)
def test_step_backward_matches_finite_differences(name, shape):
    spec, x, states, params = draw(name, *shape)
    errors = check_backward(spec.step_forward, spec.step_backward, [x[:, 0], *states, *params])
    assert list(errors) == arg_names(spec, step=True)  # one gradient per argument, in order
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", NAMES)
def test_sequence_backward_matches_finite_differences(name, shape):
    spec, x, states, params = draw(name, *shape, seed=1)
    errors = check_backward(spec.forward, spec.backward, [x, *states, *params])
    assert list(errors) == arg_names(spec, step=False)
    # elementwise relative error: entries of dWh near zero make this looser than a step's
    assert max(errors.values()) < 1e-6, errors


# --------------------------------------------------------------------- steps and sequences


@pytest.mark.parametrize("name", NAMES)
def test_sequence_is_a_loop_of_public_steps(name):
    spec, x, states, params = draw(name, T=4, seed=2)
    h, *final, _ = spec.forward(x, *states, *params)
    state = states
    for t in range(x.shape[1]):
        *state, _ = spec.step_forward(x[:, t], *state, *params)
        np.testing.assert_allclose(h[:, t], state[0], rtol=1e-13, atol=1e-15)
    for got, want in zip(final, state[1:], strict=True):  # c_n
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("name", NAMES)
def test_carrying_the_final_states_equals_one_long_run(name):
    spec, x, states, params = draw(name, T=6, seed=3)
    h, *rest, _ = spec.forward(x, *states, *params)
    h1, *rest1, _ = spec.forward(x[:, :4], *states, *params)
    h2, *rest2, _ = spec.forward(x[:, 4:], h1[:, -1], *rest1, *params)
    np.testing.assert_array_equal(np.concatenate((h1, h2), axis=1), h)
    for a, b in zip(rest2, rest, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", NAMES)
def test_none_states_are_zeros(name):
    spec, x, states, params = draw(name, seed=4, dtype=np.float32)
    zeros = [np.zeros_like(s) for s in states]
    nones = [None] * len(states)
    for f, x_in in ((spec.forward, x), (spec.step_forward, x[:, 0])):
        got = f(x_in, *nones, *params)
        want = f(x_in, *zeros, *params)
        for a, b in zip(arrays(got), arrays(want), strict=True):
            assert a.dtype == np.float32
            np.testing.assert_array_equal(a, b)
    # the gradients of the initial states come back although the states were None
    *outs, cache = spec.forward(x, *nones, *params)
    grads = spec.backward(*(np.ones_like(o) for o in outs), cache)
    for g in grads[1 : 1 + len(states)]:
        assert g.shape == states[0].shape and g.dtype == np.float32


@pytest.mark.parametrize("name", NAMES)
def test_none_upstream_gradients_are_zeros(name):
    spec, x, states, params = draw(name, seed=5)
    for f, b, x_in in ((spec.forward, spec.backward, x),
                       (spec.step_forward, spec.step_backward, x[:, 0])):
        *outs, cache = f(x_in, *states, *params)
        douts = [np.random.default_rng(6).standard_normal(o.shape) for o in outs]
        for k in range(len(outs)):
            with_none = b(*douts[:k], None, *douts[k + 1 :], cache)
            with_zeros = b(*douts[:k], np.zeros_like(outs[k]), *douts[k + 1 :], cache)
            for a, z in zip(with_none, with_zeros, strict=True):
                np.testing.assert_array_equal(a, z)


# ------------------------------------------------------------------ caches, dtypes, mutation


@pytest.mark.parametrize("name", NAMES)
def test_caches_are_namedtuples_of_arrays(name):
    spec, x, states, params = draw(name, seed=7)
    for f, x_in in ((spec.forward, x), (spec.step_forward, x[:, 0])):
        cache = f(x_in, *states, *params)[-1]
        assert isinstance(cache, tuple) and hasattr(cache, "_fields"), type(cache)
        for field, value in zip(cache._fields, cache, strict=True):
            assert isinstance(value, np.ndarray), (field, type(value))


@pytest.mark.parametrize("name", NAMES)
def test_float32_in_float32_out_close_to_float64(name):
    spec, x, states, params = draw(name, seed=8)
    as32 = [a.astype(np.float32) for a in (x, *states, *params)]
    for f, b, step in ((spec.forward, spec.backward, False),
                       (spec.step_forward, spec.step_backward, True)):
        args64 = [x[:, 0] if step else x, *states, *params]
        args32 = [as32[0][:, 0] if step else as32[0], *as32[1:]]
        *outs32, cache32 = f(*args32)
        douts = [np.random.default_rng(9).standard_normal(o.shape) for o in outs32]
        grads32 = b(*(d.astype(np.float32) for d in douts), cache32)
        everything = arrays((*outs32, cache32, grads32))
        assert all(a.dtype == np.float32 for a in everything), [a.dtype for a in everything]
        *outs64, cache64 = f(*args64)
        for a32, a64 in zip((*outs32, *grads32), (*outs64, *b(*douts, cache64)), strict=True):
            np.testing.assert_allclose(a32, a64, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("name", NAMES)
def test_forward_and_backward_leave_their_inputs_alone(name):
    spec, x, states, params = draw(name, seed=10)
    for f, b, x_in in ((spec.forward, spec.backward, x),
                       (spec.step_forward, spec.step_backward, x[:, 0])):
        inputs = [x_in, *states, *params]
        saved_inputs = [a.copy() for a in inputs]
        *outs, cache = f(*inputs)
        douts = [np.random.default_rng(11).standard_normal(o.shape) for o in outs]
        saved = [a.copy() for a in (*douts, *cache)]
        first = b(*douts, cache)
        second = b(*douts, cache)  # the same cache gives the same gradients again
        for before, after in zip(saved, (*douts, *cache), strict=True):
            np.testing.assert_array_equal(before, after)
        for before, after in zip(saved_inputs, inputs, strict=True):
            np.testing.assert_array_equal(before, after)
        for g1, g2 in zip(first, second, strict=True):
            np.testing.assert_array_equal(g1, g2)


# ------------------------------------------------------------------------- bad inputs


def bad_calls(name):
    """(id, call, exception, message pattern) for the mistakes a new user makes."""
    spec, x, states, params = draw(name, seed=12)
    Hs, Ds = param_source(spec, "HH"), param_source(spec, "DH")
    Dx = x.shape[2]
    s0 = [s + "0" for s in spec.states]
    seq, step = spec.forward, spec.step_forward

    def with_state(k, value):
        return [value if i == k else s for i, s in enumerate(states)]

    def with_param(k, value):
        return [value if i == k else p for i, p in enumerate(params)]

    first_1d = next(k for k, p in enumerate(spec.params) if p[1] == "H" and p[0] != "tau")
    p1d, G1d = spec.params[first_1d][0], spec.params[first_1d][2]
    k_dx = next(k for k, p in enumerate(spec.params) if p[0] == Ds)
    k_h = next(k for k, p in enumerate(spec.params) if p[0] == Hs)
    G_dx = spec.params[k_dx][2]
    narrow_dx = params[k_dx][:, : G_dx * (H - 1)]  # one unit short in every gate block
    nan_h = params[k_h].copy()
    nan_h[0, 0] = np.nan
    *outs, cache = seq(x, *states, *params)
    *step_outs, step_cache = step(x[:, 0], *states, *params)
    cases = [
        ("time-major x", lambda: seq(x.transpose(1, 0, 2), *states, *params), ValueError,
         rf"x: expected shape \(N, T, D\) = \({N}, \?, {Dx}\) \(N={N} from {s0[0]}, "
         rf"D={Dx} from {Ds}\), got \({T}, {N}, {Dx}\); axis 0 \(N\) should be {N}; "
         r"time-major\? rnnkit is batch-first \(N, T, D\)"),
        ("x of the wrong width", lambda: seq(x[..., :-1], *states, *params), ValueError,
         rf"x: expected shape \(N, T, D\) = \({N}, {T}, {Dx}\) \(N={N} from h0, D={Dx} from "
         rf"{Ds}\), got \({N}, {T}, {Dx - 1}\); "
         rf"axis 2 \(D\) should be {Dx}"),
        ("2-D x for a sequence", lambda: seq(x[:, 0], *states, *params), ValueError,
         rf"x: expected 3-D array of shape \(N, T, D\), got 2-D shape \({N}, {Dx}\)"),
        ("3-D x for a step", lambda: step(x, *states, *params), ValueError,
         r"x: expected 2-D array of shape \(N, D\), got 3-D shape"),
        ("no time step", lambda: seq(x[:, :0], *states, *params), ValueError,
         rf"x: expected at least one time step \(T >= 1\), got shape \({N}, 0, {Dx}\)"),
        ("h0 of the wrong width", lambda: seq(x, *with_state(0, states[0][:, :-1]), *params),
         ValueError, rf"h0: expected shape \(N, H\) = \({N}, {H}\) \(H={H} from {Hs}\), "
         rf"got \({N}, {H - 1}\); axis 1 \(H\) should be {H}"),
        # N comes from the states: x is blamed, unless another state agrees with x
        ("h0 of the wrong batch", lambda: seq(x, *with_state(0, states[0][:1]), *params),
         ValueError, rf"x: expected shape \(N, T, D\) = \(1, \?, {Dx}\) \(N=1 from h0, "
         rf"D={Dx} from {Ds}\), got \({N}, {T}, {Dx}\); axis 0 \(N\) should be 1"
         if len(states) == 1 else
         rf"h0: expected shape \(N, H\) = \({N}, {H}\) \(N={N} from c0, H={H} from {Hs}\), "
         rf"got \(1, {H}\); axis 0 \(N\) should be {N}"),
        ("h_prev of the wrong width", lambda: step(x[:, 0], *with_state(0, states[0][:, :-1]),
                                                   *params),
         ValueError, rf"h_prev: expected shape \(N, H\) = \({N}, {H}\) \(H={H} from {Hs}\)"),
        (f"{Ds} one unit short", lambda: seq(x, *states, *with_param(k_dx, narrow_dx)),
         ValueError, rf"{Ds}: expected shape \(D, {G_dx if G_dx > 1 else ''}H\) = "
         rf"\(.*{G_dx * H}\) \(H={H} from {Hs}\), got \({Dx}, {G_dx * (H - 1)}\)"),
        (f"{Ds} transposed", lambda: seq(x, *states, *with_param(k_dx, params[k_dx].T.copy())),
         ValueError, rf"{Ds}: expected shape \(D, {G_dx if G_dx > 1 else ''}H\) = "
         rf"\(.*{G_dx * H}\).*got \({G_dx * H}, {Dx}\)"),
        (f"{p1d} one unit short",
         lambda: seq(x, *states, *with_param(first_1d, params[first_1d][: G1d * (H - 1)])),
         ValueError, rf"{p1d}: expected shape \({G1d if G1d > 1 else ''}H\) = \({G1d * H}\) "
         rf"\(H={H} from {Hs}\), got \({G1d * (H - 1)},\)"),
        ("integer x", lambda: seq(x.astype(np.int64), *states, *params), TypeError,
         r"x: expected a floating dtype \(float32 or float64\), got int64"),
        ("NaN in a weight", lambda: seq(x, *states, *with_param(k_h, nan_h)), ValueError,
         rf"{Hs}: expected finite values, got 1 NaN or inf entries"),
        ("float32 h0 among float64", lambda: seq(x, *with_state(0, states[0].astype(np.float32)),
                                                 *params),
         TypeError, r"h0: expected dtype float64 \(the dtype of .*x\), got float32"),
        ("dh of the wrong shape", lambda: spec.backward(outs[0][..., :-1], *outs[1:], cache),
         ValueError, rf"dh: expected shape \(N, T, H\) = \({N}, {T}, {H}\) .*got "
         rf"\({N}, {T}, {H - 1}\); axis 2 \(H\) should be {H}"),
        ("float32 dh", lambda: spec.backward(outs[0].astype(np.float32), *outs[1:], cache),
         TypeError, r"dh: expected dtype float64 \(the forward's\), got float32"),
        ("NaN in dh", lambda: spec.backward(np.full_like(outs[0], np.nan), *outs[1:], cache),
         ValueError, r"dh: expected finite values"),
        ("list dh", lambda: spec.backward(outs[0].tolist(), *outs[1:], cache),
         TypeError, r"dh: expected a NumPy float array, got list"),
        ("dh_next of the wrong shape",
         lambda: spec.step_backward(step_outs[0][:, :-1], *step_outs[1:], step_cache),
         ValueError, rf"dh_next: expected shape \(N, H\) = \({N}, {H}\) .*got \({N}, {H - 1}\)"),
    ]
    if len(states) == 2:
        cases += [
            ("c0 of the wrong width", lambda: seq(x, *with_state(1, states[1][:, :-1]), *params),
             ValueError, rf"c0: expected shape \(N, H\) = \({N}, {H}\) \(N={N} from h0, "
             rf"H={H} from {Hs}\), got \({N}, {H - 1}\); axis 1 \(H\) should be {H}"),
            ("c0 of the wrong batch", lambda: seq(x, *with_state(1, states[1][:1]), *params),
             ValueError, rf"c0: expected shape \(N, H\) = \({N}, {H}\) \(N={N} from h0, "
             rf"H={H} from {Hs}\), got \(1, {H}\); axis 0 \(N\) should be {N}"),
            ("dc_n of the wrong shape", lambda: spec.backward(outs[0], outs[1][:, :-1], cache),
             ValueError, rf"dc_n: expected shape \(N, H\) = \({N}, {H}\) .*got \({N}, {H - 1}\)"),
            ("dc_next of the wrong shape",
             lambda: spec.step_backward(step_outs[0], step_outs[1][:1], step_cache),
             ValueError, rf"dc_next: expected shape \(N, H\) = \({N}, {H}\) .*got \(1, {H}\)"),
        ]
    if spec.square:  # (H, H) looks the same transposed
        cases = [c for c in cases if c[0] != f"{Ds} transposed"]
    return cases


BAD = [(name, *case) for name in NAMES for case in bad_calls(name)]


@pytest.mark.parametrize("name, what, call, error, pattern", BAD,
                         ids=[f"{b[0]}: {b[1]}" for b in BAD])
def test_bad_inputs_name_the_argument_at_fault(name, what, call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()
