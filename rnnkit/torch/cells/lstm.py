"""The LSTM on the torch path: ``LSTMCell`` and the sequence model ``LSTM``.

The NumPy twin is ``rnnkit.cells.lstm`` (book chapter 8), gate order i, f, g, o::

    a = x @ Wx + h_prev @ Wh + b                    # (N, 4H), blocks a_i a_f a_g a_o
    i, f, o = sigmoid(a_i), sigmoid(a_f), sigmoid(a_o);  g = tanh(a_g)
    c_next = f * c_prev + i * g
    h_next = o * tanh(c_next)

Parameters ``Wx (D, 4H)``, ``Wh (H, 4H)``, ``b (4H,)``; the state is ``(h, c)``;
``fast=True`` runs ``torch.nn.LSTM``.
"""

import torch
from torch import nn

from rnnkit.torch.cells._base import Cell, Recurrent
from rnnkit.torch.layout import to_torch_layout

__all__ = ["LSTMCell", "LSTM"]


class LSTMCell(Cell):
    """LSTM cell (module docstring)."""

    numpy_name, torch_nn = "lstm", nn.LSTM

    def project(self, x):
        return x @ self.Wx + self.b  # (..., 4H)

    def step(self, xw, state):
        h_prev, c_prev = state
        a = xw + h_prev @ self.Wh  # (N, 4H)
        a_i, a_f, a_g, a_o = a.chunk(4, dim=1)
        i, f, o = torch.sigmoid(a_i), torch.sigmoid(a_f), torch.sigmoid(a_o)
        g = torch.tanh(a_g)
        c_next = f * c_prev + i * g
        return o * torch.tanh(c_next), c_next

    def torch_nn_weights(self):
        return to_torch_layout("lstm", self.Wx, self.Wh, self.b)


class LSTM(Recurrent):
    """Multi-layer LSTM over ``LSTMCell``, batch-first, like ``torch.nn.LSTM``."""

    cell_class = LSTMCell
