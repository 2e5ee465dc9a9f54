"""rnnkit.data: the shipped corpus, the character vocabulary, the split and the TBPTT batches."""

import numpy as np
import pytest

from rnnkit.data import (
    CODE_FILES,
    StreamBatches,
    Vocab,
    load_python_source,
    load_shakespeare,
    train_val_split,
)


def test_shakespeare_ships_and_is_the_documented_text():
    text = load_shakespeare()  # the loader also checks the sha256 of the decompressed text
    assert len(text) == 5_057_321
    assert text.isascii() and len(set(text)) == 84
    # a few lines any edition of the 42 works must contain, from different plays
    for line in ("To be, or not to be", "Friends, Romans, countrymen", "Out, damned spot"):
        assert line in text, line
    assert text.startswith("ALL'S WELL THAT ENDS WELL")  # works in sorted file-name order


def test_shakespeare_is_package_data():
    from importlib import resources

    packed = resources.files("rnnkit.data").joinpath("shakespeare.txt.xz")
    assert packed.is_file() and packed.read_bytes()[:6] == b"\xfd7zXZ\x00"  # xz magic
    assert resources.files("rnnkit.data").joinpath("SHAKESPEARE_LICENSE.md").is_file()


def test_python_source_is_the_pinned_cpython_release():
    import hashlib
    from importlib import resources

    from rnnkit.data import CODE_RELEASE, CODE_SHA256

    code = load_python_source()
    assert CODE_RELEASE == "3.11.7" and len(CODE_FILES) == 20
    assert len(code) == 813_206  # the same text under every Python, not the running stdlib
    assert hashlib.sha256(code.encode("utf-8")).hexdigest() == CODE_SHA256
    two = load_python_source(("textwrap.py", "heapq.py"))
    assert two.startswith('"""Text wrapping and filling.') and "def heappush(" in two
    assert two.count("\n\n") > 0 and two.endswith("\n")
    assert load_python_source(("heapq.py", "textwrap.py")) != two  # the order given is kept
    with pytest.raises(FileNotFoundError, match="'no_such_module.py'"):
        load_python_source(("no_such_module.py",))
    with pytest.raises(TypeError, match="files: expected a sequence"):
        load_python_source("bisect.py")
    data = resources.files("rnnkit.data")
    assert data.joinpath("python_code.tar.xz").is_file()
    assert data.joinpath("PYTHON_CODE_LICENSE.md").is_file()
    import io
    import lzma
    import tarfile

    packed = data.joinpath("python_code.tar.xz").read_bytes()
    with tarfile.open(fileobj=io.BytesIO(lzma.decompress(packed))) as tar:
        assert tar.getnames() == [*CODE_FILES, "LICENSE.txt"]  # the PSF licence travels along
        licence = tar.extractfile("LICENSE.txt").read().decode("utf-8")
    assert "PYTHON SOFTWARE FOUNDATION LICENSE VERSION 2" in licence


def test_vocab_round_trip_matches_a_dict_lookup():
    rng = np.random.default_rng(0)
    alphabet = list("abc \n\t'\"") + ["\u00e9", "\u4e2d", "\U0001f600"]  # BMP and beyond
    text = "".join(rng.choice(alphabet, size=500))
    vocab = Vocab.from_text(text)
    ids = vocab.encode(text)
    assert ids.dtype == np.int64 and ids.shape == (500,)
    by_dict = {c: i for i, c in enumerate(sorted(set(text)))}  # the independent encoder
    assert ids.tolist() == [by_dict[c] for c in text]
    assert vocab.decode(ids) == text and vocab.decode(ids.tolist()) == text
    assert vocab.decode([]) == ""


def test_vocab_keeps_the_order_given():
    vocab = Vocab(["h", "e", "l", "o"])
    assert vocab.encode("hello").tolist() == [0, 1, 2, 2, 3]
    assert len(vocab) == vocab.size == 4 and "l" in vocab and "x" not in vocab


