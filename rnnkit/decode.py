"""Generating text from a character language model: greedy, temperature and top-k sampling.

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

import numpy as np

from rnnkit.layers import softmax

__all__ = ["next_char_probs", "sample"]


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
