"""rnnkit.models.charlm (NumPy) and rnnkit.torch.models.charlm (torch): gradients, state, parity."""

import math

import numpy as np
import pytest

from rnnkit.data import StreamBatches, Vocab
from rnnkit.gradcheck import numerical_gradient, rel_error
from rnnkit.models.charlm import (
    CharRNN,
    bigram_bpc,
    bits_per_char,
    perplexity,
    train_charlm,
    unigram_bpc,
    unigram_log_probs,
)
from rnnkit.optim import Adam

CASES = [("rnn", None), ("rnn", 3), ("lstm", None), ("lstm", 3)]


def _model_and_batch(cell, D, seed=0, V=5, H=4, N=2, T=3):
    rng = np.random.default_rng(seed)
    model = CharRNN(V, H, cell, D=D, rng=rng)
    for p in model.params.values():  # move off the initial point (zero biases, etc.)
        p += 0.3 * rng.standard_normal(p.shape)
    x, y = rng.integers(0, V, (N, T)), rng.integers(0, V, (N, T))
    state = tuple(0.5 * rng.standard_normal((N, H)) for _ in model.init_state(N))
    return model, x, y, state


@pytest.mark.parametrize("cell, D", CASES)
def test_loss_gradients_match_finite_differences(cell, D):
    model, x, y, state = _model_and_batch(cell, D)
    _, grads, _ = model.loss(x, y, state)
    assert grads.keys() == model.params.keys()
    for name, p in model.params.items():

        def f(q, name=name, p=p):
            model.params[name] = q  # the perturbed copy, passed explicitly
            try:
                return model.loss(x, y, state)[0]
            finally:
                model.params[name] = p

        err = rel_error(grads[name], numerical_gradient(f, p))
        assert err < 1e-5, (name, err)  # elementwise; a wrong term gives errors near 1


def _torch_reference(model, x, y, state):
    """The same loss through torch.nn modules in float64, weights copied by hand."""
    torch = pytest.importorskip("torch")
    p = {k: torch.tensor(v, requires_grad=True) for k, v in model.params.items()}
    V, H = model.V, model.H
    inp = torch.eye(V, dtype=torch.float64)[torch.tensor(x)] if model.D is None \
        else p["W_embed"][torch.tensor(x)]
    rnn = (torch.nn.RNN if model.cell == "rnn" else torch.nn.LSTM)(
        inp.shape[-1], H, batch_first=True, dtype=torch.float64)
    del rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0, rnn.bias_hh_l0
    rnn.weight_ih_l0, rnn.weight_hh_l0 = p["Wx"].T, p["Wh"].T  # torch stores (G*H, D)
    rnn.bias_ih_l0, rnn.bias_hh_l0 = p["b"], torch.zeros_like(p["b"])
    hx = torch.tensor(state[0])[None] if model.cell == "rnn" \
        else tuple(torch.tensor(s)[None] for s in state)
    h, _ = rnn(inp, hx)
    logits = h @ p["W_out"] + p["b_out"]
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, V), torch.tensor(y).reshape(-1))
    loss.backward()
    return float(loss.detach()), {k: t.grad.numpy() for k, t in p.items()}


@pytest.mark.parametrize("cell, D", CASES)
def test_loss_and_gradients_match_torch_autograd(cell, D):
    model, x, y, state = _model_and_batch(cell, D, seed=1, V=6, H=5, N=3, T=4)
    loss, grads, _ = model.loss(x, y, state)
    ref_loss, ref_grads = _torch_reference(model, x, y, state)
    assert abs(loss - ref_loss) < 1e-12 * max(1.0, ref_loss)
    for k in grads:
        assert rel_error(grads[k], ref_grads[k]) < 1e-10, k


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_carried_state_equals_one_long_run_and_cuts_the_gradient(cell):
    model, _, _, _ = _model_and_batch(cell, 3, seed=2)
    rng = np.random.default_rng(3)
    x, y = rng.integers(0, 5, (2, 8)), rng.integers(0, 5, (2, 8))
    whole, _, end_whole = model.loss(x, y)
    first, _, state = model.loss(x[:, :5], y[:, :5])
    saved = [s.copy() for s in state]
    second, g2, end = model.loss(x[:, 5:], y[:, 5:], state)
    assert all(np.array_equal(s, c) for s, c in zip(state, saved, strict=True))  # not modified
    # same function of the text: the carried state is exactly the long run's state
    assert abs((5 * first + 3 * second) / 8 - whole) < 1e-12
    for a, b in zip(end, end_whole, strict=True):
        assert np.array_equal(a, b)

    # the second window's gradient treats the carried state as a constant: it is the derivative
    # with the state held fixed, and not the one that also flows back through the first window
    p = model.params["Wh"]

    def second_window(q, through_first):
        model.params["Wh"] = q  # the perturbed copy, passed explicitly
        try:
            start = model.loss(x[:, :5], y[:, :5])[2] if through_first else state
            return model.loss(x[:, 5:], y[:, 5:], start)[0]
        finally:
            model.params["Wh"] = p

    held = numerical_gradient(lambda q: second_window(q, False), p)
    through = numerical_gradient(lambda q: second_window(q, True), p)
    assert rel_error(g2["Wh"], held) < 1e-5
    assert rel_error(g2["Wh"], through) > 1e-2  # the state does depend on Wh: the cut matters


