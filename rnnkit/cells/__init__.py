"""Recurrent cells in NumPy, one per module, every one following the same contract.

Modules: ``rnn`` (vanilla, chapters 3-4), ``leaky`` (leaky units, chapter 7), ``ln_rnn``
(layer-normalised RNN, chapter 7), ``lstm`` (chapter 8), ``coupled_lstm`` (the coupled-gate
LSTM, chapter 8), ``gru`` (chapter 9), ``mut`` (MUT1-3, chapter 9), ``dt_rnn`` (the
deep-transition RNN, an MLP inside the step, chapter 10), ``conv_lstm`` (the convolutional
LSTM, chapter 14: images as inputs and states, so not in ``CELLS``; its docstring says why).
``rnnkit.torch.cells`` has a twin of each, with the same parameter names and shapes.

The contract
------------
Every cell ``<name>`` has four functions:

- ``<name>_step_forward(x, *state_prev, *params) -> (*state_next, cache)``
- ``<name>_step_backward(*dstate_next, cache) -> (dx, *dstate_prev, *dparams)``
- ``<name>_forward(x, *state0, *params) -> (*out, cache)``
- ``<name>_backward(*dout, cache) -> (dx, *dstate0, *dparams)``

1. Arguments come in the order ``x``, then the states, then the parameters:
   ``lstm_forward(x, h0, c0, Wx, Wh, b)`` mirrors ``lstm_step_forward(x, h_prev, c_prev, Wx,
   Wh, b)``. Data is batch-major: ``x`` is ``(N, D)`` for a step and ``(N, T, D)`` for a
   sequence; states are ``(N, H)``. Weights read ``x @ Wx + h_prev @ Wh + b``: ``Wx (D, G*H)``,
   ``Wh (H, G*H)``, ``b (G*H,)`` with G gate blocks in torch's order.
2. Forward returns one output per state, then the cache. A step returns the next states; a
   sequence returns every hidden state ``h (N, T, H)`` and, for a cell with a second state
   (the LSTMs' ``c``), only its final value ``c_n (N, H)``, since the loss sees ``c`` through
   ``h`` and, when a later model reads it, through the final state.
3. Backward takes one upstream gradient per output, in the same order, then the cache, and
   returns one gradient per forward argument, in forward's order, initial states included
   (``dx, dh0, dc0, dWx, dWh, db``). An upstream gradient may be ``None`` when nothing flows
   into that output (``lstm_backward(dh, None, cache)``); every one is checked by
   ``rnnkit._checks.check_upstream`` against the output it belongs to.
4. The cache is a ``NamedTuple`` of arrays only, built on forward's last line and unpacked on
   backward's first line. Backward never modifies its arguments or the cache.
5. Initial states may be ``None``: zeros of shape ``(N, H)``, N taken from ``x``.
6. Inputs are checked once, at the public entry point. Sizes come from the arguments least
   likely to be wrong: D and H from the weights, N from the states when given, T from ``x``;
   an error names the argument that disagrees and what was expected. Sequences need T >= 1.
   The dtype of the weights is the dtype of the result (float32 in, float32 out).
7. Step functions are the textbook cell; sequence functions are loops over the same step,
   with the input side ``x @ Wx + b`` of all T steps done in one matmul before the loop and
   the weight gradients in one matmul each after it. They are for reading, not for speed
   (the fused kernels are in ``rnnkit.torch``).

``CELLS`` describes every cell for code that treats them alike (the contract tests, the
torch parity tests): its functions, its state names and its parameter shapes.
"""

from typing import NamedTuple

__all__ = ["CellSpec", "CELLS"]


class CellSpec(NamedTuple):
    """What a generic caller needs to know about one NumPy cell."""

    name: str  # the module name in rnnkit.cells, or the cell's ("mut1") where a module has several
    states: tuple  # state names, e.g. ("h",) or ("h", "c")
    params: tuple  # (name, letters, gates) for each parameter, e.g. ("Wx", "DH", 4)
    step_forward: object
    step_backward: object
    forward: object
    backward: object
    # True when x enters an H-wide sum unweighted, so D must equal H (MUT1, MUT2): generic
    # tests draw D == H for these cells
    square: bool = False


def _spec(module, states, params, name=None, square=False):
    name = name or module.__name__.rsplit(".", 1)[1]
    return CellSpec(name, states, params, getattr(module, f"{name}_step_forward"),
                    getattr(module, f"{name}_step_backward"), getattr(module, f"{name}_forward"),
                    getattr(module, f"{name}_backward"), square)


def _registry():
    from rnnkit.cells import coupled_lstm, dt_rnn, gru, leaky, ln_rnn, lstm, mut, rnn

    def gated(G, extra=()):
        return (("Wx", "DH", G), ("Wh", "HH", G), ("b", "H", G)) + extra

    def ungated(names):  # the MUTs: W_x. (D, H), W_h. (H, H), b_. (H,), one block each
        return tuple((n, {"W_x": "DH", "W_h": "HH"}.get(n[:3], "H"), 1) for n in names.split())

    specs = [
        _spec(rnn, ("h",), gated(1)),
        _spec(leaky, ("h",), gated(1, (("tau", "H", 1),))),
        _spec(ln_rnn, ("h",), (("Wx", "DH", 1), ("Wh", "HH", 1), ("gamma", "H", 1),
                               ("beta", "H", 1))),
        _spec(lstm, ("h", "c"), gated(4)),
        _spec(coupled_lstm, ("h", "c"), gated(3)),
        _spec(gru, ("h",), gated(3, (("b_hn", "H", 1),))),
        _spec(mut, ("h",), ungated("W_xz W_xr W_hr W_hh b_z b_r b_h"), "mut1", square=True),
        _spec(mut, ("h",), ungated("W_xz W_xh W_hz W_hr W_hh b_z b_r b_h"), "mut2", square=True),
        _spec(mut, ("h",), ungated("W_xz W_xr W_xh W_hz W_hr W_hh b_z b_r b_h"), "mut3"),
        _spec(dt_rnn, ("h",), gated(1, (("Wz", "HH", 1), ("bz", "H", 1)))),
    ]
    return {s.name: s for s in specs}


CELLS = _registry()
