"""MUT1, MUT2, MUT3: the three gated cells found by Jozefowicz et al.'s architecture search.

Jozefowicz, Zaremba and Sutskever (ICML 2015) evolved over ten thousand recurrent cells
and reported three, MUT1-3, that did as well as the GRU on their tasks. Each keeps the
GRU's skeleton (a reset gate ``r`` inside the candidate, an update gate ``z`` blending
candidate and old state) and changes what feeds the gates. Their equations, in the
paper's notation (column vectors, ``h_t`` the state before the step)::

    MUT1:  z = sigm(W_xz x_t + b_z)
           r = sigm(W_xr x_t + W_hr h_t + b_r)
           h_{t+1} = tanh(W_hh (r * h_t) + tanh(x_t) + b_h) * z + h_t * (1 - z)

    MUT2:  z = sigm(W_xz x_t + W_hz h_t + b_z)
           r = sigm(x_t + W_hr h_t + b_r)
           h_{t+1} = tanh(W_hh (r * h_t) + W_xh x_t + b_h) * z + h_t * (1 - z)

    MUT3:  z = sigm(W_xz x_t + W_hz tanh(h_t) + b_z)
           r = sigm(W_xr x_t + W_hr h_t + b_r)
           h_{t+1} = tanh(W_hh (r * h_t) + W_xh x_t + b_h) * z + h_t * (1 - z)

Here ``z`` multiplies the candidate (lecture 001's GRU convention, not torch's). MUT1 and
MUT2 add ``x_t`` itself, unweighted, to an H-wide sum, so they need ``D == H``: feed
them through an ``nn.Linear(D, H)`` first if your inputs are narrower. Lecture 000 prints
``W_hx`` in MUT2's update gate; the paper's symbol is ``W_hz``.

The code uses rows, like the rest of rnnkit: ``W_xz`` is ``(D, H)`` and the products read
``x @ W_xz + h @ W_hz``. Book chapter 9 compares these cells with the vanilla RNN, the
LSTM and the GRU. Autograd provides the backward pass.
"""

import math

import torch
from torch import nn

from rnnkit._checks import check_shape

__all__ = ["MUT1Cell", "MUT2Cell", "MUT3Cell", "MUT", "CELLS"]


