"""Decoding: sampling text from a language model (greedy, temperature, top-k), and greedy and
beam search for encoder-decoders (``greedy``, ``beam_search``, chapter 11).

One API serves both paths. A model only needs two methods (``rnnkit.models.charlm.CharRNN``
and ``rnnkit.torch.models.charlm.CharLM`` have them)::

    state = model.init_state(N)
    logits, state = model.step(ids, state)   # ids (N,) ints -> logits (N, V) NumPy floats

Generation (book chapter 5): feed the prime one character at a time, then repeatedly
turn the last logits into a distribution, draw the next character, and feed it back in.
``next_char_probs`` is that turn:

    p = softmax(logits / temperature)  restricted to the k largest logits (top-k)

A temperature below 1 sharpens the distribution (as it goes to 0 it becomes greedy
argmax: safe, repetitive text); above 1 flattens it towards uniform (varied, more
mistakes). Top-k removes the long tail of unlikely characters whatever the temperature.
"""

import numbers
from typing import NamedTuple

import numpy as np

from rnnkit.layers import softmax

__all__ = ["next_char_probs", "sample", "Hypothesis", "greedy", "beam_search"]


def next_char_probs(logits, temperature=1.0, top_k=None):
    """Turn next-character logits into sampling probabilities.

    Args:
        logits: unnormalised log-probabilities, (V,) or (N, V).
        temperature: > 0 divides the logits; 0 means greedy (all mass on the argmax,
            the first one in a tie).
        top_k: keep only the k largest logits per row (ties at the k-th value are kept
            only as far as k entries), None keeps all V.
    Returns:
        float64 probabilities of logits' shape, each row summing to 1, zero outside the top k.
    """
    z = np.asarray(logits, dtype=np.float64)
    if z.ndim not in (1, 2) or z.shape[-1] < 1:
        raise ValueError(f"logits: expected shape (V,) or (N, V), got {z.shape}")
    if isinstance(temperature, bool) or not isinstance(temperature, numbers.Real) \
            or not temperature >= 0:
        raise ValueError(f"temperature: expected a number >= 0, got {temperature!r}")
    V = z.shape[-1]
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, numbers.Integral)
                              or not 1 <= top_k <= V):
        raise ValueError(f"top_k: expected an int in [1, V={V}] or None, got {top_k!r}")
    if temperature == 0:
        probs = np.zeros_like(z)
        np.put_along_axis(probs, np.argmax(z, axis=-1)[..., None], 1.0, axis=-1)
        return probs
    z = z / temperature
    if top_k is not None and top_k < V:
        drop = np.argsort(-z, axis=-1, kind="stable")[..., top_k:]  # indices below the top k
        z = z.copy()
        np.put_along_axis(z, drop, -np.inf, axis=-1)
    return softmax(z)


