"""rnnkit.optim: two steps worked out by hand, then torch.optim and torch's clipping in float64."""

from math import sqrt

import numpy as np
import pytest

from rnnkit.optim import SGD, Adagrad, Adam, Momentum, RMSProp, clip_grad_norm, clip_grad_value

P0 = [1.0, -2.0]
G1 = [0.5, -1.0]
G2 = [0.25, 2.0]


def two_steps(opt):
    params = {"w": np.array(P0)}
    opt.step(params, {"w": np.array(G1)})
    opt.step(params, {"w": np.array(G2)})
    return params["w"]


# Each expected value below is the update rule expanded by hand for p0 = [1, -2],
# g1 = [0.5, -1], g2 = [0.25, 2].


def test_sgd_by_hand():
    # p1 = p0 - 0.1 g1 = [0.95, -1.9]; p2 = p1 - 0.1 g2
    np.testing.assert_allclose(two_steps(SGD(lr=0.1)), [0.925, -2.1], rtol=1e-15)


def test_momentum_by_hand():
    # v1 = g1, p1 = [0.95, -1.9]; v2 = 0.9 v1 + g2 = [0.7, 1.1]; p2 = p1 - 0.1 v2
    np.testing.assert_allclose(two_steps(Momentum(lr=0.1, momentum=0.9)), [0.88, -2.01], rtol=1e-14)


def test_nesterov_by_hand():
    # v1 = g1; p1 = p0 - 0.1 (g1 + 0.9 v1) = [1 - 0.095, -2 + 0.19]
    # v2 = [0.7, 1.1]; p2 = p1 - 0.1 (g2 + 0.9 v2) = p1 - 0.1 [0.88, 2.99]
    got = two_steps(Momentum(lr=0.1, momentum=0.9, nesterov=True))
    np.testing.assert_allclose(got, [0.905 - 0.088, -1.81 - 0.299], rtol=1e-14)


def test_adagrad_by_hand():
    # G1 = [0.25, 1]: p1 = p0 - 0.1 g1 / sqrt(G1) = [0.9, -1.9]
    # G2 = [0.3125, 5]: p2 = p1 - 0.1 g2 / sqrt(G2)
    want = [0.9 - 0.1 * 0.25 / sqrt(0.3125), -1.9 - 0.1 * 2 / sqrt(5)]
    np.testing.assert_allclose(two_steps(Adagrad(lr=0.1, eps=0.0)), want, rtol=1e-14)
    # eps sits outside the square root: with eps = 0.5 the first step is 0.1 * 0.5 / (0.5 + 0.5)
    np.testing.assert_allclose(
        two_steps(Adagrad(lr=0.1, eps=0.5))[0], 0.95 - 0.1 * 0.25 / (sqrt(0.3125) + 0.5)
    )


def test_rmsprop_by_hand():
    # rho = 0.9: v1 = 0.1 g1^2 = [0.025, 0.1]; p1 = p0 - 0.01 g1 / sqrt(v1)
    # v2 = 0.9 v1 + 0.1 g2^2 = [0.02875, 0.49]; p2 = p1 - 0.01 g2 / sqrt(v2)
    want = [
        1 - 0.01 * 0.5 / sqrt(0.025) - 0.01 * 0.25 / sqrt(0.02875),
        -2 + 0.01 / sqrt(0.1) - 0.01 * 2 / 0.7,
    ]
    np.testing.assert_allclose(
        two_steps(RMSProp(lr=0.01, decay_rate=0.9, eps=0.0)), want, rtol=1e-14
    )


def test_adam_by_hand():
    # step 1: m_hat = g1, v_hat = g1^2, so p1 = p0 - 0.1 sign(g1) = [0.9, -1.9]
    # step 2: m = 0.09 g1 + 0.1 g2 = [0.07, 0.11], m_hat = m / 0.19
    #         v = 0.000999 g1^2 + 0.001 g2^2 = [0.00031225, 0.004999], v_hat = v / 0.001999
    want = [
        0.9 - 0.1 * (0.07 / 0.19) / sqrt(0.00031225 / 0.001999),
        -1.9 - 0.1 * (0.11 / 0.19) / sqrt(0.004999 / 0.001999),
    ]
    np.testing.assert_allclose(two_steps(Adam(lr=0.1, eps=0.0)), want, rtol=1e-12)


