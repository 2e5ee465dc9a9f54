"""A character language model in NumPy, its training loop, and the baselines it must beat.

The model (book chapter 5) reads one character per step and predicts the next::

    x_t  = onehot(c_t)            or  W_embed[c_t]           (N, T, D)
    h_t  = cell(x_t, h_{t-1})     rnnkit.cells.rnn or rnnkit.cells.lstm  (N, T, H)
    s_t  = h_t @ W_out + b_out    temporal affine            (N, T, V)
    loss = mean over n, t of -log softmax(s_t)[c_{t+1}]      nats per character

Training is teacher-forced (the true previous character is the input, never the
model's own guess) with truncated BPTT: ``loss`` returns the final state, the caller
passes it into the next batch's ``loss`` (see ``rnnkit.data.StreamBatches``), and the
gradient stops at the batch boundary because ``dh0`` (and ``dc0``) are dropped.

``unigram_bpc`` and ``bigram_bpc`` are count models on the same split: a recurrent model
that does not beat the bigram has learned nothing a table of pairs could not.
``rnnkit.torch.models.charlm`` has the same model on the torch path; ``rnnkit.decode`` samples
from either.
"""

import math
import time

import numpy as np

from rnnkit.cells.lstm import lstm_backward, lstm_forward, lstm_step_forward
from rnnkit.cells.rnn import rnn_backward, rnn_forward, rnn_step_forward
from rnnkit.data import StreamBatches
from rnnkit.init import init_rnn_params, lstm_forget_bias, xavier_uniform
from rnnkit.layers import (
    log_softmax,
    temporal_affine_backward,
    temporal_affine_forward,
    temporal_softmax_loss,
    word_embedding_backward,
    word_embedding_forward,
)
from rnnkit.optim import clip_grad_norm

__all__ = ["CharRNN", "train_charlm", "bits_per_char", "perplexity", "unigram_log_probs",
           "unigram_bpc", "bigram_bpc"]

CELLS = {"rnn": 1, "lstm": 4}  # cell -> gate blocks G


def bits_per_char(nats):
    """Convert a mean negative log-likelihood in nats per character to bits per character."""
    return nats / math.log(2)


def perplexity(nats):
    """Perplexity ``exp(mean NLL)``: the size of a uniform choice that is as uncertain."""
    return math.exp(nats)


