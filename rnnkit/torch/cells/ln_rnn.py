"""The layer-normalised RNN on the torch path: ``LNRNNCell`` and the sequence model ``LNRNN``.

The NumPy twin is ``rnnkit.cells.ln_rnn`` (book chapter 7, Ba et al. 2016). Layer norm
standardises the summed pre-activation of each example over its H units::

    a = x @ Wx + h_prev @ Wh
    h_next = tanh(gamma * (a - mean(a)) / sqrt(var(a) + eps) + beta)

Parameters ``Wx (D, H)``, ``Wh (H, H)``, ``gamma (H,)`` (starts at 1) and ``beta (H,)``
(the bias, starts at 0). No fused kernel.
"""

import torch
from torch.nn import functional as F

from rnnkit.torch.cells._base import Cell, Recurrent

__all__ = ["LNRNNCell", "LNRNN"]


class LNRNNCell(Cell):
    """Layer-normalised tanh cell (module docstring).

    Args:
        eps: added to the variance, as in ``torch.nn.LayerNorm`` and the NumPy twin.
    """

    numpy_name = "ln_rnn"

    def __init__(self, input_size, hidden_size, *, eps=1e-5, device=None, dtype=None):
        self.eps = eps
        super().__init__(input_size, hidden_size, device=device, dtype=dtype)

    def reset_parameters(self):
        super().reset_parameters()
        with torch.no_grad():
            self.gamma.fill_(1.0)
            self.beta.zero_()

    def project(self, x):
        return x @ self.Wx  # (..., H); no bias: beta, after the normalisation, is the bias

    def step(self, xw, state):
        (h_prev,) = state
        a = xw + h_prev @ self.Wh
        return (torch.tanh(F.layer_norm(a, (self.hidden_size,), self.gamma, self.beta,
                                        self.eps)),)


class LNRNN(Recurrent):
    """Multi-layer layer-normalised RNN over ``LNRNNCell``, batch-first."""

    cell_class = LNRNNCell
