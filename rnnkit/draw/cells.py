"""Cells as data: a cell diagram is a list of operations that can be drawn and evaluated.

``lstm_cell``, ``gru_cell``, ``leaky_unit`` and ``highway_layer`` return a ``CellSpec``;
``draw_cell`` draws it with the vocabulary of ``rnnkit.draw.diagram`` and ``run_cell`` evaluates
it with NumPy, so a page (and ``tests/test_draw.py``) can check that the picture computes what
``rnnkit.cells`` computes.
"""

from typing import NamedTuple

import numpy as np

from rnnkit.draw.diagram import Diagram
from rnnkit.draw.palette import FONT, PALETTE
from rnnkit.layers import sigmoid


class CellOp(NamedTuple):
    """One operation of a cell diagram.

    ``fn`` is "sigmoid", "tanh" or "affine" (a gate: an affine map of ``inputs`` when the op has
    parameters, elementwise otherwise), "mul", "add", "one_minus", or "in" (an input of the
    cell; a label "param:..." draws it as a parameter). ``via`` gives corner points for the
    edges from each input (a dict input -> list of points). A label "gate:..." draws the op as
    a gate box holding the rest of the label.
    """

    name: str
    fn: str
    inputs: tuple
    xy: tuple
    label: str
    via: dict = {}


class CellSpec(NamedTuple):
    """A cell diagram as data: its operations in evaluation order, its outputs and title."""

    name: str
    ops: tuple
    outputs: tuple
    highlight: tuple = ()  # names along the path to highlight
    notes: dict = {}  # free text placed at points: {(x, y): text}
    exits: dict = {}  # arrows leaving the cell: {op name: ((x, y), label)}


_OP_LABEL = {"mul": r"$\times$", "add": "$+$", "one_minus": r"$1-$", "tanh": r"$\tanh$"}


def run_cell(spec, inputs, params):
    """Evaluate a cell diagram with NumPy and return every node's value (a dict).

    Args:
        spec: a CellSpec. inputs: the arrays of its "in" ops by name, each (N, H) or (N, D).
        params: for every op with parameters, a dict mapping each of its inputs to a matrix
            ((D, H) or (H, H); None for "added as is") plus an optional "b" (H,).
    """
    vals = dict(inputs)
    for op in spec.ops:
        if op.fn == "in":
            continue
        args = [vals[i] for i in op.inputs]
        if op.name in params:  # an affine map first
            p = params[op.name]
            a = sum(v if p[i] is None else v @ p[i] for i, v in zip(op.inputs, args, strict=True))
            args = [a + p.get("b", 0)]
        vals[op.name] = {
            "sigmoid": lambda a: sigmoid(a[0]),
            "tanh": lambda a: np.tanh(a[0]),
            "mul": lambda a: a[0] * a[1],
            "add": lambda a: a[0] + a[1],
            "one_minus": lambda a: 1 - a[0],
            "affine": lambda a: a[0],
        }[op.fn](args)
    return vals


