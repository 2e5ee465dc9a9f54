"""MUT1, MUT2, MUT3 on the torch path: the three cells of Jozefowicz et al.'s architecture search.

The NumPy twin, with the equations and the hand-written backward, is ``rnnkit.cells.mut``
(book chapter 9). Each keeps the GRU's skeleton, a reset gate ``r`` inside the candidate and
an update gate ``z`` that blends candidate and old state (``z`` multiplies the candidate,
lecture 001's convention, not torch's), and changes what feeds the gates::

    z = sigmoid(<input side of z> + <hidden side of z>)
    r = sigmoid(<input side of r> + h_prev @ W_hr)
    h_next = tanh((r * h_prev) @ W_hh + <input side of the candidate>) * z + h_prev * (1 - z)

    MUT1: z from x only (x @ W_xz + b_z); candidate input side tanh(x) + b_h
    MUT2: hidden side of z h_prev @ W_hz; r's input side is x itself, x + b_r
    MUT3: hidden side of z tanh(h_prev) @ W_hz

MUT1 and MUT2 add ``x`` unweighted to an H-wide sum, so they need D == H. The parameter
names are the paper's (``W_xz (D, H)``, ``W_hr (H, H)``, ``b_z (H,)``, ...). No fused kernel:
per step the loop costs about what ``rnnkit.torch.GRU(fast=False)`` costs.
"""

import torch

from rnnkit.torch.cells._base import Cell, Recurrent

__all__ = ["MUT1Cell", "MUT2Cell", "MUT3Cell", "MUT1", "MUT2", "MUT3", "CELLS", "MODELS", "MUT"]


class _MUTCell(Cell):
    """The shared skeleton; ``project`` returns the three input sides side by side (..., 3H)."""

    def _hidden_z(self, h_prev):
        return h_prev @ self.W_hz

    def step(self, xp, state):
        (h_prev,) = state
        xz, xr, xh = xp.chunk(3, dim=1)
        z = torch.sigmoid(xz + self._hidden_z(h_prev))
        r = torch.sigmoid(xr + h_prev @ self.W_hr)
        cand = torch.tanh((r * h_prev) @ self.W_hh + xh)
        return (cand * z + h_prev * (1 - z),)


class MUT1Cell(_MUTCell):
    """MUT1: ``z`` sees only the input; ``tanh(x)`` enters the candidate. Needs D == H."""

    numpy_name, square = "mut1", True

    def project(self, x):
        return torch.cat((x @ self.W_xz + self.b_z, x @ self.W_xr + self.b_r,
                          torch.tanh(x) + self.b_h), dim=-1)

    def _hidden_z(self, h_prev):
        return 0.0


class MUT2Cell(_MUTCell):
    """MUT2: ``x`` itself enters the reset gate. Needs D == H."""

    numpy_name, square = "mut2", True

    def project(self, x):
        return torch.cat((x @ self.W_xz + self.b_z, x + self.b_r, x @ self.W_xh + self.b_h),
                         dim=-1)


class MUT3Cell(_MUTCell):
    """MUT3: the update gate reads ``tanh(h_prev)`` instead of ``h_prev``. Any D."""

    numpy_name = "mut3"

    def project(self, x):
        return torch.cat((x @ self.W_xz + self.b_z, x @ self.W_xr + self.b_r,
                          x @ self.W_xh + self.b_h), dim=-1)

    def _hidden_z(self, h_prev):
        return torch.tanh(h_prev) @ self.W_hz


class MUT1(Recurrent):
    """Multi-layer MUT1 over ``MUT1Cell``, batch-first."""

    cell_class = MUT1Cell


class MUT2(Recurrent):
    """Multi-layer MUT2 over ``MUT2Cell``, batch-first."""

    cell_class = MUT2Cell


class MUT3(Recurrent):
    """Multi-layer MUT3 over ``MUT3Cell``, batch-first."""

    cell_class = MUT3Cell


CELLS = {"mut1": MUT1Cell, "mut2": MUT2Cell, "mut3": MUT3Cell}
MODELS = {"mut1": MUT1, "mut2": MUT2, "mut3": MUT3}


def MUT(kind, input_size, hidden_size, num_layers=1, *, device=None, dtype=None):
    """Return a MUT sequence model, batch-first, like ``rnnkit.torch.GRU(fast=False)``.

    Args:
        kind: "mut1", "mut2" or "mut3".
        input_size: D; hidden_size: H (MUT1 and MUT2 need D == H); num_layers: L.
    """
    if kind not in CELLS:
        raise ValueError(f"kind: expected one of {sorted(CELLS)}, got {kind!r}")
    return MODELS[kind](input_size, hidden_size, num_layers, device=device, dtype=dtype)