def test_state_is_kept_per_parameter_name():
    opt = Adam(lr=0.1)
    a = {"u": np.array(P0), "w": np.array(P0)}
    opt.step(a, {"u": np.array(G1), "w": np.zeros(2)})
    opt.step({"w": a["w"]}, {"w": np.array(G1)})  # w's first real step: its own t = 2 here
    opt.step({"u": a["u"]}, {"u": np.array(G2)})
    assert opt.state["u"]["t"] == 2 and opt.state["w"]["t"] == 2
    np.testing.assert_allclose(a["u"], two_steps(Adam(lr=0.1)), rtol=1e-15)


# ------------------------------------------------------------------------------ vs torch.optim

CASES = [
    (SGD, dict(lr=0.1), "SGD", dict(lr=0.1)),
    (Momentum, dict(lr=0.05, momentum=0.9), "SGD", dict(lr=0.05, momentum=0.9)),
    (Momentum, dict(lr=0.05, momentum=0.8, nesterov=True), "SGD",
     dict(lr=0.05, momentum=0.8, nesterov=True)),
    (Adagrad, dict(), "Adagrad", dict()),
    (Adagrad, dict(lr=0.3, eps=1e-3), "Adagrad", dict(lr=0.3, eps=1e-3)),
    (RMSProp, dict(), "RMSprop", dict()),
    (RMSProp, dict(lr=0.02, decay_rate=0.9, eps=1e-4), "RMSprop",
     dict(lr=0.02, alpha=0.9, eps=1e-4)),
    (Adam, dict(), "Adam", dict()),
    (Adam, dict(lr=0.01, beta1=0.8, beta2=0.99, eps=1e-6), "Adam",
     dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6)),
]  # fmt: skip


@pytest.mark.parametrize("ours,kw,theirs,tkw", CASES)
def test_matches_torch_optim(ours, kw, theirs, tkw):
    torch = pytest.importorskip("torch")
    r = np.random.default_rng(0)
    params = {"Wx": r.standard_normal((3, 4)), "b": r.standard_normal(4)}
    tparams = [torch.tensor(params[k], requires_grad=True) for k in ("Wx", "b")]
    opt, topt = ours(**kw), getattr(torch.optim, theirs)(tparams, **tkw)
    for _ in range(6):
        grads = {"Wx": r.standard_normal((3, 4)), "b": r.standard_normal(4)}
        for tp, k in zip(tparams, ("Wx", "b"), strict=True):
            tp.grad = torch.tensor(grads[k])
        opt.step(params, grads)
        topt.step()
    for tp, k in zip(tparams, ("Wx", "b"), strict=True):
        np.testing.assert_allclose(params[k], tp.detach().numpy(), rtol=1e-12, atol=1e-14)


def test_step_updates_in_place_and_leaves_grads_alone():
    w = np.array(P0)
    g = np.array(G1)
    params = {"w": w}
    Adam(lr=0.1).step(params, {"w": g})
    assert params["w"] is w and not np.allclose(w, P0)
    np.testing.assert_array_equal(g, G1)


def test_float32_parameters_stay_float32():
    p = {"w": np.ones(3, np.float32)}
    Adam().step(p, {"w": np.ones(3, np.float32)})
    assert p["w"].dtype == np.float32


# ------------------------------------------------------------------------------------ clipping


@pytest.mark.parametrize("max_norm", [0.5, 1e3])  # below and above the norm (about 5.6)
@pytest.mark.parametrize("as_dict", [False, True])
def test_clip_grad_norm_matches_torch(max_norm, as_dict):
    torch = pytest.importorskip("torch")
    r = np.random.default_rng(1)
    arrays = [r.standard_normal((3, 4)), r.standard_normal(5), r.standard_normal((2, 2, 2))]
    tensors = [torch.tensor(a, requires_grad=True) for a in arrays]
    for t, a in zip(tensors, arrays, strict=True):
        t.grad = torch.tensor(a.copy())
    grads = {f"g{i}": a for i, a in enumerate(arrays)} if as_dict else arrays
    norm = clip_grad_norm(grads, max_norm)
    tnorm = torch.nn.utils.clip_grad_norm_(tensors, max_norm)
    assert norm == pytest.approx(tnorm.item(), rel=1e-14)
    assert (norm > max_norm) == (max_norm == 0.5)
    for a, t in zip(arrays, tensors, strict=True):  # clipped in place
        np.testing.assert_allclose(a, t.grad.numpy(), rtol=1e-14)
    after = np.sqrt(sum(np.sum(a * a) for a in arrays))
    assert after == pytest.approx(min(norm, max_norm), rel=1e-6)