def draw_cell(spec, ax=None, *, highlight=True, title=None, figsize=(6.4, 4.2)):
    """Draw a CellSpec: inputs as state/input nodes, gates as amber boxes, ops as pink circles.

    Edges follow ``via`` corners; the ops named in ``spec.highlight`` get a highlight band and
    an orange outline. Returns the Diagram.
    """
    d = Diagram(ax, figsize=figsize, title=title)
    on_path = set(spec.highlight) if highlight else set()
    for op in spec.ops:
        hl = op.name in on_path
        if op.fn == "in" and op.label.startswith("param:"):  # a constant or a parameter
            d.node(op.name, op.xy, op.label[6:], "param", size=0.48, highlight=hl,
                   fontsize=FONT - 1)
        elif op.fn == "in":
            kind = "input" if op.name.startswith("x") else "state"
            d.node(op.name, op.xy, op.label, kind, size=0.4, highlight=hl)
        elif op.label.startswith("gate:"):
            d.gate(op.name, op.xy, op.label[5:], highlight=hl)
        else:
            d.op(op.name, op.xy, op.label or _OP_LABEL[op.fn], highlight=hl)
    routes = {}  # source -> the point lists of its routed edges, for the junction dots
    for op in spec.ops:
        for i in op.inputs:
            both = i in on_path and op.name in on_path
            d.edge(i, op.name, via=op.via.get(i, ()), highlight=both)
            routes.setdefault(i, []).append([d.nodes[i].xy, *op.via.get(i, ()), op.xy])
    for name, (xy, _) in spec.exits.items():
        routes.setdefault(name, []).append([d.nodes[name].xy, xy])
    for pts in routes.values():
        for dot in _junctions(pts):
            d.ax.plot(*dot, "o", ms=4.5, color=PALETTE["ink"], zorder=3)
    for name, (xy, label) in spec.exits.items():
        hl = highlight and name in on_path
        d.edge(name, xy, highlight=hl)
        d.text(xy, label, ha="left" if xy[0] > d.nodes[name].xy[0] else "center",
               va="center" if xy[0] > d.nodes[name].xy[0] else "bottom")
    if highlight and spec.highlight:
        by_name = {op.name: op for op in spec.ops}
        pts = [by_name[spec.highlight[0]].xy]
        for a, b in zip(spec.highlight, spec.highlight[1:], strict=False):
            pts += [*by_name[b].via.get(a, ()), by_name[b].xy]
        d.path(pts)
    for xy, text in spec.notes.items():
        d.text(xy, text, fontsize=FONT - 1, ha="left")
    return d


def _junctions(routes):
    """Points where routed edges from one source part ways (drawn as dots)."""
    dots = set()
    for a in range(len(routes)):
        for b in range(a + 1, len(routes)):
            p, q = routes[a], routes[b]
            k = 0
            while k < min(len(p), len(q)) - 1 and p[k] == q[k]:
                k += 1
            if k == 0:
                continue
            base = np.asarray(p[k - 1], float)
            u, v = np.asarray(p[k], float) - base, np.asarray(q[k], float) - base
            same_way = abs(u[0] * v[1] - u[1] * v[0]) < 1e-9 and u @ v > 0
            if same_way:  # the two go on along one line: they part at the nearer point
                dots.add(tuple(p[k] if u @ u < v @ v else q[k]))
            else:
                dots.add(tuple(p[k - 1]))
    return sorted(dots)


def lstm_cell():
    """The LSTM step of chapter 8 (torch's equations) as a CellSpec, cell-state path highlighted.

    Inputs x, h_prev, c_prev; outputs c_next, h_next. Parameters for ``run_cell``: ops i, f, g, o,
    each {"x": U_k (D, H), "h_prev": W_k (H, H), "b": b_k (H,)} in the row layout.
    """
    bus = 0.55  # height of the bus that carries [h_prev, x] to the four gates
    gx = {"f": 1.6, "i": 2.6, "g": 3.6, "o": 4.6}

    def gate_via(gname):
        return {"h_prev": [(0.0, bus), (gx[gname], bus)], "x": [(1.0, bus), (gx[gname], bus)]}

    ops = [
        CellOp("c_prev", "in", (), (-0.6, 3.2), "$c_{t-1}$"),
        CellOp("h_prev", "in", (), (-0.6, 0.55), "$h_{t-1}$"),
        CellOp("x", "in", (), (1.0, -0.6), "$x_t$"),
        CellOp("f", "sigmoid", ("h_prev", "x"), (gx["f"], 1.35), r"gate:$\sigma$", gate_via("f")),
        CellOp("i", "sigmoid", ("h_prev", "x"), (gx["i"], 1.35), r"gate:$\sigma$", gate_via("i")),
        CellOp("g", "tanh", ("h_prev", "x"), (gx["g"], 1.35), r"gate:$\tanh$", gate_via("g")),
        CellOp("o", "sigmoid", ("h_prev", "x"), (gx["o"], 1.35), r"gate:$\sigma$", gate_via("o")),
        CellOp("fc", "mul", ("c_prev", "f"), (gx["f"], 3.2), ""),
        CellOp("ig", "mul", ("i", "g"), (gx["g"], 2.3), "", {"i": [(gx["i"], 2.3)]}),
        CellOp("c_next", "add", ("fc", "ig"), (gx["g"], 3.2), ""),
        CellOp("tanh_c", "tanh", ("c_next",), (5.5, 2.3), "",
               {"c_next": [(5.5, 3.2)]}),
        CellOp("h_next", "mul", ("o", "tanh_c"), (5.5, 1.35), ""),
    ]
    notes = {(gx["f"] + 0.12, 2.3): "$f_t$", (gx["i"] - 0.38, 1.95): "$i_t$",
             (gx["g"] + 0.12, 1.9): "$g_t$", (4.93, 1.72): "$o_t$"}
    exits = {"c_next": ((6.4, 3.2), "$c_t$"), "h_next": ((6.4, 1.35), "$h_t$")}
    return CellSpec("LSTM", tuple(ops), ("c_next", "h_next"),
                    ("c_prev", "fc", "c_next"), notes, exits)


