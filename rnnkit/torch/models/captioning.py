"""An image captioner on the torch path: a small CNN encoder and an LSTM decoder (chapter 13).

``ConvEncoder`` turns images ``(N, 3, S, S)`` into a grid of region vectors ``(N, R, C)``
(R = grid * grid cells, C channels) and one feature vector ``(N, F)``, the regions side by
side, so that the feature still says *where* each thing is. ``Captioner`` decodes a caption from
them with ``rnnkit.torch.LSTM`` (gate order i, f, g, o), conditioned in one of two ways
(Show and Tell, Vinyals et al. 2015; lecture ``004``):

- ``"init"``: through the initial state only: ``v = feature W_proj + b_proj`` is the initial
  cell state, ``c_0 = v``, and ``h_0 = tanh(v)``, the hidden state of an LSTM whose output gate is
  open (Xu et al. 2015 predict both from the image too). CS231n's captioner, and its NumPy twin
  ``rnnkit.models.captioning.CaptioningRNN``, set ``h_0 = v`` and ``c_0 = 0``; chapter 13 shows
  why the cell state matters;
- ``"step"``: at every step, the input is ``[embed(w_{t-1}); v]`` and the initial state is zero.

``attention=True`` (Show, Attend and Tell, Xu et al. 2015) adds additive attention over the
regions: at each step the decoder reads ``context_t = attend(h_{t-1}, regions)`` beside the word,
and the scores read ``[h_t; context_t]``; the initial state comes from the feature as in
``"init"``. Every variant starts the LSTM's forget gate bias at 1.

Training is the Show and Tell objective, the negative log-likelihood of the reference caption's
words (``loss``: per real word, ``<NULL>`` masked). Decoding: ``greedy_batch`` for a whole batch;
``start_state`` and ``step`` have the interface of ``rnnkit.decode.greedy`` and
``rnnkit.decode.beam_search``. Teacher-forced training runs torch.nn's fused LSTM kernel on the
same weights (``fast=True``); attention and decoding loop over steps in Python.
"""

import torch
import torch.nn.functional as F
from torch import nn

from rnnkit.torch.cells.lstm import LSTM
from rnnkit.torch.compose.attention import AdditiveAttention
from rnnkit.torch.models.seq2seq import sequence_loss

__all__ = ["ConvEncoder", "Captioner", "CONDITIONS"]

CONDITIONS = ("init", "step")
NULL, START, END = 0, 1, 2  # rnnkit.tasks.shapes' ids


class ConvEncoder(nn.Module):
    """Two 3 x 3 convolutions with ReLU and max pooling down to a ``grid`` x ``grid`` map.

    Args:
        channels: (C1, C2), the two convolutions' widths; C = C2.
        grid: the side of the output map; R = grid * grid regions, F = R * C.
    """

    def __init__(self, channels=(16, 32), grid=3, *, device=None, dtype=None):
        super().__init__()
        kw = {"device": device, "dtype": dtype}
        c1, c2 = channels
        self.conv1 = nn.Conv2d(3, c1, 3, padding=1, **kw)
        self.conv2 = nn.Conv2d(c1, c2, 3, padding=1, **kw)
        self.grid, self.channels = grid, c2
        self.feature_size = grid * grid * c2

    def forward(self, images):
        """images (N, 3, S, S) -> regions (N, R, C), feature (N, F)."""
        if images.dim() != 4 or images.shape[1] != 3:
            raise ValueError(f"images: expected shape (N, 3, S, S), got {tuple(images.shape)}")
        x = F.max_pool2d(F.relu(self.conv1(images)), 2)  # (N, C1, S/2, S/2)
        x = F.adaptive_max_pool2d(F.relu(self.conv2(x)), self.grid)  # (N, C, grid, grid)
        regions = x.flatten(2).transpose(1, 2)  # (N, R, C), reading order
        return regions, regions.flatten(1)