def test_clip_grad_norm_returns_the_norm_before_clipping():
    g = [np.array([3.0, 4.0])]
    assert clip_grad_norm(g, 1.0) == pytest.approx(5.0)
    np.testing.assert_allclose(g[0], [3.0 / (5.0 + 1e-6), 4.0 / (5.0 + 1e-6)], rtol=1e-15)


@pytest.mark.parametrize("clip_value", [0.3, 1e3])
def test_clip_grad_value_matches_torch(clip_value):
    torch = pytest.importorskip("torch")
    r = np.random.default_rng(2)
    arrays = [r.standard_normal((3, 4)), r.standard_normal(5)]
    tensors = [torch.tensor(a, requires_grad=True) for a in arrays]
    for t, a in zip(tensors, arrays, strict=True):
        t.grad = torch.tensor(a.copy())
    clip_grad_value({"a": arrays[0], "b": arrays[1]}, clip_value)
    torch.nn.utils.clip_grad_value_(tensors, clip_value)
    for a, t in zip(arrays, tensors, strict=True):
        np.testing.assert_array_equal(a, t.grad.numpy())
    assert (np.abs(arrays[0]).max() == clip_value) == (clip_value == 0.3)


# ------------------------------------------------------------------------------------ bad args


@pytest.mark.parametrize(
    "make,match",
    [
        (lambda: SGD(lr=-0.1), r"lr: expected a value in \[0.0, inf\), got -0.1"),
        (lambda: Momentum(momentum=1.0), r"momentum: expected a value in \[0.0, 1.0\), got 1.0"),
        (lambda: RMSProp(decay_rate=-0.5), r"decay_rate: expected a value in \[0.0, 1.0\)"),
        (lambda: Adam(beta2=1.5), r"beta2: expected a value in \[0.0, 1.0\), got 1.5"),
        (lambda: Adagrad(eps=-1e-8), r"eps: expected a value in \[0.0, inf\)"),
        (lambda: clip_grad_norm([np.ones(2)], 0.0), r"max_norm: expected a value in \(0.0, inf\)"),
        (
            lambda: clip_grad_value([np.ones(2)], -1),
            r"clip_value: expected a value in \(0.0, inf\)",
        ),
    ],
)
def test_bad_hyperparameters_raise_value_error(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_bad_params_and_grads():
    p = {"Wx": np.zeros((3, 4)), "b": np.zeros(4)}
    with pytest.raises(TypeError, match=r"lr: expected a real number, got str"):
        SGD(lr="0.1")
    with pytest.raises(ValueError, match=r"grads: expected the keys of params; missing \['b'\]"):
        SGD().step(p, {"Wx": np.zeros((3, 4))})
    with pytest.raises(
        ValueError, match=r"grads\['b'\]: expected the shape of params\['b'\], \(4,\), got \(3,\)"
    ):
        SGD().step(p, {"Wx": np.zeros((3, 4)), "b": np.zeros(3)})
    with pytest.raises(TypeError, match=r"params\['b'\]: expected a floating dtype .*got int64"):
        SGD().step({"b": np.zeros(4, dtype=np.int64)}, {"b": np.zeros(4)})
    with pytest.raises(TypeError, match=r"grads: expected a dict or a list of arrays, got ndarray"):
        clip_grad_norm(np.ones(3), 1.0)
    with pytest.raises(TypeError, match=r"grads\[1\]: expected a NumPy float array, got list"):
        clip_grad_value([np.ones(2), [1.0, 2.0]], 1.0)
