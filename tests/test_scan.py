"""rnnkit.scan: every method of ``linear_scan`` equals the loop, and the loop equals the definition.

The oracle is a scalar Python loop over ``h_t = a_t * h_{t-1} + b_t``, written here element by
element (no NumPy broadcasting), plus one example small enough to do by hand. Lengths are odd
and not powers of two (the doubling scan's edge cases), ``h0`` is nonzero, and the gates reach
both ends: ``a`` within 1e-4 of 0 and of 1. The torch twin and the minGRU are tested in
test_torch_scan.py.
"""

import numpy as np
import pytest

from rnnkit.scan import METHODS, linear_scan

LENGTHS = (1, 2, 3, 7, 33)
N, H = 3, 4
# float32: the log form adds a rounding error per step to log|A_t| (a sum of T logs) before one
# exp, so its error grows with T; 2e-5 relative to the largest term is far below any real bug.
TOL = {np.float64: 1e-11, np.float32: 2e-5}


def oracle(a, b, h0):
    """The recurrence, one scalar at a time, in float64."""
    h = np.zeros(a.shape)
    for n in range(a.shape[0]):
        for k in range(a.shape[2]):
            state = float(h0[n, k])
            for t in range(a.shape[1]):
                state = float(a[n, t, k]) * state + float(b[n, t, k])
                h[n, t, k] = state
    return h


def gated_inputs(T, dtype, seed=0, signed=False):
    """``a`` half near 0 (1e-4 .. 1e-2), half near 1 (1 - 1e-4 .. 1); b and nonzero h0."""
    rng = np.random.default_rng(seed + T)
    near0 = rng.uniform(1e-4, 1e-2, (N, T, H))
    near1 = 1 - rng.uniform(0, 1e-4, (N, T, H))
    a = np.where(rng.random((N, T, H)) < 0.5, near0, near1)
    if signed:
        a *= rng.choice([-1.0, 1.0], a.shape)
    b = rng.standard_normal((N, T, H))
    h0 = rng.uniform(0.5, 2.0, (N, H)) * rng.choice([-1.0, 1.0], (N, H))
    return a.astype(dtype), b.astype(dtype), h0.astype(dtype)


def test_by_hand():
    a = np.array([[[0.5], [2.0], [-1.0]]])
    b = np.array([[[1.0], [1.0], [3.0]]])
    h0 = np.array([[2.0]])
    # h1 = 0.5*2 + 1 = 2, h2 = 2*2 + 1 = 5, h3 = -5 + 3 = -2
    for method in ("sequential", "doubling", "log", "cumprod"):
        np.testing.assert_allclose(linear_scan(a, b, h0, method)[0, :, 0], [2, 5, -2],
                                   rtol=1e-14, err_msg=method)


@pytest.mark.parametrize("T", LENGTHS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("method", ["sequential", "doubling", "log"])
@pytest.mark.parametrize("signed", [False, True])
def test_equals_the_loop(method, dtype, T, signed):
    a, b, h0 = gated_inputs(T, dtype, signed=signed)
    h = linear_scan(a, b, h0, method)
    want = oracle(a, b, h0)
    assert h.shape == (N, T, H) and h.dtype == dtype
    scale = max(1.0, np.abs(want).max())
    err = np.abs(h - want).max() / scale
    assert err < TOL[dtype], f"{method} {np.dtype(dtype).name} T={T}: {err:.2e}"


@pytest.mark.parametrize("T", [5, 64, 100])
def test_doubling_handles_resets(T):
    """A zero coefficient resets the state; the doubling scan needs no logarithm and copes."""
    rng = np.random.default_rng(1)
    a = rng.uniform(0.5, 1.0, (2, T, 3))
    a[:, ::4] = 0.0
    b, h0 = rng.standard_normal((2, T, 3)), rng.standard_normal((2, 3))
    np.testing.assert_allclose(linear_scan(a, b, h0, "doubling"), oracle(a, b, h0), rtol=1e-12,
                               atol=1e-12)


def test_cumprod_fails_where_log_does_not():
    """The naive closed form divides by A_t = a_1...a_t, which underflows; the log form does not."""
    rng = np.random.default_rng(2)
    for dtype, T, a_value in ((np.float64, 400, 0.1), (np.float32, 40, 0.05)):
        a = np.full((1, T, 2), a_value, dtype)
        b = rng.uniform(0.5, 1.5, (1, T, 2)).astype(dtype)
        h0 = np.ones((1, 2), dtype)
        want = oracle(a, b, h0)
        assert np.all(np.isfinite(want)) and np.abs(want).max() < 2  # the true states are tame
        naive = linear_scan(a, b, h0, "cumprod")
        assert not np.all(np.isfinite(naive)), np.dtype(dtype).name  # inf / nan once A_t = 0
        for method in ("log", "doubling"):
            err = np.abs(linear_scan(a, b, h0, method) - want).max()
            assert err < TOL[dtype], (method, np.dtype(dtype).name, err)


def test_cumprod_overflows_when_a_is_large():
    """With a = 10, A_t passes 1e308 and overflows while h_t, started at 1e-300, is still tame."""
    T = 700
    a = np.full((1, T, 1), 10.0)
    b = np.zeros((1, T, 1))
    a[0, T // 2:] = 0.1  # h grows by 10^350 to 1e50, then shrinks back
    h0 = np.full((1, 1), 1e-300)
    want = oracle(a, b, h0)
    assert np.all(np.isfinite(want))
    assert not np.all(np.isfinite(linear_scan(a, b, h0, "cumprod")))
    np.testing.assert_allclose(linear_scan(a, b, h0, "log"), want, rtol=1e-10)


def test_empty_sequence():
    a = np.zeros((2, 0, 3))
    assert linear_scan(a, a.copy(), np.zeros((2, 3))).shape == (2, 0, 3)


def test_methods_listed_in_docstring():
    for method in METHODS:
        assert f'"{method}"' in linear_scan.__doc__


@pytest.mark.parametrize("args, kwargs, match, error", [
    ((np.ones((2, 3, 4)), np.ones((2, 3, 4)), np.ones((2, 4))), {"method": "blelloch"},
     "method: expected one of", ValueError),
    ((np.ones((2, 3)), np.ones((2, 3, 4)), np.ones((2, 4))), {}, r"^a: expected 3-D", ValueError),
    ((np.ones((2, 3, 4)), np.ones((2, 5, 4)), np.ones((2, 4))), {}, r"^b: expected shape",
     ValueError),
    ((np.ones((2, 3, 4)), np.ones((2, 3, 4)), np.ones((3, 4))), {}, r"^h0: expected shape",
     ValueError),
    ((np.ones((2, 3, 4)), np.ones((2, 3, 4), np.float32), np.ones((2, 4))), {},
     r"^b: expected dtype float64", TypeError),
    ((np.ones((2, 3, 4), int), np.ones((2, 3, 4)), np.ones((2, 4))), {}, r"^a: expected a float",
     TypeError),
    ((np.zeros((2, 3, 4)), np.ones((2, 3, 4)), np.ones((2, 4))), {"method": "log"},
     r"^a: method='log' needs nonzero", ValueError),
    ((np.ones((2, 3, 4)), np.full((2, 3, 4), np.nan), np.ones((2, 4))), {},
     r"^b: expected finite", ValueError),
])
def test_bad_input_names_the_argument(args, kwargs, match, error):
    with pytest.raises(error, match=match):
        linear_scan(*args, **kwargs)
