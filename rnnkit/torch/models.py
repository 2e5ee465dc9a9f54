"""Sequence models over the cells: ``RNN``, ``LSTM``, ``GRU``, batch-first, multi-layer.

Two paths compute the same function with the same parameters:

- the teaching path (default): a Python loop over time around ``cell.step``. The input
  projection ``x @ Wx + b`` of a whole layer is one matmul, made time-major so that
  ``unbind(0)`` hands the loop contiguous (N, G*H) slices; only ``h_prev @ Wh`` and the
  gate algebra remain inside the loop. Autograd does BPTT. Readable, and slow: every step
  is a few small kernels launched from Python.
- ``fast=True``: the same weights through ``torch.nn.RNN/LSTM/GRU`` (fused kernels on
  CPU, cuDNN on GPU).

How the fast path stays trainable. The model's cells own the parameters, in rnnkit's
layout. On every fast call ``convert.torch_nn_params`` rebuilds torch's flat weights
from them with differentiable ops (a transposed copy of each matrix, the GRU's bias
split), and ``torch.func.functional_call`` runs a parameter-less ``torch.nn`` template
with those tensors. Backward flows through the copies into ``Wx``, ``Wh``, ``b``,
``b_hn``, so an optimizer over ``model.parameters()`` trains either path, and switching
``model.fast`` mid-training changes nothing but speed. The price is copying the weights
once per call (O(G*H*(D+H)), against O(T*N*G*H*(D+H)) for the recurrence itself). The
alternative, letting an ``nn.LSTM`` own the weights and exposing ``Wx`` as a view of
``weight_ih.T``, cannot express ``b`` as a view of the sum of two biases.

Limits: no dropout between layers, no bidirectional models, no packed sequences.
"""

import torch
from torch import nn
from torch.func import functional_call

from rnnkit._checks import check_shape
from rnnkit.torch.cells import GRUCell, LSTMCell, RNNCell
from rnnkit.torch.convert import TORCH_NN, torch_nn_params

__all__ = ["RNN", "LSTM", "GRU"]


def _autocast_on(device_type):
    try:
        return torch.is_autocast_enabled(device_type)
    except TypeError:  # torch < 2.4 takes no argument and answers for CUDA
        return torch.is_autocast_enabled() if device_type == "cuda" else False


class _Sequence(nn.Module):
    kind = ""
    cell_class = None

    def __init__(self, input_size, hidden_size, num_layers=1, *, fast=False, device=None,
                 dtype=None):
        super().__init__()
        if not isinstance(num_layers, int) or num_layers < 1:
            raise ValueError(f"num_layers: expected a positive int, got {num_layers!r}")
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.fast = bool(fast)
        self.cells = nn.ModuleList(
            self.cell_class(input_size if k == 0 else hidden_size, hidden_size,
                            device=device, dtype=dtype)
            for k in range(num_layers)
        )
        # A torch.nn module with weights on the meta device (no memory): only its forward is
        # used, with this model's parameters swapped in. Set with object.__setattr__ so that
        # it is not a submodule: it must not appear in parameters(), state_dict() or .to().
        template = TORCH_NN[self.kind](input_size, hidden_size, num_layers=num_layers,
                                       batch_first=True, device="meta")
        object.__setattr__(self, "_template", template)

    def extra_repr(self):
        return (f"{self.input_size}, {self.hidden_size}, num_layers={self.num_layers}, "
                f"fast={self.fast}")

    def _check(self, x, state):
        """Validate the public inputs once; return ``(N, states)`` with states a tuple."""
        p = self.cells[0].Wx
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"x: expected a torch.Tensor, got {type(x).__name__}")
        dims = {"D": self.input_size, "H": self.hidden_size, "L": self.num_layers}
        check_shape("x", x, "NTD", dims)
        if dims["T"] == 0:
            raise ValueError(f"x: expected at least one time step, got shape {tuple(x.shape)}")
        names = ("h0", "c0") if self.kind == "lstm" else ("h0",)
        if state is None:
            states = ()
        elif self.kind == "lstm":
            if not (isinstance(state, (tuple, list)) and len(state) == 2):
                raise TypeError("state: expected a tuple (h0, c0) of (L, N, H) tensors, got "
                                f"{type(state).__name__}")
            states = tuple(state)
        else:
            states = (state,)
        for name, t in zip(("x",) + names, (x,) + states, strict=False):
            if name != "x":
                check_shape(name, t, "LNH", dims)
            if t.device != p.device:
                raise ValueError(f"{name}: expected a tensor on {p.device} (the parameters' "
                                 f"device), got {t.device}")
            if t.dtype != p.dtype and not _autocast_on(t.device.type):
                raise TypeError(f"{name}: expected dtype {p.dtype} (the parameters' dtype), "
                                f"got {t.dtype}")
        return states

    def forward(self, x, state=None):
        """Run the model over a batch of sequences.

        Args:
            x: inputs, (N, T, D).
            state: initial state, zeros when None: ``h0`` (L, N, H), or for the LSTM a
                tuple ``(h0, c0)`` of (L, N, H) tensors; L = num_layers.
        Returns:
            out: the top layer's hidden states, (N, T, H).
            final_state: ``h_n`` (L, N, H), or ``(h_n, c_n)`` for the LSTM, like torch.nn.
        """
        states = self._check(x, state)
        if self.fast:
            hx = None if not states else (states if self.kind == "lstm" else states[0])
            return functional_call(self._template, torch_nn_params(self), (x, hx))
        return self._loop(x, states)

    def _loop(self, x, states):
        N, L, H = x.shape[0], self.num_layers, self.hidden_size
        if not states:
            states = tuple(x.new_zeros(L, N, H) for _ in range(2 if self.kind == "lstm" else 1))
        per_layer = list(zip(*(s.unbind(0) for s in states), strict=True))  # L tuples of (N, H)
        layer_in = x.transpose(0, 1)  # (T, N, D), time-major
        finals = []
        for k, cell in enumerate(self.cells):
            xw = cell.project(layer_in)  # (T, N, G*H), one matmul for all steps
            s = per_layer[k] if self.kind == "lstm" else per_layer[k][0]
            hs = []
            for xw_t in xw.unbind(0):
                s = cell.step(xw_t, s)
                hs.append(s[0] if self.kind == "lstm" else s)
            finals.append(s if self.kind == "lstm" else (s,))
            layer_in = torch.stack(hs, dim=1 if k == L - 1 else 0)  # (N, T, H) on top
        final = tuple(torch.stack(f) for f in zip(*finals, strict=True))  # each (L, N, H)
        return layer_in, (final if self.kind == "lstm" else final[0])


class RNN(_Sequence):
    """Multi-layer tanh RNN over ``RNNCell`` (book chapters 3 and 4); see the module doc."""

    kind, cell_class = "rnn", RNNCell


class LSTM(_Sequence):
    """Multi-layer LSTM over ``LSTMCell`` (book chapter 8); see the module doc."""

    kind, cell_class = "lstm", LSTMCell


class GRU(_Sequence):
    """Multi-layer GRU over ``GRUCell`` (book chapter 9); see the module doc."""

    kind, cell_class = "gru", GRUCell
