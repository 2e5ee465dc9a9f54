"""An image captioner in NumPy: image features -> h0 -> an RNN or LSTM language model (chapter 13).

The model of Vinyals et al.'s Show and Tell, in the form of CS231n's captioning assignment: the
image's feature vector becomes the initial hidden state, and the recurrent network then
predicts the caption word by word, reading the previous word::

    h0      = features @ W_proj + b_proj                      (N, H)
    x_t     = W_embed[w_{t-1}]                                (N, W)   word embedding
    h_t     = cell(x_t, h_{t-1}; Wx, Wh, b)                   (N, H)   rnn or lstm (i, f, g, o)
    s_t     = h_t @ W_vocab + b_vocab                         (N, V)   scores
    loss    = -(1/N) sum_{n,t} mask * log softmax(s_t)[w_t]           summed over time

Captions are ``<START> w_1 .. w_L <END> <NULL> ..``: the input is the caption without its last
token, the target the caption without its first, and ``<NULL>`` targets are masked out. Every
piece is rnnkit's own (``rnnkit.layers``, ``rnnkit.cells``), each with its hand-written
backward; ``loss`` chains them back in reverse order. ``tests/test_captioning.py`` checks the
gradients against finite differences and the loss against the torch captioner with the same
weights.
"""

import numbers

import numpy as np

from rnnkit._checks import check_float, check_labels, check_shape
from rnnkit.cells.lstm import lstm_backward, lstm_forward, lstm_step_forward
from rnnkit.cells.rnn import rnn_backward, rnn_forward, rnn_step_forward
from rnnkit.layers import (
    affine_backward,
    affine_forward,
    log_softmax,
    temporal_affine_backward,
    temporal_affine_forward,
    temporal_softmax_loss,
    word_embedding_backward,
    word_embedding_forward,
)

__all__ = ["CaptioningRNN", "PARAM_NAMES"]

PARAM_NAMES = ("W_proj", "b_proj", "W_embed", "Wx", "Wh", "b", "W_vocab", "b_vocab")
GATES = {"rnn": 1, "lstm": 4}


