"""The deep-transition RNN on the torch path: ``DTRNNCell`` and the sequence model ``DTRNN``.

The NumPy twin is ``rnnkit.cells.dt_rnn`` (book chapter 10, Pascanu et al. 2014): a
two-layer MLP as the transition::

    z = tanh(x @ Wx + h_prev @ Wh + b)
    h_next = tanh(z @ Wz + bz)

Parameters ``Wx (D, H)``, ``Wh (H, H)``, ``b (H,)``, ``Wz (H, H)``, ``bz (H,)``. torch.nn
has no fused kernel for it: the teaching loop only.
"""

import torch

from rnnkit.torch.cells._base import Cell, Recurrent

__all__ = ["DTRNNCell", "DTRNN"]


class DTRNNCell(Cell):
    """Deep-transition RNN cell (module docstring)."""

    numpy_name = "dt_rnn"

    def project(self, x):
        return x @ self.Wx + self.b  # (..., H)

    def step(self, xw, state):
        (h_prev,) = state
        z = torch.tanh(xw + h_prev @ self.Wh)  # (N, H) the transition's hidden layer
        return (torch.tanh(z @ self.Wz + self.bz),)


class DTRNN(Recurrent):
    """Multi-layer deep-transition RNN over ``DTRNNCell``, batch-first."""

    cell_class = DTRNNCell
