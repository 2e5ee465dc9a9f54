"""The character language model on the torch path: embedding, RNN/LSTM/GRU, linear head.

The same model as ``rnnkit.models.charlm.CharRNN`` (book chapter 5), with autograd for the
backward pass and ``torch.nn``'s fused recurrence (``fast=True``) for speed. It shares
the data pipeline (``rnnkit.data``) and the sampling API (``rnnkit.decode``): ``step``
takes and returns NumPy arrays, so ``rnnkit.decode.sample(model, vocab, ...)`` works on
either path.

Training (``train_charlm``) is truncated BPTT through ``rnnkit.torch.fit``: each batch
starts from the previous batch's final state, detached, so the state carries the
context forward while the gradient stops at the batch boundary.
"""

import math
import time

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from rnnkit.data import StreamBatches
from rnnkit.models.charlm import unigram_log_probs
from rnnkit.torch.cells import GRU, LSTM, RNN
from rnnkit.torch.train import fit

__all__ = ["CharLM", "train_charlm"]

MODELS = {"rnn": RNN, "lstm": LSTM, "gru": GRU}


def _detach(state):
    if state is None:
        return None
    return tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()


class CharLM(nn.Module):
    """Character LM: ``nn.Embedding(V, D)`` -> rnnkit.torch RNN/LSTM/GRU -> ``nn.Linear(H, V)``.

    Args:
        V: vocabulary size.
        H: hidden size.
        cell: ``"rnn"``, ``"lstm"`` or ``"gru"``.
        D: embedding size.
        num_layers: stacked recurrent layers.
        fast: run the recurrence through ``torch.nn`` (fused kernels); False runs the
            readable Python loop over ``rnnkit.torch`` cells (same function, slower).
        dtype, device: of the parameters.
    """

    def __init__(self, V, H, cell="lstm", D=64, num_layers=1, fast=True, dtype=None,
                 device=None):
        super().__init__()
        if cell not in MODELS:
            raise ValueError(f"cell: expected one of {tuple(MODELS)}, got {cell!r}")
        kw = {"dtype": dtype, "device": device}
        self.V, self.H, self.cell = V, H, cell
        self.embed = nn.Embedding(V, D, **kw)
        self.rnn = MODELS[cell](D, H, num_layers, fast=fast, **kw)
        self.head = nn.Linear(H, V, **kw)
        if cell == "lstm":  # start the cells remembering (forget-gate bias 1; chapter 8)
            with torch.no_grad():
                for layer in self.rnn.cells:
                    layer.b[H : 2 * H] = 1.0

    def forward(self, x, state=None):
        """Scores for every next character.

        Args:
            x: input ids, (N, T) int64.
            state: None (zeros) or the state returned by a previous call.
        Returns:
            logits (N, T, V) and the final state (``h_n`` (L, N, H), or ``(h_n, c_n)``).
        """
        if not isinstance(x, torch.Tensor) or x.dtype != torch.int64 or x.dim() != 2:
            got = f"{x.dtype} tensor of shape {tuple(x.shape)}" \
                if isinstance(x, torch.Tensor) else type(x).__name__
            raise TypeError(f"x: expected an int64 tensor of ids, shape (N, T), got {got}")
        h, state = self.rnn(self.embed(x), state)  # (N, T, H)
        return self.head(h), state

    def loss(self, x, y, state=None):
        """Mean NLL per character of the targets, and the final state with its gradient cut.

        Args:
            x: input ids, (N, T) int64.
            y: target ids (the next characters), (N, T) int64.
            state: None (zeros) or the state returned for the previous batch.
        Returns:
            nll: scalar tensor, nats per character (differentiable).
            state: the final state, detached: pass it to the next batch (truncated BPTT).
        """
        logits, state = self(x, state)
        nll = F.cross_entropy(logits.reshape(-1, self.V), y.reshape(-1))
        return nll, _detach(state)

    def init_output_bias(self, train):
        """Start the head's bias at the log character frequencies of ``train``; return self.

        The same start as ``rnnkit.models.charlm.CharRNN.init_output_bias``: the model predicts
        the unigram distribution of the training text before its first update.

        Args:
            train: training ids, a 1-D integer array of ids in [0, V).
        """
        with torch.no_grad():
            self.head.bias.copy_(torch.as_tensor(unigram_log_probs(train, self.V)))
        return self

    def init_state(self, N):
        """The zero state (None: the recurrent model starts from zeros)."""
        return None

    @torch.no_grad()
    def step(self, ids, state):
        """Read one character per sequence; return next-character logits as NumPy.

        Args:
            ids: current ids, (N,) NumPy ints.
            state: None or from the previous ``step``.
        Returns:
            logits (N, V) float64 NumPy array, and the new state.
        """
        dev = self.head.weight.device
        x = torch.as_tensor(np.asarray(ids, dtype=np.int64), device=dev)[:, None]  # (N, 1)
        logits, state = self(x, state)
        return logits[:, 0].double().cpu().numpy(), state

    @torch.no_grad()
    def evaluate(self, ids, N=32, T=200):
        """Mean NLL in nats per character over every character of ``ids``, state carried.

        Args:
            ids: held-out ids, (L,) NumPy ints.
            N, T: streams and window length of the evaluation batches.
        Returns:
            float, nats per character.
        """
        was_training = self.training
        self.eval()
        dev = self.head.weight.device
        total, count, state = 0.0, 0, None
        for x, y in StreamBatches(ids, N, T, drop_last=False):
            logits, state = self(torch.as_tensor(x, device=dev), state)
            y = torch.as_tensor(y, device=dev)
            total += float(F.cross_entropy(logits.reshape(-1, self.V), y.reshape(-1),
                                           reduction="sum"))
            count += y.numel()
        self.train(was_training)
        return total / count


def train_charlm(model, batches, optimizer, max_norm=5.0, steps=None, seconds=None,
                 callback=None):
    """Train a ``CharLM`` with truncated BPTT until ``steps`` updates or ``seconds`` pass.

    Passes over ``batches`` again and again; each pass starts from a zero state, and each
    batch from the previous batch's final state with its gradient cut.

    Args:
        model: a ``CharLM``.
        batches: a ``rnnkit.data.StreamBatches`` (NumPy ids; moved to the model's device).
        optimizer: a ``torch.optim`` optimizer over ``model.parameters()``.
        max_norm: clip the global gradient norm to this (None: no clipping).
        steps: number of updates (None: no limit).
        seconds: wall-clock budget (None: no limit); one of steps and seconds is needed.
        callback: ``callback(step, loss)`` called after every update, or None.
    Returns:
        ``rnnkit.torch.History`` with the loss (nats per character) of every update.
    """
    if steps is None and seconds is None:
        raise ValueError("steps, seconds: give at least one stopping rule")
    limit = math.inf if steps is None else steps
    start, done = time.perf_counter(), [0]
    carried = {"state": None, "loss": None}

    def stream():
        while True:
            carried["state"] = None  # a new pass starts from zeros
            for x, y in batches:
                if done[0] >= limit or (seconds is not None
                                        and time.perf_counter() - start >= seconds):
                    return
                yield torch.as_tensor(x), torch.as_tensor(y)
                done[0] += 1  # fit has taken the step for this batch when it asks for the next
                if callback is not None:
                    callback(done[0], carried["loss"])

    def loss_fn(model, batch):
        nll, carried["state"] = model.loss(*batch, carried["state"])
        carried["loss"] = float(nll.detach())
        return nll

    return fit(model, loss_fn, stream(), optimizer, max_norm=max_norm)
