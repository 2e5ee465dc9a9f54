"""The generated image-caption set (rnnkit.tasks.shapes): images, captions and the truth checker.

The checker is tested against captions edited to be false in one known way each, and the
renderer against the pixels: each shape's colour is found in the cell its scene names.
"""

import numpy as np
import pytest

from rnnkit.tasks.shapes import (
    COLOURS,
    END,
    NULL,
    SHAPES,
    START,
    WORD_TO_IDX,
    WORDS,
    Shape,
    captions,
    check_caption,
    decode,
    encode,
    render,
    shapes_captions,
)


def test_same_seed_same_set_and_different_seed_different_set():
    a = shapes_captions(20, np.random.default_rng(3))
    b = shapes_captions(20, np.random.default_rng(3))
    c = shapes_captions(20, np.random.default_rng(4))
    assert np.array_equal(a.images, b.images) and a.references == b.references
    assert not np.array_equal(a.images, c.images)
    assert a.images.shape == (20, 3, 24, 24) and a.images.dtype == np.float32
    assert a.images.min() >= 0 and a.images.max() <= 1


def test_vocabulary_reserves_null_start_end_like_cs231n():
    assert (WORD_TO_IDX["<NULL>"], WORD_TO_IDX["<START>"], WORD_TO_IDX["<END>"]) == (NULL, START,
                                                                                      END)
    assert sorted(WORD_TO_IDX.values()) == list(range(len(WORDS)))


def test_every_reference_is_true_and_in_the_grammar():
    ds = shapes_captions(400, np.random.default_rng(0))
    counts = {1: 0, 2: 0, 3: 0}
    for scene, refs in zip(ds.scenes, ds.references, strict=True):
        counts[len(scene)] += 1
        assert refs and all(check_caption(r, scene).true for r in refs), (scene, refs)
    assert min(counts.values()) > 80  # one to three shapes, each about a third of the time


def test_two_shapes_get_every_true_relation_in_both_orders():
    a, b = Shape("red", "circle", 0, 0), Shape("blue", "square", 1, 2)  # b is right of and below a
    refs = {" ".join(c) for c in captions((a, b))}
    assert refs == {"a red circle left of a blue square", "a red circle above a blue square",
                    "a blue square right of a red circle", "a blue square below a red circle"}


def _scene_two():
    return (Shape("red", "circle", 1, 0), Shape("blue", "square", 1, 2))


@pytest.mark.parametrize("caption, error", [
    ("a red circle left of a green square", "colour"),  # green is not there
    ("a blue circle left of a red square", "colour"),  # colours swapped between the shapes
    ("a red triangle left of a blue square", "shape"),
    ("a red circle", "count"),
    ("a red circle , a blue square and a red circle", "count"),
    ("a red circle right of a blue square", "relation"),
    ("a red circle above a blue square", "relation"),  # same row: neither is above
    ("a red circle left of", "grammar"),
    ("red circle", "grammar"),
    ("", "grammar"),
])
def test_checker_finds_the_error_it_was_given(caption, error):
    verdict = check_caption(caption, _scene_two())
    assert not verdict.true and verdict.error == error


def test_three_shapes_may_be_listed_in_any_order_but_not_with_a_wrong_one():
    scene = (Shape("red", "circle", 0, 0), Shape("red", "circle", 2, 2),
             Shape("green", "triangle", 1, 1))
    assert check_caption("a green triangle , a red circle and a red circle", scene).true
    assert check_caption("a red circle , a red circle and a green triangle", scene).true
    v = check_caption("a green triangle , a green circle and a red circle", scene)
    assert v == (False, "colour")


def test_identical_shapes_make_a_relation_true_either_way_round():
    scene = (Shape("red", "circle", 0, 0), Shape("red", "circle", 0, 1))
    assert check_caption("a red circle left of a red circle", scene).true
    assert check_caption("a red circle right of a red circle", scene).true
    assert check_caption("a red circle above a red circle", scene) == (False, "relation")


def test_each_shape_is_drawn_in_its_own_cell_in_its_colour():
    rng = np.random.default_rng(5)
    ds = shapes_captions(60, rng)
    for img, scene in zip(ds.images, ds.scenes, strict=True):
        for sh in scene:
            target = np.array(COLOURS[sh.colour], dtype=np.float32)
            # pixels within 0.25 of the shape's hue direction, brighter than the noise
            norm = img / np.maximum(np.linalg.norm(img, axis=0, keepdims=True), 1e-6)
            close = (np.tensordot(target / np.linalg.norm(target), norm, axes=1) > 0.97) \
                & (img.max(axis=0) > 0.5)
            ys, xs = np.nonzero(close[sh.row * 8 : sh.row * 8 + 8, sh.col * 8 : sh.col * 8 + 8])
            assert len(ys) >= 12, (sh, len(ys))  # at least a 4 x 3 patch of the colour


def test_the_three_kinds_differ_in_area():
    areas = {k: int((render([Shape("red", k, 0, 0)], 24)[0] > 0.5).sum()) for k in SHAPES}
    assert len(set(areas.values())) == 3, areas


def test_encode_decode_round_trip_and_padding():
    caps = [["a", "red", "circle"], "a blue square left of a red circle".split()]
    ids = encode(caps, 12)
    assert ids.shape == (2, 12) and ids[0, 0] == START and ids[0, 4] == END
    assert np.all(ids[0, 5:] == NULL)
    assert [decode(r) for r in ids] == caps


@pytest.mark.parametrize("call, match", [
    (lambda: encode([["a", "purple", "circle"]]), r"caps\[0\]: word 'purple'"),
    (lambda: encode([["a", "red", "circle"]], 3), "length: expected at least 5"),
    (lambda: render([Shape("red", "circle", 0, 0)], 25), "size: expected a multiple of 3"),
    (lambda: shapes_captions(3, np.random.default_rng(0), max_shapes=4), "max_shapes"),
    (lambda: shapes_captions(0, np.random.default_rng(0)), "n: expected an int >= 1"),
    (lambda: render([Shape("pink", "circle", 0, 0)]), "scene: unknown colour"),
])
def test_bad_input_names_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_rng_must_be_a_generator():
    with pytest.raises(TypeError, match="rng: expected a numpy.random.Generator"):
        shapes_captions(3, 0)
