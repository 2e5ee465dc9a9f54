"""The captioners: the NumPy CaptioningRNN (finite differences, torch autograd on the same
weights, CS231n-style fixed inputs) and the torch CNN + LSTM Captioner (decoding, conditioning,
attention, device)."""

import importlib.util

import numpy as np
import pytest

from rnnkit.decode import beam_search, greedy
from rnnkit.gradcheck import numerical_gradient, rel_error
from rnnkit.models.captioning import PARAM_NAMES, CaptioningRNN
from rnnkit.tasks.shapes import END, NULL, START, WORD_TO_IDX, encode, shapes_captions

CAPS = [["a", "red", "circle"], "a blue square left of a red circle".split(),
        ["a", "green", "triangle"]]


def _model(cell, seed=1, D=10, W=6, H=7):
    m = CaptioningRNN(WORD_TO_IDX, D, W, H, cell_type=cell, dtype=np.float64, seed=seed)
    rng = np.random.default_rng(seed)
    for k in m.params:  # nonzero biases too, so that every term of the backward is exercised
        m.params[k] = m.params[k] + 0.3 * rng.standard_normal(m.params[k].shape)
    return m


def _linspace_model(cell, D=5, W=4, H=6):
    """CS231n-style fixed inputs: every array a np.linspace over its size, reshaped."""
    m = CaptioningRNN(WORD_TO_IDX, D, W, H, cell_type=cell, dtype=np.float64)
    for k, v in m.params.items():
        m.params[k] = np.linspace(-1.4, 1.3, num=v.size).reshape(v.shape)
    features = np.linspace(-0.5, 1.7, num=3 * D).reshape(3, D)
    return m, features


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_every_gradient_matches_finite_differences(cell):
    m = _model(cell)
    features = np.random.default_rng(0).standard_normal((3, 10))
    captions = encode(CAPS, 12)
    loss, grads = m.loss(features, captions)
    assert list(grads) == list(PARAM_NAMES)
    for name in PARAM_NAMES:
        def f(x, name=name):
            kept = m.params[name]
            m.params[name] = x
            try:
                return m.loss(features, captions)[0]
            finally:
                m.params[name] = kept
        num = numerical_gradient(f, m.params[name].copy())
        assert grads[name].shape == m.params[name].shape
        assert rel_error(grads[name], num) < 1e-5, (cell, name)


def _torch_loss(m, features, captions):
    """The same loss in torch, written from the equations; autograd for the gradients."""
    torch = pytest.importorskip("torch")
    p = {k: torch.tensor(v, requires_grad=True) for k, v in m.params.items()}
    cin, cout = torch.from_numpy(captions[:, :-1]), torch.from_numpy(captions[:, 1:])
    h = torch.from_numpy(features) @ p["W_proj"] + p["b_proj"]
    c = torch.zeros_like(h)
    scores = []
    for t in range(cin.shape[1]):
        a = p["W_embed"][cin[:, t]] @ p["Wx"] + h @ p["Wh"] + p["b"]
        if m.cell_type == "rnn":
            h = torch.tanh(a)
        else:
            i, f, g, o = a.chunk(4, dim=1)  # rnnkit's gate order
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
        scores.append(h @ p["W_vocab"] + p["b_vocab"])
    logp = torch.log_softmax(torch.stack(scores, 1), dim=2)
    nll = -logp.gather(2, cout[..., None])[..., 0] * (cout != NULL)
    loss = nll.sum() / len(features)
    loss.backward()
    return float(loss.detach()), {k: v.grad.numpy() for k, v in p.items()}


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_loss_and_gradients_equal_torch_autograd_on_fixed_inputs(cell):
    m, features = _linspace_model(cell)
    captions = encode(CAPS, 12)
    loss, grads = m.loss(features, captions)
    ref_loss, ref_grads = _torch_loss(m, features, captions)
    assert abs(loss - ref_loss) < 1e-10 * max(1.0, abs(ref_loss))
    for k in PARAM_NAMES:
        assert rel_error(grads[k], ref_grads[k]) < 1e-9, k


