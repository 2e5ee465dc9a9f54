"""The book's diagrams: one palette and one small visual vocabulary, matplotlib only.

Every chapter draws its pictures with this module, so a state is the same green circle on every
page. The vocabulary:

- nodes by role (``Diagram.node``): ``input`` (rounded box), ``state`` (circle), ``output``
  (rounded box), ``target`` (dashed box), ``loss`` (diamond), ``param`` (square box); a node can
  also be a column vector of numbers (``Diagram.vector``);
- ``Diagram.gate`` (a layer with a squashing function, sigma or tanh) and ``Diagram.op`` (an
  elementwise operation: product, sum, one minus) as glyphs;
- edges labelled with their weights (``Diagram.edge``), in four styles: ``forward``, ``grad``
  (a gradient flowing back), ``param`` (a shared parameter feeding a step) and ``muted``;
- a highlighted path (``Diagram.path``), a time axis (``Diagram.time_axis``) and a boundary
  (``Diagram.boundary``, for example between truncated-BPTT chunks).

The package has three modules: ``palette`` (the colours, the order of a plot's lines, and their
contrast checks), ``diagram`` (the ``Diagram`` vocabulary and the shared unrolled diagrams) and
``cells`` (cells as data); import everything from ``rnnkit.draw``.

Cell diagrams are *data*: ``lstm_cell``, ``gru_cell``, ``leaky_unit`` and ``highway_layer``
return a ``CellSpec``, a list of operations with positions. ``draw_cell`` draws it and
``run_cell`` evaluates it with NumPy, so a chapter (and ``tests/test_draw.py``) can check that
the picture computes what the library computes.

The colours are chosen for white paper and for the book theme's dark mode, which shows images on
white through a ``brightness(0.8) contrast(1.2)`` filter (``dark_mode``); the tests check every
text and line colour's contrast in both. Every role also has its own shape, so colour is never
the only cue.

It lives in ``rnnkit`` because the chapters already import ``rnnkit`` (nothing to put on a path),
because its cell diagrams are tested against ``rnnkit.cells``, and because later parts of the book
reuse it. It needs matplotlib; nothing else in ``rnnkit`` imports it, and it never imports torch.
"""

from rnnkit.draw.cells import (
    CellOp,
    CellSpec,
    draw_cell,
    gru_cell,
    highway_layer,
    leaky_unit,
    lstm_cell,
    run_cell,
)
from rnnkit.draw.diagram import Diagram, Edge, Node, pattern, unfolded_rnn
from rnnkit.draw.palette import (
    EDGE_COLOURS,
    FILLS,
    FONT,
    PALETTE,
    SEQUENTIAL,
    SERIES,
    SHAPES,
    contrast,
    dark_mode,
    luminance,
)

__all__ = [
    "PALETTE", "SERIES", "SEQUENTIAL", "FILLS", "EDGE_COLOURS", "SHAPES", "FONT",
    "Diagram", "Node", "Edge",
    "pattern", "unfolded_rnn",
    "CellOp", "CellSpec", "draw_cell", "run_cell", "lstm_cell", "gru_cell", "leaky_unit",
    "highway_layer",
    "contrast", "dark_mode", "luminance",
]