def sample(model, vocab, prime, length, temperature=1.0, top_k=None, seed=None, end=None):
    """Generate up to ``length`` characters after ``prime``.

    Args:
        model: has ``init_state(N)`` and ``step(ids, state) -> (logits (N, V), state)``.
        vocab: the ``rnnkit.data.Vocab`` the model was trained with. Unknown characters in
            ``prime`` follow its policy (``"error"`` names the character and its position).
        prime: the text to start from, at least one character; the model reads all of it.
        length: the largest number of characters to generate.
        temperature: see ``next_char_probs``; 0 is greedy decoding.
        top_k: see ``next_char_probs``.
        seed: an int or a ``np.random.Generator``: the same seed gives the same text.
        end: a stop character (for example ``"\\n"`` or an end-of-sequence symbol); the
            generation stops after producing it, and it is not returned. None: never stop early.
    Returns:
        the generated text, without the prime (and without ``end``).
    """
    if isinstance(length, bool) or not isinstance(length, numbers.Integral) or length < 0:
        raise ValueError(f"length: expected an int >= 0, got {length!r}")
    ids = vocab.encode(prime, name="prime")
    if len(ids) == 0:
        raise ValueError(f"prime: expected at least one character the model can read, got "
                         f"{prime!r}")
    end_id = None
    if end is not None:
        end_id = int(vocab.encode(end, unknown="error", name="end")[0]) if len(end) == 1 else None
        if end_id is None:
            raise ValueError(f"end: expected one character, got {end!r}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    state = model.init_state(1)
    for i in ids:  # read the prime; the last logits predict the first new character
        logits, state = model.step(np.array([i]), state)
    out = []
    while len(out) < length:
        p = next_char_probs(logits[0], temperature, top_k)
        nxt = int(np.argmax(p)) if temperature == 0 else int(rng.choice(len(p), p=p))
        if nxt == end_id:
            break
        out.append(nxt)
        if len(out) < length:  # feed it back in (not needed after the last one)
            logits, state = model.step(np.array([nxt]), state)
    return vocab.decode(np.array(out, dtype=np.int64))


# --- Sequence decoding for encoder-decoders (book chapter 11) --------------------------------
#
# ``step(tokens, state) -> (log_probs, state)``: tokens (B,) ints, log_probs (B, V), state an
# array or a (nested) tuple of arrays whose first axis is B. The search indexes the state with a
# list of row numbers (``s[rows]``), which NumPy arrays and torch tensors both accept, so the
# same function decodes either path; log-probabilities may be torch tensors (moved to NumPy).


class Hypothesis(NamedTuple):
    """One decoded sequence.

    tokens: the generated ids, without ``start``, ending with ``end`` when ``finished``.
    log_prob: the model's total log-probability of those tokens, sum_t log p(y_t | y_<t).
    score: what the search ranked by: ``log_prob / len(tokens) ** length_penalty``.
    finished: False when the search stopped it at ``max_len`` before it produced ``end``.
    """

    tokens: tuple
    log_prob: float
    score: float
    finished: bool


def _take(state, rows):
    """Select rows of a state: an array, a tensor, None, or a (nested) tuple of them."""
    if state is None:
        return None
    if isinstance(state, (tuple, list)):
        return type(state)(_take(s, rows) for s in state)
    return state[rows]


def _log_probs(step, tokens, state, B):
    """Call ``step`` and return its log-probabilities as float64 NumPy (B, V), and the state."""
    lp, state = step(tokens, state)
    if hasattr(lp, "detach"):  # a torch tensor: no torch import needed here
        lp = lp.detach().cpu().double().numpy()
    lp = np.asarray(lp, dtype=np.float64)
    if lp.ndim != 2 or lp.shape[0] != B:
        raise ValueError(f"step: expected log_probs of shape (B, V) = ({B}, V), got {lp.shape}")
    return lp, state


def _check_search_args(beam_size, max_len, length_penalty):
    for name, value in (("beam_size", beam_size), ("max_len", max_len)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"{name}: expected an int >= 1, got {value!r}")
    if isinstance(length_penalty, bool) or not isinstance(length_penalty, numbers.Real) \
            or not length_penalty >= 0:
        raise ValueError(f"length_penalty: expected a number >= 0, got {length_penalty!r}")


def _score(log_prob, length, length_penalty):
    return log_prob / length ** length_penalty if length_penalty else log_prob


def greedy(step, state, start, end, max_len):
    """Decode one sequence by taking the most probable token at every step.

    Args:
        step: ``step(tokens (1,), state) -> (log_probs (1, V), state)``.
        state: the decoder's initial state for one input, first axis 1.
        start: the id fed first; end: the id that stops decoding (kept in the result).
        max_len: the largest number of tokens to generate.
    Returns:
        a ``Hypothesis`` (``score`` equals ``log_prob``).
    """
    _check_search_args(1, max_len, 0)
    tokens, total, tok = [], 0.0, start
    while len(tokens) < max_len:
        lp, state = _log_probs(step, np.array([tok], dtype=np.int64), state, 1)
        tok = int(np.argmax(lp[0]))  # the first one in a tie
        tokens.append(tok)
        total += float(lp[0, tok])
        if tok == end:
            break
    return Hypothesis(tuple(tokens), total, total, tokens[-1] == end)


def beam_search(step, state, start, end, beam_size, max_len, length_penalty=0.0):
    """Decode one sequence by beam search, and return every hypothesis it finished.

    At each step every live hypothesis is extended by every token, and the ``beam_size``
    best extensions by ``score`` are kept; those that end with ``end`` leave the beam as
    finished (so it narrows), the others are extended again. The search stops when no
    hypothesis is live or after ``max_len`` tokens; the live ones are then returned as they
    stand, with ``finished=False``. No hypothesis is pruned unless ``beam_size`` extensions
    score better, so a beam at least as wide as the number of sequences is exhaustive search.

    Args:
        step: ``step(tokens (B,), state) -> (log_probs (B, V), state)``, B the number of live
            hypotheses; NumPy or torch.
        state: the decoder's initial state for one input, first axis 1 (an array, a tensor or
            a tuple of them); the search reorders it with the beam.
        start: the id fed first; end: the end-of-sequence id (kept in the tokens).
        beam_size: hypotheses kept per step; 1 is greedy decoding.
        max_len: the largest number of tokens in a hypothesis.
        length_penalty: alpha in ``score = log_prob / len(tokens) ** alpha``; 0 ranks by the
            total log-probability alone, which favours short outputs; 1 by the mean per token.
    Returns:
        list of ``Hypothesis``, best score first (ties: the order they were found).
    """
    _check_search_args(beam_size, max_len, length_penalty)
    live = [((), 0.0)]  # (tokens, log_prob) per row of state
    tokens_in = np.array([start], dtype=np.int64)
    done = []
    for t in range(1, max_len + 1):
        lp, state = _log_probs(step, tokens_in, state, len(live))
        V = lp.shape[1]
        totals = np.array([lp_ for _, lp_ in live])[:, None] + lp  # (B, V)
        scores = totals / t ** length_penalty if length_penalty else totals
        flat = np.argsort(-scores, axis=None, kind="stable")[:beam_size]
        rows, keep = [], []
        for k in flat:
            b, v = divmod(int(k), V)
            hyp = (live[b][0] + (v,), float(totals[b, v]))
            if v == end:
                done.append(Hypothesis(hyp[0], hyp[1], float(scores[b, v]), True))
            else:
                rows.append(b)
                keep.append(hyp)
        if not keep:
            break
        if t == max_len:  # out of length: return the live ones as they stand
            done += [Hypothesis(s, p, _score(p, t, length_penalty), False) for s, p in keep]
            break
        live, state = keep, _take(state, rows)
        tokens_in = np.array([s[-1] for s, _ in keep], dtype=np.int64)
    return sorted(done, key=lambda h: -h.score)