def test_unknown_error_names_the_character_and_its_position():
    vocab = Vocab("helo")
    with pytest.raises(ValueError, match=r"text: character 'x' \(U\+0078\) at position 3 is not"):
        vocab.encode("helxo")
    with pytest.raises(ValueError, match=r"prime: character '\\n' \(U\+000A\) at position 0"):
        vocab.encode("\nhe", name="prime")
    with pytest.raises(ValueError, match=r"'\U0001f600' \(U\+1F600\) at position 1"):
        vocab.encode("h\U0001f600")  # beyond the lookup table's range


def test_unknown_replace_and_skip():
    vocab = Vocab("helo", unknown="replace", unk="?")
    assert vocab.size == 5 and vocab.chars[-1] == "?"
    ids = vocab.encode("hexlo!")
    assert ids.tolist() == [0, 1, 4, 2, 3, 4]
    assert vocab.decode(ids) == "he?lo?"
    assert vocab.encode("hexlo!", unknown="skip").tolist() == [0, 1, 2, 3]
    plain = Vocab("helo")
    assert plain.encode("hexlo", unknown="skip").tolist() == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="needs a vocabulary built with unknown='replace'"):
        plain.encode("hexlo", unknown="replace")


def test_vocab_rejects_bad_arguments():
    with pytest.raises(ValueError, match="unknown: expected one of"):
        Vocab("ab", unknown="ignore")
    with pytest.raises(ValueError, match="'a' twice"):
        Vocab("aba")
    with pytest.raises(ValueError, match="one-character strings"):
        Vocab(["ab", "c"])
    with pytest.raises(ValueError, match="already a character"):
        Vocab("a?", unknown="replace", unk="?")
    with pytest.raises(ValueError, match=r"ids: expected values in \[0, 2\), got values from 0"):
        Vocab("ab").decode([0, 2])
    with pytest.raises(TypeError, match="text: expected a str"):
        Vocab("ab").encode(b"ab")


def test_split_is_a_deterministic_head_and_tail():
    ids = np.arange(1000)
    train, val = train_val_split(ids, 0.1)
    assert len(train) == 900 and len(val) == 100
    assert np.array_equal(np.concatenate([train, val]), ids)
    with pytest.raises(ValueError, match="val_fraction"):
        train_val_split(ids, 1.5)


@pytest.mark.parametrize("drop_last", [True, False])
def test_stream_batches_rows_continue_where_the_previous_batch_stopped(drop_last):
    L, N, T = 1003, 4, 7
    ids = np.arange(L)  # each id is its own position in the text
    batches = StreamBatches(ids, N, T, drop_last=drop_last)
    S = (L - 1) // N
    assert len(batches) == (S // T if drop_last else -(-S // T))
    prev = None
    for x, y in batches:
        assert x.shape[0] == N and x.shape == y.shape and x.dtype == np.int64
        assert np.array_equal(y, x + 1)  # targets are the next characters
        assert np.all(np.diff(x, axis=1) == 1)  # each row is contiguous text
        if prev is not None:
            assert np.array_equal(x[:, 0], prev[:, -1] + 1)  # row n picks up where it stopped
        prev = x
    # row n of the concatenated batches is one contiguous stream, streams do not overlap
    rows = np.concatenate([x for x, _ in batches], axis=1)
    assert np.array_equal(rows[:, 0], np.arange(N) * S)
    if not drop_last:
        assert rows.shape == (N, S) and np.array_equal(rows.ravel(), ids[: N * S])
    assert len(batches[-1][0][0]) == (T if drop_last else S - T * (len(batches) - 1))


def test_stream_batches_errors():
    with pytest.raises(ValueError, match="cannot fill N=4 streams"):
        StreamBatches(np.arange(20), 4, 10)
    with pytest.raises(ValueError, match="T: expected a positive int"):
        StreamBatches(np.arange(20), 2, 0)
    with pytest.raises(TypeError, match="ids: expected a 1-D integer array"):
        StreamBatches(np.zeros(20), 2, 2)
    with pytest.raises(IndexError):
        StreamBatches(np.arange(20), 2, 3)[3]
