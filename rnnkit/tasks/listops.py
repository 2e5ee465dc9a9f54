"""ListOps: nested list operations with a known value, as strings and as trees (chapter 10).

Nangia and Bowman (2018) built ListOps to ask whether a model can follow the structure of an
expression. An expression is a digit 0-9 or an operator applied to a list of expressions::

    [MAX 2 9 [MIN 4 7 ] 0 ]           = 9
    [SM [MED 1 5 3 ] 8 ]              = (3 + 8) mod 10 = 1

Operators: ``MIN``, ``MAX``, ``MED`` (the median; for an even count the lower middle value,
so that every value is a digit) and ``SM`` (the sum modulo 10). The value is a digit, so the
task is 10-way classification; the values are close to uniform (``MIN`` pulls towards 0 and
``MAX`` towards 9), so guessing the most frequent one scores about 14%.

A model can read the expression in two ways:

- as a *sequence* of tokens (``to_tokens``), left to right, like any string;
- as a *tree* (``to_tree``): one node per digit or operator, children before their parent
  (post-order), which is what ``rnnkit.models.tree`` and ``rnnkit.torch.models.tree`` take.

The nesting depth is controlled (``random_expression(rng, depth)`` has exactly that depth:
a digit has depth 0), so accuracy can be reported depth by depth.
"""

import numpy as np

__all__ = ["OPS", "VOCAB", "TOKEN_ID", "random_expression", "evaluate", "depth", "to_tokens",
           "to_tree", "listops_batch"]

OPS = ("MIN", "MAX", "MED", "SM")
VOCAB = ("<pad>", *(str(d) for d in range(10)), *(f"[{op}" for op in OPS), "]")
TOKEN_ID = {tok: k for k, tok in enumerate(VOCAB)}


def _apply(op, values):
    if op == "MIN":
        return min(values)
    if op == "MAX":
        return max(values)
    if op == "MED":
        return sorted(values)[(len(values) - 1) // 2]  # the lower median: always a digit
    return sum(values) % 10  # SM


def random_expression(rng, depth, max_args=4):
    """Draw an expression of exactly the given nesting depth.

    Args:
        rng: a ``numpy.random.Generator``.
        depth: 0 for a digit; an operator over expressions of depth < d, at least one d - 1.
        max_args: each operator takes 2 .. max_args arguments.
    Returns:
        an int (a digit), or a tuple ``(op, [arguments])``.
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng: expected a numpy.random.Generator, got {type(rng).__name__}")
    if depth == 0:
        return int(rng.integers(10))
    n = int(rng.integers(2, max_args + 1))
    deep = int(rng.integers(n))  # this argument carries the full depth
    args = [random_expression(rng, depth - 1 if k == deep else int(rng.integers(depth)),
                              max_args) for k in range(n)]
    return (OPS[int(rng.integers(len(OPS)))], args)


def evaluate(expr):
    """The value of an expression, a digit 0-9."""
    if isinstance(expr, int):
        return expr
    op, args = expr
    return _apply(op, [evaluate(a) for a in args])


def depth(expr):
    """Nesting depth: 0 for a digit, 1 + the deepest argument for an operator."""
    return 0 if isinstance(expr, int) else 1 + max(depth(a) for a in expr[1])


def to_tokens(expr):
    """The expression as a list of tokens, e.g. ``["[MAX", "2", "9", "]"]``."""
    if isinstance(expr, int):
        return [str(expr)]
    op, args = expr
    return [f"[{op}"] + [t for a in args for t in to_tokens(a)] + ["]"]


def to_tree(expr):
    """The expression as a tree in post-order: children before parents, the root last.

    Returns:
        tokens: (M,) int, the token id of each node (a digit or an operator's ``[OP``).
        parent: (M,) int, the index of each node's parent, -1 for the root.
    """
    tokens, parent = [], []

    def visit(e):
        if isinstance(e, int):
            tokens.append(TOKEN_ID[str(e)])
            parent.append(-1)
            return len(tokens) - 1
        kids = [visit(a) for a in e[1]]
        tokens.append(TOKEN_ID[f"[{e[0]}"])
        parent.append(-1)
        me = len(tokens) - 1
        for k in kids:
            parent[k] = me
        return me

    visit(expr)
    return np.array(tokens), np.array(parent)


def listops_batch(N, rng, depths=(1, 2, 3, 4), max_args=4):
    """Draw N expressions, depths cycling through ``depths``, in both representations.

    Returns:
        dict with
            ``exprs``: the N expressions; ``y`` (N,) int values; ``depth`` (N,) int;
            ``seq`` (N, T) int token ids padded with 0 (``<pad>``) on the right, ``length``
            (N,) int (T is the longest);
            ``node_tokens`` (M,) int and ``parent`` (M,) int: the N trees as one forest,
            tree after tree, each in post-order, parents as indices into the forest;
            ``root`` (N,) int: each tree's root node.
    """
    if not isinstance(N, (int, np.integer)) or N < 1:
        raise ValueError(f"N: expected a positive int, got {N!r}")
    exprs = [random_expression(rng, int(depths[k % len(depths)]), max_args) for k in range(N)]
    seqs = [[TOKEN_ID[t] for t in to_tokens(e)] for e in exprs]
    length = np.array([len(s) for s in seqs])
    seq = np.zeros((N, length.max()), dtype=np.int64)
    for k, s in enumerate(seqs):
        seq[k, : len(s)] = s
    node_tokens, parent, root, offset = [], [], [], 0
    for e in exprs:
        tok, par = to_tree(e)
        node_tokens.append(tok)
        parent.append(np.where(par >= 0, par + offset, -1))
        offset += len(tok)
        root.append(offset - 1)
    return {"exprs": exprs, "y": np.array([evaluate(e) for e in exprs]),
            "depth": np.array([depth(e) for e in exprs]), "seq": seq, "length": length,
            "node_tokens": np.concatenate(node_tokens), "parent": np.concatenate(parent),
            "root": np.array(root)}
