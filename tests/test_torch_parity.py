"""Stacked NumPy reference == rnnkit.torch (loop and fast) == torch.nn, values and gradients.

Multi-layer models of the three cells torch.nn has, with gradients flowing into every output
(h, h_n, c_n). Everything in float64 with TF32 off (conftest), so the only differences left
are summation order: every value and gradient must agree to a relative error below 1e-10.
Bidirectional stacks (every kind, one and two layers) compare ``rnnkit.compose.deep``'s NumPy
stack with the same three paths, outputs, final states and every gradient. One-layer parity
of every cell, torch.nn kernel or not, is in test_torch_cells.py.
The NumPy side uses the hand-written backward passes; the torch side uses autograd.
The same tests run on CUDA when a GPU is present (marked ``gpu``, skipped otherwise).
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the torch path needs PyTorch")

import cell_inputs  # noqa: E402
from compose_helpers import draw_stack  # noqa: E402

import rnnkit.torch as rt  # noqa: E402
from rnnkit.cells import CELLS  # noqa: E402
from rnnkit.compose.deep import stacked_backward, stacked_forward  # noqa: E402
from rnnkit.gradcheck import rel_error  # noqa: E402
from rnnkit.torch.layout import TORCH_NN, numpy_to_state_dict, param_names  # noqa: E402

TOL = 1e-10
KINDS = ["rnn", "lstm", "gru"]
MODELS = {"rnn": rt.RNN, "lstm": rt.LSTM, "gru": rt.GRU}
NO_CUDA = "no CUDA device: the GPU parity run needs one"
DEVICES = ["cpu", pytest.param("cuda", marks=[
    pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason=NO_CUDA)])]


def random_layers(rng, kind, D, H, L):
    """NumPy params for L layers, scaled by 0.5 so that no gate saturates."""
    return cell_inputs.random_layers(rng, kind, D, H, L, scale=0.5)


def param_args(kind, layer):
    return [layer[n] for n in ("Wx", "Wh", "b", "b_hn") if n in layer]


def numpy_reference(kind, layers, x, h0, c0, dout, dhn, dcn):
    """Stack the NumPy sequence functions (the cell contract); return outputs and the grads of
    ``sum(out * dout) + sum(h_n * dhn) + sum(c_n * dcn)`` (the c terms for the LSTM only)."""
    spec = CELLS[kind]
    two = len(spec.states) == 2
    caches, outs, c_n = [], [x], []
    for k, layer in enumerate(layers):
        states = (h0[k], c0[k]) if two else (h0[k],)
        h, *rest, cache = spec.forward(outs[-1], *states, *param_args(kind, layer))
        outs.append(h)
        c_n += rest
        caches.append(cache)
    h_n = np.stack([h[:, -1] for h in outs[1:]])  # (L, N, H)
    grads, dh = [None] * len(layers), dout.copy()
    for k in reversed(range(len(layers))):
        dh[:, -1] += dhn[k]  # h_n of layer k is its last output
        grads[k] = spec.backward(dh, *((dcn[k],) if two else ()), caches[k])
        dh = grads[k][0].copy()
    n_states = len(spec.states)
    return {"out": outs[-1], "h_n": h_n, "c_n": np.stack(c_n) if two else None,
            "dx": grads[0][0], "dh0": np.stack([g[1] for g in grads]),
            "dc0": np.stack([g[2] for g in grads]) if two else None,
            "dparams": [dict(zip(("Wx", "Wh", "b", "b_hn"), g[1 + n_states:], strict=False))
                        for g in grads]}


def run_torch(kind, path, layers, x, h0, c0, dout, dhn, dcn, device, dirs=1):
    """Forward and backward through one torch path; results as NumPy arrays."""
    D, H, L, bi = x.shape[2], h0.shape[2], len(layers) // dirs, dirs == 2
    if path == "nn":
        module = TORCH_NN[kind](D, H, num_layers=L, batch_first=True, bidirectional=bi,
                                dtype=torch.float64)
        module.load_state_dict(numpy_to_state_dict(kind, layers, bidirectional=bi))
    else:
        module = MODELS[kind](D, H, num_layers=L, bidirectional=bi, fast=(path == "fast"),
                              dtype=torch.float64)
        rt.load_numpy_params(module, layers)
    module.to(device)

    def leaf(a):
        return torch.tensor(a, device=device, requires_grad=True)

    xt, h0t, c0t = leaf(x), leaf(h0), leaf(c0)
    out, final = module(xt, (h0t, c0t) if kind == "lstm" else h0t)
    h_n = final[0] if kind == "lstm" else final
    as_t = lambda a: torch.tensor(a, device=device)  # noqa: E731
    loss = (out * as_t(dout)).sum() + (h_n * as_t(dhn)).sum()
    if kind == "lstm":
        loss = loss + (final[1] * as_t(dcn)).sum()
    loss.backward()
    np_ = lambda t: t.detach().cpu().numpy()  # noqa: E731
    res = {"out": np_(out), "h_n": np_(h_n), "c_n": np_(final[1]) if kind == "lstm" else None,
           "dx": np_(xt.grad), "dh0": np_(h0t.grad),
           "dc0": np_(c0t.grad) if kind == "lstm" else None}
    if path == "nn":
        res["dparams"] = []
        for j in range(L * dirs):
            names = param_names(j // dirs, reverse=j % dirs == 1)
            g = {n: np_(getattr(module, name).grad)
                 for n, name in zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"), names,
                                    strict=True)}
            # b enters the same pre-activation as bias_ih, and b_hn is bias_hh's n block
            d = {"Wx": g["weight_ih"].T, "Wh": g["weight_hh"].T, "b": g["bias_ih"]}
            if kind == "gru":
                d["b_hn"] = g["bias_hh"][2 * H:]
            res["dparams"].append(d)
    else:
        res["dparams"] = [{n: np_(p.grad) for n, p in cell.named_parameters()}
                          for cell in module.cells]
    return res


def assert_close(name, got, want):
    err = rel_error(got, want)
    assert err < TOL, f"{name}: relative error {err:.2e} >= {TOL:.0e}"


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("T", [1, 5])
@pytest.mark.parametrize("N", [1, 3])
@pytest.mark.parametrize("L", [1, 2])
@pytest.mark.parametrize("kind", KINDS)
def test_sequence_parity(kind, L, N, T, device):
    rng = np.random.default_rng([KINDS.index(kind), L, N, T])
    D, H = 3, 4
    layers = random_layers(rng, kind, D, H, L)
    x = rng.standard_normal((N, T, D))
    h0, c0 = rng.standard_normal((L, N, H)) * 0.5, rng.standard_normal((L, N, H)) * 0.5
    dout, dhn = rng.standard_normal((N, T, H)), rng.standard_normal((L, N, H))
    dcn = rng.standard_normal((L, N, H))
    ref = numpy_reference(kind, layers, x, h0, c0, dout, dhn, dcn)
    results = {p: run_torch(kind, p, layers, x, h0, c0, dout, dhn, dcn, device)
               for p in ("loop", "fast", "nn")}
    for path, res in results.items():
        names = ["out", "h_n", "dx", "dh0"] + (["c_n", "dc0"] if kind == "lstm" else [])
        for name in names:
            assert_close(f"{path} {name}", res[name], ref[name])
        for k in range(L):
            assert set(res["dparams"][k]) == set(ref["dparams"][k])
            for name, want in ref["dparams"][k].items():
                assert_close(f"{path} layer {k} d{name}", res["dparams"][k][name], want)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("T", [1, 4])
@pytest.mark.parametrize("L", [1, 2])
@pytest.mark.parametrize("kind", KINDS)
def test_bidirectional_parity(kind, L, T, device):
    """NumPy stack (rnnkit.compose) == loop == fast == torch.nn, bidirectional, float64."""
    rng = np.random.default_rng([KINDS.index(kind), L, T, 2])
    N, D, H = 2, 3, 4
    x, states, layers = draw_stack(kind, N, T, D, H, L, 2, rng)
    for layer in layers:  # draw_stack scales weights by 1/sqrt(fan-in); biases too, here
        layer["b"] = 0.5 * layer["b"]
    h0 = states[0]
    c0 = states[1] if kind == "lstm" else np.zeros_like(h0)
    dout, dhn = rng.standard_normal((N, T, 2 * H)), rng.standard_normal((2 * L, N, H))
    dcn = rng.standard_normal((2 * L, N, H))
    out, state_n, cache = stacked_forward(kind, x, states, layers, bidirectional=True)
    dstate_n = (dhn, dcn) if kind == "lstm" else (dhn,)
    dx, dstate0, dlayers = stacked_backward(kind, dout, dstate_n, cache)
    ref = {"out": out, "h_n": state_n[0], "dx": dx, "dh0": dstate0[0], "dparams": dlayers,
           "c_n": state_n[-1], "dc0": dstate0[-1]}
    for path in ("loop", "fast", "nn"):
        res = run_torch(kind, path, layers, x, h0, c0, dout, dhn, dcn, device, dirs=2)
        assert res["out"].shape == (N, T, 2 * H) and res["h_n"].shape == (2 * L, N, H)
        names = ["out", "h_n", "dx", "dh0"] + (["c_n", "dc0"] if kind == "lstm" else [])
        for name in names:
            assert_close(f"{path} {name}", res[name], ref[name])
        for j in range(2 * L):
            assert set(res["dparams"][j]) == set(ref["dparams"][j])
            for name, want in ref["dparams"][j].items():
                assert_close(f"{path} cell {j} d{name}", res["dparams"][j][name], want)


@pytest.mark.parametrize("bi", [False, True])
@pytest.mark.parametrize("kind", KINDS)
def test_dropout_acts_between_layers_in_training_only(kind, bi):
    torch.manual_seed(0)
    D, H, dirs = 3, 4, 2 if bi else 1
    x = torch.randn(2, 5, D, dtype=torch.float64)
    ref = MODELS[kind](D, H, num_layers=2, bidirectional=bi, dtype=torch.float64)
    models = {}
    for path in ("loop", "fast"):
        m = MODELS[kind](D, H, num_layers=2, bidirectional=bi, dropout=1.0,
                         fast=path == "fast", dtype=torch.float64)
        rt.load_numpy_params(m, rt.numpy_params(ref))
        models[path] = m
    nn_module = rt.to_torch_nn(models["fast"])
    assert nn_module.dropout == 1.0 and nn_module.bidirectional == bi
    # eval mode: dropout is off, all paths are the model without dropout
    want = ref(x)[0]
    for m in (*models.values(), nn_module):
        m.eval()
        torch.testing.assert_close(m(x)[0], want, rtol=1e-12, atol=1e-14)
    # training mode with p = 1: the top layer reads zeros, whatever the bottom layer computed
    top = MODELS[kind](dirs * H, H, bidirectional=bi, dtype=torch.float64)
    rt.load_numpy_params(top, rt.numpy_params(ref)[dirs:])
    want_top = top(torch.zeros(2, 5, dirs * H, dtype=torch.float64))[0]
    for name, m in (*models.items(), ("nn", nn_module)):
        m.train()
        out = m(x)[0]
        torch.testing.assert_close(out, want_top, rtol=1e-12, atol=1e-14, msg=name)


def test_dropout_on_one_layer_warns_and_bad_values_are_refused():
    with pytest.warns(UserWarning, match="between layers"):
        rt.LSTM(3, 4, dropout=0.2)
    for bad in (-0.1, 1.5, "0.2", True):
        with pytest.raises(ValueError, match="dropout: expected a probability"):
            rt.GRU(3, 4, num_layers=2, dropout=bad)


@pytest.mark.parametrize("L", [1, 2])
@pytest.mark.parametrize("kind", KINDS)
def test_bidirectional_conversions_are_exact(kind, L):
    rng = np.random.default_rng(L)
    _, _, layers = draw_stack(kind, 2, 3, 3, 5, L, 2, rng)
    module = TORCH_NN[kind](3, 5, num_layers=L, bidirectional=True, batch_first=True,
                            dtype=torch.float64)
    module.load_state_dict(numpy_to_state_dict(kind, layers, bidirectional=True))
    for got in (rt.state_dict_to_numpy(kind, module), rt.numpy_params(rt.from_torch_nn(module))):
        assert len(got) == 2 * L
        for g, w in zip(got, layers, strict=True):
            assert set(g) == set(w) and all(np.array_equal(g[n], w[n]) for n in w)
    model = rt.from_torch_nn(module, fast=True)
    assert model.bidirectional and len(model.cells) == 2 * L
    back = rt.to_torch_nn(model)
    for name, t in module.state_dict().items():
        if "bias" not in name:
            assert torch.equal(back.state_dict()[name], t), name
    with pytest.raises(ValueError, match="two dicts per layer"):
        numpy_to_state_dict(kind, layers[:1] + layers, bidirectional=True)
    with pytest.raises(ValueError, match=r"params\[2\]"):  # layer 1 reads 2H, not H
        numpy_to_state_dict(kind, layers[:2] + [layers[0]] * 2, bidirectional=True)


@pytest.mark.parametrize("name", sorted(CELLS))
def test_every_cell_stacks_like_the_numpy_composition(name):
    """Two layers of any cell, bidirectional where the cell allows it (MUT1 and MUT2 need
    D == H, so their stacks are unidirectional): rnnkit.torch's loop (and its fused kernel,
    where the cell has one) == rnnkit.compose.deep on the same weights, values and gradients."""
    from rnnkit.torch.cells import SEQUENCES

    spec = CELLS[name]
    bi = not spec.square
    dirs, N, T, H = 2 if bi else 1, 2, 4, 3
    D = H if spec.square else 2
    rng = np.random.default_rng(sorted(CELLS).index(name))
    x, states, layers = draw_stack(name, N, T, D, H, 2, dirs, rng)
    out, state_n, cache = stacked_forward(name, x, states, layers, bidirectional=bi)
    dout = rng.standard_normal(out.shape)
    dx, dstate0, dlayers = stacked_backward(name, dout, None, cache)
    paths = [False] + ([True] if SEQUENCES[name].cell_class.torch_nn is not None else [])
    for fast in paths:
        model = SEQUENCES[name](D, H, num_layers=2, bidirectional=bi, fast=fast,
                                dtype=torch.float64)
        rt.load_numpy_params(model, layers)
        xt = torch.tensor(x, requires_grad=True)
        st = [torch.tensor(s, requires_grad=True) for s in states]
        got, final = model(xt, st[0] if len(st) == 1 else tuple(st))
        final = final if isinstance(final, tuple) else (final,)
        (got * torch.from_numpy(dout)).sum().backward()
        tag = f"{name} fast={fast}"
        assert_close(f"{tag} out", got.detach().numpy(), out)
        for k, s in enumerate(final):
            assert_close(f"{tag} state {k}", s.detach().numpy(), state_n[k])
        assert_close(f"{tag} dx", xt.grad.numpy(), dx)
        for k, s in enumerate(st):
            assert_close(f"{tag} dstate {k}", s.grad.numpy(), dstate0[k])
        for j, cell in enumerate(model.cells):
            for pname, p in cell.named_parameters():
                assert_close(f"{tag} cell {j} d{pname}", p.grad.numpy(), dlayers[j][pname])
