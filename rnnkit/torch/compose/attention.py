"""Attention modules on the torch path, twins of ``rnnkit.compose.attention``.

Same parameters (names and shapes: ``Wq (Hq, A)``, ``Wk (Hk, A)``, ``v (A,)``; ``W (Hq, Hk)``),
same equations, autograd for the backward pass; ``tests/test_attention.py`` checks them
against the NumPy forward and backward. Inside a decoder the keys do not change from step to
step, so ``project_keys`` computes their share once per sequence and ``forward`` accepts it.
"""

import math

import torch
from torch import nn

__all__ = ["AdditiveAttention", "MultiplicativeAttention", "masked_softmax"]


def masked_softmax(e, mask=None):
    """Softmax over the last axis with weight exactly 0 where ``mask`` (bool) is False."""
    if mask is not None:
        e = e.masked_fill(~mask, float("-inf"))
    return torch.softmax(e, dim=-1)


class AdditiveAttention(nn.Module):
    """Bahdanau attention: ``e_j = v . tanh(q Wq + k_j Wk)``, weights softmax(e), context.

    Args:
        query_size: Hq; key_size: Hk; attention_size: A.
    """

    def __init__(self, query_size, key_size, attention_size, *, device=None, dtype=None):
        super().__init__()
        kw = {"device": device, "dtype": dtype}
        self.Wq = nn.Parameter(torch.empty(query_size, attention_size, **kw))
        self.Wk = nn.Parameter(torch.empty(key_size, attention_size, **kw))
        self.v = nn.Parameter(torch.empty(attention_size, **kw))
        self.reset_parameters()

    def reset_parameters(self):
        for p in (self.Wq, self.Wk):
            nn.init.uniform_(p, -1 / math.sqrt(p.shape[0]), 1 / math.sqrt(p.shape[0]))
        a = 1 / math.sqrt(self.v.shape[0])
        nn.init.uniform_(self.v, -a, a)

    def project_keys(self, keys):
        """``keys @ Wk``, (N, S, A): the part of the scores that is the same at every step."""
        return keys @ self.Wk

    def forward(self, q, keys, mask=None, projected=None):
        """Attend from ``q`` (N, Hq) over ``keys`` (N, S, Hk); ``mask`` bool (N, S) or None.

        Returns:
            context (N, Hk), weights (N, S).
        """
        if projected is None:
            projected = self.project_keys(keys)
        e = torch.tanh((q @ self.Wq).unsqueeze(1) + projected) @ self.v  # (N, S)
        a = masked_softmax(e, mask)
        return torch.einsum("ns,nsk->nk", a, keys), a


class MultiplicativeAttention(nn.Module):
    """Luong's general attention: ``e_j = q W k_j^T``.

    Args:
        query_size: Hq; key_size: Hk.
    """

    def __init__(self, query_size, key_size, *, device=None, dtype=None):
        super().__init__()
        self.W = nn.Parameter(torch.empty(query_size, key_size, device=device, dtype=dtype))
        nn.init.uniform_(self.W, -1 / math.sqrt(query_size), 1 / math.sqrt(query_size))

    def project_keys(self, keys):
        return keys

    def forward(self, q, keys, mask=None, projected=None):
        """Attend from ``q`` (N, Hq) over ``keys`` (N, S, Hk); returns context, weights."""
        e = torch.einsum("nk,nsk->ns", q @ self.W, keys)
        a = masked_softmax(e, mask)
        return torch.einsum("ns,nsk->nk", a, keys), a
