"""Attention: NumPy backward against finite differences, the torch twins against NumPy."""

import numpy as np
import pytest

from rnnkit.compose.attention import (
    additive_attention_backward,
    additive_attention_forward,
    masked_softmax,
    multiplicative_attention_backward,
    multiplicative_attention_forward,
)
from rnnkit.gradcheck import check_backward

N, S, HQ, HK, A = 3, 5, 4, 6, 7


def inputs(rng, kind):
    q, keys = rng.standard_normal((N, HQ)), rng.standard_normal((N, S, HK))
    mask = np.ones((N, S), dtype=bool)
    mask[1, 3:] = False  # a padded sequence
    if kind == "additive":
        return [q, keys, mask, rng.standard_normal((HQ, A)), rng.standard_normal((HK, A)),
                rng.standard_normal(A)]
    return [q, keys, mask, 0.5 * rng.standard_normal((HQ, HK))]


FUNCS = {"additive": (additive_attention_forward, additive_attention_backward),
         "multiplicative": (multiplicative_attention_forward, multiplicative_attention_backward)}


@pytest.mark.parametrize("kind", FUNCS)
def test_backward_matches_finite_differences(rng, kind):
    forward, backward = FUNCS[kind]
    args = inputs(rng, kind)
    errors = check_backward(forward, backward, args)
    assert max(errors.values()) < 1e-6, errors
    # padding gets no weight and no gradient
    context, a, cache = forward(*args)
    assert np.all(a[1, 3:] == 0) and np.allclose(a.sum(axis=1), 1)
    dkeys = backward(np.ones_like(context), np.ones_like(a), cache)[1]
    assert np.all(dkeys[1, 3:] == 0)


@pytest.mark.parametrize("kind", FUNCS)
def test_padding_changes_nothing(rng, kind):
    forward, _ = FUNCS[kind]
    args = inputs(rng, kind)
    args[2] = np.ones((N, S), dtype=bool)
    args[2][:, 3:] = False
    short = list(args)
    short[1], short[2] = args[1][:, :3], args[2][:, :3]
    long_c, long_a, _ = forward(*args)
    short_c, short_a, _ = forward(*short)
    np.testing.assert_allclose(long_c, short_c, rtol=1e-13)
    np.testing.assert_allclose(long_a[:, :3], short_a, rtol=1e-13)


def test_bad_inputs_name_the_argument(rng):
    args = inputs(rng, "additive")
    with pytest.raises(ValueError, match="q"):
        additive_attention_forward(args[0][:, :2], *args[1:])
    with pytest.raises(ValueError, match="mask"):
        additive_attention_forward(args[0], args[1], args[2].astype(int), *args[3:])
    with pytest.raises(ValueError, match="mask"):
        masked_softmax(np.zeros((1, 2)), np.zeros((1, 2), dtype=bool))


@pytest.mark.parametrize("kind", FUNCS)
def test_torch_twin_matches_numpy(rng, kind):
    torch = pytest.importorskip("torch")
    from rnnkit.torch.compose.attention import AdditiveAttention, MultiplicativeAttention

    forward, backward = FUNCS[kind]
    args = inputs(rng, kind)
    if kind == "additive":
        mod = AdditiveAttention(HQ, HK, A, dtype=torch.float64)
        names = ("Wq", "Wk", "v")
    else:
        mod = MultiplicativeAttention(HQ, HK, dtype=torch.float64)
        names = ("W",)
    with torch.no_grad():
        for name, value in zip(names, args[3:], strict=True):
            getattr(mod, name).copy_(torch.from_numpy(value))
    q = torch.tensor(args[0], requires_grad=True)
    keys = torch.tensor(args[1], requires_grad=True)
    context, a = mod(q, keys, torch.from_numpy(args[2]))
    c_np, a_np, cache = forward(*args)
    np.testing.assert_allclose(context.detach().numpy(), c_np, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(a.detach().numpy(), a_np, rtol=1e-12, atol=1e-14)
    dc, da = rng.standard_normal(c_np.shape), rng.standard_normal(a_np.shape)
    ((context * torch.from_numpy(dc)).sum() + (a * torch.from_numpy(da)).sum()).backward()
    grads = backward(dc, da, cache)
    got = [q.grad, keys.grad] + [getattr(mod, n).grad for n in names]
    want = [grads[0], grads[1], *grads[3:]]
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g.numpy(), w, rtol=1e-10, atol=1e-12)