class CaptioningRNN:
    """Image features -> caption, with a vanilla RNN or an LSTM (module docstring).

    Args:
        word_to_idx: dict word -> id in [0, V); must hold ``"<NULL>"``; ``"<START>"`` and
            ``"<END>"`` are needed only by ``sample``.
        input_dim: D, the size of an image's feature vector.
        wordvec_dim: W, the size of a word vector.
        hidden_dim: H, the size of the hidden state.
        cell_type: ``"rnn"`` or ``"lstm"``.
        dtype: float dtype of the parameters (float64 for gradient checks).
        seed: seed of the initial weights (small Gaussians, scaled by 1/sqrt(fan-in)).
    Attributes:
        params: dict ``W_proj (D, H)``, ``b_proj (H,)``, ``W_embed (V, W)``, ``Wx (W, G*H)``,
            ``Wh (H, G*H)``, ``b (G*H,)``, ``W_vocab (H, V)``, ``b_vocab (V,)``; G = 1 or 4.
    """

    def __init__(self, word_to_idx, input_dim=512, wordvec_dim=128, hidden_dim=128,
                 cell_type="rnn", dtype=np.float32, seed=0):
        if cell_type not in GATES:
            raise ValueError(f"cell_type: expected 'rnn' or 'lstm', got {cell_type!r}")
        if not isinstance(word_to_idx, dict) or "<NULL>" not in word_to_idx:
            raise ValueError("word_to_idx: expected a dict word -> id holding '<NULL>'")
        V = len(word_to_idx)
        if sorted(word_to_idx.values()) != list(range(V)):
            raise ValueError(f"word_to_idx: expected the ids 0 .. {V - 1}, each once")
        for name, value in (("input_dim", input_dim), ("wordvec_dim", wordvec_dim),
                            ("hidden_dim", hidden_dim)):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
                raise ValueError(f"{name}: expected a positive int, got {value!r}")
        if not np.issubdtype(np.dtype(dtype), np.floating):
            raise TypeError(f"dtype: expected a float dtype, got {dtype!r}")
        self.word_to_idx = dict(word_to_idx)
        self.idx_to_word = {i: w for w, i in word_to_idx.items()}
        self.cell_type, self.dtype = cell_type, np.dtype(dtype)
        self._null = word_to_idx["<NULL>"]
        self._start = word_to_idx.get("<START>")
        self._end = word_to_idx.get("<END>")
        D, W, H, G = input_dim, wordvec_dim, hidden_dim, GATES[cell_type]
        rng = np.random.default_rng(seed)
        shapes = {"W_proj": (D, H), "b_proj": (H,), "W_embed": (V, W), "Wx": (W, G * H),
                  "Wh": (H, G * H), "b": (G * H,), "W_vocab": (H, V), "b_vocab": (V,)}
        self.params = {}
        for name in PARAM_NAMES:
            shape = shapes[name]
            scale = 0.0 if len(shape) == 1 else (0.01 if name == "W_embed" else shape[0] ** -0.5)
            self.params[name] = (scale * rng.standard_normal(shape)).astype(self.dtype)

    def _cell_forward(self, x, h0):
        """Run the cell over the caption: h (N, T, H), cache."""
        p = self.params
        if self.cell_type == "rnn":
            return rnn_forward(x, h0, p["Wx"], p["Wh"], p["b"])
        h, _, cache = lstm_forward(x, h0, None, p["Wx"], p["Wh"], p["b"])  # c0 = 0
        return h, cache

    def _cell_backward(self, dh, cache):
        """BPTT through the cell: dx, dh0, dWx, dWh, db."""
        if self.cell_type == "rnn":
            return rnn_backward(dh, cache)
        dx, dh0, _, dWx, dWh, db = lstm_backward(dh, None, cache)  # c0 = 0 is no parameter
        return dx, dh0, dWx, dWh, db

    def loss(self, features, captions):
        """Compute the training loss and the gradient of every parameter.

        Args:
            features: image features, (N, D).
            captions: int ids, (N, T + 1): ``<START>``, the words, ``<END>``, ``<NULL>`` padding.
        Returns:
            loss: a float, summed over time and averaged over the batch.
            grads: dict with the keys and shapes of ``params``.
        """
        p = self.params
        check_float("features", features)
        check_shape("features", features, "ND", {"D": p["W_proj"].shape[0]})
        check_labels("captions", captions, len(self.word_to_idx), "NT", {"N": len(features)})
        if captions.shape[1] < 2:
            raise ValueError(f"captions: expected at least 2 tokens per row, got "
                             f"{captions.shape[1]}")
        captions_in, captions_out = captions[:, :-1], captions[:, 1:]  # shift by one word
        mask = captions_out != self._null
        features = features.astype(self.dtype, copy=False)

        # forward: features -> h0; words -> vectors; the cell; scores; the loss
        h0, cache_proj = affine_forward(features, p["W_proj"], p["b_proj"])  # (N, H)
        x, cache_embed = word_embedding_forward(captions_in, p["W_embed"])  # (N, T, W)
        h, cache_cell = self._cell_forward(x, h0)  # (N, T, H)
        scores, cache_vocab = temporal_affine_forward(h, p["W_vocab"], p["b_vocab"])  # (N, T, V)
        loss, dscores = temporal_softmax_loss(scores, captions_out, mask)

        # backward, in reverse order
        grads = {}
        dh, grads["W_vocab"], grads["b_vocab"] = temporal_affine_backward(dscores, cache_vocab)
        dx, dh0, grads["Wx"], grads["Wh"], grads["b"] = self._cell_backward(dh, cache_cell)
        grads["W_embed"] = word_embedding_backward(dx, cache_embed)
        _, grads["W_proj"], grads["b_proj"] = affine_backward(dh0, cache_proj)
        return loss, {k: grads[k] for k in PARAM_NAMES}

    # --- decoding --------------------------------------------------------------------------

    def start_state(self, features):
        """The state before the first word: ``h0`` (N, H), and for an LSTM ``(h0, c0)``."""
        check_float("features", features)
        check_shape("features", features, "ND", {"D": self.params["W_proj"].shape[0]})
        h0 = features.astype(self.dtype, copy=False) @ self.params["W_proj"] \
            + self.params["b_proj"]
        return h0 if self.cell_type == "rnn" else (h0, np.zeros_like(h0))

    def step(self, tokens, state):
        """One step, ``rnnkit.decode``'s interface: tokens (B,) -> log-probs (B, V), state."""
        p = self.params
        x = p["W_embed"][np.asarray(tokens)]  # (B, W)
        if self.cell_type == "rnn":
            state, _ = rnn_step_forward(x, state, p["Wx"], p["Wh"], p["b"])
            h = state
        else:
            h, c, _ = lstm_step_forward(x, *state, p["Wx"], p["Wh"], p["b"])
            state = (h, c)
        return log_softmax(h @ p["W_vocab"] + p["b_vocab"]), state

    def sample(self, features, max_length=30):
        """Caption images greedily: the most probable word at each step, fed back in.

        Args:
            features: (N, D).
            max_length: T, the largest number of words generated.
        Returns:
            int array (N, T): the words; ``<END>`` ends a caption and ``<NULL>`` fills the
            rest of its row.
        """
        if self._start is None:
            raise ValueError("word_to_idx: sample needs a '<START>' word")
        if isinstance(max_length, bool) or not isinstance(max_length, numbers.Integral) \
                or max_length < 1:
            raise ValueError(f"max_length: expected a positive int, got {max_length!r}")
        state = self.start_state(features)
        N = features.shape[0]
        captions = np.full((N, max_length), self._null, dtype=np.int64)
        tokens = np.full(N, self._start, dtype=np.int64)
        done = np.zeros(N, dtype=bool)
        for t in range(max_length):
            logp, state = self.step(tokens, state)
            tokens = logp.argmax(axis=1)
            captions[~done, t] = tokens[~done]
            if self._end is not None:
                done |= tokens == self._end
            if done.all():
                break
        return captions
