"""A recursive (tree) network in NumPy: the child-sum Tree-LSTM, forward and backward by hand.

A recurrent network applies one cell along a chain; a recursive network applies it along a
tree, each node combining its children's states (Pollack 1990; Socher et al. 2011; book
chapter 10). Tai, Socher and Manning (2015) gave the LSTM this shape. For node j with input
``x_j`` and children C(j), in rows, with the blocks of ``Wx (D, 4H)``, ``Wh (H, 4H)``,
``b (4H,)`` in torch's LSTM order i, f, u (the candidate, torch's g), o::

    hs_j = sum_{k in C(j)} h_k                          # child sum (zeros at a leaf)
    i_j = sigmoid(x_j @ Wx_i + hs_j @ Wh_i + b_i)        # likewise o_j (sigmoid), u_j (tanh)
    f_k = sigmoid(x_j @ Wx_f + h_k @ Wh_f + b_f)         # one forget gate per child k
    c_j = i_j * u_j + sum_{k in C(j)} f_k * c_k
    h_j = o_j * tanh(c_j)

A chain (every node one child) is exactly the LSTM of chapter 8. Because every node has one
parent, the forget gate f_k is stored with the *child* k: arrays of nodes, never of edges.

Trees come as a forest: ``x (M, D)`` one row per node, and ``parent (M,)`` with each node's
parent index (-1 for a root), children before parents (``parent[j] > j``), as
``rnnkit.tasks.listops.to_tree`` makes them. ``tree_lstm_forward`` walks the nodes one at a
time in that order, the recursion written as a loop; ``tree_lstm_backward`` walks back
(backpropagation through structure, Goller and Kuechler 1996). Both are for reading.
``rnnkit.torch.models.tree`` computes all nodes of one height at once, and the tests check
the two against each other.
"""

from typing import NamedTuple

import numpy as np

from rnnkit._checks import check_arrays, check_upstream
from rnnkit.layers import sigmoid

__all__ = ["TreeLSTMCache", "check_forest", "node_heights", "path_lengths", "tree_lstm_forward",
           "tree_lstm_backward"]


class TreeLSTMCache(NamedTuple):
    """What ``tree_lstm_backward`` needs; every field an array."""

    x: np.ndarray  # (M, D)
    parent: np.ndarray  # (M,) int
    Wx: np.ndarray  # (D, 4H)
    Wh: np.ndarray  # (H, 4H)
    hs: np.ndarray  # (M, H) child sums
    c: np.ndarray  # (M, H)
    iuo: np.ndarray  # (M, 3H) gates i, u, o of each node
    f: np.ndarray  # (M, H) the forget gate each node's parent applies to its c (0 at roots)
    tanh_c: np.ndarray  # (M, H)
    h: np.ndarray  # (M, H)


def check_forest(parent, M):
    """Check ``parent``: M ints, each -1 or the index of a later node; return it."""
    if not isinstance(parent, np.ndarray) or not np.issubdtype(parent.dtype, np.integer):
        got = parent.dtype if isinstance(parent, np.ndarray) else type(parent).__name__
        raise TypeError(f"parent: expected an integer array, got {got}")
    if parent.shape != (M,):
        raise ValueError(f"parent: expected shape (M,) = ({M},) (one entry per row of x), "
                         f"got {parent.shape}")
    j = np.arange(M)
    bad = (parent != -1) & ((parent <= j) | (parent >= M))
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise ValueError(f"parent: expected -1 or a later node's index (children before "
                         f"parents), got parent[{k}] = {int(parent[k])}")
    return parent


def node_heights(parent):
    """Height of every node: 0 for a leaf, 1 + the highest child otherwise, (M,) int.

    All nodes of one height can be computed together: their children are all lower.
    """
    height = np.zeros(len(parent), dtype=np.int64)
    for j, p in enumerate(parent):  # children come first, so a child's height is final
        if p >= 0:
            height[p] = max(height[p], height[j] + 1)
    return height


def path_lengths(parent):
    """Number of edges from every node up to its root, (M,) int: how many cell applications
    the gradient of a loss at the root crosses to reach that node."""
    length = np.zeros(len(parent), dtype=np.int64)
    for j in reversed(range(len(parent))):  # parents come after their children
        if parent[j] >= 0:
            length[j] = length[parent[j]] + 1
    return length


