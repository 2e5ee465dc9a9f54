"""The two helper modules everything else relies on: rnnkit._checks and rnnkit.gradcheck."""

import numpy as np
import pytest

from rnnkit._checks import check_float, check_labels, check_shape, check_upstream, dims_from
from rnnkit.gradcheck import argument_names, check_backward, numerical_gradient, rel_error

# ---------------------------------------------------------------------------------------- _checks


def test_check_float_accepts_floats_and_returns_the_same_object():
    for dtype in (np.float16, np.float32, np.float64):
        x = np.zeros(3, dtype=dtype)
        assert check_float("x", x) is x
    x = np.array([np.nan])
    assert check_float("x", x, allow_nan=True) is x


def test_check_float_rejects():
    with pytest.raises(TypeError, match=r"x: expected a NumPy float array, got list"):
        check_float("x", [1.0])
    with pytest.raises(TypeError, match=r"Wx: expected a floating dtype .*got int32"):
        check_float("Wx", np.zeros(2, dtype=np.int32))
    with pytest.raises(TypeError, match=r"m: expected a floating dtype .*got bool"):
        check_float("m", np.zeros(2, dtype=bool))
    with pytest.raises(ValueError, match=r"h: expected finite values, got 2 NaN or inf entries"):
        check_float("h", np.array([0.0, np.inf, -np.nan]))


def test_check_shape_binds_then_enforces():
    dims = {}
    check_shape("x", np.zeros((2, 5, 3)), "NTD", dims)
    assert dims == {"N": 2, "T": 5, "D": 3}
    check_shape("h0", np.zeros((2, 4)), "NH", dims)
    assert dims["H"] == 4
    with pytest.raises(
        ValueError,
        match=r"h: expected shape \(N, T, H\) = \(2, 5, 4\) .*got \(5, 2, 4\); axis 0 \(N\) "
        r"should be 2",
    ):
        check_shape("h", np.zeros((5, 2, 4)), "NTH", dims)
    with pytest.raises(
        ValueError, match=r"b: expected 1-D array of shape \(H\), got 2-D shape \(1, 4\)"
    ):
        check_shape("b", np.zeros((1, 4)), "H", dims)


def test_dims_from_gated_parameters():
    dims = {"D": 3}
    dims_from("Wx", np.zeros((3, 8)), "DH", dims, gates=4)
    assert dims["H"] == 2
    dims_from("b", np.zeros(8), "H", dims, gates=4)
    with pytest.raises(ValueError, match=r"Wh: expected shape \(H, 4H\) = \(2, 8\), got \(2, 12\)"):
        dims_from("Wh", np.zeros((2, 12)), "HH", dims, gates=4)
    with pytest.raises(ValueError, match=r"Wx: expected shape \(D, 3H\), got \(3, 8\)"):
        dims_from("Wx", np.zeros((3, 8)), "DH", {}, gates=3)  # 8 is not a multiple of 3


def test_sizes_are_quoted_with_the_argument_they_came_from():
    dims, sources = {}, {}
    dims_from("Wh", np.zeros((5, 20)), "HH", dims, gates=4, sources=sources)
    assert sources == {"H": "Wh"}
    with pytest.raises(ValueError, match=r"Wx: expected shape \(D, 4H\) = \(\?, 20\) "
                       r"\(H=5 from Wh\), got \(20, 4\)$"):
        dims_from("Wx", np.zeros((20, 4)), "DH", dims, gates=4, sources=sources)
    check_shape("h0", np.zeros((2, 5)), "NH", dims, sources)
    assert sources == {"H": "Wh", "N": "h0"}
    # only the sizes that came from other arguments are quoted, not those x binds itself
    with pytest.raises(ValueError, match=r"x: expected shape \(N, T, H\) = \(2, 7, 5\) "
                       r"\(N=2 from h0, H=5 from Wh\), got \(2, 7, 4\); axis 2 \(H\)"):
        check_shape("x", np.zeros((2, 7, 4)), "NTH", dims, sources)


def test_check_upstream():
    out = np.zeros((2, 3), dtype=np.float32)
    d = np.ones((2, 3), dtype=np.float32)
    assert check_upstream("dh", d, out, "NH") is d
    zeros = check_upstream("dh", None, out, "NH")  # None: nothing flows into this output
    assert zeros.shape == (2, 3) and zeros.dtype == np.float32 and not zeros.any()
    with pytest.raises(ValueError, match=r"dh: expected shape \(N, H\) = \(2, 3\) "
                       r"\(from N=2, H=3\), got \(3, 2\); axis 0 \(N\) should be 2"):
        check_upstream("dh", d.T.copy(), out, "NH")
    with pytest.raises(TypeError, match=r"dh: expected dtype float32 \(the forward's\), "
                       r"got float64"):
        check_upstream("dh", d.astype(np.float64), out, "NH")
    with pytest.raises(TypeError, match=r"dh: expected a NumPy float array, got list"):
        check_upstream("dh", d.tolist(), out, "NH")
    with pytest.raises(ValueError, match=r"dh: expected finite values"):
        check_upstream("dh", np.full_like(d, np.inf), out, "NH")


