"""Padded tensor batches of (source, target) string pairs for ``rnnkit.torch.models.seq2seq``.

Works for any task of ``rnnkit.tasks`` that yields string pairs (``copy``, ``dates``).
"""

from typing import NamedTuple

import numpy as np
import torch

from rnnkit.tasks.tokens import START, pad

__all__ = ["Batch", "make_batch", "batches", "exact_match"]


class Batch(NamedTuple):
    """One padded batch; every tensor has N rows."""

    src: torch.Tensor  # int64 (N, S), right-padded
    src_mask: torch.Tensor  # bool (N, S)
    tgt_in: torch.Tensor  # int64 (N, T): START, then the target
    tgt_out: torch.Tensor  # int64 (N, T): the target, then END
    tgt_mask: torch.Tensor  # bool (N, T)


def make_batch(pairs, src_vocab, tgt_vocab, device=None):
    """Encode and pad (source, target) pairs into a ``Batch`` (vocabularies: ``TokenVocab``)."""
    src, src_mask = pad([src_vocab.encode(s) for s, _ in pairs])
    out = [tgt_vocab.encode(t, end=True) for _, t in pairs]
    tgt_out, tgt_mask = pad(out)
    tgt_in, _ = pad([[START] + o[:-1] for o in out], tgt_out.shape[1])
    return Batch(*(torch.as_tensor(a, device=device)
                   for a in (src, src_mask, tgt_in, tgt_out, tgt_mask)))


def batches(pairs, batch_size, src_vocab, tgt_vocab, rng, device=None):
    """Return a function giving the pairs as freshly shuffled batches (``fit``'s ``batches``)."""

    def epoch():
        order = rng.permutation(len(pairs))
        for k in range(0, len(pairs) - batch_size + 1, batch_size):
            yield make_batch([pairs[i] for i in order[k : k + batch_size]], src_vocab,
                             tgt_vocab, device)

    return epoch


def exact_match(ids, batch):
    """Per example, 1.0 where decoded ``ids`` (N, L) equal the target through its END, else 0.0.

    Positions after the target's END are ignored; a decoding shorter than the target is wrong.
    """
    T = batch.tgt_out.shape[1]
    if ids.shape[1] < T:
        return np.zeros(len(ids))
    ok = (ids[:, :T] == batch.tgt_out) | ~batch.tgt_mask
    return ok.all(dim=1).cpu().numpy().astype(np.float64)
