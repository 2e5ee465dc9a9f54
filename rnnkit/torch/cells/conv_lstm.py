"""The convolutional LSTM on the torch path: ``ConvLSTMCell`` and the sequence model ``ConvLSTM``.

The NumPy twin is ``rnnkit.cells.conv_lstm`` (book chapter 14), gate order i, f, g, o::

    a = conv2d([x, h_prev], W, b, padding=k // 2)   # (N, 4Hc, S1, S2), blocks a_i a_f a_g a_o
    i, f, o = sigmoid(a_i), sigmoid(a_f), sigmoid(a_o);  g = tanh(a_g)
    c_next = f * c_prev + i * g
    h_next = o * tanh(c_next)

Parameters ``W (4*Hc, C+Hc, k, k)`` and ``b (4*Hc,)``, the NumPy twin's names and shapes; the
state is ``(h, c)``, each ``(N, Hc, S1, S2)``. The cells are ``nn.Module``s of their own rather
than subclasses of ``rnnkit.torch.cells.Cell``, whose parameters come from the vector cells'
registry (``rnnkit.cells.CELLS``, which the NumPy module explains this cell is not in). There
is no fused kernel: ``ConvLSTM`` is a Python loop over time, autograd does BPTT.
"""

import math

import torch
from torch import nn
from torch.nn import functional as F

from rnnkit.torch.cells._base import _check_finite, _check_tensor, _positive_int

__all__ = ["ConvLSTMCell", "ConvLSTM"]


def _check_shape(name, t, axes, dims):
    """``t``'s shape matches the named axes; bind the names not yet in ``dims``."""
    want = "(" + ", ".join(axes) + ")"
    if t.dim() != len(axes):
        raise ValueError(f"{name}: expected a {len(axes)}-D tensor of shape {want}, got "
                         f"{t.dim()}-D shape {tuple(t.shape)}")
    for axis, (letter, size) in enumerate(zip(axes, t.shape, strict=True)):
        if dims.setdefault(letter, size) != size:
            raise ValueError(f"{name}: expected shape {want}, got {tuple(t.shape)}; axis {axis} "
                             f"({letter}) should be {dims[letter]}")


