"""The vanilla (Elman) RNN on the torch path: ``RNNCell`` and the sequence model ``RNN``.

The NumPy twin is ``rnnkit.cells.rnn`` (book chapters 3 and 4)::

    h_next = tanh(x @ Wx + h_prev @ Wh + b)

Parameters ``Wx (D, H)``, ``Wh (H, H)``, ``b (H,)``; ``fast=True`` runs ``torch.nn.RNN``.
"""

import torch
from torch import nn

from rnnkit.torch.cells._base import Cell, Recurrent
from rnnkit.torch.layout import to_torch_layout

__all__ = ["RNNCell", "RNN"]


class RNNCell(Cell):
    """Vanilla tanh RNN cell (module docstring)."""

    numpy_name, torch_nn = "rnn", nn.RNN

    def project(self, x):
        return x @ self.Wx + self.b  # (..., H)

    def step(self, xw, state):
        (h_prev,) = state
        return (torch.tanh(xw + h_prev @ self.Wh),)

    def torch_nn_weights(self):
        return to_torch_layout("rnn", self.Wx, self.Wh, self.b)


class RNN(Recurrent):
    """Multi-layer tanh RNN over ``RNNCell``, batch-first, like ``torch.nn.RNN``."""

    cell_class = RNNCell
