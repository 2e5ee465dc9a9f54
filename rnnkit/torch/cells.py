"""The three recurrent cells as ``nn.Module``s, equations written out, NumPy layout.

Parameters have the shapes and names of the NumPy reference (``rnnkit.rnn``,
``rnnkit.lstm``, ``rnnkit.gru``): ``Wx (D, G*H)``, ``Wh (H, G*H)``, ``b (G*H,)``, plus
``b_hn (H,)`` for the GRU, so every line below reads like the book's equations with
no transposes. Gate blocks follow torch's order (LSTM i, f, g, o; GRU r, z, n), which
makes converting to ``torch.nn`` a transpose (``rnnkit.torch.convert``).

Each cell has two entry points: ``cell(x_t, state)`` for one step from the raw input,
and ``cell.step(xw_t, state)`` from a precomputed input projection
``xw_t = x_t @ Wx + b``, which the sequence models compute for all steps in one matmul.
Autograd provides the backward pass; the hand-written one is the NumPy reference's.
"""

import math

import torch
from torch import nn

from rnnkit._checks import check_shape

__all__ = ["RNNCell", "LSTMCell", "GRUCell"]


class _Cell(nn.Module):
    """Shared parameter set-up: ``Wx (D, G*H)``, ``Wh (H, G*H)``, ``b (G*H,)``."""

    kind = ""  # "rnn", "lstm" or "gru"
    gates = 1  # G

    def __init__(self, input_size, hidden_size, *, device=None, dtype=None):
        super().__init__()
        for name, value in (("input_size", input_size), ("hidden_size", hidden_size)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}: expected a positive int, got {value!r}")
        self.input_size, self.hidden_size = input_size, hidden_size
        GH = self.gates * hidden_size
        kw = {"device": device, "dtype": dtype}
        self.Wx = nn.Parameter(torch.empty(input_size, GH, **kw))  # (D, G*H)
        self.Wh = nn.Parameter(torch.empty(hidden_size, GH, **kw))  # (H, G*H)
        self.b = nn.Parameter(torch.empty(GH, **kw))  # (G*H,)
        self._extra_parameters(kw)
        self.reset_parameters()

    def _extra_parameters(self, kw):
        """Create parameters beyond Wx, Wh, b (the GRU's b_hn); none by default."""

    def reset_parameters(self):
        """Draw every parameter from U(-1/sqrt(H), 1/sqrt(H)), torch.nn's default."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        with torch.no_grad():
            for p in self.parameters():
                p.uniform_(-bound, bound)

    def project(self, x):
        """Return the input projection ``x @ Wx + b``, shape ``x.shape[:-1] + (G*H,)``."""
        return x @ self.Wx + self.b

    def forward(self, x, state):
        """Run one step from the raw input ``x`` (N, D); see ``step`` for the state.

        Shapes are checked here, the public entry point; ``step``, which the sequence
        models call in their loop over time, checks nothing.
        """
        dims = {"D": self.input_size, "H": self.hidden_size}
        check_shape("x", x, "ND", dims)
        names = ("h_prev", "c_prev") if self.kind == "lstm" else ("h_prev",)
        if self.kind == "lstm" and not (isinstance(state, (tuple, list)) and len(state) == 2):
            raise TypeError(f"state: expected a tuple (h_prev, c_prev) of (N, H) tensors, got "
                            f"{type(state).__name__}")
        for name, t in zip(names, state if self.kind == "lstm" else (state,), strict=True):
            check_shape(name, t, "NH", dims)
        return self.step(self.project(x), state)

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}"


class RNNCell(_Cell):
    """Vanilla (Elman) RNN cell with tanh (book chapters 3 and 4)::

        h_next = tanh(x @ Wx + h_prev @ Wh + b)

    Parameters: ``Wx (D, H)``, ``Wh (H, H)``, ``b (H,)``.
    """

    kind, gates = "rnn", 1

    def step(self, xw, h_prev):
        """Run one step from ``xw = x @ Wx + b`` (N, H) and ``h_prev`` (N, H); return h_next."""
        return torch.tanh(xw + h_prev @ self.Wh)


class LSTMCell(_Cell):
    """LSTM cell, gate order i, f, g, o (book chapter 8)::

        a = x @ Wx + h_prev @ Wh + b                    # (N, 4H), blocks a_i a_f a_g a_o
        i, f, o = sigmoid(a_i), sigmoid(a_f), sigmoid(a_o);  g = tanh(a_g)
        c_next = f * c_prev + i * g
        h_next = o * tanh(c_next)

    Parameters: ``Wx (D, 4H)``, ``Wh (H, 4H)``, ``b (4H,)``. The state is ``(h, c)``.
    """

    kind, gates = "lstm", 4

    def step(self, xw, state):
        """Run one step from ``xw`` (N, 4H) and ``state = (h_prev, c_prev)``, each (N, H).

        Returns:
            (h_next, c_next), each (N, H).
        """
        h_prev, c_prev = state
        a = xw + h_prev @ self.Wh  # (N, 4H)
        a_i, a_f, a_g, a_o = a.chunk(4, dim=1)
        i, f, o = torch.sigmoid(a_i), torch.sigmoid(a_f), torch.sigmoid(a_o)
        g = torch.tanh(a_g)
        c_next = f * c_prev + i * g
        h_next = o * torch.tanh(c_next)
        return h_next, c_next


class GRUCell(_Cell):
    """GRU cell, torch's convention, gate order r, z, n (book chapter 9)::

        r = sigmoid(x @ Wx_r + h_prev @ Wh_r + b_r)
        z = sigmoid(x @ Wx_z + h_prev @ Wh_z + b_z)
        n = tanh(x @ Wx_n + b_n + r * (h_prev @ Wh_n + b_hn))
        h_next = (1 - z) * n + z * h_prev

    Parameters: ``Wx (D, 3H)``, ``Wh (H, 3H)``, ``b (3H,)`` and ``b_hn (H,)``, the
    hidden-side bias of the candidate, which sits inside the reset gate's product and so
    cannot be folded into ``b``. (The lectures also write the update with z and 1 - z
    swapped; chapter 9 shows it is the same family.)
    """

    kind, gates = "gru", 3

    def _extra_parameters(self, kw):
        self.b_hn = nn.Parameter(torch.empty(self.hidden_size, **kw))  # (H,)

    def step(self, xw, h_prev):
        """Run one step from ``xw = x @ Wx + b`` (N, 3H) and ``h_prev`` (N, H); return h_next."""
        H = self.hidden_size
        hw = h_prev @ self.Wh  # (N, 3H)
        rz = torch.sigmoid(xw[:, : 2 * H] + hw[:, : 2 * H])
        r, z = rz[:, :H], rz[:, H:]
        n = torch.tanh(xw[:, 2 * H :] + r * (hw[:, 2 * H :] + self.b_hn))
        return (1 - z) * n + z * h_prev
