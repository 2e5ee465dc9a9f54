"""rnnkit.decode.greedy and beam_search against exhaustive search on random toy models."""

import itertools

import numpy as np
import pytest

from rnnkit.decode import beam_search, greedy

END, START = 0, 99


class PrefixModel:
    """Next-token log-probabilities that depend on the whole prefix (a hash of it), V tokens.

    The state is what was fed so far (START, y_1, ...), an int array (B, t) whose first axis the
    search reorders.
    """

    def __init__(self, V, seed, end_bias=0.0):
        self.V, self.seed, self.end_bias = V, seed, end_bias

    def table(self, prefix):
        rng = np.random.default_rng([self.seed, *[int(p) for p in prefix]])
        z = 2.0 * rng.standard_normal(self.V)
        z[END] += self.end_bias
        return z - np.log(np.exp(z).sum())

    def step(self, tokens, state):
        state = np.concatenate([state, tokens[:, None]], axis=1)
        return np.stack([self.table(row[1:]) for row in state]), state


def exhaustive(model, max_len):
    """Every sequence that ends at END within max_len, or is max_len long: (tokens, log_prob)."""
    out = []
    for T in range(1, max_len + 1):
        for seq in itertools.product(range(model.V), repeat=T):
            if END in seq[:-1] or (seq[-1] != END and T < max_len):
                continue
            lp = sum(model.table(seq[:t])[seq[t]] for t in range(T))
            out.append((seq, lp))
    return sorted(out, key=lambda s: -s[1])


def start_state():
    return np.zeros((1, 0), dtype=np.int64)  # nothing fed yet


@pytest.mark.parametrize("seed", range(6))
def test_beam_one_is_greedy(seed):
    model = PrefixModel(4, seed)
    g = greedy(model.step, start_state(), START, END, 6)
    b = beam_search(model.step, start_state(), START, END, 1, 6)
    assert len(b) == 1 and b[0].tokens == g.tokens and b[0].log_prob == pytest.approx(g.log_prob)


@pytest.mark.parametrize("seed", range(4))
def test_wide_beam_is_exhaustive_search(seed):
    V, L = 3, 4
    model = PrefixModel(V, seed)
    truth = exhaustive(model, L)
    hyps = beam_search(model.step, start_state(), START, END, V**L, L)
    assert len(hyps) == len(truth)
    assert [h.tokens for h in hyps] == [s for s, _ in truth]
    # scores are the summed log-probabilities of the tokens
    np.testing.assert_allclose([h.log_prob for h in hyps], [lp for _, lp in truth], rtol=1e-12)
    assert all(h.score == h.log_prob for h in hyps)
    assert all(h.finished == (h.tokens[-1] == END) for h in hyps)


def test_length_penalty_reranks_towards_longer_outputs():
    """With alpha = 1 the ranking is by mean log-probability; check against exhaustive."""
    V, L = 3, 4
    found = 0
    for seed in range(20):
        model = PrefixModel(V, seed, end_bias=1.0)
        truth = [(s, lp / len(s)) for s, lp in exhaustive(model, L) if s[-1] == END]
        truth.sort(key=lambda s: -s[1])
        hyps = [h for h in beam_search(model.step, start_state(), START, END, V**L, L,
                                       length_penalty=1.0) if h.finished]
        assert [h.tokens for h in hyps] == [s for s, _ in truth]
        plain = beam_search(model.step, start_state(), START, END, V**L, L)[0]
        found += len(hyps[0].tokens) > len(plain.tokens)
    assert found >= 3  # normalising picked a longer best sequence on several models


def test_state_tuple_and_bad_arguments():
    model = PrefixModel(3, 0)

    def step(tokens, state):  # a tuple state: (prefix, a float array riding along)
        lp, prefix = model.step(tokens, state[0])
        return lp, (prefix, state[1] + 1.0)

    hyps = beam_search(step, (start_state(), np.zeros((1, 2))), START, END, 3, 4)
    ref = beam_search(model.step, start_state(), START, END, 3, 4)
    assert [h.tokens for h in hyps] == [h.tokens for h in ref]
    with pytest.raises(ValueError, match="beam_size"):
        beam_search(model.step, start_state(), START, END, 0, 4)
    with pytest.raises(ValueError, match="length_penalty"):
        beam_search(model.step, start_state(), START, END, 2, 4, length_penalty=-1)
