"""The coupled-gate LSTM (``i = 1 - f``) on the torch path, run by torch.nn.LSTM's kernel.

The equations are those of ``rnnkit.lstm_variants`` (book chapter 8), gate blocks f, g, o::

    a = x @ Wx + h_prev @ Wh + b          # (N, 3H)
    f, o = sigmoid(a_f), sigmoid(a_o);  g = tanh(a_g)
    c_next = f * c_prev + (1 - f) * g
    h_next = o * tanh(c_next)

A standard LSTM whose input-gate block is the negated forget-gate block computes exactly
this, because ``sigmoid(-a) = 1 - sigmoid(a)``. So on every call the module builds the
four-block weights ``[-W_f, W_f, W_g, W_o]`` with differentiable ops and runs them through a
parameter-less ``torch.nn.LSTM`` (fused kernels on CPU and GPU); autograd sends the input
gate's gradient back into the forget-gate block, with a minus sign, as the tie demands.
"""

import math

import torch
from torch import nn
from torch.func import functional_call

from rnnkit._checks import check_shape
from rnnkit.torch.convert import to_torch_layout

__all__ = ["CoupledLSTM"]


class CoupledLSTM(nn.Module):
    """One coupled-gate LSTM layer, batch-first, like ``rnnkit.torch.LSTM``.

    Parameters: ``Wx (D, 3H)``, ``Wh (H, 3H)``, ``b (3H,)``, blocks f, g, o (rnnkit's
    layout), drawn from U(-1/sqrt(H), 1/sqrt(H)); ``forget_bias`` then sets the f block of
    ``b``.

    Args:
        input_size: D; hidden_size: H.
        forget_bias: initial forget-gate bias, or None to keep the uniform draw.
    """

    def __init__(self, input_size, hidden_size, *, forget_bias=None, device=None, dtype=None):
        super().__init__()
        for name, value in (("input_size", input_size), ("hidden_size", hidden_size)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}: expected a positive int, got {value!r}")
        self.input_size, self.hidden_size = input_size, hidden_size
        kw = {"device": device, "dtype": dtype}
        self.Wx = nn.Parameter(torch.empty(input_size, 3 * hidden_size, **kw))  # (D, 3H)
        self.Wh = nn.Parameter(torch.empty(hidden_size, 3 * hidden_size, **kw))  # (H, 3H)
        self.b = nn.Parameter(torch.empty(3 * hidden_size, **kw))  # (3H,)
        bound = 1.0 / math.sqrt(hidden_size)
        with torch.no_grad():
            for p in self.parameters():
                p.uniform_(-bound, bound)
            if forget_bias is not None:
                self.b[:hidden_size] = forget_bias
        # Not a submodule (no parameters of its own, kept out of state_dict and .to()).
        template = nn.LSTM(input_size, hidden_size, batch_first=True, device="meta")
        object.__setattr__(self, "_template", template)

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}"

    def lstm_params(self):
        """The standard-LSTM parameters ``(Wx4 (D, 4H), Wh4 (H, 4H), b4 (4H,))``, differentiably."""
        H = self.hidden_size
        return tuple(torch.cat((-p[..., :H], p), dim=-1) for p in (self.Wx, self.Wh, self.b))

    def forward(self, x, state=None):
        """Run the layer over ``x``.

        Args:
            x: inputs, (N, T, D).
            state: ``(h0, c0)``, each (1, N, H), or None for zeros.
        Returns:
            out: every hidden state, (N, T, H).
            (h_n, c_n): the final states, each (1, N, H), like torch.nn.LSTM.
        """
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"x: expected a torch.Tensor, got {type(x).__name__}")
        dims = {"D": self.input_size, "H": self.hidden_size, "L": 1}
        check_shape("x", x, "NTD", dims)
        if state is not None:
            if not (isinstance(state, (tuple, list)) and len(state) == 2):
                raise TypeError("state: expected a tuple (h0, c0) of (1, N, H) tensors, got "
                                f"{type(state).__name__}")
            for name, t in zip(("h0", "c0"), state, strict=True):
                check_shape(name, t, "LNH", dims)
            state = tuple(state)
        names = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")
        params = dict(zip(names, to_torch_layout("lstm", *self.lstm_params()), strict=True))
        return functional_call(self._template, params, (x, state))