class CharRNN:
    """Character LM: one-hot or embedded input, a vanilla RNN or LSTM, an affine readout.

    Args:
        V: vocabulary size.
        H: hidden size.
        cell: ``"rnn"`` or ``"lstm"``.
        D: embedding size; None feeds one-hot vectors (D = V), as in the lectures.
        rng: ``np.random.Generator`` for the initial weights (default: seed 0).
        dtype: float dtype of every parameter (float64 for gradient checks, float32 for speed).
    Attributes:
        params: dict of arrays: ``W_embed`` (V, D) when D is set, ``Wx`` (D, G*H),
            ``Wh`` (H, G*H), ``b`` (G*H,), ``W_out`` (H, V), ``b_out`` (V,).
    """

    def __init__(self, V, H, cell="rnn", D=None, rng=None, dtype=np.float64):
        if cell not in CELLS:
            raise ValueError(f"cell: expected one of {tuple(CELLS)}, got {cell!r}")
        rng = np.random.default_rng(0) if rng is None else rng
        self.V, self.H, self.cell, self.D, self.dtype = V, H, cell, D, np.dtype(dtype)
        self.params = {}
        if D is not None:
            self.params["W_embed"] = (0.1 * rng.standard_normal((V, D))).astype(dtype)
        p = init_rnn_params(V if D is None else D, H, CELLS[cell], rng, dtype=dtype)
        if cell == "lstm":
            p["b"] = lstm_forget_bias(p["b"], H)
        self.params.update(p)
        self.params["W_out"] = xavier_uniform((H, V), rng, dtype=dtype)
        self.params["b_out"] = np.zeros(V, dtype=dtype)
        self._eye = np.eye(V, dtype=dtype)  # row c is onehot(c)

    def init_output_bias(self, train):
        """Start ``b_out`` at the log character frequencies of ``train`` (1-D ids); return self.

        Before any update the model then predicts the training text's unigram distribution
        instead of a uniform one, so its first updates are not spent learning how common each
        character is. Measured on the 120-second Shakespeare benchmark (bench/README.md).
        """
        self.params["b_out"][...] = unigram_log_probs(train, self.V)
        return self

    def init_state(self, N):
        """Return the zero state for N sequences: ``(h,)`` or ``(h, c)``, each (N, H)."""
        zero = np.zeros((N, self.H), dtype=self.dtype)
        return (zero,) if self.cell == "rnn" else (zero, zero.copy())

    def _embed(self, x):
        if self.D is None:
            return self._eye[x], None  # (N, T, V) one-hot rows
        return word_embedding_forward(x, self.params["W_embed"])

    def _forward(self, x, state):
        """Scores for ids x (N, T) from ``state``; return ``(scores, new_state, caches)``."""
        p = self.params
        state = self.init_state(x.shape[0]) if state is None else state
        inp, emb_cache = self._embed(x)  # (N, T, D)
        if self.cell == "rnn":
            h, cell_cache = rnn_forward(inp, state[0], p["Wx"], p["Wh"], p["b"])
            new_state = (h[:, -1].copy(),)
        else:
            h, c_n, cell_cache = lstm_forward(inp, *state, p["Wx"], p["Wh"], p["b"])
            new_state = (h[:, -1].copy(), c_n.copy())
        scores, aff_cache = temporal_affine_forward(h, p["W_out"], p["b_out"])  # (N, T, V)
        return scores, new_state, (emb_cache, cell_cache, aff_cache)

    def loss(self, x, y, state=None):
        """Mean NLL per character of targets y given inputs x, and its gradients.

        Args:
            x: input ids, (N, T).
            y: target ids (the next characters), (N, T).
            state: the state to start from (from ``init_state`` or the previous batch);
                None starts from zeros.
        Returns:
            loss: nats per character, a float.
            grads: dict with the keys and shapes of ``params``.
            state: the final state, to pass to the next batch; no gradient flows back
                through it (truncated BPTT cuts here).
        """
        scores, new_state, (emb_cache, cell_cache, aff_cache) = self._forward(x, state)
        T = x.shape[1]
        loss, dscores = temporal_softmax_loss(scores, y)  # summed over time, mean over batch
        loss, dscores = loss / T, dscores / T  # per character
        g = {}
        dh, g["W_out"], g["b_out"] = temporal_affine_backward(dscores, aff_cache)
        if self.cell == "rnn":
            dinp, _dh0, g["Wx"], g["Wh"], g["b"] = rnn_backward(dh, cell_cache)  # _dh0: the cut
        else:  # the loss reads c only through h: no gradient into c_n
            dinp, _dh0, _dc0, g["Wx"], g["Wh"], g["b"] = lstm_backward(dh, None, cell_cache)
        if self.D is not None:
            g["W_embed"] = word_embedding_backward(dinp, emb_cache)
        return loss, {k: g[k] for k in self.params}, new_state

    def step(self, ids, state):
        """Read one character per sequence and return next-character scores (for sampling).

        Args:
            ids: current character ids, (N,).
            state: from ``init_state`` or the previous ``step``.
        Returns:
            logits: unnormalised log-probabilities of the next character, (N, V).
            state: the new state.
        """
        p = self.params
        inp = self._eye[ids] if self.D is None else p["W_embed"][ids]  # (N, D)
        if self.cell == "rnn":
            h, _ = rnn_step_forward(inp, state[0], p["Wx"], p["Wh"], p["b"])
            state = (h,)
        else:
            h, c, _ = lstm_step_forward(inp, state[0], state[1], p["Wx"], p["Wh"], p["b"])
            state = (h, c)
        return h @ p["W_out"] + p["b_out"], state

    def evaluate(self, ids, N=32, T=100):
        """Mean NLL in nats per character over every character of ``ids``, state carried.

        Args:
            ids: a held-out stretch of text as ids, (L,).
            N, T: streams and window length (they change the speed, and the result only
                through the N stream starts, which begin from a zero state).
        Returns:
            float, nats per character; ``bits_per_char`` converts.
        """
        total, count, state = 0.0, 0, None
        for x, y in StreamBatches(ids, N, T, drop_last=False):
            scores, state, _ = self._forward(x, state)
            logp = log_softmax(scores)  # (N, T, V)
            total -= float(np.take_along_axis(logp, y[..., None], axis=-1).sum())
            count += y.size
        return total / count


