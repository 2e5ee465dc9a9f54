"""rnnkit.compose.masked: a padded batch gives what its sequences give one by one."""

import numpy as np
import pytest

from rnnkit.cells import CELLS
from rnnkit.compose.masked import masked_backward, masked_forward
from rnnkit.gradcheck import check_backward

LENGTHS = (4, 2, 1)


def setup(rng, name, D=3, H=4):
    spec = CELLS[name]
    sizes = {"D": D, "H": H}
    params = tuple(0.5 * rng.standard_normal(
        tuple(sizes[c] * (G if k == len(letters) - 1 else 1) for k, c in enumerate(letters)))
        for _, letters, G in spec.params)
    N, T = len(LENGTHS), max(LENGTHS)
    x = rng.standard_normal((N, T, D))
    mask = np.arange(T) < np.array(LENGTHS)[:, None]
    state0 = tuple(rng.standard_normal((N, H)) for _ in spec.states)
    return spec, x, mask, state0, params


@pytest.mark.parametrize("name", ["rnn", "lstm", "gru"])
def test_padded_batch_equals_one_by_one(rng, name):
    spec, x, mask, state0, params = setup(rng, name)
    h, state_n, cache = masked_forward(name, x, mask, state0, params)
    dh = rng.standard_normal(h.shape) * mask[:, :, None]  # no loss reads the padding
    dstate_n = tuple(rng.standard_normal(s.shape) for s in state_n)
    dx, dstate0, dparams = masked_backward(dh, dstate_n, cache)
    total = [np.zeros_like(p) for p in params]
    for n, L in enumerate(LENGTHS):
        one = spec.forward(x[n : n + 1, :L], *(s[n : n + 1] for s in state0), *params)
        np.testing.assert_allclose(h[n, :L], one[0][0], rtol=1e-12)
        assert np.all(h[n, L:] == h[n, L - 1])  # the state is frozen after the end
        finals = (one[0][:, -1],) + tuple(o for o in one[1:-1])
        for got, want in zip(state_n, finals, strict=True):
            np.testing.assert_allclose(got[n], want[0], rtol=1e-12)
        # upstream: dh plus, at the last real step, the final state's gradient
        dh_one = dh[n : n + 1, :L].copy()
        dh_one[0, -1] += dstate_n[0][n]
        douts = (dh_one,) + tuple(d[n : n + 1] for d in dstate_n[1:])
        grads = spec.backward(*douts, one[-1])
        np.testing.assert_allclose(dx[n, :L], grads[0][0], rtol=1e-10, atol=1e-12)
        assert np.all(dx[n, L:] == 0)
        k = len(spec.states)
        for got, want in zip(dstate0, grads[1 : 1 + k], strict=True):
            np.testing.assert_allclose(got[n], want[0], rtol=1e-10, atol=1e-12)
        total = [a + b for a, b in zip(total, grads[1 + k :], strict=True)]
    for got, want in zip(dparams, total, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_finite_differences(rng):
    spec, x, mask, state0, params = setup(rng, "lstm", D=2, H=3)

    def forward(x, h0, c0, Wx, Wh, b, mask=mask):
        h, state_n, cache = masked_forward("lstm", x, mask, (h0, c0), (Wx, Wh, b))
        return h, state_n[1], cache

    def backward(dh, dc_n, cache):
        dx, (dh0, dc0), dparams = masked_backward(dh, (None, dc_n), cache)
        return (dx, dh0, dc0, *dparams)

    errors = check_backward(forward, backward, [x, *state0, *params])
    assert max(errors.values()) < 1e-6, errors


def test_bad_mask(rng):
    _, x, mask, state0, params = setup(rng, "rnn")
    bad = mask.copy()
    bad[0, 1] = False  # a hole in the middle
    with pytest.raises(ValueError, match="mask"):
        masked_forward("rnn", x, bad, state0, params)