class ConvLSTMCell(nn.Module):
    """One ConvLSTM step (module docstring).

    Args:
        input_channels: C; hidden_channels: Hc; kernel_size: k, odd (a 'same' convolution).
        device, dtype: of the parameters.
    """

    def __init__(self, input_channels, hidden_channels, kernel_size=3, *, device=None,
                 dtype=None):
        super().__init__()
        _positive_int("input_channels", input_channels)
        _positive_int("hidden_channels", hidden_channels)
        _positive_int("kernel_size", kernel_size)
        if kernel_size % 2 == 0:
            raise ValueError(f"kernel_size: expected an odd size (a 'same' convolution keeps "
                             f"S1 x S2 only then), got {kernel_size}")
        self.input_channels, self.hidden_channels = input_channels, hidden_channels
        self.kernel_size = kernel_size
        C, Hc, k = input_channels, hidden_channels, kernel_size
        self.W = nn.Parameter(torch.empty(4 * Hc, C + Hc, k, k, device=device, dtype=dtype))
        self.b = nn.Parameter(torch.empty(4 * Hc, device=device, dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self):
        """U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = (C+Hc) k^2, as ``nn.Conv2d``."""
        bound = 1.0 / math.sqrt(self.W[0].numel())
        with torch.no_grad():
            self.W.uniform_(-bound, bound)
            self.b.uniform_(-bound, bound)

    def extra_repr(self):
        return f"{self.input_channels}, {self.hidden_channels}, kernel_size={self.kernel_size}"

    def step(self, x, state):
        """One step from frames ``x (N, C, S1, S2)`` and ``(h_prev, c_prev)``; no checks."""
        h_prev, c_prev = state
        a = F.conv2d(torch.cat((x, h_prev), dim=1), self.W, self.b,
                     padding=self.kernel_size // 2)  # (N, 4Hc, S1, S2)
        a_i, a_f, a_g, a_o = a.chunk(4, dim=1)
        c_next = torch.sigmoid(a_f) * c_prev + torch.sigmoid(a_i) * torch.tanh(a_g)
        return torch.sigmoid(a_o) * torch.tanh(c_next), c_next

    def forward(self, x, state=None):
        """Run one step.

        Args:
            x: input frames, (N, C, S1, S2).
            state: ``(h_prev, c_prev)``, each (N, Hc, S1, S2); zeros when None.
        Returns:
            ``(h_next, c_next)``, each (N, Hc, S1, S2).
        """
        dims = {"C": self.input_channels, "Hc": self.hidden_channels}
        _check_tensor("x", x, self.W)
        if state is not None:
            if not (isinstance(state, (tuple, list)) and len(state) == 2):
                raise TypeError(f"state: expected a tuple (h_prev, c_prev) of tensors, got "
                                f"{type(state).__name__}")
            for name, t in zip(("h_prev", "c_prev"), state, strict=True):
                _check_tensor(name, t, self.W)
                _check_shape(name, t, ("N", "Hc", "S1", "S2"), dims)
        _check_shape("x", x, ("N", "C", "S1", "S2"), dims)
        if state is None:
            zeros = x.new_zeros(dims["N"], self.hidden_channels, dims["S1"], dims["S2"])
            state = (zeros, zeros)
        return self.step(x, tuple(state))


class ConvLSTM(nn.Module):
    """A batch-first, multi-layer ConvLSTM: layer l > 0 reads layer l-1's hidden frames.

    Args:
        input_channels: C; hidden_channels: Hc (every layer); kernel_size: k, odd.
        num_layers: L.
        device, dtype: of the parameters.
    """

    def __init__(self, input_channels, hidden_channels, kernel_size=3, num_layers=1, *,
                 device=None, dtype=None):
        super().__init__()
        _positive_int("num_layers", num_layers)
        self.input_channels, self.hidden_channels = input_channels, hidden_channels
        self.num_layers = num_layers
        self.cells = nn.ModuleList(
            ConvLSTMCell(input_channels if k == 0 else hidden_channels, hidden_channels,
                         kernel_size, device=device, dtype=dtype) for k in range(num_layers))

    def forward(self, x, state=None):
        """Run the model over a batch of frame sequences.

        Args:
            x: frames, (N, T, C, S1, S2), T >= 1.
            state: ``(h0, c0)``, each (L, N, Hc, S1, S2); zeros when None.
        Returns:
            out: the top layer's hidden frames, (N, T, Hc, S1, S2).
            ``(h_n, c_n)``: the final states, each (L, N, Hc, S1, S2).
        """
        like = self.cells[0].W
        dims = {"C": self.input_channels, "Hc": self.hidden_channels, "L": self.num_layers}
        _check_tensor("x", x, like)
        if state is not None:
            if not (isinstance(state, (tuple, list)) and len(state) == 2):
                raise TypeError(f"state: expected a tuple (h0, c0) of tensors, got "
                                f"{type(state).__name__}")
            for name, t in zip(("h0", "c0"), state, strict=True):
                _check_tensor(name, t, like)
                _check_shape(name, t, ("L", "N", "Hc", "S1", "S2"), dims)
        _check_shape("x", x, ("N", "T", "C", "S1", "S2"), dims)
        if dims["T"] == 0:
            raise ValueError(f"x: expected at least one time step, got shape {tuple(x.shape)}")
        _check_finite(x, state)
        if state is None:
            zeros = x.new_zeros(self.num_layers, dims["N"], self.hidden_channels, dims["S1"],
                                dims["S2"])
            state = (zeros, zeros)
        layer_in, finals = x.unbind(1), []
        for k, cell in enumerate(self.cells):
            s, outs = (state[0][k], state[1][k]), []
            for x_t in layer_in:
                s = cell.step(x_t, s)
                outs.append(s[0])
            finals.append(s)
            layer_in = outs
        h_n, c_n = (torch.stack(f) for f in zip(*finals, strict=True))
        return torch.stack(layer_in, dim=1), (h_n, c_n)
