"""Leaky units on the torch path: ``LeakyCell`` and the sequence model ``Leaky``.

The NumPy twin is ``rnnkit.cells.leaky`` (book chapter 7)::

    u = tanh(x @ Wx + h_prev @ Wh + b)
    h_next = (1 - 1/tau) * h_prev + (1/tau) * u

Parameters ``Wx (D, H)``, ``Wh (H, H)``, ``b (H,)`` and one time constant per unit,
``tau (H,)``, a parameter like the others (freeze it with ``cell.tau.requires_grad_(False)``).
The NumPy forward rejects ``tau < 1``; here nothing stops training from pushing ``tau``
below 1, where the unit overshoots: clamp it after each step if that matters. No fused kernel.
"""

import torch

from rnnkit.torch.cells._base import Cell, Recurrent

__all__ = ["LeakyCell", "Leaky"]


class LeakyCell(Cell):
    """Leaky tanh cell (module docstring).

    Args:
        tau: initial time constants, a number >= 1 for every unit.
    """

    numpy_name = "leaky"

    def __init__(self, input_size, hidden_size, *, tau=1.0, device=None, dtype=None):
        if isinstance(tau, bool) or not isinstance(tau, (int, float)) or not tau >= 1:
            raise ValueError(f"tau: expected a number >= 1, got {tau!r}")
        self.tau_init = float(tau)
        super().__init__(input_size, hidden_size, device=device, dtype=dtype)

    def reset_parameters(self):
        super().reset_parameters()
        with torch.no_grad():
            self.tau.fill_(self.tau_init)

    def project(self, x):
        return x @ self.Wx + self.b  # (..., H)

    def step(self, xw, state):
        (h_prev,) = state
        u = torch.tanh(xw + h_prev @ self.Wh)  # the vanilla update
        return (h_prev + (u - h_prev) / self.tau,)


class Leaky(Recurrent):
    """Multi-layer leaky RNN over ``LeakyCell``, batch-first; ``tau=`` sets every layer's."""

    cell_class = LeakyCell