def train_charlm(model, batches, optimizer, max_norm=5.0, steps=None, seconds=None,
                 callback=None):
    """Train a ``CharRNN`` with truncated BPTT: state carried across batches, gradient cut.

    Passes over ``batches`` again and again (each pass starts from a zero state) until
    ``steps`` updates or ``seconds`` of wall-clock time, whichever comes first.

    Args:
        model: a ``CharRNN``.
        batches: a ``StreamBatches`` (or any list of ``(x, y)`` with contiguous rows).
        optimizer: an ``rnnkit.optim`` optimizer, e.g. ``Adam(lr=2e-3)``.
        max_norm: clip the global gradient norm to this (None: no clipping).
        steps: number of updates (None: no limit).
        seconds: wall-clock budget (None: no limit); one of steps and seconds is needed.
        callback: ``callback(step, loss)`` called after every update, or None.
    Returns:
        list of the training loss (nats per character) of every update.
    """
    if steps is None and seconds is None:
        raise ValueError("steps, seconds: give at least one stopping rule")
    losses, start = [], time.perf_counter()
    while True:
        state = None  # a new pass over the streams starts from zeros
        for x, y in batches:
            if (steps is not None and len(losses) >= steps) or \
                    (seconds is not None and time.perf_counter() - start >= seconds):
                return losses
            loss, grads, state = model.loss(x, y, state)
            if max_norm is not None:
                clip_grad_norm(grads, max_norm)
            optimizer.step(model.params, grads)
            losses.append(loss)
            if callback is not None:
                callback(len(losses), loss)


def _check_ids(name, ids, V):
    ids = np.asarray(ids)
    if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer) or len(ids) < 2:
        raise ValueError(f"{name}: expected a 1-D integer array of at least 2 ids, got "
                         f"{ids.dtype} array of shape {ids.shape}")
    if ids.min() < 0 or ids.max() >= V:
        raise ValueError(f"{name}: expected ids in [0, {V}), got {ids.min()} to {ids.max()}")
    return ids


def unigram_log_probs(train, V, alpha=1.0):
    """Natural log of the character frequencies of ``train``, add-``alpha`` smoothed: (V,).

    ``p(c) = (count(c) + alpha) / (L + alpha * V)``. A language model whose output bias starts
    here (``init_output_bias``) predicts these frequencies before its first update.
    """
    counts = np.bincount(_check_ids("train", train, V), minlength=V) + alpha
    return np.log(counts / counts.sum())


def unigram_bpc(train, val, V, alpha=1.0):
    """Bits per character of character frequencies (add-``alpha`` smoothing) on ``val``.

    ``p(c) = (count(c) + alpha) / (L + alpha * V)``; every validation character after the
    first is scored, as the language models score every character after the first.
    """
    logp = unigram_log_probs(train, V, alpha) / np.log(2)
    val = _check_ids("val", val, V)
    return float(-logp[val[1:]].mean())


def bigram_bpc(train, val, V, alpha=1.0):
    """Bits per character of a bigram (first-order Markov) model with add-``alpha`` smoothing.

    ``p(b | a) = (count(a, b) + alpha) / (count(a) + alpha * V)``, counted on ``train``,
    scored on every consecutive pair of ``val``.
    """
    train, val = _check_ids("train", train, V), _check_ids("val", val, V)
    pairs = np.bincount(train[:-1] * V + train[1:], minlength=V * V).reshape(V, V) + alpha
    logp = np.log2(pairs / pairs.sum(axis=1, keepdims=True))  # (V, V), row a: p(. | a)
    return float(-logp[val[:-1], val[1:]].mean())
