"""The two helper modules everything else relies on: rnnkit._checks and rnnkit.gradcheck."""

import numpy as np
import pytest

from rnnkit._checks import check_float, check_labels, check_shape, dims_from
from rnnkit.gradcheck import check_backward, numerical_gradient, rel_error

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
    assert sorted(good) == [0, 1] and max(good.values()) < 1e-9
    bad = check_backward(_mul_forward, lambda d, c: (d * c[1], 1.01 * d * c[0]), [a, b])
    assert bad[0] < 1e-9 and bad[1] > 1e-3  # the wrong slot, and only it, is flagged


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
    assert list(errors) == [1] and errors[1] < 1e-9
    np.testing.assert_array_equal(W, saved)
    with pytest.raises(TypeError, match=r"input 1 must be float64, got float32"):
        check_backward(forward, backward, [idx, W.astype(np.float32)])
