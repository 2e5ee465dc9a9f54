"""The coupled-gate LSTM (``i = 1 - f``) on the torch path: ``CoupledLSTMCell``, ``CoupledLSTM``.

The NumPy twin is ``rnnkit.cells.coupled_lstm`` (book chapter 8), gate blocks f, g, o::

    a = x @ Wx + h_prev @ Wh + b          # (N, 3H)
    f, o = sigmoid(a_f), sigmoid(a_o);  g = tanh(a_g)
    c_next = f * c_prev + (1 - f) * g
    h_next = o * tanh(c_next)

A standard LSTM whose input-gate block is the negated forget-gate block computes exactly
this, because ``sigmoid(-a) = 1 - sigmoid(a)``. So ``fast=True`` builds the four-block
weights ``[-W_f, W_f, W_g, W_o]`` with differentiable ops on every call and runs
``torch.nn.LSTM``'s kernel; autograd sends the input gate's gradient back into the
forget-gate block, with a minus sign, as the tie demands.
"""

import torch
from torch import nn

from rnnkit.torch.cells._base import Cell, Recurrent
from rnnkit.torch.layout import to_torch_layout

__all__ = ["CoupledLSTMCell", "CoupledLSTM"]


class CoupledLSTMCell(Cell):
    """Coupled-gate LSTM cell (module docstring).

    Args:
        forget_bias: initial forget-gate bias (the f block of ``b``), or None to keep the
            uniform draw.
    """

    numpy_name, torch_nn = "coupled_lstm", nn.LSTM

    def __init__(self, input_size, hidden_size, *, forget_bias=None, device=None, dtype=None):
        self.forget_bias = forget_bias
        super().__init__(input_size, hidden_size, device=device, dtype=dtype)

    def reset_parameters(self):
        super().reset_parameters()
        if self.forget_bias is not None:
            with torch.no_grad():
                self.b[: self.hidden_size] = self.forget_bias

    def project(self, x):
        return x @ self.Wx + self.b  # (..., 3H)

    def step(self, xw, state):
        h_prev, c_prev = state
        a_f, a_g, a_o = (xw + h_prev @ self.Wh).chunk(3, dim=1)
        f, g, o = torch.sigmoid(a_f), torch.tanh(a_g), torch.sigmoid(a_o)
        c_next = f * c_prev + (1 - f) * g
        return o * torch.tanh(c_next), c_next

    def lstm_params(self):
        """Standard-LSTM parameters ``(Wx4 (D, 4H), Wh4 (H, 4H), b4 (4H,))``, differentiably."""
        H = self.hidden_size
        return tuple(torch.cat((-p[..., :H], p), dim=-1) for p in (self.Wx, self.Wh, self.b))

    def torch_nn_weights(self):
        return to_torch_layout("lstm", *self.lstm_params())


class CoupledLSTM(Recurrent):
    """Multi-layer coupled-gate LSTM, batch-first; state ``(h, c)`` like ``torch.nn.LSTM``."""

    cell_class = CoupledLSTMCell
