"""The GRU on the torch path: ``GRUCell`` and the sequence model ``GRU``.

The NumPy twin is ``rnnkit.cells.gru`` (book chapter 9): torch's convention, gate order
r, z, n, the reset gate applied after the hidden matmul::

    r = sigmoid(x @ Wx_r + h_prev @ Wh_r + b_r)
    z = sigmoid(x @ Wx_z + h_prev @ Wh_z + b_z)
    n = tanh(x @ Wx_n + b_n + r * (h_prev @ Wh_n + b_hn))
    h_next = (1 - z) * n + z * h_prev

Parameters ``Wx (D, 3H)``, ``Wh (H, 3H)``, ``b (3H,)`` and ``b_hn (H,)``, the hidden-side
bias of the candidate, which sits inside the reset gate's product and so cannot be folded
into ``b``; ``fast=True`` runs ``torch.nn.GRU``.
"""

import torch
from torch import nn

from rnnkit.torch.cells._base import Cell, Recurrent
from rnnkit.torch.layout import to_torch_layout

__all__ = ["GRUCell", "GRU"]


class GRUCell(Cell):
    """GRU cell (module docstring)."""

    numpy_name, torch_nn = "gru", nn.GRU

    def project(self, x):
        return x @ self.Wx + self.b  # (..., 3H)

    def step(self, xw, state):
        (h_prev,) = state
        H = self.hidden_size
        hw = h_prev @ self.Wh  # (N, 3H)
        rz = torch.sigmoid(xw[:, : 2 * H] + hw[:, : 2 * H])
        r, z = rz[:, :H], rz[:, H:]
        n = torch.tanh(xw[:, 2 * H :] + r * (hw[:, 2 * H :] + self.b_hn))
        return ((1 - z) * n + z * h_prev,)

    def torch_nn_weights(self):
        return to_torch_layout("gru", self.Wx, self.Wh, self.b, self.b_hn)


class GRU(Recurrent):
    """Multi-layer GRU over ``GRUCell``, batch-first, like ``torch.nn.GRU``."""

    cell_class = GRUCell
