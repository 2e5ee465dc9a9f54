"""rnnkit.layers against finite differences, SciPy, and torch in float64."""

import numpy as np
import pytest
from scipy import special

from rnnkit.gradcheck import check_backward
from rnnkit.layers import (
    affine_backward,
    affine_forward,
    log_softmax,
    sigmoid,
    softmax,
    temporal_affine_backward,
    temporal_affine_forward,
    temporal_softmax_loss,
    word_embedding_backward,
    word_embedding_forward,
)

SHAPES = [(1, 1, 1, 1), (2, 3, 4, 5), (3, 1, 5, 2), (1, 4, 2, 7)]  # (N, T, D|H, V)


def rng(seed=0):
    return np.random.default_rng(seed)


# ------------------------------------------------------------------ backward vs finite differences


@pytest.mark.parametrize("N,T,D,H", SHAPES)
def test_affine_backward(N, T, D, H):
    r = rng(N * 100 + D)
    inputs = [r.standard_normal((N, D)), r.standard_normal((D, H)), r.standard_normal(H)]
    errors = check_backward(affine_forward, affine_backward, inputs)
    assert list(errors) == ["x", "w", "b"]
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize("N,T,H,V", SHAPES)
def test_temporal_affine_backward(N, T, H, V):
    r = rng(N * 100 + T)
    inputs = [r.standard_normal((N, T, H)), r.standard_normal((H, V)), r.standard_normal(V)]
    errors = check_backward(temporal_affine_forward, temporal_affine_backward, inputs)
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize("N,T,D,V", SHAPES)
def test_word_embedding_backward_with_repeated_words(N, T, D, V):
    r = rng(T)
    x = r.integers(0, V, size=(N, T))
    x.flat[-1] = x.flat[0]  # at least one repeat when N*T > 1: np.add.at must accumulate it
    W = r.standard_normal((V, D))
    errors = check_backward(lambda W: word_embedding_forward(x, W), word_embedding_backward, [W])
    assert errors["W"] < 1e-7


def test_word_embedding_forward_is_a_row_lookup():
    W = np.arange(12.0).reshape(4, 3)
    out, cache = word_embedding_forward(np.array([[3, 0], [3, 3]]), W)
    np.testing.assert_array_equal(out[1, 0], [9.0, 10.0, 11.0])
    dW = word_embedding_backward(np.ones((2, 2, 3)), cache)
    np.testing.assert_array_equal(dW[:, 0], [1.0, 0.0, 0.0, 3.0])  # word 3 occurs three times


@pytest.mark.parametrize("N,T,D,V", SHAPES)
@pytest.mark.parametrize("use_mask", [False, True])
def test_temporal_softmax_loss_gradient(N, T, D, V, use_mask):
    r = rng(V + T)
    scores = r.standard_normal((N, T, V))
    y = r.integers(0, V, size=(N, T))
    mask = r.random((N, T)) < 0.6 if use_mask else None
    errors = check_backward(
        lambda s: temporal_softmax_loss(s, y, mask),  # "cache" is dscores
        lambda dloss, dscores: dloss * dscores,
        [scores],
    )
    assert errors["s"] < 1e-7


# ------------------------------------------------------------------------- against torch / SciPy


@pytest.mark.parametrize("mask_kind", [None, "bool", "int"])
def test_temporal_softmax_loss_matches_torch_cross_entropy(mask_kind):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    N, T, V = 4, 5, 7
    r = rng(3)
    scores = 3 * r.standard_normal((N, T, V))
    y = r.integers(0, V, size=(N, T))
    mask = None if mask_kind is None else r.random((N, T)) < 0.5
    if mask is not None:
        mask[0, 0] = False
    if mask_kind == "int":
        mask = mask.astype(np.int64)
    loss, dscores = temporal_softmax_loss(scores, y, mask)

    s = torch.tensor(scores, requires_grad=True)
    per_step = F.cross_entropy(
        s.reshape(N * T, V), torch.tensor(y).reshape(N * T), reduction="none"
    )
    m = torch.ones(N * T, dtype=torch.float64) if mask is None else torch.tensor(mask).reshape(-1)
    loss_t = (per_step * m).sum() / N
    loss_t.backward()
    assert loss == pytest.approx(loss_t.item(), rel=1e-12)
    np.testing.assert_allclose(dscores, s.grad.numpy(), rtol=1e-10, atol=1e-14)
    if mask is not None:  # masked steps pass no gradient at all
        assert np.all(dscores[~mask.astype(bool)] == 0)


def test_sigmoid_softmax_log_softmax_match_scipy():
    x = 5 * rng(1).standard_normal((3, 4, 6))
    np.testing.assert_allclose(sigmoid(x), special.expit(x), rtol=1e-14)
    for axis in (-1, 0, 1):
        np.testing.assert_allclose(softmax(x, axis=axis), special.softmax(x, axis=axis), rtol=1e-13)
        np.testing.assert_allclose(
            log_softmax(x, axis=axis), special.log_softmax(x, axis=axis), rtol=1e-13, atol=1e-14
        )


# ---------------------------------------------------------------------------------- stable math


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_stable_at_magnitude_1e3(dtype):
    x = np.array([[-1e3, -50.0, 0.0, 50.0, 1e3]], dtype=dtype)
    with np.errstate(all="raise"):  # any overflow, underflow or invalid operation escaping fails
        s = sigmoid(x)
        p = softmax(x)
        lp = log_softmax(x)
        loss, dscores = temporal_softmax_loss(x[None], np.array([[0]]))
    for out in (s, p, lp, dscores):
        assert out.dtype == dtype and np.all(np.isfinite(out))
    np.testing.assert_array_equal(s[0, [0, 2, 4]], [0.0, 0.5, 1.0])  # the limits
    np.testing.assert_allclose(p, [[0, 0, 0, 0, 1]], atol=1e-30)
    np.testing.assert_allclose(lp, [[-2e3, -1050, -1e3, -950, 0]], rtol=1e-6)
    assert loss == pytest.approx(2e3)  # the target has score -1e3, the winner +1e3
    np.testing.assert_allclose(dscores, [[[-1, 0, 0, 0, 1]]], atol=1e-30)


