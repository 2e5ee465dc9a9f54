"""The two bases every torch cell and sequence model is built on.

``Cell``: one recurrent step as an ``nn.Module``. A subclass names its NumPy twin
(``numpy_name``, a key of ``rnnkit.cells.CELLS``), which fixes its parameter names, shapes
and order, so the two paths cannot drift apart. It writes two methods, the equations of the
book:

- ``project(x)``: the input side of the step for any leading axes, ``(..., P)``. A sequence
  model calls it once for all T steps.
- ``step(xp, state)``: one step from ``xp (N, P)`` and ``state``, a tuple of ``(N, H)``
  tensors (``(h,)`` or ``(h, c)``); returns the next state tuple.

``Recurrent``: a batch-first, multi-layer sequence model over one kind of cell, with the
shapes and conventions of ``torch.nn.RNN/LSTM/GRU``. Two paths compute the same function
with the same parameters:

- the teaching path (default): a Python loop over time around ``cell.step``; autograd does
  BPTT. Readable, and slow: every step is a few small kernels launched from Python.
- ``fast=True``: for a cell with a fused ``torch.nn`` kernel (``Cell.torch_nn``), the cell's
  parameters are converted on every call, with differentiable ops, to that module's layout
  (``Cell.torch_nn_weights``) and run through a parameter-less template of it with
  ``torch.func.functional_call``. Backward flows through the conversion into the cell's own
  ``Wx``, ``Wh``, ``b``, so an optimizer over ``model.parameters()`` trains either path and
  switching ``model.fast`` mid-training changes nothing but speed. The price is copying the
  weights once per call, O(G*H*(D+H)) against O(T*N*G*H*(D+H)) for the recurrence.

Inside, a state is always a tuple; the public ``forward`` methods take and return what
``torch.nn`` does: a tensor for one state, a tuple ``(h, c)`` for two.

Limits: no dropout between layers, no bidirectional models, no packed sequences.
"""

import math

import torch
from torch import nn
from torch.func import functional_call

from rnnkit._checks import check_shape
from rnnkit.cells import CELLS
from rnnkit.torch.layout import NAMES

__all__ = ["Cell", "Recurrent"]

def _positive_int(name, value):
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name}: expected a positive int, got {value!r}")


def _autocast_on(device_type):
    try:
        return torch.is_autocast_enabled(device_type)
    except TypeError:  # torch < 2.4 takes no argument and answers for CUDA
        return torch.is_autocast_enabled() if device_type == "cuda" else False


def _check_tensor(name, t, like):
    """``t`` is a tensor on ``like``'s device with its dtype (any dtype under autocast)."""
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor, got {type(t).__name__}")
    if t.device != like.device:
        raise ValueError(f"{name}: expected a tensor on {like.device} (the parameters' "
                         f"device), got {t.device}")
    if t.dtype != like.dtype and not _autocast_on(t.device.type):
        raise TypeError(f"{name}: expected dtype {like.dtype} (the parameters' dtype), "
                        f"got {t.dtype}")


def _state_tuple(name, state, names):
    """Accept what torch.nn accepts (a tensor for one state, a pair for two); return a tuple."""
    if len(names) == 1:
        return (state,)
    if not (isinstance(state, (tuple, list)) and len(state) == len(names)):
        raise TypeError(f"{name}: expected a tuple ({', '.join(names)}) of tensors, got "
                        f"{type(state).__name__}")
    return tuple(state)


def _unpack(state):
    return state[0] if len(state) == 1 else state


