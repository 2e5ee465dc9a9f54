"""Token vocabularies and padded batches for sequence-to-sequence tasks (chapters 11-12).

Ids 0, 1 and 2 are reserved: ``PAD`` (filler after a sequence's end, masked everywhere),
``START`` (the first input of a decoder) and ``END`` (the symbol that says a sequence is over;
chapter 11). Characters follow from id 3 in the order given.
"""

import numpy as np

__all__ = ["PAD", "START", "END", "TokenVocab", "pad"]

PAD, START, END = 0, 1, 2
SPECIALS = ("<pad>", "<s>", "</s>")


class TokenVocab:
    """Characters <-> ids, with the three reserved ids first.

    Args:
        chars: the characters, distinct; ``chars[k]`` gets id ``k + 3``.
    """

    def __init__(self, chars):
        chars = tuple(chars)
        if len(set(chars)) != len(chars) or not all(isinstance(c, str) and len(c) == 1
                                                    for c in chars):
            raise ValueError("chars: expected distinct one-character strings")
        self.symbols = SPECIALS + chars
        self.ids = {c: k + 3 for k, c in enumerate(chars)}

    def __len__(self):
        return len(self.symbols)

    def encode(self, text, end=False):
        """Ids of ``text``'s characters (``END`` appended when ``end``); unknown ones raise."""
        try:
            ids = [self.ids[c] for c in text]
        except KeyError as err:
            raise ValueError(f"text: character {err.args[0]!r} is not in the vocabulary") \
                from None
        return ids + [END] if end else ids

    def decode(self, ids):
        """The text of ``ids`` up to the first ``END``, skipping ``PAD`` and ``START``."""
        out = []
        for i in ids:
            i = int(i)
            if i == END:
                break
            if i > END:
                out.append(self.symbols[i])
        return "".join(out)


def pad(seqs, length=None):
    """Stack sequences of ids into one right-padded array and its mask.

    Args:
        seqs: a list of N lists of ids, each at least one long.
        length: the width T; None: the longest sequence.
    Returns:
        ids: int64 (N, T), ``PAD`` after each sequence; mask: bool (N, T), True on real tokens.
    """
    T = max(len(s) for s in seqs) if length is None else length
    ids = np.full((len(seqs), T), PAD, dtype=np.int64)
    for n, s in enumerate(seqs):
        if not 1 <= len(s) <= T:
            raise ValueError(f"seqs[{n}]: expected 1 to {T} ids, got {len(s)}")
        ids[n, : len(s)] = s
    return ids, ids != PAD
