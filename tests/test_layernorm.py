"""rnnkit.layernorm, the op: finite differences and bad input (parity with torch: test_torch_*)."""

import numpy as np
import pytest

from rnnkit.gradcheck import check_backward
from rnnkit.layernorm import layernorm_backward, layernorm_forward

N, T, H = 3, 5, 6


@pytest.mark.parametrize("shape", [(N, H), (N, T, H)])
def test_layernorm_backward_matches_finite_differences(shape, rng):
    x = rng.standard_normal(shape) * 2 + 1
    gamma, beta = 1 + rng.standard_normal(H) * 0.3, rng.standard_normal(H)
    errors = check_backward(layernorm_forward, layernorm_backward, [x, gamma, beta])
    assert list(errors) == ["x", "gamma", "beta"]
    assert max(errors.values()) < 1e-7, errors


def test_each_row_is_standardised(rng):
    x = rng.standard_normal((N, T, H)) * 3 - 1
    out, _ = layernorm_forward(x, np.ones(H), np.zeros(H), eps=0.0)
    np.testing.assert_allclose(out.mean(axis=-1), 0, atol=1e-14)
    np.testing.assert_allclose(out.std(axis=-1), 1, rtol=1e-13)


def test_bad_inputs_name_the_argument(rng):
    h = rng.standard_normal((N, H))
    gamma, beta = np.ones(H), np.zeros(H)
    with pytest.raises(ValueError, match=r"gamma: expected shape \(H\) = \(6\).*got \(5,\)"):
        layernorm_forward(h, gamma[:5], beta)
    with pytest.raises(TypeError, match=r"beta: expected dtype float64 \(the dtype of x\)"):
        layernorm_forward(h, gamma, beta.astype(np.float32))
    with pytest.raises(TypeError, match=r"x: expected a floating dtype"):
        layernorm_forward(np.ones((2, H), dtype=int), gamma, beta)
    _, cache = layernorm_forward(h[:, :4], np.ones(4), np.zeros(4))
    with pytest.raises(ValueError, match=r"dout: expected the forward output's shape \(3, 4\)"):
        layernorm_backward(np.ones((3, 5)), cache)
