"""Stacked NumPy reference == rnnkit.torch (loop and fast) == torch.nn, values and gradients.

Multi-layer models of the three cells torch.nn has, with gradients flowing into every output
(h, h_n, c_n). Everything in float64 with TF32 off (conftest), so the only differences left
are summation order: every value and gradient must agree to a relative error below 1e-10.
One-layer parity of every cell, torch.nn kernel or not, is in test_torch_cells.py.
The NumPy side uses the hand-written backward passes; the torch side uses autograd.
The same tests run on CUDA when a GPU is present (marked ``gpu``, skipped otherwise).
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the torch path needs PyTorch")

import cell_inputs  # noqa: E402

import rnnkit.torch as rt  # noqa: E402
from rnnkit.cells import CELLS  # noqa: E402
from rnnkit.gradcheck import rel_error  # noqa: E402
from rnnkit.torch.layout import TORCH_NN, numpy_to_state_dict  # noqa: E402

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


def run_torch(kind, path, layers, x, h0, c0, dout, dhn, dcn, device):
    """Forward and backward through one torch path; results as NumPy arrays."""
    D, H, L = x.shape[2], h0.shape[2], len(layers)
    if path == "nn":
        module = TORCH_NN[kind](D, H, num_layers=L, batch_first=True, dtype=torch.float64)
        module.load_state_dict(numpy_to_state_dict(kind, layers))
    else:
        module = MODELS[kind](D, H, num_layers=L, fast=(path == "fast"), dtype=torch.float64)
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
        for k in range(L):
            g = {n: np_(getattr(module, f"{n}_l{k}").grad)
                 for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
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
