"""The minGRU (Feng et al. 2024), trained in parallel over time, and a small language model of them.

A GRU whose gate and candidate read only the input, so that the recurrence is linear in h and
can be computed by a scan (book chapter 15)::

    z_t = sigmoid(x_t @ Wx_z + b_z)               # (N, H)
    n_t = g(x_t @ Wx_n + b_n)                     # g(v) = v + 1/2 for v >= 0, sigmoid(v) below: > 0
    h_t = (1 - z_t) * h_{t-1} + z_t * n_t

Parameters ``Wx (D, 2H)`` (blocks z, n) and ``b (2H,)``. ``mode="sequential"`` runs the loop;
``mode="parallel"`` computes all T steps at once, with ``scan="log"`` (the paper's form:
``rnnkit.torch.scan.log_space_scan`` on ``log(1 - z) = -softplus(k)``, ``log z = -softplus(-k)``
and ``log g(v)``) or ``scan="doubling"`` (the Hillis-Steele scan on ``1 - z = sigmoid(-k)`` and
``z * g(v)``; faster on a CPU, where torch's ``logcumsumexp`` is slow). ``h0`` must be positive
(its log enters the scan); None means ``h0 = 0``.
"""

import math

import torch
from torch import nn
from torch.nn import functional as F

from rnnkit.torch.scan import linear_scan, log_space_scan

__all__ = ["MinGRU", "MinGRULM", "g", "log_g"]


def g(v):
    """The minGRU's positive candidate activation: ``v + 1/2`` for ``v >= 0``, else sigmoid."""
    return torch.where(v >= 0, v + 0.5, torch.sigmoid(v))


def log_g(v):
    """``log g(v)``, computed without forming ``g`` for negative ``v``."""
    return torch.where(v >= 0, torch.log(F.relu(v) + 0.5), -F.softplus(-v))


class MinGRU(nn.Module):
    """One minGRU layer (module docstring); input (N, T, D), output every state (N, T, H)."""

    def __init__(self, input_size, hidden_size, *, scan="log", device=None, dtype=None):
        super().__init__()
        if scan not in ("log", "doubling"):
            raise ValueError(f"scan: expected 'log' or 'doubling', got {scan!r}")
        self.scan = scan
        for name, value in (("input_size", input_size), ("hidden_size", hidden_size)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}: expected a positive int, got {value!r}")
        self.hidden_size = hidden_size
        kw = {"device": device, "dtype": dtype}
        self.Wx = nn.Parameter(torch.empty(input_size, 2 * hidden_size, **kw))
        self.b = nn.Parameter(torch.zeros(2 * hidden_size, **kw))
        nn.init.uniform_(self.Wx, -1 / math.sqrt(input_size), 1 / math.sqrt(input_size))

    def forward(self, x, h0=None, mode="parallel"):
        """Return every state, shape (N, T, H), of the layer run over ``x`` (N, T, D)."""
        if mode not in ("parallel", "sequential"):
            raise ValueError(f"mode: expected 'parallel' or 'sequential', got {mode!r}")
        if not isinstance(x, torch.Tensor) or x.dim() != 3 or x.shape[2] != self.Wx.shape[0]:
            raise ValueError(f"x: expected a tensor of shape (N, T, D) with D = "
                             f"{self.Wx.shape[0]}, got {getattr(x, 'shape', type(x).__name__)}")
        N, H = x.shape[0], self.hidden_size
        if h0 is not None and (tuple(h0.shape) != (N, H) or not bool((h0 > 0).all())):
            raise ValueError(f"h0: expected a positive tensor of shape (N, H) = ({N}, {H}), got "
                             f"shape {tuple(h0.shape)} with min {float(h0.min()):.3g}")
        k, v = (x @ self.Wx + self.b).split(H, dim=2)  # (N, T, H) each: gate, candidate
        if mode == "parallel" and self.scan == "log":
            log_h0 = None if h0 is None else torch.log(h0)
            return log_space_scan(-F.softplus(k), -F.softplus(-k) + log_g(v), log_h0)
        if mode == "parallel":
            h0 = x.new_zeros(N, H) if h0 is None else h0
            return linear_scan(torch.sigmoid(-k), torch.sigmoid(k) * g(v), h0, "doubling")
        z, n = torch.sigmoid(k), g(v)
        h_prev = x.new_zeros(N, H) if h0 is None else h0
        states = []
        for z_t, n_t in zip(z.unbind(1), n.unbind(1), strict=True):  # unbind: see scan.py
            h_prev = (1 - z_t) * h_prev + z_t * n_t  # (N, H)
            states.append(h_prev)
        return torch.stack(states, 1)


class MinGRULM(nn.Module):
    """A character language model: embedding, residual minGRU blocks, linear read-out.

    Each block is ``x + MinGRU(LN(x))`` then ``x + MLP(LN(x))``: the minGRU mixes over time,
    the MLP (width 2H) adds the nonlinearity a linear recurrence lacks. ``scan`` is passed to each
``MinGRU``. ``forward(ids, mode)``
    takes ids (N, T) and returns logits (N, T, V).
    """

    def __init__(self, vocab_size, hidden_size, num_layers=2, *, scan="log"):
        super().__init__()
        H = hidden_size
        self.embed = nn.Embedding(vocab_size, H)
        self.rnn = nn.ModuleList(MinGRU(H, H, scan=scan) for _ in range(num_layers))
        self.norm1 = nn.ModuleList(nn.LayerNorm(H) for _ in range(num_layers))
        self.norm2 = nn.ModuleList(nn.LayerNorm(H) for _ in range(num_layers))
        self.mlp = nn.ModuleList(nn.Sequential(nn.Linear(H, 2 * H), nn.GELU(), nn.Linear(2 * H, H))
                                 for _ in range(num_layers))
        self.out = nn.Linear(H, vocab_size)

    def forward(self, ids, mode="parallel"):
        x = self.embed(ids)  # (N, T, H)
        for rnn, n1, n2, mlp in zip(self.rnn, self.norm1, self.norm2, self.mlp, strict=True):
            x = x + rnn(n1(x), mode=mode)
            x = x + mlp(n2(x))
        return self.out(x)  # (N, T, V)
