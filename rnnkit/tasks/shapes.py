"""Shapes and captions: small generated images with captions whose truth can be checked.

Each image (``size`` x ``size`` pixels, RGB, default 24) holds one to three coloured shapes, each
in its own cell of a 3 x 3 grid. The generator keeps the *scene* (each shape's colour, kind, row
and column), so any caption, a person's or a model's, can be checked against what is really
there (``check_caption``), not only compared word by word with reference captions as BLEU does
(chapter 13).

The captions come from a small grammar, one form per number of shapes::

    1 shape:  a red circle
    2 shapes: a red circle left of a blue square      (left of | right of | above | below)
    3 shapes: a red circle , a blue square and a green triangle

``captions(scene)`` lists every true caption of a scene (the references): for two shapes, both
orders and every relation that holds (a shape up and to the left of another is both "left of"
and "above" it); for three, the list in reading order (by row, then column), the order the
training captions use. A list makes no spatial claim: the checker accepts it in any order.

Vocabulary: ``<NULL>`` (padding, id 0), ``<START>`` (1), ``<END>`` (2) and the words, as
``WORD_TO_IDX`` in the form CS231n's captioning assignment uses (a dict word -> id).
Nothing is downloaded; the same seed gives the same images and captions.
"""

import itertools
import numbers
from collections import Counter
from typing import NamedTuple

import numpy as np

__all__ = ["COLOURS", "SHAPES", "RELATIONS", "WORDS", "WORD_TO_IDX", "IDX_TO_WORD", "NULL",
           "START", "END", "Shape", "ShapeSet", "Verdict", "render", "random_scene", "captions",
           "check_caption", "shapes_captions", "encode", "decode"]

COLOURS = {"red": (0.9, 0.15, 0.1), "green": (0.1, 0.75, 0.2), "blue": (0.15, 0.3, 0.95)}
SHAPES = ("circle", "square", "triangle")
RELATIONS = ("left of", "right of", "above", "below")
GRID = 3  # the image is a GRID x GRID grid of cells, one shape at most per cell
WORDS = ("<NULL>", "<START>", "<END>", "a", *COLOURS, *SHAPES, "left", "right", "of", "above",
         "below", ",", "and")
WORD_TO_IDX = {w: k for k, w in enumerate(WORDS)}
IDX_TO_WORD = list(WORDS)
NULL, START, END = 0, 1, 2  # rnnkit.tasks.tokens' PAD, START, END


class Shape(NamedTuple):
    """One shape of a scene: its colour and kind, and its grid cell (row 0 is the top)."""

    colour: str
    kind: str
    row: int
    col: int


class ShapeSet(NamedTuple):
    """A generated set: images (n, 3, size, size) float32 in [0, 1], channels first (torch's
    layout); scenes, a list of n tuples of ``Shape``; references, a list of n lists of true
    captions, each a list of words."""

    images: np.ndarray
    scenes: list
    references: list


class Verdict(NamedTuple):
    """The checker's answer: ``true``, and when false the first ``error`` found, one of
    ``"grammar"`` (not a caption of the grammar), ``"count"`` (wrong number of shapes),
    ``"shape"`` (a kind that is not there), ``"colour"`` (right kinds, wrong colours),
    ``"relation"`` (right shapes, false relation)."""

    true: bool
    error: str | None


def _masks(s):
    """Boolean masks (s, s) of the three kinds, drawn in an s x s box."""
    y, x = np.mgrid[0:s, 0:s] + 0.5
    c = s / 2
    circle = (x - c) ** 2 + (y - c) ** 2 <= (s / 2) ** 2
    square = np.zeros((s, s), dtype=bool)
    square[1 : s - 1, 1 : s - 1] = True
    triangle = np.abs(x - c) <= y / 2  # apex at the top, base at the bottom
    return {"circle": circle, "square": square, "triangle": triangle}


def _check_int(name, value, low):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{name}: expected an int >= {low}, got {value!r}")


def _rng(rng):
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng: expected a numpy.random.Generator (np.random.default_rng(seed)), "
                        f"got {type(rng).__name__}")
    return rng


def render(scene, size=24, rng=None, noise=0.05):
    """Draw a scene.

    Args:
        scene: a sequence of ``Shape``.
        size: the image's width and height in pixels, a multiple of 3, at least 12.
        rng: a ``np.random.Generator`` for the position jitter, brightness and noise; None: none
            (each shape centred in its cell, no noise).
        noise: the scale of the uniform pixel noise added when ``rng`` is given.
    Returns:
        float32 image (3, size, size), values in [0, 1].
    """
    _check_int("size", size, 12)
    if size % GRID:
        raise ValueError(f"size: expected a multiple of {GRID}, got {size}")
    cell = size // GRID
    s = cell - 2  # the shape's box; 2 pixels of room for the jitter
    masks = _masks(s)
    img = np.zeros((3, size, size), dtype=np.float32)
    if rng is not None:
        img += noise * rng.random((3, size, size), dtype=np.float32)
    for sh in scene:
        if sh.colour not in COLOURS or sh.kind not in SHAPES:
            raise ValueError(f"scene: unknown colour or shape in {sh}")
        dy, dx = (1, 1) if rng is None else rng.integers(0, 3, size=2)
        r0, c0 = sh.row * cell + dy, sh.col * cell + dx
        shade = 1.0 if rng is None else 0.8 + 0.2 * rng.random()
        colour = np.array(COLOURS[sh.colour], dtype=np.float32)[:, None] * shade
        box = img[:, r0 : r0 + s, c0 : c0 + s]
        box[:, masks[sh.kind]] = colour
    return np.clip(img, 0, 1)