@pytest.mark.parametrize("cell, D", CASES)
def test_step_reproduces_the_sequence_forward(cell, D):
    model, x, _, state = _model_and_batch(cell, D, seed=4, T=6)
    scores, _, _ = model._forward(x, state)
    s = state
    for t in range(x.shape[1]):
        logits, s = model.step(x[:, t], s)
        assert np.allclose(logits, scores[:, t], rtol=1e-12, atol=1e-12)


def test_evaluate_is_the_mean_nll_whatever_the_window():
    model, _, _, _ = _model_and_batch("lstm", None, seed=5)
    ids = np.random.default_rng(6).integers(0, 5, 200)
    one_window = model.evaluate(ids, N=1, T=500)  # a single forward over the whole text
    scores, _, _ = model._forward(ids[None, :-1], None)
    z = scores[0] - scores[0].max(axis=1, keepdims=True)
    direct = float(np.mean(np.log(np.exp(z).sum(axis=1)) - z[np.arange(199), ids[1:]]))
    assert abs(one_window - direct) < 1e-12
    assert abs(model.evaluate(ids, N=1, T=7) - direct) < 1e-12  # state carried over windows


def test_bits_and_perplexity():
    for nats in (0.1, 1.0, math.log(84)):
        assert math.isclose(bits_per_char(nats), math.log2(perplexity(nats)), rel_tol=1e-12)
    assert math.isclose(perplexity(math.log(84)), 84)


def test_count_baselines_match_a_direct_count():
    rng = np.random.default_rng(7)
    V = 4
    train, val = rng.integers(0, V, 300), rng.integers(0, V, 50)
    counts = {a: 0 for a in range(V)}
    pairs = {(a, b): 0 for a in range(V) for b in range(V)}
    for a in train:
        counts[int(a)] += 1
    for a, b in zip(train[:-1], train[1:], strict=True):
        pairs[int(a), int(b)] += 1
    uni = -np.mean([math.log2((counts[int(c)] + 1) / (300 + V)) for c in val[1:]])
    bi = -np.mean([math.log2((pairs[int(a), int(b)] + 1) /
                             (sum(pairs[int(a), k] for k in range(V)) + V))
                   for a, b in zip(val[:-1], val[1:], strict=True)])
    assert math.isclose(unigram_bpc(train, val, V), uni, rel_tol=1e-12)
    assert math.isclose(bigram_bpc(train, val, V), bi, rel_tol=1e-12)
    with pytest.raises(ValueError, match=r"val: expected ids in \[0, 4\)"):
        bigram_bpc(train, np.array([0, 4]), V)


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_training_learns_hello(cell):
    vocab = Vocab("helo")
    x, y = vocab.encode("hell")[None], vocab.encode("ello")[None]
    model = CharRNN(4, 8, cell, rng=np.random.default_rng(0))
    seen = []
    losses = train_charlm(model, [(x, y)], Adam(lr=1e-2), steps=300,
                          callback=lambda step, loss: seen.append(step))
    assert len(losses) == 300 and seen == list(range(1, 301))
    assert losses[-1] < 0.05 < losses[0]
    scores, _, _ = model._forward(x, None)
    assert vocab.decode(scores[0].argmax(axis=1)) == "ello"


def test_train_needs_a_stopping_rule():
    with pytest.raises(ValueError, match="stopping rule"):
        train_charlm(CharRNN(3, 2), [], Adam())


# ------------------------------------------------------------------ the torch path


