"""Copy and reversal: the simplest sequence-to-sequence tasks, with known answers (chapter 11).

The source is a random string of letters of random length; the target is the same string
(copy) or the same string backwards (reversal). Nothing about the answer is hidden, so any
error is the model's: a fixed-size context vector has to hold the whole string, and in a
reversal the first output depends on the last input.
"""

import numpy as np

__all__ = ["copy_task"]


def copy_task(n, rng, min_len=3, max_len=8, alphabet="abcdefghij", reverse=True):
    """Draw ``n`` (source, target) string pairs.

    Args:
        n: number of pairs.
        rng: a ``numpy.random.Generator``.
        min_len, max_len: the range of lengths, both included.
        alphabet: the letters drawn from, uniformly.
        reverse: True: the target is the source reversed; False: a copy.
    Returns:
        list of n ``(source, target)`` pairs of strings.
    """
    if not 1 <= min_len <= max_len:
        raise ValueError(f"min_len, max_len: expected 1 <= min_len <= max_len, got {min_len}, "
                         f"{max_len}")
    letters = np.array(list(alphabet))
    pairs = []
    for length in rng.integers(min_len, max_len + 1, size=n):
        src = "".join(rng.choice(letters, size=length))
        pairs.append((src, src[::-1] if reverse else src))
    return pairs