def test_check_labels():
    dims = {"N": 2, "T": 2}
    y = np.array([[0, 4], [2, 1]])
    assert check_labels("y", y, 5, "NT", dims) is y
    with pytest.raises(
        ValueError, match=r"y: expected labels in \[0, 4\) \(V=4\), got values from 0 to 4"
    ):
        check_labels("y", y, 4, "NT", dims)
    with pytest.raises(TypeError, match=r"y: expected an integer array of labels, got float64"):
        check_labels("y", y.astype(float), 5, "NT", dims)
    with pytest.raises(ValueError, match=r"y: expected shape \(N, T\) = \(2, 2\).*got \(1, 4\)"):
        check_labels("y", y.reshape(1, 4), 5, "NT", dims)


# -------------------------------------------------------------------------------------- gradcheck


def test_rel_error_values():
    assert rel_error(np.ones(3), np.ones(3)) == 0.0
    assert rel_error(np.array([1.0, 2.0]), np.array([3.0, 2.0])) == pytest.approx(0.5)  # 2 / 4
    assert rel_error(np.array([0.0]), np.array([1e-10])) == pytest.approx(1e-2)  # floor 1e-8
    with pytest.raises(ValueError, match=r"rel_error: shapes differ, got \(2,\) and \(3,\)"):
        rel_error(np.ones(2), np.ones(3))


def test_numerical_gradient_of_known_functions():
    x = np.random.default_rng(0).standard_normal((3, 4))
    saved = x.copy()
    np.testing.assert_allclose(
        numerical_gradient(lambda z: np.sum(z**3), x), 3 * x**2, rtol=1e-8, atol=1e-9
    )
    df = np.random.default_rng(1).standard_normal((3, 4))
    np.testing.assert_allclose(
        numerical_gradient(np.sin, x, df), df * np.cos(x), rtol=1e-8, atol=1e-10
    )
    np.testing.assert_array_equal(x, saved)  # the point itself is never perturbed
    with pytest.raises(TypeError, match=r"x must be float64, got float32"):
        numerical_gradient(np.sin, x.astype(np.float32))


def _mul_forward(a, b):
    return a * b, (a, b)


def test_check_backward_accepts_right_and_catches_wrong_gradients():
    r = np.random.default_rng(2)
    a, b = r.standard_normal((2, 3)), r.standard_normal((2, 3))
    good = check_backward(_mul_forward, lambda d, c: (d * c[1], d * c[0]), [a, b])
    assert list(good) == ["a", "b"] and max(good.values()) < 1e-9  # keyed by argument name
    bad = check_backward(_mul_forward, lambda d, c: (d * c[1], 1.01 * d * c[0]), [a, b])
    assert bad["a"] < 1e-9 and bad["b"] > 1e-3  # the wrong slot, and only it, is flagged


def _two_outputs(a, b):  # (a * b, a + b), like a cell with states h and c
    return a * b, a + b, (a, b)


def test_check_backward_with_several_outputs():
    r = np.random.default_rng(4)
    a, b = r.standard_normal((2, 3)), r.standard_normal((2, 3))

    def backward(dp, ds, cache):
        a, b = cache
        return dp * b + ds, dp * a + ds

    assert max(check_backward(_two_outputs, backward, [a, b]).values()) < 1e-9
    dp, ds = r.standard_normal((2, 3)), r.standard_normal((2, 3))
    assert max(check_backward(_two_outputs, backward, [a, b], dout=(dp, ds)).values()) < 1e-9

    def forgets_the_second(dp, ds, cache):
        a, b = cache
        return dp * b, dp * a

    errors = check_backward(_two_outputs, forgets_the_second, [a, b])
    assert min(errors.values()) > 1e-3  # the term of the second output is checked too
    with pytest.raises(ValueError, match=r"forward returned 2 outputs before the cache, "
                       r"got 1 upstream gradients"):
        check_backward(_two_outputs, backward, [a, b], dout=dp)


def test_argument_names():
    def f(x, h0, *rest, eps=1.0):
        return x

    assert argument_names(f, 4) == ["x", "h0", "arg2", "arg3"]
    assert argument_names(lambda *a: a, 2) == ["arg0", "arg1"]
    assert argument_names(max, 2) == ["arg0", "arg1"]  # a builtin without a signature
    assert argument_names(_mul_forward, 2) == ["a", "b"]


def test_numerical_gradient_of_several_outputs():
    x = np.random.default_rng(5).standard_normal(4)
    d1, d2 = np.ones(4), 2 * np.ones(4)
    grad = numerical_gradient(lambda z: (z**2, np.sin(z)), x, (d1, d2))
    np.testing.assert_allclose(grad, 2 * x + 2 * np.cos(x), rtol=1e-8, atol=1e-10)


def test_check_backward_skips_integer_inputs_and_leaves_inputs_alone():
    r = np.random.default_rng(3)
    W = r.standard_normal((4, 2))
    idx = np.array([0, 3, 3])
    saved = W.copy()

    def forward(idx, W):
        return W[idx], (idx, W)

    def backward(dout, cache):
        idx, W = cache
        dW = np.zeros_like(W)
        np.add.at(dW, idx, dout)
        return None, dW

    errors = check_backward(forward, backward, [idx, W])
    assert list(errors) == ["W"] and errors["W"] < 1e-9
    np.testing.assert_array_equal(W, saved)
    with pytest.raises(TypeError, match=r"input 1 \(W\) must be float64, got float32"):
        check_backward(forward, backward, [idx, W.astype(np.float32)])