class Cell(nn.Module):
    """One recurrent step with the parameters of its NumPy twin (module docstring)."""

    numpy_name = ""  # key of rnnkit.cells.CELLS: parameter names, shapes, state names
    torch_nn = None  # the torch.nn class with a fused kernel for this cell, or None
    square = False  # True when x enters an H-wide sum unweighted (needs D == H)

    def __init__(self, input_size, hidden_size, *, device=None, dtype=None):
        super().__init__()
        _positive_int("input_size", input_size)
        _positive_int("hidden_size", hidden_size)
        if self.square and input_size != hidden_size:
            raise ValueError(
                f"input_size: {type(self).__name__} adds x unweighted to an H-wide sum, so it "
                f"needs input_size == hidden_size ({hidden_size}), got {input_size}; put an "
                f"nn.Linear({input_size}, {hidden_size}) in front of it")
        self.input_size, self.hidden_size = input_size, hidden_size
        spec = CELLS[self.numpy_name]
        self.state_names = spec.states
        sizes = {"D": input_size, "H": hidden_size}
        for name, letters, gates in spec.params:
            shape = [sizes[c] for c in letters]
            shape[-1] *= gates
            setattr(self, name, nn.Parameter(torch.empty(shape, device=device, dtype=dtype)))
        self.reset_parameters()

    def reset_parameters(self):
        """Draw every parameter from U(-1/sqrt(H), 1/sqrt(H)), torch.nn's default for RNNs."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        with torch.no_grad():
            for p in self.parameters():
                p.uniform_(-bound, bound)

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}"

    def project(self, x):
        """The input side of the step, ``(..., P)``, for inputs ``(..., D)``."""
        raise NotImplementedError

    def step(self, xp, state):
        """One step from ``xp = project(x)`` (N, P) and a state tuple; return the next one."""
        raise NotImplementedError

    def torch_nn_weights(self):
        """``(weight_ih, weight_hh, bias_ih, bias_hh)`` for ``torch_nn``, differentiably."""
        raise NotImplementedError(f"{type(self).__name__} has no fused torch.nn kernel")

    def forward(self, x, state=None):
        """Run one step from the raw input.

        Args:
            x: input, (N, D).
            state: ``h_prev`` (N, H), or ``(h_prev, c_prev)`` for a cell with two states;
                zeros when None.
        Returns:
            ``h_next`` (N, H), or ``(h_next, c_next)``.
        """
        like = next(self.parameters())
        _check_tensor("x", x, like)
        dims = {"D": self.input_size, "H": self.hidden_size}
        names = tuple(f"{s}_prev" for s in self.state_names)
        if state is not None:
            state = _state_tuple("state", state, names)
            for name, t in zip(names, state, strict=True):
                _check_tensor(name, t, like)
                check_shape(name, t, "NH", dims)
        check_shape("x", x, "ND", dims)
        if state is None:
            state = tuple(x.new_zeros(dims["N"], self.hidden_size) for _ in names)
        return _unpack(self.step(self.project(x), state))


class Recurrent(nn.Module):
    """A batch-first, multi-layer sequence model over ``cell_class`` (module docstring).

    Args:
        input_size: D; hidden_size: H; num_layers: L, stacked (layer k > 0 reads layer k-1's h).
        fast: run ``torch.nn``'s fused kernel with the same parameters (cells that have one).
        device, dtype: of the parameters.
        **cell_kw: passed to every cell (for example ``forget_bias``, ``tau``).
    """

    cell_class = Cell

    def __init__(self, input_size, hidden_size, num_layers=1, *, fast=False, device=None,
                 dtype=None, **cell_kw):
        super().__init__()
        _positive_int("num_layers", num_layers)
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.cells = nn.ModuleList(
            self.cell_class(input_size if k == 0 else hidden_size, hidden_size, device=device,
                            dtype=dtype, **cell_kw)
            for k in range(num_layers))
        self.state_names = self.cells[0].state_names
        if self.cell_class.torch_nn is not None:
            # A torch.nn module with weights on the meta device (no memory): only its forward
            # runs, with this model's parameters swapped in. Set with object.__setattr__ so it
            # is not a submodule: it must not appear in parameters(), state_dict() or .to().
            template = self.cell_class.torch_nn(input_size, hidden_size, num_layers=num_layers,
                                                batch_first=True, device="meta")
            object.__setattr__(self, "_template", template)
        self.fast = fast

    @property
    def fast(self):
        return self._fast

    @fast.setter
    def fast(self, value):
        if value and self.cell_class.torch_nn is None:
            raise ValueError(f"fast: {self.cell_class.__name__} has no fused torch.nn kernel; "
                             f"use fast=False")
        self._fast = bool(value)

    def extra_repr(self):
        return (f"{self.input_size}, {self.hidden_size}, num_layers={self.num_layers}, "
                f"fast={self.fast}")

    def torch_nn_params(self):
        """``{"weight_ih_l0": ..., ...}`` for ``cell_class.torch_nn``, built differentiably."""
        return {name.format(k): t for k, cell in enumerate(self.cells)
                for name, t in zip(NAMES, cell.torch_nn_weights(), strict=True)}

    def _check(self, x, state):
        """Validate the public inputs once; return the initial state as a tuple, or None."""
        like = next(self.parameters())
        dims = {"D": self.input_size, "H": self.hidden_size, "L": self.num_layers}
        names = tuple(f"{s}0" for s in self.state_names)
        if state is not None:  # N comes from the states when they are given
            state = _state_tuple("state", state, names)
            for name, t in zip(names, state, strict=True):
                _check_tensor(name, t, like)
                check_shape(name, t, "LNH", dims)
        _check_tensor("x", x, like)
        check_shape("x", x, "NTD", dims)
        if dims["T"] == 0:
            raise ValueError(f"x: expected at least one time step, got shape {tuple(x.shape)}")
        return state

    def forward(self, x, state=None):
        """Run the model over a batch of sequences.

        Args:
            x: inputs, (N, T, D).
            state: initial state, zeros when None: ``h0`` (L, N, H), or ``(h0, c0)`` for a
                cell with two states; L = num_layers.
        Returns:
            out: the top layer's hidden states, (N, T, H).
            final_state: ``h_n`` (L, N, H), or ``(h_n, c_n)``, like torch.nn.
        """
        state = self._check(x, state)
        if self.fast:
            hx = None if state is None else _unpack(state)
            return functional_call(self._template, self.torch_nn_params(), (x, hx))
        out, final = self._loop(x, state)
        return out, _unpack(final)

    def _loop(self, x, state):
        N, L, H = x.shape[0], self.num_layers, self.hidden_size
        if state is None:
            state = tuple(x.new_zeros(L, N, H) for _ in self.state_names)
        per_layer = list(zip(*(s.unbind(0) for s in state), strict=True))  # L tuples of (N, H)
        layer_in = x.transpose(0, 1)  # (T, N, D), time-major: unbind(0) gives contiguous steps
        finals = []
        for k, cell in enumerate(self.cells):
            s = per_layer[k]
            hs = []
            for xp_t in cell.project(layer_in).unbind(0):  # one matmul for all steps
                s = cell.step(xp_t, s)
                hs.append(s[0])
            finals.append(s)
            layer_in = torch.stack(hs, dim=1 if k == L - 1 else 0)  # (N, T, H) on top
        return layer_in, tuple(torch.stack(f) for f in zip(*finals, strict=True))  # (L, N, H)
