"""NumPy reference == rnnkit.torch (loop and fast paths) == torch.nn, values and gradients.

Everything in float64 with TF32 off, so the only differences left are summation order:
every forward value and every gradient must agree to a relative error below 1e-10.
The NumPy side uses the hand-written backward passes; the torch side uses autograd.
The same tests run on CUDA when a GPU is present (marked ``gpu``, skipped otherwise).
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import cell_inputs  # noqa: E402

import rnnkit.torch as rt  # noqa: E402
from rnnkit import gru, lstm, rnn  # noqa: E402
from rnnkit.gradcheck import rel_error  # noqa: E402
from rnnkit.torch.convert import TORCH_NN, numpy_to_state_dict  # noqa: E402

TOL = 1e-10
KINDS = ["rnn", "lstm", "gru"]
NUMPY_SEQ = {"rnn": (rnn.rnn_forward, rnn.rnn_backward),
             "lstm": (lstm.lstm_forward, lstm.lstm_backward),
             "gru": (gru.gru_forward, gru.gru_backward)}
NUMPY_STEP = {"rnn": (rnn.rnn_step_forward, rnn.rnn_step_backward),
              "lstm": (lstm.lstm_step_forward, lstm.lstm_step_backward),
              "gru": (gru.gru_step_forward, gru.gru_step_backward)}
MODELS = {"rnn": rt.RNN, "lstm": rt.LSTM, "gru": rt.GRU}
CELLS = {"rnn": rt.RNNCell, "lstm": rt.LSTMCell, "gru": rt.GRUCell}
NO_CUDA = "no CUDA device: the GPU parity run needs one"
DEVICES = ["cpu", pytest.param("cuda", marks=[
    pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason=NO_CUDA)])]


@pytest.fixture(autouse=True)
def no_tf32():
    """TF32 would round float32 matmuls on Ampere+; off, and restored afterwards."""
    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    yield
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


def random_layers(rng, kind, D, H, L):
    """NumPy params for L layers, scaled by 0.5 so that no gate saturates."""
    return cell_inputs.random_layers(rng, kind, D, H, L, scale=0.5)


def param_args(kind, layer):
    return [layer[n] for n in ("Wx", "Wh", "b", "b_hn") if n in layer]


def numpy_reference(kind, layers, x, h0, c0, dout, dhn):
    """Stack the NumPy sequence functions; return outputs and grads of
    ``sum(out * dout) + sum(h_n * dhn)``."""
    fwd, bwd = NUMPY_SEQ[kind]
    caches, outs = [], [x]
    for k, layer in enumerate(layers):
        extra = {"c0": c0[k]} if kind == "lstm" else {}
        h, cache = fwd(outs[-1], h0[k], *param_args(kind, layer), **extra)
        outs.append(h)
        caches.append(cache)
    out = outs[-1]
    h_n = np.stack([h[:, -1] for h in outs[1:]])  # (L, N, H)
    c_n = np.stack([c.c_n for c in caches]) if kind == "lstm" else None
    grads, dh = [None] * len(layers), dout.copy()
    for k in reversed(range(len(layers))):
        dh[:, -1] += dhn[k]  # h_n of layer k is its last output
        grads[k] = bwd(dh, caches[k])  # (dx, dh0, dWx, dWh, db[, db_hn])
        dh = grads[k][0].copy()
    dx = grads[0][0]
    dh0 = np.stack([g[1] for g in grads])
    dparams = [dict(zip(("Wx", "Wh", "b", "b_hn"), g[2:], strict=False)) for g in grads]
    return {"out": out, "h_n": h_n, "c_n": c_n, "dx": dx, "dh0": dh0, "dparams": dparams}


def run_torch(kind, path, layers, x, h0, c0, dout, dhn, device):
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
    ((out * as_t(dout)).sum() + (h_n * as_t(dhn)).sum()).backward()
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
    ref = numpy_reference(kind, layers, x, h0, c0, dout, dhn)
    results = {p: run_torch(kind, p, layers, x, h0, c0, dout, dhn, device)
               for p in ("loop", "fast", "nn")}
    for path, res in results.items():
        names = ["out", "h_n", "dx", "dh0"] + (["c_n"] if kind == "lstm" else [])
        for name in names:
            assert_close(f"{path} {name}", res[name], ref[name])
        for k in range(L):
            assert set(res["dparams"][k]) == set(ref["dparams"][k])
            for name, want in ref["dparams"][k].items():
                assert_close(f"{path} layer {k} d{name}", res["dparams"][k][name], want)
        if kind == "lstm":  # the NumPy backward has no dc0: compare the torch paths
            assert_close(f"{path} dc0", res["dc0"], results["nn"]["dc0"])


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("kind", KINDS)
def test_cell_step_parity(kind, device):
    """One step of each cell, ``cell(x_t, state)``, against the NumPy step functions."""
    rng = np.random.default_rng(7)
    N, D, H = 3, 5, 4
    (layer,) = random_layers(rng, kind, D, H, 1)
    x, h, c = rng.standard_normal((N, D)), rng.standard_normal((N, H)), rng.standard_normal((N, H))
    dh_next, dc_next = rng.standard_normal((N, H)), rng.standard_normal((N, H))
    fwd, bwd = NUMPY_STEP[kind]
    if kind == "lstm":
        h_ref, c_ref, cache = fwd(x, h, c, *param_args(kind, layer))
        dx, dh, dc, *dparams = bwd(dh_next, dc_next, cache)
    else:
        h_ref, cache = fwd(x, h, *param_args(kind, layer))
        dx, dh, *dparams = bwd(dh_next, cache)

    cell = CELLS[kind](D, H, dtype=torch.float64, device=device)
    rt.load_numpy_params(cell, layer)
    xt, ht, ct = (torch.tensor(a, device=device, requires_grad=True) for a in (x, h, c))
    if kind == "lstm":
        h_next, c_next = cell(xt, (ht, ct))
        loss = (h_next * torch.tensor(dh_next, device=device)).sum() + \
            (c_next * torch.tensor(dc_next, device=device)).sum()
        assert_close("c_next", c_next.detach().cpu().numpy(), c_ref)
    else:
        h_next = cell(xt, ht)
        loss = (h_next * torch.tensor(dh_next, device=device)).sum()
    loss.backward()
    assert_close("h_next", h_next.detach().cpu().numpy(), h_ref)
    assert_close("dx", xt.grad.cpu().numpy(), dx)
    assert_close("dh_prev", ht.grad.cpu().numpy(), dh)
    if kind == "lstm":
        assert_close("dc_prev", ct.grad.cpu().numpy(), dc)
    for (name, p), want in zip(cell.named_parameters(), dparams, strict=True):
        assert_close(f"d{name}", p.grad.cpu().numpy(), want)