class Captioner(nn.Module):
    """CNN encoder + LSTM decoder (module docstring).

    Args:
        vocab_size: V, with ``<NULL>`` 0, ``<START>`` 1, ``<END>`` 2.
        embed_size: W; hidden_size: H.
        condition: ``"init"`` or ``"step"``: where the image enters (without attention).
        attention: attend over the CNN's regions at every step (condition is then "init").
        channels, grid: the encoder's (``ConvEncoder``).
    """

    def __init__(self, vocab_size, embed_size=32, hidden_size=96, *, condition="init",
                 attention=False, channels=(16, 32), grid=3, device=None, dtype=None):
        super().__init__()
        kw = {"device": device, "dtype": dtype}
        if condition not in CONDITIONS:
            raise ValueError(f"condition: expected one of {CONDITIONS}, got {condition!r}")
        self.condition = "init" if attention else condition
        self.encoder = ConvEncoder(channels, grid, **kw)
        C, Fs = self.encoder.channels, self.encoder.feature_size
        self.proj = nn.Linear(Fs, hidden_size, **kw)  # W_proj, b_proj
        self.embed = nn.Embedding(vocab_size, embed_size, **kw)  # W_embed
        extra = hidden_size if self.condition == "step" else (C if attention else 0)
        self.lstm = LSTM(embed_size + extra, hidden_size, fast=not attention, **kw)
        with torch.no_grad():  # forget bias 1: the cell keeps what it read from the image
            self.lstm.cells[0].b[hidden_size : 2 * hidden_size] = 1.0  # gates i, f, g, o
        self.attention = AdditiveAttention(hidden_size, C, hidden_size, **kw) if attention \
            else None
        self.out = nn.Linear(hidden_size + (C if attention else 0), vocab_size, **kw)  # W_vocab

    def start_state(self, images):
        """The decoder's state before ``<START>``: a tuple of tensors, first axis N."""
        regions, feature = self.encoder(images)
        v = self.proj(feature)  # (N, H)
        zero = torch.zeros_like(v)
        if self.attention is not None:
            return (torch.tanh(v), v, regions, self.attention.project_keys(regions))
        if self.condition == "init":
            return (torch.tanh(v), v)
        return (zero, zero, v)

    def _step(self, tokens, state):
        """One step: tokens (N,) -> logits (N, V), the next state, attention weights or None."""
        h, c, *rest = state
        x, weights, context = self.embed(tokens), None, None
        if self.attention is not None:
            regions, projected = rest
            context, weights = self.attention(h, regions, None, projected)
            x = torch.cat([x, context], dim=1)
        elif self.condition == "step":
            x = torch.cat([x, rest[0]], dim=1)
        cell = self.lstm.cells[0]
        h, c = cell.step(cell.project(x), (h, c))
        logits = self.out(h if context is None else torch.cat([h, context], dim=1))
        return logits, (h, c, *rest), weights

    def forward(self, images, captions_in):
        """Teacher-forced logits (N, T, V) for ``captions_in`` (N, T) (``<START>`` first)."""
        state = self.start_state(images)
        if self.attention is not None:  # the context depends on h: one step at a time
            logits = []
            for t in range(captions_in.shape[1]):
                out, state, _ = self._step(captions_in[:, t], state)
                logits.append(out)
            return torch.stack(logits, 1)
        x = self.embed(captions_in)  # (N, T, W)
        if self.condition == "step":
            x = torch.cat([x, state[2].unsqueeze(1).expand(-1, x.shape[1], -1)], dim=2)
        h, _ = self.lstm(x, (state[0].unsqueeze(0), state[1].unsqueeze(0)))  # (N, T, H)
        return self.out(h)

    def loss(self, images, captions):
        """Mean negative log-likelihood per real word of ``captions`` (N, T + 1), ``<NULL>``
        masked: the Show and Tell objective divided by the number of words."""
        captions_in, captions_out = captions[:, :-1], captions[:, 1:]
        return sequence_loss(self(images, captions_in), captions_out, captions_out != NULL)

    @torch.no_grad()
    def step(self, tokens, state):
        """``rnnkit.decode``'s step: tokens (B,) (NumPy or torch) -> log-probs (B, V), state."""
        tokens = torch.as_tensor(tokens, device=state[0].device)
        logits, state, _ = self._step(tokens, state)
        return torch.log_softmax(logits, dim=1), state

    @torch.no_grad()
    def greedy_batch(self, images, max_len):
        """Caption a batch greedily: ids (N, max_len), ``<NULL>`` after each ``<END>``; the
        attention weights (N, steps, R) of the steps taken (at most max_len, fewer when every
        caption ended), or None without attention."""
        state = self.start_state(images)
        N = images.shape[0]
        tokens = torch.full((N,), START, dtype=torch.long, device=images.device)
        done = torch.zeros(N, dtype=torch.bool, device=images.device)
        out, weights = [], []
        for _ in range(max_len):
            logits, state, w = self._step(tokens, state)
            tokens = logits.argmax(dim=1)
            out.append(torch.where(done, NULL, tokens))
            weights.append(w)
            done |= tokens == END
            if bool(done.all()):
                break
        ids = torch.full((N, max_len), NULL, dtype=torch.long, device=images.device)
        ids[:, : len(out)] = torch.stack(out, 1)
        return ids, (None if weights[0] is None else torch.stack(weights, 1))
