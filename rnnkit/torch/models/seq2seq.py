"""Encoder-decoders on the torch path: GRUs, with or without attention (chapters 11 and 12).

``Decoder`` generates a sequence from a *memory*: the encoder's states ``(N, S, Hk)`` with
their mask, and a summary vector ``(N, Hk)``, the context or "thought" vector. Without
attention it sees only the summary, in one of three ways (chapter 11, lecture ``001``):

- ``"init"``: the initial state, ``s_0 = tanh(summary Wi + bi)``;
- ``"input"``: an extra input at every step, ``s_t = GRU([emb(y_{t-1}); summary], s_{t-1})``;
- ``"both"``: the two together (Cho et al. 2014 feed it to the output layer as well).

With ``attention="additive"`` (Bahdanau) or ``"multiplicative"`` (Luong's general form) the
extra input is a fresh context at every step, ``c_t = attend(s_{t-1}, memory)``, the initial
state comes from the summary, and the output layer reads ``[s_t; c_t]``. Both kinds of attention
query with the previous state ``s_{t-1}``, Bahdanau's order; Luong et al. query with ``s_t``
after the step, and only the score function is theirs here.

``Seq2Seq`` puts a token encoder (an embedding and ``rnnkit.torch.GRU`` on torch.nn's fused
kernel) in front. The encoder is unidirectional and the batch is right-padded, so a real
position never sees padding; the summary is read at each sequence's last real position and
attention masks the padding out. With ``sequence_loss`` masking the padded targets, a
padded batch gives the same loss and gradients as its sequences one by one
(``tests/test_seq2seq.py``).

Decoding: ``start_state`` and ``step`` have the signature ``rnnkit.decode.beam_search``
expects, so greedy and beam search are the library's, shared with NumPy models;
``greedy_batch`` decodes a whole batch at once for measuring accuracy. ``length_model=True``
adds a head that predicts the output length from the summary (the alternative to an end
symbol, lecture ``002``).
"""

import torch
import torch.nn.functional as F
from torch import nn

from rnnkit.tasks.tokens import END, PAD, START
from rnnkit.torch.cells.gru import GRU, GRUCell
from rnnkit.torch.compose.attention import AdditiveAttention, MultiplicativeAttention

__all__ = ["Decoder", "Seq2Seq", "sequence_loss"]

CONDITIONS = ("init", "input", "both")


def sequence_loss(logits, targets, mask, reduction="mean"):
    """Cross-entropy over the real tokens only.

    Args:
        logits: (N, T, V); targets: int64 (N, T); mask: bool (N, T), True on real tokens.
        reduction: "mean" (per real token) or "sum".
    Returns:
        a scalar tensor.
    """
    nll = F.cross_entropy(logits.transpose(1, 2), targets, reduction="none")  # (N, T)
    total = (nll * mask).sum()
    return total / mask.sum() if reduction == "mean" else total


class Decoder(nn.Module):
    """A GRU decoder over a memory, with or without attention.

    Args:
        vocab_size: V, output tokens (with ``PAD``, ``START``, ``END``).
        embed_size: E; hidden_size: H; memory_size: Hk, the width of the memory's vectors.
        attention: None, "additive" or "multiplicative".
        condition: without attention, how the summary enters: "init", "input" or "both".
        attention_size: A for additive attention (default H).
    """

    def __init__(self, vocab_size, embed_size, hidden_size, memory_size, *, attention=None,
                 condition="both", attention_size=None, device=None, dtype=None):
        super().__init__()
        kw = {"device": device, "dtype": dtype}
        if attention not in (None, "additive", "multiplicative"):
            raise ValueError(f"attention: expected None, 'additive' or 'multiplicative', got "
                             f"{attention!r}")
        if condition not in CONDITIONS:
            raise ValueError(f"condition: expected one of {CONDITIONS}, got {condition!r}")
        self.attention_kind, self.condition = attention, condition if attention is None else "both"
        self.uses_init = self.condition in ("init", "both")
        self.uses_input = self.condition in ("input", "both")
        self.embed = nn.Embedding(vocab_size, embed_size, padding_idx=PAD, **kw)
        extra = memory_size if self.uses_input else 0
        self.cell = GRUCell(embed_size + extra, hidden_size, **kw)
        self.init = nn.Linear(memory_size, hidden_size, **kw) if self.uses_init else None
        if attention == "additive":
            self.attention = AdditiveAttention(hidden_size, memory_size,
                                               attention_size or hidden_size, **kw)
        elif attention == "multiplicative":
            self.attention = MultiplicativeAttention(hidden_size, memory_size, **kw)
        else:
            self.attention = None
        self.out = nn.Linear(hidden_size + (memory_size if attention else 0), vocab_size, **kw)

    def start(self, memory, mask, summary):
        """The decoder's state before the first token: a tuple of tensors, first axis N."""
        N, H = summary.shape[0], self.cell.hidden_size
        h = torch.tanh(self.init(summary)) if self.uses_init else summary.new_zeros(N, H)
        if self.attention is None:
            return (h, summary)
        return (h, memory, self.attention.project_keys(memory), mask)

    def step(self, tokens, state):
        """One step: ``tokens`` (N,) -> logits (N, V), the next state, weights (N, S) or None."""
        h, *rest = state
        x = self.embed(tokens)
        weights = None
        if self.attention is not None:
            memory, projected, mask = rest
            context, weights = self.attention(h, memory, mask, projected)
            x = torch.cat([x, context], dim=1)
        elif self.uses_input:
            x = torch.cat([x, rest[0]], dim=1)
        h = self.cell(x, h)
        logits = self.out(h if self.attention is None else torch.cat([h, context], dim=1))
        return logits, (h, *rest), weights

    def forward(self, state, tgt_in, sample_prob=0.0):
        """Run over a whole target (teacher forcing), optionally with scheduled sampling.

        Args:
            state: from ``start``.
            tgt_in: int64 (N, T), ``START`` then the target without its last token.
            sample_prob: the probability of feeding, at each step after the first, the
                model's own previous prediction (argmax) instead of the true token.
        Returns:
            logits (N, T, V); weights (N, T, S), or None without attention.
        """
        logits, weights = [], []
        tokens = tgt_in[:, 0]
        for t in range(tgt_in.shape[1]):
            if t > 0:
                tokens = tgt_in[:, t]
                if sample_prob > 0:
                    own = logits[-1].detach().argmax(dim=1)
                    pick = torch.rand(tokens.shape, device=tokens.device) < sample_prob
                    tokens = torch.where(pick & (tokens != PAD), own, tokens)
            out, state, w = self.step(tokens, state)
            logits.append(out)
            weights.append(w)
        return torch.stack(logits, 1), (None if weights[0] is None else torch.stack(weights, 1))