def _copy_into_torch(np_model, torch_model):
    import torch

    p = {k: torch.tensor(v) for k, v in np_model.params.items()}
    with torch.no_grad():
        torch_model.embed.weight.copy_(p["W_embed"])
        cell = torch_model.rnn.cells[0]
        cell.Wx.copy_(p["Wx"])
        cell.Wh.copy_(p["Wh"])
        cell.b.copy_(p["b"])
        torch_model.head.weight.copy_(p["W_out"].T)
        torch_model.head.bias.copy_(p["b_out"])


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
@pytest.mark.parametrize("fast", [True, False])
def test_torch_charlm_matches_the_numpy_model(cell, fast):
    torch = pytest.importorskip("torch")
    from rnnkit.torch.models.charlm import CharLM

    np_model, x, y, _ = _model_and_batch(cell, 3, seed=8, V=6, H=5, N=3, T=7)
    model = CharLM(6, 5, cell, D=3, fast=fast, dtype=torch.float64)
    _copy_into_torch(np_model, model)
    loss, grads, (h_np, *_) = np_model.loss(x, y)
    nll, state = model.loss(torch.tensor(x), torch.tensor(y))
    nll.backward()
    assert abs(float(nll.detach()) - loss) < 1e-12
    h_t = state[0] if cell == "lstm" else state
    assert not h_t.requires_grad and np.allclose(h_t[0].numpy(), h_np, atol=1e-12)
    c = model.rnn.cells[0]
    for name, t in (("Wx", c.Wx), ("Wh", c.Wh), ("b", c.b), ("W_embed", model.embed.weight)):
        assert rel_error(t.grad.numpy(), grads[name]) < 1e-9, name
    # step (sampling) and evaluate agree with the NumPy model too
    logits_t, _ = model.step(x[:, 0], None)
    logits_n, _ = np_model.step(x[:, 0], np_model.init_state(3))
    assert np.allclose(logits_t, logits_n, atol=1e-12)
    ids = np.random.default_rng(9).integers(0, 6, 120)
    assert abs(model.evaluate(ids, N=2, T=9) - np_model.evaluate(ids, N=2, T=9)) < 1e-12


def test_torch_training_carries_state_and_learns():
    torch = pytest.importorskip("torch")
    from rnnkit.torch.models.charlm import CharLM
    from rnnkit.torch.models.charlm import train_charlm as train_torch

    torch.manual_seed(0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tensors this small only lose time to a second thread
    vocab = Vocab("helo")
    ids = vocab.encode("hello" * 40)
    batches = StreamBatches(ids, 2, 10)
    model = CharLM(4, 16, "lstm", D=4, fast=False, dtype=torch.float64)  # tiny: the loop is faster
    seen = []
    try:
        history = train_torch(model, batches, torch.optim.Adam(model.parameters(), lr=1e-2),
                              steps=150, callback=lambda step, loss: seen.append((step, loss)))
    finally:
        torch.set_num_threads(threads)
    assert len(history.loss) == 150 and [s for s, _ in seen] == list(range(1, 151))
    assert [loss for _, loss in seen] == history.loss
    # "hello" repeated: after "l", "l" or "o" depends on the previous letter; a model that
    # carries its state predicts every character almost surely
    assert model.evaluate(ids, N=2, T=10) < 0.05 < history.loss[0]


def test_output_bias_starts_at_the_unigram_frequencies_on_both_paths():
    """With the output weights zeroed, a model whose bias came from ``init_output_bias``
    scores exactly the unigram baseline; the torch model gets the same bias."""
    rng = np.random.default_rng(3)
    V = 7
    train = rng.choice(V, size=500, p=[0.4, 0.2, 0.1, 0.1, 0.1, 0.05, 0.05])
    val = rng.choice(V, size=200)
    model = CharRNN(V, 8, "lstm", D=4).init_output_bias(train)
    model.params["W_out"][...] = 0.0
    assert math.isclose(bits_per_char(model.evaluate(val, N=1, T=50)), unigram_bpc(train, val, V),
                        rel_tol=1e-12)
    assert np.allclose(np.exp(unigram_log_probs(train, V)).sum(), 1.0)
    with pytest.raises(ValueError, match="train: expected ids in"):
        model.init_output_bias(np.array([0, 1, V]))
    torch = pytest.importorskip("torch")
    from rnnkit.torch.models.charlm import CharLM

    lm = CharLM(V, 8, "lstm", D=4, dtype=torch.float64).init_output_bias(train)
    np.testing.assert_allclose(lm.head.bias.detach().numpy(), model.params["b_out"], rtol=1e-12)
