"""Conversions between NumPy params, rnnkit.torch models and torch.nn modules.

What must be exact is tested with ``array_equal``: NumPy -> torch -> NumPy, and every
weight and bias sum of torch -> NumPy -> torch. How torch.nn splits a sum between its
two biases is not kept (rnnkit has one bias), which the last tests pin down.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from cell_inputs import random_layers  # noqa: E402

import rnnkit.torch as rt  # noqa: E402
from rnnkit.torch.layout import TORCH_NN  # noqa: E402

KINDS = ["rnn", "lstm", "gru"]
MODELS = {"rnn": rt.RNN, "lstm": rt.LSTM, "gru": rt.GRU}


def assert_same_layers(got, want):
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert set(g) == set(w)
        for name in w:
            assert g[name].dtype == w[name].dtype, name
            assert np.array_equal(g[name], w[name]), name


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("L", [1, 2])
@pytest.mark.parametrize("kind", KINDS)
def test_numpy_to_torch_nn_and_back_is_exact(kind, L, dtype):
    layers = random_layers(np.random.default_rng(0), kind, 3, 5, L, dtype)
    sd = rt.numpy_to_state_dict(kind, layers)
    torch_dtype = {np.float32: torch.float32, np.float64: torch.float64}[dtype]
    module = TORCH_NN[kind](3, 5, num_layers=L, batch_first=True, dtype=torch_dtype)
    module.load_state_dict(sd)  # strict: every key present, every shape right
    assert_same_layers(rt.state_dict_to_numpy(kind, module), layers)
    assert_same_layers(rt.state_dict_to_numpy(kind, sd), layers)


@pytest.mark.parametrize("L", [1, 2])
@pytest.mark.parametrize("kind", KINDS)
def test_numpy_to_model_and_back_is_exact(kind, L):
    layers = random_layers(np.random.default_rng(1), kind, 3, 5, L)
    model = MODELS[kind](3, 5, num_layers=L, dtype=torch.float64)
    rt.load_numpy_params(model, layers)
    assert_same_layers(rt.numpy_params(model), layers)
    # model -> torch.nn -> model keeps every parameter exactly
    back = rt.from_torch_nn(rt.to_torch_nn(model))
    assert type(back) is type(model) and back.num_layers == L
    assert_same_layers(rt.numpy_params(back), layers)
    # a single cell takes and gives one dict
    cell = model.cells[0]
    rt.load_numpy_params(cell, layers[0])
    assert_same_layers([rt.numpy_params(cell)], layers[:1])


@pytest.mark.parametrize("L", [1, 2])
@pytest.mark.parametrize("kind", KINDS)
def test_torch_nn_to_numpy_and_back_keeps_weights_and_bias_sums(kind, L):
    torch.manual_seed(0)
    H = 5
    module = TORCH_NN[kind](3, H, num_layers=L, batch_first=True, dtype=torch.float64)
    sd = {k: v.clone() for k, v in module.state_dict().items()}
    sd2 = rt.numpy_to_state_dict(kind, rt.state_dict_to_numpy(kind, module))
    assert set(sd2) == set(sd)
    for k in range(L):
        w = lambda sd, n: sd[f"{n}_l{k}"]  # noqa: E731
        for n in ("weight_ih", "weight_hh"):
            assert torch.equal(w(sd2, n), w(sd, n)), n
        s, s2 = w(sd, "bias_ih") + w(sd, "bias_hh"), w(sd2, "bias_ih") + w(sd2, "bias_hh")
        if kind == "gru":  # r, z: only the sum matters; n: both biases kept as they were
            assert torch.equal(s2[: 2 * H], s[: 2 * H])
            assert torch.equal(w(sd2, "bias_ih")[2 * H:], w(sd, "bias_ih")[2 * H:])
            assert torch.equal(w(sd2, "bias_hh")[2 * H:], w(sd, "bias_hh")[2 * H:])
            assert torch.equal(w(sd2, "bias_hh")[: 2 * H], torch.zeros(2 * H, dtype=s.dtype))
        else:
            assert torch.equal(s2, s)
            assert torch.equal(w(sd2, "bias_hh"), torch.zeros_like(s))
    # the split moved, the function did not (up to the rounding of one addition)
    x = torch.randn(2, 4, 3, dtype=torch.float64)
    other = TORCH_NN[kind](3, H, num_layers=L, batch_first=True, dtype=torch.float64)
    other.load_state_dict(sd2)
    torch.testing.assert_close(other(x)[0], module(x)[0], rtol=1e-12, atol=1e-14)


def test_conversions_copy_instead_of_aliasing():
    """Editing converted arrays must never reach back into a module, even when D = 1."""
    model = rt.LSTM(1, 2, dtype=torch.float64)  # (4H, 1).T is contiguous: a view would alias
    before = rt.numpy_params(model)
    for layer in rt.state_dict_to_numpy("lstm", rt.to_torch_nn(model)) + rt.numpy_params(model):
        for arr in layer.values():
            arr += 1.0
    assert_same_layers(rt.numpy_params(model), before)
    sd = rt.numpy_to_state_dict("lstm", before)
    sd["weight_ih_l0"] += 1.0
    assert_same_layers(rt.numpy_params(model), before)


def test_bad_params_name_the_argument_and_shapes():
    layers = random_layers(np.random.default_rng(2), "gru", 3, 5, 2)
    bad = [dict(layers[0]), dict(layers[1])]
    bad[1]["Wx"] = bad[1]["Wx"][:4]  # layer 1 must have D = H = 5
    with pytest.raises(ValueError, match=r"params\[1\]\['Wx'\].*\(5, 15\).*\(4, 15\)"):
        rt.numpy_to_state_dict("gru", bad)
    with pytest.raises(ValueError, match=r"params\[0\]: expected keys"):
        rt.numpy_to_state_dict("gru", [{k: v for k, v in layers[0].items() if k != "b_hn"}])
    with pytest.raises(TypeError, match=r"params\[0\]\['b'\].*floating"):
        rt.numpy_to_state_dict("gru", [{**layers[0], "b": layers[0]["b"].astype(int)}])
    with pytest.raises(ValueError, match="kind"):
        rt.numpy_to_state_dict("elman", layers)
    with pytest.raises(ValueError, match=r"expected 1 layer\(s\), got 2"):
        rt.load_numpy_params(rt.GRU(3, 5), layers)


def test_unsupported_torch_modules_are_refused():
    with pytest.raises(ValueError, match="tanh"):
        rt.from_torch_nn(torch.nn.RNN(3, 4, nonlinearity="relu"))
    with pytest.raises(ValueError, match="projected"):
        rt.from_torch_nn(torch.nn.LSTM(3, 4, proj_size=2))
    with pytest.raises(ValueError, match="projected"):
        rt.state_dict_to_numpy("lstm", torch.nn.LSTM(3, 4, proj_size=2))
    with pytest.raises(TypeError, match="torch.nn.RNN, LSTM or GRU"):
        rt.from_torch_nn(torch.nn.Linear(3, 4))


def test_torch_nn_without_biases_converts_with_zero_bias():
    module = torch.nn.GRU(3, 4, bias=False, batch_first=True, dtype=torch.float64)
    model = rt.from_torch_nn(module)
    for cell in model.cells:
        assert torch.count_nonzero(cell.b) == 0 and torch.count_nonzero(cell.b_hn) == 0
    x = torch.randn(2, 3, 3, dtype=torch.float64)
    torch.testing.assert_close(model(x)[0], module(x)[0], rtol=1e-12, atol=1e-14)