class Seq2Seq(nn.Module):
    """A GRU encoder-decoder over token ids (see the module docstring).

    Args:
        src_vocab: source vocabulary size; tgt_vocab: target vocabulary size.
        embed_size: E; hidden_size: H (encoder and decoder).
        attention, condition, attention_size: as for ``Decoder``.
        length_model: also predict the output length (0 .. max_len) from the summary.
        max_len: the largest output length the length model can predict.
    """

    def __init__(self, src_vocab, tgt_vocab, embed_size=32, hidden_size=64, *, attention=None,
                 condition="both", attention_size=None, length_model=False, max_len=32,
                 device=None, dtype=None):
        super().__init__()
        kw = {"device": device, "dtype": dtype}
        self.embed = nn.Embedding(src_vocab, embed_size, padding_idx=PAD, **kw)
        self.encoder = GRU(embed_size, hidden_size, fast=True, **kw)
        self.decoder = Decoder(tgt_vocab, embed_size, hidden_size, hidden_size,
                               attention=attention, condition=condition,
                               attention_size=attention_size, **kw)
        self.length = nn.Linear(hidden_size, max_len + 1, **kw) if length_model else None

    def encode(self, src, src_mask):
        """Encode right-padded ``src`` (N, S): memory (N, S, H), summary (N, H)."""
        memory, _ = self.encoder(self.embed(src))
        last = src_mask.sum(dim=1) - 1  # each sequence's last real position
        summary = memory[torch.arange(src.shape[0], device=src.device), last]
        return memory, summary

    def start_state(self, src, src_mask):
        """The decoder's initial state for ``src``: a tuple of tensors, first axis N."""
        memory, summary = self.encode(src, src_mask)
        return self.decoder.start(memory, src_mask, summary)

    def forward(self, src, src_mask, tgt_in, sample_prob=0.0):
        """Teacher-forced logits (N, T, V) and attention weights (N, T, S) or None."""
        return self.decoder(self.start_state(src, src_mask), tgt_in, sample_prob)

    def loss(self, batch, sample_prob=0.0):
        """Mean cross-entropy per real target token of a ``Batch`` (plus the length model's)."""
        logits, _ = self(batch.src, batch.src_mask, batch.tgt_in, sample_prob)
        loss = sequence_loss(logits, batch.tgt_out, batch.tgt_mask)
        if self.length is not None:  # the length without END
            _, summary = self.encode(batch.src, batch.src_mask)
            loss = loss + F.cross_entropy(self.length(summary), batch.tgt_mask.sum(1) - 1)
        return loss

    @torch.no_grad()
    def step(self, tokens, state):
        """``rnnkit.decode``'s step: tokens (B,) (NumPy or torch) -> log-probs (B, V), state."""
        tokens = torch.as_tensor(tokens, device=state[0].device)
        logits, state, _ = self.decoder.step(tokens, state)
        return torch.log_softmax(logits, dim=1), state

    @torch.no_grad()
    def greedy_batch(self, src, src_mask, max_len, lengths=None):
        """Decode a batch greedily: ids (N, max_len), ``PAD`` after each ``END``; weights.

        Args:
            lengths: None: stop at ``END``; int64 (N,): ignore ``END`` and emit exactly that
                many tokens (the length model's way of stopping), then ``END``.
        Returns:
            ids (N, max_len); weights (N, max_len, S) or None.
        """
        state = self.start_state(src, src_mask)
        N = src.shape[0]
        tokens = torch.full((N,), START, dtype=torch.long, device=src.device)
        done = torch.zeros(N, dtype=torch.bool, device=src.device)
        out, weights = [], []
        for t in range(max_len):
            logits, state, w = self.decoder.step(tokens, state)
            if lengths is not None:
                logits[:, END] = float("-inf")
                tokens = torch.where(lengths == t, END, logits.argmax(dim=1))
            else:
                tokens = logits.argmax(dim=1)
            out.append(torch.where(done, PAD, tokens))
            weights.append(w)
            done |= tokens == END
        ids = torch.stack(out, 1)
        return ids, (None if weights[0] is None else torch.stack(weights, 1))

    @torch.no_grad()
    def predict_length(self, src, src_mask):
        """The length model's most probable output length, int64 (N,)."""
        _, summary = self.encode(src, src_mask)
        return self.length(summary).argmax(dim=1)
