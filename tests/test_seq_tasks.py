"""The generated seq2seq tasks (copy, dates) and the token vocabulary."""

import datetime

import numpy as np
import pytest

from rnnkit.tasks.copy import copy_task
from rnnkit.tasks.dates import FORMATS, SOURCE_CHARS, TARGET_CHARS, dates, format_date
from rnnkit.tasks.tokens import END, PAD, TokenVocab, pad


def test_copy_and_reversal(rng):
    pairs = copy_task(200, rng, 2, 5)
    assert all(t == s[::-1] and 2 <= len(s) <= 5 for s, t in pairs)
    assert {len(s) for s, _ in pairs} == {2, 3, 4, 5}
    assert all(s == t for s, t in copy_task(20, rng, reverse=False))


def test_dates_are_right_in_every_format(rng):
    t = datetime.date(1994, 3, 3)
    assert format_date(t, "ordinal") == "3rd of March 1994"
    assert format_date(t, "dmy_slash") == "03/03/94"
    assert format_date(t, "us_long") == "March 3, 1994"
    assert format_date(datetime.date(2011, 11, 11), "ordinal") == "11th of November 2011"
    src_vocab, tgt_vocab = TokenVocab(SOURCE_CHARS), TokenVocab(TARGET_CHARS)
    for src, iso in dates(500, rng):
        day = datetime.date.fromisoformat(iso)
        assert src in {f(day) for f in FORMATS.values()}
        src_vocab.encode(src), tgt_vocab.encode(iso)  # every character is in the vocabulary
    assert {len(iso) for _, iso in dates(50, rng)} == {10}


def test_vocab_and_pad():
    v = TokenVocab("abc")
    ids = v.encode("cab", end=True)
    assert ids[-1] == END and v.decode(ids + [5, 5]) == "cab"
    arr, mask = pad([[3, 4], [5]])
    assert arr.tolist() == [[3, 4], [5, PAD]] and mask.tolist() == [[True, True], [True, False]]
    with pytest.raises(ValueError, match="'z'"):
        v.encode("az")
    assert np.issubdtype(arr.dtype, np.integer)