def tree_lstm_forward(x, parent, Wx, Wh, b):
    """Run a child-sum Tree-LSTM over a forest, node by node (book chapter 10).

    Args:
        x: node inputs, (M, D).
        parent: (M,) int, each node's parent or -1, children before parents.
        Wx: (D, 4H); Wh: (H, 4H); b: (4H,); blocks i, f, u, o.
    Returns:
        h: every node's hidden state, (M, H); ``h[root]`` represents the whole tree.
        cache: ``TreeLSTMCache`` for ``tree_lstm_backward``.
    """
    dims = check_arrays(("Wh", Wh, "HH", 4), ("Wx", Wx, "DH", 4), ("b", b, "H", 4),
                        ("x", x, "MD"))
    M, H = dims["M"], dims["H"]
    check_forest(parent, M)
    xw = x @ Wx + b  # (M, 4H) input side of every node in one matmul
    Wh_i, Wh_f, Wh_u, Wh_o = np.split(Wh, 4, axis=1)
    Wh_iuo = np.concatenate((Wh_i, Wh_u, Wh_o), axis=1)  # (H, 3H)
    h, c, hs, tanh_c = (np.zeros((M, H), dtype=x.dtype) for _ in range(4))
    iuo, f = np.zeros((M, 3 * H), dtype=x.dtype), np.zeros((M, H), dtype=x.dtype)
    for j in range(M):
        kids = np.flatnonzero(parent == j)  # all earlier than j: already computed
        a_i, a_f, a_u, a_o = np.split(xw[j], 4)
        hs[j] = h[kids].sum(axis=0)
        g = np.concatenate((a_i, a_u, a_o)) + hs[j] @ Wh_iuo
        i, u, o = sigmoid(g[:H]), np.tanh(g[H:2 * H]), sigmoid(g[2 * H:])
        f[kids] = sigmoid(a_f + h[kids] @ Wh_f)  # (K, H) one forget gate per child
        c[j] = i * u + (f[kids] * c[kids]).sum(axis=0)
        tanh_c[j] = np.tanh(c[j])
        h[j] = o * tanh_c[j]
        iuo[j] = np.concatenate((i, u, o))
    return h, TreeLSTMCache(x, parent, Wx, Wh, hs, c, iuo, f, tanh_c, h)


def tree_lstm_backward(dh, cache):
    """Backpropagation through structure: from the parents down to the leaves.

    Args:
        dh: gradient of the loss with respect to every node's h, (M, H); None: zeros.
            (Usually nonzero only at the roots.)
        cache: from ``tree_lstm_forward``.
    Returns:
        dx (M, D), None (``parent`` is not differentiable), dWx (D, 4H), dWh (H, 4H), db (4H,).
    """
    x, parent, Wx, Wh, hs, c, iuo, f, tanh_c, h = cache
    M, H = h.shape
    dh = np.array(check_upstream("dh", dh, h, "MH"))  # a copy: parents add into children
    dc = np.zeros_like(c)
    Wh_i, Wh_f, Wh_u, Wh_o = np.split(Wh, 4, axis=1)
    Wh_iuo = np.concatenate((Wh_i, Wh_u, Wh_o), axis=1)  # (H, 3H)
    da = np.zeros((M, 4 * H), dtype=h.dtype)  # input-side pre-activation gradients, i f u o
    dWh_iuo, dWh_f = np.zeros_like(Wh_iuo), np.zeros_like(Wh_f)
    for j in reversed(range(M)):  # parents before children: dh[j], dc[j] are complete
        kids = np.flatnonzero(parent == j)
        i, u, o = np.split(iuo[j], 3)
        do = dh[j] * tanh_c[j]  # backprop h = o * tanh(c)
        dcj = dc[j] + dh[j] * o * (1 - tanh_c[j] ** 2)
        di, du = dcj * u, dcj * i  # backprop c = i * u + sum_k f_k * c_k
        df = dcj * c[kids]  # (K, H)
        dc[kids] += dcj * f[kids]  # the cell path into every child
        d_iuo = np.concatenate((di * i * (1 - i), du * (1 - u**2), do * o * (1 - o)))  # (3H,)
        d_f = df * f[kids] * (1 - f[kids])  # (K, H) through each child's forget gate
        da[j] = np.concatenate((d_iuo[:H], d_f.sum(axis=0), d_iuo[H:]))  # f's x side is shared
        dWh_iuo += np.outer(hs[j], d_iuo)
        dWh_f += h[kids].T @ d_f
        dh[kids] += d_iuo @ Wh_iuo.T + d_f @ Wh_f.T  # the child sum and each child's f gate
    dWh = np.concatenate((dWh_iuo[:, :H], dWh_f, dWh_iuo[:, H:]), axis=1)  # i f u o
    return da @ Wx.T, None, x.T @ da, dWh, da.sum(axis=0)
