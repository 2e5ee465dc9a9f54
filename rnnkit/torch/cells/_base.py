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

``bidirectional=True`` and ``dropout=p`` are torch.nn's too (book chapter 10): a second cell per
layer reads the sequence backwards, ``cells`` holds ``[l0, l0_reverse, l1, ...]`` in torch.nn's
order, outputs are ``(N, T, 2H)`` and states ``(2L, N, H)``; dropout acts, in training mode
only, on the input of every layer above the first. On ``fast=True`` torch.nn draws the masks,
on the loop ``torch.nn.functional.dropout`` does: the same distribution, not the same draws.

Limits: no packed sequences.
"""

import math
import warnings

import torch
from torch import nn
from torch.func import functional_call

from rnnkit._checks import check_shape
from rnnkit.cells import CELLS
from rnnkit.torch.layout import param_names

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


def _check_finite(x, state):
    """The teaching path's NaN guard: a NaN or inf in the input is a bug upstream, say where."""
    named = [("x", "(n, t, d)", x)] + [(f"state[{k}]", "(layer, n, h)", s)
                                       for k, s in enumerate(state or ())]
    for name, axes, t in named:
        bad = ~torch.isfinite(t)
        if bad.any():
            first = tuple(int(i) for i in bad.nonzero()[0])
            raise ValueError(f"{name}: expected finite values, got {int(bad.sum())} NaN or inf "
                             f"entries, the first at {axes} = {first}; look upstream of this "
                             "model")


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
        bidirectional: add a cell per layer that reads the sequence backwards (dirs = 2).
        dropout: probability of zeroing each input of layers 2 .. L in training mode.
        batch_first: True (rnnkit's default, unlike torch.nn's False): x is (N, T, D) and out
            (N, T, H); False: time-major (T, N, D) and (T, N, H), as torch.nn's default. The
            states are (L, N, H) either way, as in torch.nn.
        fast: run ``torch.nn``'s fused kernel with the same parameters (cells that have one).
        device, dtype: of the parameters.
        **cell_kw: passed to every cell (for example ``forget_bias``, ``tau``).

    Unbatched input, x (T, D) with states (L, H), is run as a batch of one and returned
    unbatched, as torch.nn does. The teaching path (``fast=False``) rejects NaN and inf in the
    input and the initial state with a message that says where the first one is.
    """

    cell_class = Cell

    def __init__(self, input_size, hidden_size, num_layers=1, *, bidirectional=False,
                 dropout=0.0, batch_first=True, fast=False, device=None, dtype=None, **cell_kw):
        super().__init__()
        self.batch_first = bool(batch_first)
        _positive_int("num_layers", num_layers)
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not (
                0 <= dropout <= 1):
            raise ValueError(f"dropout: expected a probability in [0, 1], got {dropout!r}")
        if dropout and num_layers == 1:  # torch.nn says the same
            warnings.warn(f"dropout acts between layers only, so dropout={dropout} with "
                          f"num_layers=1 does nothing", stacklevel=2)
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bidirectional, self.dropout = bool(bidirectional), float(dropout)
        self.num_directions = dirs = 2 if bidirectional else 1
        self.cells = nn.ModuleList(  # torch.nn's order: l0, l0_reverse, l1, l1_reverse, ...
            self.cell_class(input_size if k < dirs else dirs * hidden_size, hidden_size,
                            device=device, dtype=dtype, **cell_kw)
            for k in range(num_layers * dirs))
        self.state_names = self.cells[0].state_names
        if self.cell_class.torch_nn is not None:
            # A torch.nn module with weights on the meta device (no memory): only its forward
            # runs, with this model's parameters swapped in. Set with object.__setattr__ so it
            # is not a submodule: it must not appear in parameters(), state_dict() or .to().
            template = self.cell_class.torch_nn(
                input_size, hidden_size, num_layers=num_layers, batch_first=True,
                bidirectional=self.bidirectional, dropout=self.dropout if num_layers > 1 else 0.0,
                device="meta")
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
                + ("bidirectional=True, " if self.bidirectional else "")
                + (f"dropout={self.dropout}, " if self.dropout else "")
                + ("" if self.batch_first else "batch_first=False, ") + f"fast={self.fast}")

    def torch_nn_params(self):
        """``{"weight_ih_l0": ..., ...}`` for ``cell_class.torch_nn``, built differentiably."""
        dirs = self.num_directions
        return {name: t for j, cell in enumerate(self.cells)
                for name, t in zip(param_names(j // dirs, reverse=j % dirs == 1),
                                   cell.torch_nn_weights(), strict=True)}

    def _check(self, x, state):
        """Validate the public inputs once; return the initial state as a tuple, or None."""
        like = next(self.parameters())
        dims = {"D": self.input_size, "H": self.hidden_size,
                "L": self.num_layers * self.num_directions}
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
            x: inputs, (N, T, D); (T, N, D) when ``batch_first=False``; (T, D) unbatched.
            state: initial state, zeros when None: ``h0`` (L * dirs, N, H), or ``(h0, c0)``
                for a cell with two states; L = num_layers, dirs = 2 if bidirectional else 1,
                in torch.nn's order (layer 0, layer 0 reverse, layer 1, ...).
        Returns:
            out: the top layer's hidden states, (N, T, dirs * H) (forward half first); the
                layout of x: (T, N, dirs * H) when not batch-first, (T, dirs * H) unbatched.
            final_state: ``h_n`` (L * dirs, N, H), or ``(h_n, c_n)``, like torch.nn.
        """
        x, state, unbatched = self._batch_major(x, state)
        state = self._check(x, state)
        if self.fast:
            hx = None if state is None else _unpack(state)
            self._template.train(self.training)  # not a submodule: .train()/.eval() miss it
            out, final = functional_call(self._template, self.torch_nn_params(), (x, hx))
        else:
            _check_finite(x, state)
            out, final = self._loop(x, state)
            final = _unpack(final)
        if not self.batch_first:
            out = out.transpose(0, 1)  # back to (T, N, dirs * H)
        if unbatched:  # drop the batch of one again, as torch.nn does
            out = out.squeeze(0 if self.batch_first else 1)
            final = tuple(s.squeeze(1) for s in final) if isinstance(final, tuple) \
                else final.squeeze(1)
        return out, final

    def _batch_major(self, x, state):
        """Bring torch.nn's other input forms to (N, T, D) and (L, N, H); say which it was."""
        if isinstance(x, torch.Tensor) and x.dim() not in (2, 3):
            raise ValueError(f"x: expected 3-D (N, T, D) or, unbatched, 2-D (T, D), got "
                             f"{x.dim()}-D shape {tuple(x.shape)}")
        unbatched = isinstance(x, torch.Tensor) and x.dim() == 2
        if unbatched:  # (T, D): a batch of one; its states are (L, H)
            x = x.unsqueeze(0 if self.batch_first else 1)
            if state is not None:
                state = tuple(s.unsqueeze(1) if isinstance(s, torch.Tensor) and s.dim() == 2
                              else s for s in (state if isinstance(state, (tuple, list))
                                               else (state,)))
                state = _unpack(state)
        if not self.batch_first and isinstance(x, torch.Tensor) and x.dim() == 3:
            x = x.transpose(0, 1)  # (T, N, D) -> (N, T, D)
        return x, state, unbatched

    def _loop(self, x, state):
        N, L, H, dirs = x.shape[0], self.num_layers, self.hidden_size, self.num_directions
        if state is None:
            state = tuple(x.new_zeros(L * dirs, N, H) for _ in self.state_names)
        per_cell = list(zip(*(s.unbind(0) for s in state), strict=True))  # tuples of (N, H)
        layer_in = x.transpose(0, 1)  # (T, N, D), time-major: unbind(0) gives contiguous steps
        finals = []
        for k in range(L):
            if k > 0 and self.dropout and self.training:  # between layers, as torch.nn does
                layer_in = nn.functional.dropout(layer_in, self.dropout, training=True)
            outs = []
            for d in range(dirs):
                cell, s, hs = self.cells[k * dirs + d], per_cell[k * dirs + d], []
                xp = cell.project(layer_in).unbind(0)  # one matmul for all steps
                for xp_t in (reversed(xp) if d == 1 else xp):  # the reverse cell reads T .. 1
                    s = cell.step(xp_t, s)
                    hs.append(s[0])
                finals.append(s)
                outs.append(torch.stack(hs[::-1] if d == 1 else hs,  # in time order
                                        dim=1 if k == L - 1 else 0))  # (N, T, H) on top
            layer_in = torch.cat(outs, dim=2) if dirs == 2 else outs[0]  # forward half first
        return layer_in, tuple(torch.stack(f) for f in zip(*finals, strict=True))
