"""The child-sum Tree-LSTM on the torch path, every node of one height computed at once.

The NumPy twin is ``rnnkit.models.tree`` (book chapter 10, Tai et al. 2015), which walks the
nodes one at a time. Same parameters, same equations::

    hs_j = sum_{k in C(j)} h_k
    i_j, o_j = sigmoid(x_j @ Wx_{i,o} + hs_j @ Wh_{i,o} + b_{i,o});  u_j = tanh(...)
    f_k = sigmoid(x_j @ Wx_f + h_k @ Wh_f + b_f)            # one per child k of j
    c_j = i_j * u_j + sum_k f_k * c_k;   h_j = o_j * tanh(c_j)

A node can be computed as soon as its children are, so all nodes of one *height* (0 for a
leaf, 1 + the highest child otherwise) are independent of each other: this module runs one
batched step per height, ``max height + 1`` steps for a whole forest, however many trees and
nodes it holds. The child sums and the sums of ``f_k * c_k`` are ``index_add`` over the edges
into the level's nodes, and each level's states are written into the forest's ``(M, H)``
arrays with the out-of-place ``index_copy``, so autograd sees every step. A balanced tree
over τ leaves takes O(log τ) steps; the chain a sequential LSTM walks takes τ.

(Other ways to batch trees: DGL passes messages level by level on a graph; the popular
PyTorch Tree-LSTM port recurses one tree at a time.)
"""

import math

import numpy as np
import torch
from torch import nn

from rnnkit.models.tree import check_forest, node_heights

__all__ = ["TreeSchedule", "tree_schedule", "TreeLSTM"]


class TreeSchedule:
    """The level-by-level plan for one forest: for each height, the nodes computed there
    (``nodes``), the children they read (``kids``) and each child's parent's position within
    ``nodes`` (``slot``), all int64 tensors; ``M`` nodes in all."""

    def __init__(self, M, levels):
        self.M, self.levels = M, levels

    def to(self, device):
        return TreeSchedule(self.M, [tuple(t.to(device) for t in lv) for lv in self.levels])


def tree_schedule(parent, device=None):
    """Plan a forest given by ``parent`` ((M,) ints, -1 at roots, children first)."""
    parent = np.asarray(parent.cpu() if isinstance(parent, torch.Tensor) else parent)
    check_forest(parent, len(parent))
    height = node_heights(parent)
    slot_of = np.zeros(len(parent), dtype=np.int64)
    levels = []
    for lv in range(int(height.max()) + 1 if len(parent) else 0):
        nodes = np.flatnonzero(height == lv)
        slot_of[nodes] = np.arange(len(nodes))
        kids = np.flatnonzero((parent >= 0) & (height[np.maximum(parent, 0)] == lv))
        levels.append(tuple(torch.as_tensor(a, dtype=torch.int64, device=device)
                            for a in (nodes, kids, slot_of[parent[kids]])))
    return TreeSchedule(len(parent), levels)


class TreeLSTM(nn.Module):
    """Child-sum Tree-LSTM (module docstring); parameters ``Wx (D, 4H)``, ``Wh (H, 4H)``,
    ``b (4H,)`` with blocks i, f, u, o, the names and shapes of ``rnnkit.models.tree``."""

    def __init__(self, input_size, hidden_size, *, device=None, dtype=None):
        super().__init__()
        for name, v in (("input_size", input_size), ("hidden_size", hidden_size)):
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{name}: expected a positive int, got {v!r}")
        self.input_size, self.hidden_size = input_size, hidden_size
        H, kw = hidden_size, {"device": device, "dtype": dtype}
        self.Wx = nn.Parameter(torch.empty(input_size, 4 * H, **kw))
        self.Wh = nn.Parameter(torch.empty(H, 4 * H, **kw))
        self.b = nn.Parameter(torch.empty(4 * H, **kw))
        bound = 1.0 / math.sqrt(H)
        with torch.no_grad():
            for p in self.parameters():
                p.uniform_(-bound, bound)

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}"

    def forward(self, x, forest):
        """Run the forest, one batched step per height.

        Args:
            x: node inputs, (M, D).
            forest: ``parent`` ((M,) ints, -1 at roots, children before parents) or a
                ``TreeSchedule`` from ``tree_schedule(parent)`` (plan once, run many times).
        Returns:
            h: (M, H) every node's hidden state; c: (M, H) its cell state.
        """
        sched = forest if isinstance(forest, TreeSchedule) else tree_schedule(forest)
        if x.ndim != 2 or x.shape != (sched.M, self.input_size):
            raise ValueError(f"x: expected shape (M, D) = ({sched.M}, {self.input_size}), "
                             f"got {tuple(x.shape)}")
        H = self.hidden_size
        Wh_f = self.Wh[:, H:2 * H]
        Wh_iuo = torch.cat((self.Wh[:, :H], self.Wh[:, 2 * H:]), dim=1)  # (H, 3H)
        xw = x @ self.Wx + self.b  # (M, 4H) the input side of every node, one matmul
        h = x.new_zeros(sched.M, H)
        c = x.new_zeros(sched.M, H)
        for nodes, kids, slot in sched.levels:
            a_i, a_f, a_u, a_o = xw[nodes].chunk(4, dim=1)  # (n, H) each
            h_k, c_k = h[kids], c[kids]  # (K, H): the children, all of lower height
            hs = h.new_zeros(len(nodes), H).index_add(0, slot, h_k)  # child sums
            g = torch.cat((a_i, a_u, a_o), dim=1) + hs @ Wh_iuo
            i, u, o = g.split(H, dim=1)
            i, u, o = torch.sigmoid(i), torch.tanh(u), torch.sigmoid(o)
            f = torch.sigmoid(a_f[slot] + h_k @ Wh_f)  # (K, H) one forget gate per child
            c_new = i * u + c.new_zeros(len(nodes), H).index_add(0, slot, f * c_k)
            h = h.index_copy(0, nodes, o * torch.tanh(c_new))
            c = c.index_copy(0, nodes, c_new)
        return h, c
