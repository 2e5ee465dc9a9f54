"""rnnkit.decode: greedy, temperature and top-k sampling, priming, seeds, stopping."""

import numpy as np
import pytest

from rnnkit.data import Vocab
from rnnkit.decode import next_char_probs, sample
from rnnkit.models.charlm import CharRNN


class TableModel:
    """A first-order Markov model with fixed logits: row a scores the character after a.

    Independent of every rnnkit model; ``calls`` records the ids it was fed.
    """

    def __init__(self, logits):
        self.logits = np.asarray(logits, dtype=np.float64)
        self.calls = []

    def init_state(self, N):
        return None

    def step(self, ids, state):
        self.calls.append(int(ids[0]))
        return self.logits[ids], state


VOCAB = Vocab("abcdef")


def _table(seed=0, scale=1.5):
    return TableModel(scale * np.random.default_rng(seed).standard_normal((6, 6)))


def test_next_char_probs_matches_a_direct_softmax():
    z = np.array([2.0, -1.0, 0.5, 3.0, 0.0])
    for temperature in (0.5, 1.0, 2.0):
        e = np.exp(z / temperature)
        assert np.allclose(next_char_probs(z, temperature), e / e.sum(), rtol=1e-14)
    # top-3 keeps 3.0, 2.0 and 0.5 and renormalises over them only
    e = np.exp(np.array([2.0, 0.5, 3.0]))
    expected = np.array([e[0], 0.0, e[1], e[2], 0.0]) / e.sum()
    assert np.allclose(next_char_probs(z, 1.0, top_k=3), expected, rtol=1e-14)
    assert np.array_equal(next_char_probs(z, 0), [0, 0, 0, 1, 0])  # greedy
    batch = next_char_probs(np.stack([z, -z]), 1.0, top_k=2)
    assert batch.shape == (2, 5) and np.allclose(batch.sum(axis=1), 1)
    assert np.count_nonzero(batch, axis=1).tolist() == [2, 2]


def test_next_char_probs_rejects_bad_arguments():
    with pytest.raises(ValueError, match="temperature: expected a number >= 0"):
        next_char_probs(np.zeros(3), -1.0)
    with pytest.raises(ValueError, match=r"top_k: expected an int in \[1, V=3\]"):
        next_char_probs(np.zeros(3), 1.0, top_k=4)
    with pytest.raises(ValueError, match="logits: expected shape"):
        next_char_probs(np.zeros((2, 2, 2)))


def test_prime_is_read_and_the_continuation_returned():
    model = _table()
    text = sample(model, VOCAB, "abc", 5, temperature=0)
    assert len(text) == 5
    # the model read the prime, then every generated character but the last
    assert model.calls == VOCAB.encode("abc" + text[:-1]).tolist()


def test_greedy_follows_the_argmax_chain_and_small_temperature_equals_it():
    model = _table(1)
    chain, c = [], VOCAB.stoi["a"]
    for _ in range(30):  # the greedy path, computed directly from the table
        c = int(np.argmax(model.logits[c]))
        chain.append(c)
    greedy = sample(model, VOCAB, "a", 30, temperature=0)
    assert greedy == VOCAB.decode(chain)
    for seed in range(5):  # temperature -> 0 approaches greedy
        assert sample(model, VOCAB, "a", 30, temperature=1e-3, seed=seed) == greedy


def test_same_seed_same_text_and_generator_accepted():
    model = _table(2, scale=0.3)  # nearly flat: samples vary a lot between seeds
    a = sample(model, VOCAB, "a", 60, seed=7)
    assert a == sample(model, VOCAB, "a", 60, seed=7)
    assert a == sample(model, VOCAB, "a", 60, seed=np.random.default_rng(7))
    assert a != sample(model, VOCAB, "a", 60, seed=8)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_top_k_never_picks_outside_the_top_k(k):
    model = _table(3, scale=0.2)  # flat logits: without top-k every character would appear
    text = sample(model, VOCAB, "a", 400, top_k=k, temperature=2.0, seed=0)
    prev = "a" + text[:-1]
    for p, c in zip(prev, text, strict=True):
        top = np.argsort(-model.logits[VOCAB.stoi[p]])[:k]
        assert VOCAB.stoi[c] in top, (p, c, k)
    if k > 1:  # and it does use more than the argmax
        assert sample(model, VOCAB, "a", 400, top_k=k, seed=0) != \
            sample(model, VOCAB, "a", 400, temperature=0)


def test_end_symbol_stops_generation():
    logits = np.zeros((6, 6))
    logits[:, VOCAB.stoi["f"]] = 1.0  # "f" is likely but not certain
    model = TableModel(logits)
    full = sample(model, VOCAB, "a", 200, seed=3)
    assert "f" in full
    stopped = sample(model, VOCAB, "a", 200, seed=3, end="f")
    assert stopped == full[: full.index("f")]  # the same draws, cut before the end symbol
    assert sample(model, VOCAB, "a", 0) == ""


def test_prime_follows_the_vocabulary_policy():
    model = _table()
    with pytest.raises(ValueError, match=r"prime: character 'z' \(U\+007A\) at position 2"):
        sample(model, VOCAB, "abz", 5)
    with pytest.raises(ValueError, match="prime: expected at least one character"):
        sample(model, VOCAB, "", 5)
    with pytest.raises(ValueError, match="prime: expected at least one character"):
        sample(model, Vocab("abcdef", unknown="skip"), "zz", 5)
    skip = Vocab("abcdef", unknown="skip")
    assert sample(model, skip, "azb", 4, seed=1) == sample(model, VOCAB, "ab", 4, seed=1)
    with pytest.raises(ValueError, match="end: expected one character"):
        sample(model, VOCAB, "a", 5, end="ab")
    with pytest.raises(ValueError, match=r"end: character 'z'"):
        sample(model, VOCAB, "a", 5, end="z")


def test_numpy_and_torch_models_sample_the_same_text():
    torch = pytest.importorskip("torch")
    from rnnkit.torch.models.charlm import CharLM

    rng = np.random.default_rng(4)
    np_model = CharRNN(6, 8, "lstm", D=5, rng=rng)
    for p in np_model.params.values():
        p += 0.5 * rng.standard_normal(p.shape)
    t_model = CharLM(6, 8, "lstm", D=5, dtype=torch.float64)
    with torch.no_grad():
        t_model.embed.weight.copy_(torch.tensor(np_model.params["W_embed"]))
        cell = t_model.rnn.cells[0]
        for name in ("Wx", "Wh", "b"):
            getattr(cell, name).copy_(torch.tensor(np_model.params[name]))
        t_model.head.weight.copy_(torch.tensor(np_model.params["W_out"].T))
        t_model.head.bias.copy_(torch.tensor(np_model.params["b_out"]))
    for kw in ({"temperature": 0}, {"temperature": 0.8, "top_k": 3, "seed": 5}):
        a = sample(np_model, VOCAB, "abc", 40, **kw)
        assert a == sample(t_model, VOCAB, "abc", 40, **kw) and len(a) == 40