def gru_cell(reset="after"):
    """The GRU step of chapter 9 as a CellSpec, reset gate ``"after"`` the matrix (torch, cuDNN,
    ``rnnkit.cells.gru``) or ``"before"`` it (Cho et al., the lectures); the update gate z keeps
    the old state: h_t = z * h_{t-1} + (1 - z) * n.

    Parameters for ``run_cell``: r, z: {"x": U, "h_prev": W, "b": b}; "before": n: {"x": U_n,
    "rh": W_n, "b": b_n + b_hn}; "after": hn: {"h_prev": W_n, "b": b_hn}, n: {"x": U_n,
    "rhn": None, "b": b_n}.
    """
    top, bus, low, xrow = 3.6, 0.55, 0.05, -0.3  # heights of the lines
    gz, gr, cx, nx, out = 1.0, 2.2, 3.35, 4.6, 5.6  # columns: z, r, h-side of n, n, output
    both = {"h_prev": [(0.1, top), (0.1, bus)], "x": [(0.6, bus)]}
    ops = [
        CellOp("h_prev", "in", (), (-0.7, top), "$h_{t-1}$"),
        CellOp("x", "in", (), (0.6, -1.0), "$x_t$"),
        CellOp("z", "sigmoid", ("h_prev", "x"), (gz, 1.4), r"gate:$\sigma$",
               {k: v + [(gz, bus)] for k, v in both.items()}),
        CellOp("r", "sigmoid", ("h_prev", "x"), (gr, 1.4), r"gate:$\sigma$",
               {k: v + [(gr, bus)] for k, v in both.items()}),
    ]
    h_low = [(0.1, top), (0.1, low), (cx, low)]
    if reset == "before":  # n = tanh(x U_n + (r * h) W_n + b)
        ops += [
            CellOp("rh", "mul", ("r", "h_prev"), (cx, 2.3), "",
                   {"r": [(gr, 2.3)], "h_prev": h_low}),
            CellOp("n", "tanh", ("x", "rh"), (nx, 2.3), r"gate:$\tanh$",
                   {"x": [(0.6, xrow), (nx, xrow)]}),
        ]
    else:  # n = tanh(x U_n + b_n + r * (h W_n + b_hn))
        ops += [
            CellOp("hn", "affine", ("h_prev",), (cx, 1.4), "gate:$W_n h$", {"h_prev": h_low}),
            CellOp("rhn", "mul", ("r", "hn"), (cx, 2.3), "", {"r": [(gr, 2.3)]}),
            CellOp("n", "tanh", ("x", "rhn"), (nx, 2.3), r"gate:$\tanh$",
                   {"x": [(0.6, xrow), (nx, xrow)]}),
        ]
    ops += [
        CellOp("zh", "mul", ("z", "h_prev"), (gz, top), ""),
        CellOp("one_minus_z", "one_minus", ("z",), (gr + 0.6, 3.0), "", {"z": [(gz, 3.0)]}),
        CellOp("zn", "mul", ("one_minus_z", "n"), (out, 3.0), "", {"n": [(out, 2.3)]}),
        CellOp("h_next", "add", ("zh", "zn"), (out, top), ""),
    ]
    notes = {(gz + 0.12, 2.15): "$z_t$", (gr + 0.12, 1.95): "$r_t$", (nx + 0.5, 2.55): "$n_t$",
             (gr + 1.0, 3.2): "$1-z_t$"}
    title = "reset after the matrix (torch, rnnkit)" if reset == "after" else \
        "reset before the matrix (Cho et al., lectures)"
    exits = {"h_next": ((6.4, top), "$h_t$")}
    return CellSpec(f"GRU, {title}", tuple(ops), ("h_next",), ("h_prev", "zh", "h_next"), notes,
                    exits)