class _MUTCell(nn.Module):
    """Shared set-up: parameters named as in the paper, ``(D, H)``, ``(H, H)`` or ``(H,)``."""

    x_weights = ()  # input-side matrices, (D, H) each
    h_weights = ()  # hidden-side matrices, (H, H) each
    needs_square = False  # x_t enters an H-wide sum unweighted

    def __init__(self, input_size, hidden_size, *, device=None, dtype=None):
        super().__init__()
        for name, value in (("input_size", input_size), ("hidden_size", hidden_size)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}: expected a positive int, got {value!r}")
        if self.needs_square and input_size != hidden_size:
            raise ValueError(
                f"input_size: {type(self).__name__} adds x_t unweighted to an H-wide sum, so "
                f"it needs input_size == hidden_size ({hidden_size}), got {input_size}; put an "
                f"nn.Linear({input_size}, {hidden_size}) in front of it")
        self.input_size, self.hidden_size = input_size, hidden_size
        kw = {"device": device, "dtype": dtype}
        for name in self.x_weights:
            setattr(self, name, nn.Parameter(torch.empty(input_size, hidden_size, **kw)))
        for name in self.h_weights:
            setattr(self, name, nn.Parameter(torch.empty(hidden_size, hidden_size, **kw)))
        for name in ("b_z", "b_r", "b_h"):
            setattr(self, name, nn.Parameter(torch.empty(hidden_size, **kw)))
        self.reset_parameters()

    def reset_parameters(self):
        """Draw every parameter from U(-1/sqrt(H), 1/sqrt(H)), torch.nn's default for RNNs."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        with torch.no_grad():
            for p in self.parameters():
                p.uniform_(-bound, bound)

    def forward(self, x, h_prev):
        """Run one step from the raw input ``x`` (N, D) and ``h_prev`` (N, H); return h_next."""
        return self.step(self.project(x), h_prev)

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}"


class MUT1Cell(_MUTCell):
    """MUT1 (module docstring): ``z`` sees only the input; ``tanh(x_t)`` enters the candidate.

    Parameters: ``W_xz``, ``W_xr`` (D, H); ``W_hr``, ``W_hh`` (H, H); ``b_z``, ``b_r``,
    ``b_h`` (H,). Needs D == H.
    """

    x_weights, h_weights, needs_square = ("W_xz", "W_xr"), ("W_hr", "W_hh"), True

    def project(self, x):
        """Input-side terms for z, r and the candidate, each ``x.shape[:-1] + (H,)``."""
        return x @ self.W_xz + self.b_z, x @ self.W_xr + self.b_r, torch.tanh(x) + self.b_h

    def step(self, xp, h_prev):
        """One step from ``xp = self.project(x)`` and ``h_prev`` (N, H); return h_next (N, H)."""
        xz, xr, xh = xp
        z = torch.sigmoid(xz)
        r = torch.sigmoid(xr + h_prev @ self.W_hr)
        cand = torch.tanh((r * h_prev) @ self.W_hh + xh)
        return cand * z + h_prev * (1 - z)


class MUT2Cell(_MUTCell):
    """MUT2 (module docstring): ``x_t`` itself enters the reset gate.

    Parameters: ``W_xz``, ``W_xh`` (D, H); ``W_hz``, ``W_hr``, ``W_hh`` (H, H); ``b_z``,
    ``b_r``, ``b_h`` (H,). Needs D == H.
    """

    x_weights, h_weights, needs_square = ("W_xz", "W_xh"), ("W_hz", "W_hr", "W_hh"), True

    def project(self, x):
        """Input-side terms for z, r and the candidate, each ``x.shape[:-1] + (H,)``."""
        return x @ self.W_xz + self.b_z, x + self.b_r, x @ self.W_xh + self.b_h

    def step(self, xp, h_prev):
        """One step from ``xp = self.project(x)`` and ``h_prev`` (N, H); return h_next (N, H)."""
        xz, xr, xh = xp
        z = torch.sigmoid(xz + h_prev @ self.W_hz)
        r = torch.sigmoid(xr + h_prev @ self.W_hr)
        cand = torch.tanh((r * h_prev) @ self.W_hh + xh)
        return cand * z + h_prev * (1 - z)


class MUT3Cell(_MUTCell):
    """MUT3 (module docstring): the update gate reads ``tanh(h_t)`` instead of ``h_t``.

    Parameters: ``W_xz``, ``W_xr``, ``W_xh`` (D, H); ``W_hz``, ``W_hr``, ``W_hh`` (H, H);
    ``b_z``, ``b_r``, ``b_h`` (H,). Any D.
    """

    x_weights, h_weights = ("W_xz", "W_xr", "W_xh"), ("W_hz", "W_hr", "W_hh")

    def project(self, x):
        """Input-side terms for z, r and the candidate, each ``x.shape[:-1] + (H,)``."""
        return x @ self.W_xz + self.b_z, x @ self.W_xr + self.b_r, x @ self.W_xh + self.b_h

    def step(self, xp, h_prev):
        """One step from ``xp = self.project(x)`` and ``h_prev`` (N, H); return h_next (N, H)."""
        xz, xr, xh = xp
        z = torch.sigmoid(xz + torch.tanh(h_prev) @ self.W_hz)
        r = torch.sigmoid(xr + h_prev @ self.W_hr)
        cand = torch.tanh((r * h_prev) @ self.W_hh + xh)
        return cand * z + h_prev * (1 - z)


CELLS = {"mut1": MUT1Cell, "mut2": MUT2Cell, "mut3": MUT3Cell}


class MUT(nn.Module):
    """One MUT layer over a batch of sequences, batch-first, like ``rnnkit.torch.GRU``.

    A Python loop over time around ``cell.step``; the input-side terms of every step are
    computed before the loop, time-major, so the loop sees contiguous (N, H) slices. There
    is no fused kernel for these cells: per step this costs about what the teaching path of
    ``rnnkit.torch.GRU`` costs (``fast=False``).

    Args:
        kind: "mut1", "mut2" or "mut3".
        input_size: D; hidden_size: H (MUT1 and MUT2 need D == H).
    """

    def __init__(self, kind, input_size, hidden_size, *, device=None, dtype=None):
        super().__init__()
        if kind not in CELLS:
            raise ValueError(f"kind: expected one of {sorted(CELLS)}, got {kind!r}")
        self.kind = kind
        self.input_size, self.hidden_size = input_size, hidden_size
        self.cell = CELLS[kind](input_size, hidden_size, device=device, dtype=dtype)

    def extra_repr(self):
        return f"{self.kind!r}, {self.input_size}, {self.hidden_size}"

    def forward(self, x, h0=None):
        """Run the layer over ``x``.

        Args:
            x: inputs, (N, T, D).
            h0: initial state, (1, N, H) as in torch.nn.GRU; zeros when None.
        Returns:
            out: every hidden state, (N, T, H).
            h_n: the final state, (1, N, H).
        """
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"x: expected a torch.Tensor, got {type(x).__name__}")
        dims = {"D": self.input_size, "H": self.hidden_size, "L": 1}
        check_shape("x", x, "NTD", dims)
        if dims["T"] == 0:
            raise ValueError(f"x: expected at least one time step, got shape {tuple(x.shape)}")
        if h0 is None:
            h = x.new_zeros(dims["N"], self.hidden_size)
        else:
            check_shape("h0", h0, "LNH", dims)
            h = h0[0]
        xp = [t.unbind(0) for t in self.cell.project(x.transpose(0, 1))]  # 3 x T x (N, H)
        hs = []
        for xp_t in zip(*xp, strict=True):
            h = self.cell.step(xp_t, h)
            hs.append(h)
        return torch.stack(hs, dim=1), h.unsqueeze(0)