def test_null_targets_are_masked_and_the_loss_is_averaged_over_the_batch():
    m = _model("lstm")
    features = np.random.default_rng(2).standard_normal((3, 10))
    captions = encode(CAPS, 12)
    loss, _ = m.loss(features, captions)
    longer, _ = m.loss(features, encode(CAPS, 16))  # more <NULL> padding: same loss
    assert abs(loss - longer) < 1e-12
    singles = [m.loss(features[k : k + 1], captions[k : k + 1])[0] for k in range(3)]
    assert abs(loss - np.mean(singles)) < 1e-12  # summed over time, averaged over N
    assert m.loss(features[:1], captions[:1, :2])[0] > 0  # one target word is enough


def test_start_and_end_are_optional_for_the_loss_but_sample_needs_start():
    words = {"<NULL>": 0, "x": 1, "y": 2}
    m = CaptioningRNN(words, 4, 3, 5, dtype=np.float64)
    loss, _ = m.loss(np.ones((2, 4)), np.array([[1, 2, 0], [2, 1, 1]]))
    assert np.isfinite(loss)
    with pytest.raises(ValueError, match="sample needs a '<START>'"):
        m.sample(np.ones((2, 4)))


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_sample_is_greedy_decoding_and_pads_after_end(cell):
    m = _model(cell, seed=4)
    m.params["b_vocab"][END] += 2.0  # make some captions end early
    features = np.random.default_rng(1).standard_normal((5, 10))
    out = m.sample(features, 9)
    assert out.shape == (5, 9) and out.dtype == np.int64
    ended = 0
    for n in range(5):
        hyp = greedy(m.step, m.start_state(features[n : n + 1]), START, END, 9)
        assert tuple(out[n, : len(hyp.tokens)]) == hyp.tokens
        assert np.all(out[n, len(hyp.tokens) :] == NULL)
        ended += hyp.finished
    assert ended >= 1


def test_dtype_is_kept():
    m = CaptioningRNN(WORD_TO_IDX, 6, 4, 5, cell_type="lstm")  # float32, as CS231n's default
    loss, grads = m.loss(np.ones((2, 6), dtype=np.float32), encode(CAPS[:2], 12))
    assert all(g.dtype == np.float32 for g in grads.values())


@pytest.mark.parametrize("kwargs, match", [
    ({"cell_type": "gru"}, "cell_type: expected 'rnn' or 'lstm'"),
    ({"word_to_idx": {"a": 0}}, "word_to_idx: expected a dict"),
    ({"hidden_dim": 0}, "hidden_dim: expected a positive int"),
])
def test_bad_arguments_are_named(kwargs, match):
    args = {"word_to_idx": WORD_TO_IDX, "input_dim": 4} | kwargs
    with pytest.raises(ValueError, match=match):
        CaptioningRNN(**args)


def test_bad_features_and_captions_are_named():
    m = _model("rnn")
    with pytest.raises(ValueError, match="features"):
        m.loss(np.ones((3, 9)), encode(CAPS, 12))
    with pytest.raises(ValueError, match="captions"):
        m.loss(np.ones((3, 10)), encode(CAPS, 12) + 100)


# --- the torch captioner --------------------------------------------------------------------


@pytest.fixture
def torch1():
    """torch, on one thread: tensors this small only lose time to a second (more so on a busy
    machine)."""
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield torch
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def small_set():
    ds = shapes_captions(16, np.random.default_rng(0))
    return ds, encode([r[0] for r in ds.references], 13)


