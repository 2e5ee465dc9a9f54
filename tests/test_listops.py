"""The ListOps generator: values checked by hand, depths exact, trees consistent with strings."""

import numpy as np
import pytest

from rnnkit.models.tree import check_forest, node_heights
from rnnkit.tasks.listops import (
    TOKEN_ID,
    VOCAB,
    depth,
    evaluate,
    listops_batch,
    random_expression,
    to_tokens,
    to_tree,
)


def test_values_by_hand():
    assert evaluate(("MAX", [2, 9, ("MIN", [4, 7]), 0])) == 9
    assert evaluate(("SM", [("MED", [1, 5, 3]), 8])) == 1  # (3 + 8) mod 10
    assert evaluate(("MED", [4, 1, 9, 7])) == 4  # the lower median of an even count
    assert evaluate(("MIN", [("SM", [9, 9]), 9])) == 8
    assert to_tokens(("MAX", [2, ("MIN", [4, 7])])) == ["[MAX", "2", "[MIN", "4", "7", "]", "]"]


def parse(tokens):
    """An independent reader of the token string: a stack machine."""
    stack = [[]]
    for t in tokens:
        if t.startswith("["):
            stack.append([t[1:]])
        elif t == "]":
            op, *args = stack.pop()
            ops = {"MIN": min, "MAX": max, "SM": lambda *a: sum(a) % 10,
                   "MED": lambda *a: sorted(a)[(len(a) - 1) // 2]}
            stack[-1].append(ops[op](*args))
        else:
            stack[-1].append(int(t))
    return stack[0][0]


@pytest.mark.parametrize("d", [0, 1, 2, 3, 5])
def test_depth_is_exact_and_strings_evaluate_alike(d):
    rng = np.random.default_rng(d)
    for _ in range(50):
        e = random_expression(rng, d)
        assert depth(e) == d
        assert parse(to_tokens(e)) == evaluate(e)


def test_trees_are_post_order_and_match_the_string():
    rng = np.random.default_rng(1)
    e = random_expression(rng, 4)
    tokens, parent = to_tree(e)
    check_forest(parent, len(parent))
    assert parent[-1] == -1 and (parent[:-1] >= 0).all()  # one root, the last node
    # the nodes are the string's tokens without the closing brackets, in some order
    string = [TOKEN_ID[t] for t in to_tokens(e) if t != "]"]
    assert sorted(tokens.tolist()) == sorted(string)
    assert node_heights(parent)[-1] == depth(e)
    # evaluating the tree bottom-up gives the value
    value = {}
    for j, tok in enumerate(tokens):
        kids = [value[k] for k in np.flatnonzero(parent == j)]
        word = VOCAB[tok]
        value[j] = int(word) if not kids else evaluate((word[1:], kids))
    assert value[len(tokens) - 1] == evaluate(e)


def test_batch_is_one_forest_with_padded_strings():
    rng = np.random.default_rng(2)
    b = listops_batch(12, rng, depths=(1, 2, 3))
    assert b["depth"].tolist() == [1, 2, 3] * 4
    assert b["seq"].shape == (12, b["length"].max())
    for k, e in enumerate(b["exprs"]):
        row = b["seq"][k]
        assert [VOCAB[t] for t in row[: b["length"][k]]] == to_tokens(e)
        assert not row[b["length"][k]:].any()  # padding is id 0
    parent = b["parent"]
    check_forest(parent, len(parent))
    assert np.array_equal(np.flatnonzero(parent == -1), b["root"])
    assert b["y"].tolist() == [evaluate(e) for e in b["exprs"]]


def test_values_are_spread_over_the_digits():
    b = listops_batch(4000, np.random.default_rng(3))
    freq = np.bincount(b["y"], minlength=10) / 4000
    assert freq.min() > 0.05 and freq.max() < 0.2


def test_bad_arguments():
    with pytest.raises(TypeError, match="rng"):
        random_expression(0, 2)
    with pytest.raises(ValueError, match="N: expected a positive int"):
        listops_batch(0, np.random.default_rng(0))
