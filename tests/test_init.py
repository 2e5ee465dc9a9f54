"""rnnkit.init: orthogonality, Xavier's variance formulas, the forget bias, the parameter dict."""

import numpy as np
import pytest

from rnnkit.init import init_rnn_params, lstm_forget_bias, orthogonal, xavier_normal, xavier_uniform


@pytest.mark.parametrize("shape", [(1, 1), (5, 5), (8, 3), (3, 8), (64, 64)])
@pytest.mark.parametrize("gain", [1.0, 0.5])
def test_orthogonal_is_orthogonal(shape, gain):
    Q = orthogonal(shape, np.random.default_rng(0), gain=gain)
    assert Q.shape == shape
    rows, cols = shape
    gram = Q.T @ Q if rows >= cols else Q @ Q.T  # orthonormal columns (tall) or rows (wide)
    np.testing.assert_allclose(gram, gain**2 * np.eye(min(shape)), atol=1e-12)


def test_orthogonal_is_uniform_thanks_to_the_sign_fix():
    # For a uniformly random 3x3 orthogonal matrix each entry has mean 0 and variance 1/3.
    # Without the sign fix, LAPACK's Householder QR makes Q[0, 0] negative every time.
    rng = np.random.default_rng(1)
    Qs = np.stack([orthogonal((3, 3), rng) for _ in range(600)])
    assert np.all(np.abs(Qs.mean(axis=0)) < 0.12)  # about 5 standard errors (0.024)
    np.testing.assert_allclose((Qs**2).mean(axis=0), 1 / 3, atol=0.06)


def test_xavier_uniform_bound_and_variance():
    fan_in, fan_out = 200, 300
    W = xavier_uniform((fan_in, fan_out), np.random.default_rng(2))
    bound = np.sqrt(6 / (fan_in + fan_out))
    assert np.abs(W).max() <= bound and np.abs(W).max() > 0.99 * bound
    assert W.var() == pytest.approx(2 / (fan_in + fan_out), rel=0.03)
    assert abs(W.mean()) < 0.002


def test_xavier_normal_variance():
    fan_in, fan_out = 300, 100
    W = xavier_normal((fan_in, fan_out), np.random.default_rng(3), gain=2.0)
    assert W.var() == pytest.approx(4 * 2 / (fan_in + fan_out), rel=0.03)
    assert abs(W.mean()) < 0.003


def test_same_seed_same_weights_and_dtype():
    a = init_rnn_params(3, 4, 4, np.random.default_rng(5), dtype=np.float32)
    b = init_rnn_params(3, 4, 4, np.random.default_rng(5), dtype=np.float32)
    c = init_rnn_params(3, 4, 4, np.random.default_rng(6), dtype=np.float32)
    for k in ("Wx", "Wh"):
        assert a[k].dtype == np.float32
        np.testing.assert_array_equal(a[k], b[k])
        assert not np.allclose(a[k], c[k])


@pytest.mark.parametrize("gates", [1, 3, 4])
def test_init_rnn_params(gates):
    D, H = 5, 6
    p = init_rnn_params(D, H, gates, np.random.default_rng(7))
    assert p["Wx"].shape == (D, gates * H)
    assert p["Wh"].shape == (H, gates * H)
    assert p["b"].shape == (gates * H,) and not p["b"].any()
    bound = np.sqrt(6 / (D + H))  # Xavier per gate block: fans (D, H)
    assert np.abs(p["Wx"]).max() <= bound
    for k in range(gates):
        block = p["Wh"][:, k * H : (k + 1) * H]
        np.testing.assert_allclose(block.T @ block, np.eye(H), atol=1e-12)
    if gates > 1:  # independent blocks, not one matrix repeated
        assert not np.allclose(p["Wh"][:, :H], p["Wh"][:, H : 2 * H])


def test_lstm_forget_bias_sets_only_the_f_block():
    H = 3
    b = np.arange(4.0 * H)
    out = lstm_forget_bias(b, H, value=2.5)
    np.testing.assert_array_equal(b, np.arange(4.0 * H))  # input untouched
    np.testing.assert_array_equal(out[H : 2 * H], [2.5] * H)
    np.testing.assert_array_equal(np.delete(out, np.s_[H : 2 * H]), np.delete(b, np.s_[H : 2 * H]))
    with pytest.raises(ValueError, match=r"b: expected shape \(4H\) = \(12\), got \(8,\)"):
        lstm_forget_bias(np.zeros(8), H)


def test_bad_arguments():
    with pytest.raises(TypeError, match=r"rng: expected a np.random.Generator .*got int"):
        xavier_uniform((2, 3), 0)
    with pytest.raises(
        ValueError, match=r"shape: expected two positive ints \(fan_in, fan_out\), got \(2, 3, 4\)"
    ):
        orthogonal((2, 3, 4), np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"H: expected a positive int, got 0"):
        init_rnn_params(3, 0, 1, np.random.default_rng(0))
    with pytest.raises(
        TypeError, match=r"dtype: expected a float dtype such as np.float32, got int32"
    ):
        init_rnn_params(3, 2, 1, np.random.default_rng(0), dtype=np.int32)