@pytest.mark.parametrize("kw", [{"condition": "init"}, {"condition": "step"}, {"attention": True}])
def test_captioner_learns_a_small_batch_and_decodes_consistently(kw, small_set, torch1):
    torch = torch1
    from rnnkit.torch.models.captioning import Captioner

    ds, caps = small_set
    torch.manual_seed(0)
    model = Captioner(len(WORD_TO_IDX), 16, 32, **kw)
    images, captions = torch.from_numpy(ds.images), torch.from_numpy(caps)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    first = float(model.loss(images, captions).detach())
    for _ in range(60):
        loss = model.loss(images, captions)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert float(loss.detach()) < 0.3 * first
    model.eval()
    ids, weights = model.greedy_batch(images[:4], 12)
    assert ids.shape == (4, 12)
    assert (weights is None) == ("attention" not in kw)
    if weights is not None:
        assert torch.allclose(weights.sum(-1), torch.ones(()), atol=1e-6)
    for n in range(4):  # rnnkit.decode's greedy and a beam of 1 agree with the batch decoder
        state = model.start_state(images[n : n + 1])
        hyp = greedy(model.step, state, START, END, 12)
        beam = beam_search(model.step, state, START, END, 1, 12)[0]
        assert hyp.tokens == beam.tokens == tuple(ids[n, : len(hyp.tokens)].tolist())


def test_teacher_forcing_on_the_fused_kernel_equals_the_step_loop(small_set, torch1):
    torch = torch1
    from rnnkit.torch.models.captioning import Captioner

    ds, caps = small_set
    for cond in ("init", "step"):
        torch.manual_seed(1)
        model = Captioner(len(WORD_TO_IDX), 8, 12, condition=cond, dtype=torch.float64)
        images = torch.from_numpy(ds.images[:3]).double()
        cin = torch.from_numpy(caps[:3, :-1])
        fused = model(images, cin)
        state, steps = model.start_state(images), []
        for t in range(cin.shape[1]):
            out, state, _ = model._step(cin[:, t], state)
            steps.append(out)
        assert torch.allclose(fused, torch.stack(steps, 1), atol=1e-12), cond


def test_the_image_enters_where_the_condition_says(small_set, torch1):
    torch = torch1
    from rnnkit.torch.models.captioning import Captioner

    ds, _ = small_set
    images = torch.from_numpy(ds.images[:2])
    torch.manual_seed(0)
    h0, c0 = Captioner(len(WORD_TO_IDX), condition="init").start_state(images)
    assert torch.allclose(h0, torch.tanh(c0)) and c0.abs().sum() > 0
    h0, c0, v = Captioner(len(WORD_TO_IDX), condition="step").start_state(images)
    assert h0.abs().sum() == 0 and c0.abs().sum() == 0 and v.abs().sum() > 0
    with pytest.raises(ValueError, match="condition: expected one of"):
        Captioner(len(WORD_TO_IDX), condition="both")
    with pytest.raises(ValueError, match=r"images: expected shape \(N, 3, S, S\)"):
        Captioner(len(WORD_TO_IDX)).encoder(images[:, :2])


def _cuda_available():
    if importlib.util.find_spec("torch") is None:
        return False
    import torch

    return torch.cuda.is_available()


DEVICES = ["cpu", pytest.param("cuda", marks=[
    pytest.mark.gpu, pytest.mark.skipif(not _cuda_available(),
                                        reason="no CUDA device: this run needs one")])]


@pytest.mark.parametrize("device", DEVICES)
def test_captioner_runs_where_its_parameters_are(device, small_set, torch1):
    torch = torch1
    from rnnkit.torch.models.captioning import Captioner

    ds, caps = small_set
    torch.manual_seed(0)
    model = Captioner(len(WORD_TO_IDX), 8, 16)
    cpu_loss = float(model.loss(torch.from_numpy(ds.images), torch.from_numpy(caps)).detach())
    model.to(device)
    images, captions = torch.from_numpy(ds.images).to(device), torch.from_numpy(caps).to(device)
    loss = model.loss(images, captions)
    loss.backward()
    assert loss.device.type == device and abs(float(loss.detach()) - cpu_loss) < 1e-4
    ids, _ = model.greedy_batch(images, 12)
    assert ids.device.type == device