def random_scene(rng, max_shapes=3):
    """One to ``max_shapes`` shapes of random colour and kind, in distinct random cells."""
    _check_int("max_shapes", max_shapes, 1)
    if max_shapes > 3:
        raise ValueError(f"max_shapes: the grammar describes at most 3 shapes, got {max_shapes}")
    n = int(_rng(rng).integers(1, max_shapes + 1))
    cells = rng.choice(GRID * GRID, size=n, replace=False)
    colours, kinds = list(COLOURS), SHAPES
    return tuple(Shape(colours[rng.integers(3)], kinds[rng.integers(3)], int(c) // GRID,
                       int(c) % GRID) for c in sorted(cells))  # reading order


def _phrase(sh):
    return ["a", sh.colour, sh.kind]


def _holds(rel, a, b):
    """Whether ``a rel b`` is true of two shapes."""
    return {"left of": a.col < b.col, "right of": a.col > b.col,
            "above": a.row < b.row, "below": a.row > b.row}[rel]


def captions(scene):
    """Every true caption of ``scene`` in the grammar (module docstring), each a list of words.

    Returns:
        a non-empty list; its first caption is the training set's canonical one.
    """
    scene = tuple(scene)
    if len(scene) == 1:
        return [_phrase(scene[0])]
    if len(scene) == 2:
        out = []
        for a, b in (scene, scene[::-1]):
            out += [_phrase(a) + rel.split() + _phrase(b) for rel in RELATIONS if _holds(rel, a, b)]
        return out
    if len(scene) == 3:
        a, b, c = sorted(scene, key=lambda sh: (sh.row, sh.col))
        return [_phrase(a) + [","] + _phrase(b) + ["and"] + _phrase(c)]
    raise ValueError(f"scene: expected 1 to 3 shapes, got {len(scene)}")


def _parse(words):
    """(objects, relation or None) from a caption's words, or None if it is not in the grammar."""
    w = list(words)

    def np_at(k):
        if k + 3 <= len(w) and w[k] == "a" and w[k + 1] in COLOURS and w[k + 2] in SHAPES:
            return (w[k + 1], w[k + 2])
        return None

    first = np_at(0)
    if first is None:
        return None
    if len(w) == 3:
        return [first], None
    for rel in RELATIONS:
        r = rel.split()
        if w[3 : 3 + len(r)] == r and len(w) == 6 + len(r) and np_at(3 + len(r)):
            return [first, np_at(3 + len(r))], rel
    if len(w) == 11 and w[3] == "," and w[7] == "and" and np_at(4) and np_at(8):
        return [first, np_at(4), np_at(8)], None
    return None


def check_caption(words, scene):
    """Check a caption against the scene it describes.

    Args:
        words: the caption, a list of words (no ``<START>``/``<END>``) or a string of them
            separated by spaces.
        scene: the scene, a sequence of ``Shape``.
    Returns:
        a ``Verdict``: true, or false with the first error in the order grammar, count, shape,
        colour, relation.
    """
    words = words.split() if isinstance(words, str) else list(words)
    parsed = _parse(words)
    if parsed is None:
        return Verdict(False, "grammar")
    objects, rel = parsed
    scene = tuple(scene)
    if len(objects) != len(scene):
        return Verdict(False, "count")
    if Counter(k for _, k in objects) != Counter(sh.kind for sh in scene):
        return Verdict(False, "shape")
    if Counter(objects) != Counter((sh.colour, sh.kind) for sh in scene):
        return Verdict(False, "colour")
    if rel is not None:  # some matching of the two phrases to the two shapes must make it true
        ok = any((a.colour, a.kind) == objects[0] and (b.colour, b.kind) == objects[1]
                 and _holds(rel, a, b) for a, b in itertools.permutations(scene))
        if not ok:
            return Verdict(False, "relation")
    return Verdict(True, None)


def shapes_captions(n, rng, size=24, max_shapes=3):
    """Generate ``n`` images with their scenes and all their true captions.

    Args:
        n: how many images.
        rng: a ``np.random.Generator``.
        size: image width and height, a multiple of 3.
        max_shapes: 1 to 3.
    Returns:
        a ``ShapeSet``.
    """
    _check_int("n", n, 1)
    _rng(rng)
    scenes = [random_scene(rng, max_shapes) for _ in range(n)]
    images = np.stack([render(sc, size, rng) for sc in scenes])  # (n, 3, size, size)
    return ShapeSet(images, scenes, [captions(sc) for sc in scenes])


def encode(caps, length=None):
    """Captions (lists of words) -> ids ``<START> words <END> <NULL>...``, (N, length) int64.

    Args:
        caps: a list of N captions, each a list of words of ``WORDS``.
        length: the width T; None: the longest caption plus 2.
    """
    rows = []
    for k, c in enumerate(caps):
        try:
            rows.append([START] + [WORD_TO_IDX[w] for w in c] + [END])
        except KeyError as err:
            raise ValueError(f"caps[{k}]: word {err.args[0]!r} is not in WORDS") from None
    T = max(map(len, rows)) if length is None else length
    if any(len(r) > T for r in rows):
        raise ValueError(f"length: expected at least {max(map(len, rows))}, got {T}")
    out = np.full((len(rows), T), NULL, dtype=np.int64)
    for k, r in enumerate(rows):
        out[k, : len(r)] = r
    return out


def decode(ids):
    """The words of one row of ids up to the first ``<END>``, without ``<NULL>``, ``<START>``."""
    out = []
    for i in np.asarray(ids).tolist():
        if i == END:
            break
        if i > END:
            out.append(IDX_TO_WORD[i])
    return out