def leaky_unit():
    """A leaky unit (chapter 7): h_t = (1 - 1/tau) h_{t-1} + (1/tau) tanh(x Wx + h_{t-1} Wh + b).

    Inputs x, h_prev and the two constants "keep" (1 - 1/tau) and "rate" (1/tau); the linear
    self-connection is highlighted. Parameters for ``run_cell``: u: {"x": Wx, "h_prev": Wh, "b": b}.
    """
    ops = [
        CellOp("h_prev", "in", (), (-0.7, 2.6), "$h_{t-1}$"),
        CellOp("x", "in", (), (0.6, -0.9), "$x_t$"),
        CellOp("keep", "in", (), (1.6, 3.7), r"param:$1-1/\tau$"),
        CellOp("rate", "in", (), (3.6, 0.35), r"param:$1/\tau$"),
        CellOp("u", "tanh", ("h_prev", "x"), (1.6, 1.3), r"gate:$\tanh$",
               {"h_prev": [(0.1, 2.6), (0.1, 0.35), (1.6, 0.35)], "x": [(0.6, 0.35), (1.6, 0.35)]}),
        CellOp("kept", "mul", ("h_prev", "keep"), (1.6, 2.6), ""),
        CellOp("new", "mul", ("u", "rate"), (2.9, 1.3), "", {"rate": [(3.6, 1.3)]}),
        CellOp("h_next", "add", ("kept", "new"), (2.9, 2.6), ""),
    ]
    notes = {(2.15, 1.5): "$u_t$"}
    return CellSpec("leaky unit", tuple(ops), ("h_next",), ("h_prev", "kept", "h_next"), notes,
                    {"h_next": ((4.0, 2.6), "$h_t$")})


def highway_layer():
    """A highway layer (chapter 8): y = T(x) * H(x) + (1 - T(x)) * x, carry path highlighted.

    Parameters for ``run_cell``: Hx: {"x": W_H, "b": b_H}, T: {"x": W_T, "b": b_T}.
    """
    ops = [
        CellOp("x", "in", (), (0.0, 0.0), "$x$"),
        CellOp("Hx", "tanh", ("x",), (1.2, 1.0), r"gate:$H$", {"x": [(0.0, 1.0)]}),
        CellOp("T", "sigmoid", ("x",), (1.2, -1.0), r"gate:$T$", {"x": [(0.0, -1.0)]}),
        CellOp("TH", "mul", ("Hx", "T"), (2.3, 1.0), "", {"T": [(2.3, -1.0)]}),
        CellOp("carry", "one_minus", ("T",), (3.0, -1.0), ""),
        CellOp("Cx", "mul", ("x", "carry"), (3.7, 0.0), "", {"carry": [(3.7, -1.0)]}),
        CellOp("y", "add", ("TH", "Cx"), (4.5, 1.0), "", {"Cx": [(4.5, 0.0)]}),
    ]
    notes = {(2.42, -0.55): "$T(x)$", (3.82, -0.55): "$1-T(x)$", (1.75, 1.2): "$H(x)$"}
    return CellSpec("highway layer", tuple(ops), ("y",), ("x", "Cx", "y"), notes,
                    {"y": ((5.2, 1.0), "$y$")})
