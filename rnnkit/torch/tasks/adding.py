"""Torch pieces for the adding problem (``rnnkit.tasks.adding``): batches, a regressor, its loss.

Book chapters 8 and 9 train every cell they compare on the adding problem the same way: a
recurrent layer reads the whole sequence, a linear readout maps its last hidden state to one
number, and the loss is the mean squared error. Lab 5 asks students to write the same model.
"""

import numpy as np
import torch
from torch import nn

from rnnkit.tasks.adding import adding_problem

__all__ = ["LastStepRegressor", "mse_loss", "adding_batches"]


class LastStepRegressor(nn.Module):
    """A recurrent layer, then a linear readout of its last hidden state.

    Args:
        rnn: a batch-first recurrent module with a ``hidden_size`` attribute whose forward
            returns ``(out (N, T, H), state)``: any ``rnnkit.torch`` sequence model or MUT.
    """

    def __init__(self, rnn):
        super().__init__()
        self.rnn = rnn
        self.readout = nn.Linear(rnn.hidden_size, 1)

    def forward(self, x):
        """Map inputs (N, T, D) to predictions (N,)."""
        h, _ = self.rnn(x)  # (N, T, H)
        return self.readout(h[:, -1]).squeeze(-1)  # (N,)


def mse_loss(model, batch):
    """Mean squared error of ``model(x)`` against ``y``; a ``loss_fn`` for ``rnnkit.torch.fit``."""
    x, y = batch
    return ((model(x) - y) ** 2).mean()


def adding_batches(n, N, T, rng):
    """Draw ``n`` fresh batches of the adding problem as ``(x (N, T, 2), y (N,))`` tensor pairs."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng: expected a numpy.random.Generator, got {type(rng).__name__}")
    return [tuple(map(torch.from_numpy, adding_problem(N, T, rng))) for _ in range(n)]
