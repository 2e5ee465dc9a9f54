"""Torch pieces for the adding problem (``rnnkit.tasks.adding``): batches, a regressor, its loss.

Book chapters 8 and 9 train every cell they compare on the adding problem the same way: a
recurrent layer reads the whole sequence, a linear readout maps its last hidden state to one
number, and the loss is the mean squared error. Lab 5 asks students to write the same model.
"""

import numpy as np
import torch
from torch import nn

from rnnkit.tasks.adding import adding_problem

__all__ = ["LastStepRegressor", "mse_loss", "adding_batches", "input_gradient_norms"]


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


def input_gradient_norms(model, x, y):
    """How strongly the loss reads each input step: ``mean_n ||dL/dx[n, t]||`` for every ``t``.

    The same quantity for every model (the gradient of the mean squared error with respect to
    the inputs, not to a cell's own state), so cells with different states compare like with
    like. The model is put in eval mode and its parameter gradients are left untouched.

    Args:
        model: a regressor such as ``LastStepRegressor``, mapping ``(N, T, D)`` to ``(N,)``.
        x: inputs, (N, T, D), a float tensor.
        y: targets, (N,).
    Returns:
        a NumPy array (T,): the batch mean of the norm over D of the input gradient at each step.
    """
    if not torch.is_tensor(x) or x.ndim != 3:
        raise ValueError(f"x: expected a tensor (N, T, D), got {getattr(x, 'shape', type(x))}")
    if not torch.is_tensor(y) or y.shape != x.shape[:1]:
        got = getattr(y, "shape", type(y))
        raise ValueError(f"y: expected a tensor ({x.shape[0]},), got {got}")
    model.eval()
    x = x.detach().clone().requires_grad_()
    (dx,) = torch.autograd.grad(mse_loss(model, (x, y)), x)
    return dx.norm(dim=2).mean(dim=0).detach().cpu().numpy()  # (T,)