def test_softmax_is_shift_invariant_far_from_zero():
    x = rng(2).standard_normal((2, 5))
    np.testing.assert_allclose(softmax(x + 1e3), softmax(x), rtol=1e-12)
    np.testing.assert_allclose(softmax(x - 1e3), softmax(x), rtol=1e-12)


def test_float32_in_float32_out():
    r = rng(4)
    x = r.standard_normal((2, 3, 4)).astype(np.float32)
    w = r.standard_normal((4, 5)).astype(np.float32)
    b = np.zeros(5, np.float32)
    out, cache = temporal_affine_forward(x, w, b)
    assert out.dtype == np.float32
    assert all(g.dtype == np.float32 for g in temporal_affine_backward(np.ones_like(out), cache))
    _, dscores = temporal_softmax_loss(out, np.zeros((2, 3), dtype=np.int64))
    assert dscores.dtype == np.float32
    assert sigmoid(x).dtype == np.float32


def test_backward_does_not_mutate_its_inputs():
    r = rng(5)
    x, w, b = r.standard_normal((2, 3, 4)), r.standard_normal((4, 5)), r.standard_normal(5)
    out, cache = temporal_affine_forward(x, w, b)
    dout = r.standard_normal(out.shape)
    saved = [a.copy() for a in (x, w, b, dout)]
    temporal_affine_backward(dout, cache)
    for before, after in zip(saved, (x, w, b, dout), strict=True):
        np.testing.assert_array_equal(before, after)


# ------------------------------------------------------------------------------------ bad input


def test_wrong_shape_names_argument_expected_and_received():
    x, w, b = np.zeros((2, 3)), np.zeros((4, 5)), np.zeros(5)
    with pytest.raises(ValueError, match=r"w: expected shape \(D, H\) = \(3, \?\).*got \(4, 5\)"):
        affine_forward(x, w, b)
    with pytest.raises(
        ValueError, match=r"x: expected 3-D array of shape \(N, T, H\), got 2-D shape \(2, 3\)"
    ):
        temporal_affine_forward(x, np.zeros((3, 5)), b)
    with pytest.raises(ValueError, match=r"y: expected shape \(N, T\) = \(2, 3\).*got \(3, 2\)"):
        temporal_softmax_loss(np.zeros((2, 3, 4)), np.zeros((3, 2), dtype=int))
    with pytest.raises(ValueError, match=r"mask: expected shape \(N, T\) = \(2, 3\).*got \(2, 4\)"):
        temporal_softmax_loss(
            np.zeros((2, 3, 4)), np.zeros((2, 3), dtype=int), np.ones((2, 4), bool)
        )
    out, cache = affine_forward(np.zeros((2, 3)), np.zeros((3, 5)), np.zeros(5))
    with pytest.raises(
        ValueError, match=r"dout: expected the forward output's shape \(2, 5\), got \(5, 2\)"
    ):
        affine_backward(np.zeros((5, 2)), cache)


def test_int_where_float_needed():
    with pytest.raises(TypeError, match=r"x: expected a floating dtype .*got int64"):
        affine_forward(np.zeros((2, 3), dtype=np.int64), np.zeros((3, 5)), np.zeros(5))
    with pytest.raises(TypeError, match=r"scores: expected a floating dtype .*got int64"):
        temporal_softmax_loss(np.zeros((2, 3, 4), dtype=np.int64), np.zeros((2, 3), dtype=int))
    with pytest.raises(
        TypeError, match=r"w: expected dtype float64 \(the dtype of x\), got float32"
    ):
        affine_forward(np.zeros((2, 3)), np.zeros((3, 5), np.float32), np.zeros(5))
    with pytest.raises(TypeError, match=r"x: expected an integer array of labels, got float64"):
        word_embedding_forward(np.zeros((2, 3)), np.zeros((4, 5)))


def test_nan_input():
    scores = np.zeros((2, 3, 4))
    scores[1, 2, 0] = np.nan
    with pytest.raises(ValueError, match=r"scores: expected finite values, got 1 NaN or inf"):
        temporal_softmax_loss(scores, np.zeros((2, 3), dtype=int))
    W = np.zeros((4, 5))
    W[0, 0] = np.inf
    with pytest.raises(ValueError, match=r"W: expected finite values"):
        word_embedding_forward(np.zeros((2, 3), dtype=int), W)


def test_labels_out_of_range():
    y = np.array([[0, 1, 4]])
    with pytest.raises(
        ValueError, match=r"y: expected labels in \[0, 4\) \(V=4\), got values from 0 to 4"
    ):
        temporal_softmax_loss(np.zeros((1, 3, 4)), y)
    with pytest.raises(
        ValueError, match=r"x: expected labels in \[0, 6\) \(V=6\), got values from -1 to 2"
    ):
        word_embedding_forward(np.array([[-1, 2]]), np.zeros((6, 3)))
    with pytest.raises(ValueError, match=r"mask: expected bool or 0/1 entries"):
        temporal_softmax_loss(np.zeros((1, 3, 4)), np.zeros((1, 3), dtype=int), np.full((1, 3), 2))
