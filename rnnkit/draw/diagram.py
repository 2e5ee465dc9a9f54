"""Diagram: nodes by role, labelled edges, glyphs, a highlighted path, a time axis.

Also the two diagrams several chapters share: ``pattern`` (the input/output patterns of chapter
1) and ``unfolded_rnn`` (the unrolled Elman network of chapters 3 and 4).
"""

from typing import NamedTuple

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch, Polygon, Rectangle
from matplotlib.path import Path

from rnnkit.draw.palette import EDGE_COLOURS, FILLS, FONT, PALETTE, SHAPES


class Node(NamedTuple):
    """A drawn node: its centre, role and outline (half width and half height)."""

    name: str
    xy: tuple
    kind: str
    label: str
    shape: str
    half: tuple  # (half width, half height)


class Edge(NamedTuple):
    """A drawn edge from one node to another, with its label and style."""

    src: str
    dst: str
    label: str | None
    style: str


def _boundary(node, towards):
    """The point where the segment from the node's centre towards ``towards`` leaves it."""
    c, d = np.asarray(node.xy, float), np.asarray(towards, float) - np.asarray(node.xy, float)
    n = np.hypot(*d)
    if n == 0:
        return c
    w, h = node.half
    if node.shape == "circle":
        s = w / n
    elif node.shape == "diamond":
        s = 1 / (abs(d[0]) / w + abs(d[1]) / h)
    else:
        s = min(w / abs(d[0]) if d[0] else np.inf, h / abs(d[1]) if d[1] else np.inf)
    return c + min(s, 1.0) * d


class Diagram:
    """A diagram on one matplotlib axes, in data units (one unit is about one node apart).

    Nodes are kept by name in ``nodes`` and edges in ``edges``, so that a test can compare what was
    drawn with the object it was drawn from.
    """

    def __init__(self, ax=None, *, figsize=(6, 3), title=None):
        if ax is None:
            fig, ax = plt.subplots(figsize=figsize)
        self.ax, self.fig = ax, ax.figure
        self.nodes, self.edges = {}, []
        ax.set_aspect("equal")
        ax.axis("off")
        if title:
            ax.set_title(title, fontsize=FONT, color=PALETTE["ink"])

    # -- nodes -----------------------------------------------------------------------------
    def node(self, name, xy, label=None, kind="state", *, size=0.3, highlight=False,
             fontsize=FONT):
        """Draw a node of a role in FILLS (its shape follows the role) and return it."""
        shape = SHAPES[kind]
        half = (size * 1.4, size * 0.8) if kind == "gate" else (size, size)  # gates are wide
        self._patch(shape, xy, half, kind, highlight)
        label = name if label is None else label
        self.ax.text(*xy, label, ha="center", va="center", fontsize=fontsize,
                     color=PALETTE["ink"], zorder=4)
        node = Node(name, tuple(xy), kind, label, shape, half)
        self.nodes[name] = node
        return node

    def gate(self, name, xy, symbol=r"$\sigma$", *, size=0.3, highlight=False):
        """A layer with a squashing function: an amber box holding sigma or tanh."""
        return self.node(name, xy, symbol, "gate", size=size, highlight=highlight,
                         fontsize=FONT - 1)

    def op(self, name, xy, symbol=r"$\times$", *, size=0.19, highlight=False):
        """An elementwise operation: a small pink circle holding x, +, 1- or tanh."""
        small = symbol not in (r"$\times$", "$+$", "+", "×")
        return self.node(name, xy, symbol, "op", size=size * (1.45 if small else 1),
                         highlight=highlight, fontsize=FONT - (3 if small else 1))

    def vector(self, name, xy, values, kind="state", *, fmt="{:.1f}", cell=(0.5, 0.26),
               mark=None, label=None, label_side="top"):
        """A column vector drawn as a stack of cells holding its numbers (top = entry 0).

        ``mark`` is an index to outline in the highlight colour (a target's entry, say);
        ``label_side`` puts the label "top", "bottom" or "left" (rotated) of the vector.
        """
        w, h = cell
        values = np.ravel(values)
        top = xy[1] + h * len(values) / 2
        for k, v in enumerate(values):
            y = top - h * (k + 0.5)
            strong = k == mark
            self.ax.add_patch(Rectangle((xy[0] - w / 2, y - h / 2), w, h, fc=FILLS[kind],
                                        ec=PALETTE["highlight"] if strong else PALETTE["ink"],
                                        lw=2.2 if strong else 0.6, zorder=3 if strong else 2))
            self.ax.text(xy[0], y, fmt.format(v), ha="center", va="center", fontsize=FONT - 3,
                         color=PALETTE["ink"], zorder=4, weight="bold" if strong else "normal")
        if label:
            at = {"top": ((xy[0], top + 0.12), "center", "bottom", 0),
                  "bottom": ((xy[0], top - h * len(values) - 0.12), "center", "top", 0),
                  "left": ((xy[0] - w / 2 - 0.08, xy[1] + 0.15), "right", "bottom", 90)}[label_side]
            self.ax.text(*at[0], label, ha=at[1], va=at[2], rotation=at[3], fontsize=FONT - 1,
                         color=PALETTE["ink"])
        node = Node(name, tuple(xy), kind, label or name, "box", (w / 2, h * len(values) / 2))
        self.nodes[name] = node
        return node

    def _patch(self, shape, xy, half, kind, highlight):
        ec = PALETTE["highlight"] if highlight else PALETTE["ink"]
        style = dict(fc=FILLS[kind], ec=ec, lw=2.4 if highlight else 1.1, zorder=3)
        if kind == "target":
            style["ls"] = (0, (3, 2))
        x, y = xy
        w, h = half
        if shape == "circle":
            patch = Circle(xy, w, **style)
        elif shape == "diamond":
            patch = Polygon([(x - w, y), (x, y + h), (x + w, y), (x, y - h)], closed=True,
                            **style)
        elif shape == "square":
            patch = Rectangle((x - w, y - h), 2 * w, 2 * h, **style)
        else:
            patch = FancyBboxPatch((x - w, y - h), 2 * w, 2 * h,
                                   boxstyle=f"round,pad=0,rounding_size={0.35 * min(w, h)}",
                                   **style)
        self.ax.add_patch(patch)

    # -- edges -----------------------------------------------------------------------------
    def edge(self, src, dst, label=None, *, style="forward", via=(), rad=0.0, highlight=False,
             label_at=0.5, label_side=1, lw=None, head=True):
        """An arrow from node ``src`` to node ``dst`` (names, or (x, y) points).

        ``via`` lists corner points of a routed edge; ``rad`` bends a direct one. The label sits
        beside the edge at fraction ``label_at`` of its (last) segment, on the left of the
        direction of travel (``label_side=1``) or on the right (``-1``).
        """
        p_node, q_node = self._as_node(src), self._as_node(dst)
        pts = [p_node.xy, *via, q_node.xy]
        start, end = _boundary(p_node, pts[1]), _boundary(q_node, pts[-2])
        pts = [start, *[np.asarray(v, float) for v in via], end]
        colour = PALETTE["highlight"] if highlight else EDGE_COLOURS[style]
        width = lw or (2.4 if highlight else 1.2 if style != "param" else 0.9)
        kw = dict(arrowstyle="-|>" if head else "-", mutation_scale=12, lw=width, color=colour,
                  zorder=2, shrinkA=0, shrinkB=0)
        if style == "param":
            kw["ls"] = (0, (4, 2))
        if len(pts) == 2:
            arrow = FancyArrowPatch(tuple(pts[0]), tuple(pts[1]),
                                    connectionstyle=f"arc3,rad={rad}", **kw)
        else:
            codes = [Path.MOVETO] + [Path.LINETO] * (len(pts) - 1)
            arrow = FancyArrowPatch(path=Path(np.array(pts), codes), **kw)
        self.ax.add_patch(arrow)
        if label:
            a, b = np.asarray(pts[0] if len(pts) == 2 else pts[-2]), np.asarray(pts[-1])
            if len(pts) > 2 and label_at < 0.5:
                a, b = np.asarray(pts[0]), np.asarray(pts[1])
            d = b - a
            n = np.hypot(*d) or 1.0
            normal = np.array([-d[1], d[0]]) / n * label_side
            mid = a + label_at * d + normal * (0.17 + 0.4 * abs(rad) * n)
            self.ax.text(*mid, label, ha="center", va="center", fontsize=FONT - 1, color=colour,
                         zorder=5, bbox=dict(boxstyle="round,pad=0.08", fc="white", ec="none",
                                             alpha=0.85))
        e = Edge(p_node.name, q_node.name, label, style)
        self.edges.append(e)
        return e

    def _as_node(self, ref):
        if isinstance(ref, str):
            return self.nodes[ref]
        return Node(str(tuple(ref)), tuple(ref), "point", "", "point", (0.0, 0.0))

    # -- context ---------------------------------------------------------------------------
    def path(self, points, *, width=14):
        """Draw a light highlight band under a path through node names or points."""
        xy = np.array([self.nodes[p].xy if isinstance(p, str) else p for p in points], float)
        self.ax.plot(xy[:, 0], xy[:, 1], color=PALETTE["highlight.band"], lw=width,
                     solid_capstyle="round", solid_joinstyle="round", zorder=1)

    def time_axis(self, xs, y, labels=None, *, name="time"):
        """A time axis at height y with ticks at xs (labels default to t = 1, 2, ...)."""
        labels = labels or [f"$t={k + 1}$" for k in range(len(xs))]
        ax, ink = self.ax, PALETTE["edge.muted"]
        ax.add_patch(FancyArrowPatch((xs[0] - 0.5, y), (xs[-1] + 0.6, y), arrowstyle="-|>",
                                     mutation_scale=10, color=ink, lw=0.9, zorder=1))
        for x, lab in zip(xs, labels, strict=True):
            ax.plot([x, x], [y - 0.05, y + 0.05], color=ink, lw=0.9)
            ax.text(x, y - 0.12, lab, ha="center", va="top", fontsize=FONT - 2, color=ink)
        ax.text(xs[-1] + 0.7, y, name, ha="left", va="center", fontsize=FONT - 2, color=ink)

    def boundary(self, x, y0, y1, label=None):
        """A dashed vertical line at x from y0 to y1, labelled at the top."""
        self.ax.plot([x, x], [y0, y1], color=PALETTE["edge.muted"], lw=1.1, ls=(0, (5, 3)),
                     zorder=1)
        if label:
            self.ax.text(x, y1 + 0.05, label, ha="center", va="bottom", fontsize=FONT - 2,
                         color=PALETTE["edge.muted"])

    def text(self, xy, s, *, colour="ink", **kw):
        """Plain text in a palette colour (``ink``, ``highlight``, ``edge.grad``, ...)."""
        kw = {"ha": "center", "va": "center", "fontsize": FONT - 1} | kw
        return self.ax.text(*xy, s, color=PALETTE[colour], zorder=5, **kw)

    def finish(self, pad=0.45):
        """Fit the limits to every node, patch and line drawn, with a margin; return the figure.

        Text may lie outside: the book saves figures with a tight bounding box.
        """
        ax = self.ax
        xs, ys = [], []
        for n in self.nodes.values():
            xs += [n.xy[0] - n.half[0], n.xy[0] + n.half[0]]
            ys += [n.xy[1] - n.half[1], n.xy[1] + n.half[1]]
        for artist in ax.patches:  # arrows (their paths are in data units) and outlines
            ext = artist.get_path().get_extents(artist.get_patch_transform())
            if np.all(np.isfinite(ext.bounds)):
                xs += [ext.x0, ext.x1]
                ys += [ext.y0, ext.y1]
        for line in ax.lines:
            xs += list(np.asarray(line.get_xdata(), float))
            ys += list(np.asarray(line.get_ydata(), float))
        if xs:
            ax.set_xlim(min(xs) - pad, max(xs) + pad)
            ax.set_ylim(min(ys) - pad, max(ys) + pad)
        return self.fig


# -- whole diagrams the chapters share -------------------------------------------------------

def pattern(ax, n_steps, in_steps, out_steps, title, *, width=5):
    """One input/output pattern (chapter 1): inputs below, states in a row, outputs above."""
    d = Diagram(ax, title=title)
    for t in range(n_steps):
        d.node(f"h{t}", (t, 1), "", "state", size=0.27)
        if t > 0:
            d.edge(f"h{t - 1}", f"h{t}")
        if t in in_steps:
            d.node(f"x{t}", (t, 0), "", "input", size=0.27)
            d.edge(f"x{t}", f"h{t}")
        if t in out_steps:
            d.node(f"y{t}", (t, 2), "", "output", size=0.27)
            d.edge(f"h{t}", f"y{t}")
    ax.set_xlim(-0.6, width - 0.4)
    ax.set_ylim(-0.6, 2.6)
    return d


def unfolded_rnn(ax, T, *, inputs=None, outputs=None, losses=False, h0=False,
                 weights=("U", "W", "V"), loss_values=None, title=None, step=1.6):
    """The unrolled Elman network (Goodfellow et al., Fig. 10.3 style) over T steps.

    x_t below, h_t in a row, o_t above; with ``losses`` also L_t and the targets y_t, and
    ``loss_values`` (T,) printed under each L_t. ``inputs``/``outputs`` choose the steps that
    have them (default: all). Returns the Diagram; node names are x1, h1, o1, L1, y1, ...
    """
    inputs = range(T) if inputs is None else inputs
    outputs = range(T) if outputs is None else outputs
    U, W, V = (f"${w}$" if w else None for w in weights)
    d = Diagram(ax, title=title)
    if h0:
        d.node("h0", (0, 1.5), "$h_0$", "state")
    for t in range(T):
        x = step * (t + 1)
        d.node(f"h{t + 1}", (x, 1.5), f"$h_{{{t + 1}}}$", "state")
        if t > 0 or h0:
            d.edge(f"h{t}", f"h{t + 1}", W)
        if t in inputs:
            d.node(f"x{t + 1}", (x, 0), f"$x_{{{t + 1}}}$", "input")
            d.edge(f"x{t + 1}", f"h{t + 1}", U, label_side=-1)
        if t in outputs:
            d.node(f"o{t + 1}", (x, 3), f"$o_{{{t + 1}}}$", "output")
            d.edge(f"h{t + 1}", f"o{t + 1}", V, label_side=-1)
            if losses:
                d.node(f"L{t + 1}", (x, 4.4), f"$L_{{{t + 1}}}$", "loss", size=0.36)
                d.node(f"y{t + 1}", (x + 0.75, 5.4), f"$y_{{{t + 1}}}$", "target", size=0.26)
                d.edge(f"o{t + 1}", f"L{t + 1}")
                d.edge(f"y{t + 1}", f"L{t + 1}")
                if loss_values is not None:
                    d.text((x + 0.42, 4.4), f"$= {loss_values[t]:.2f}$", colour="edge.grad",
                           ha="left", fontsize=FONT - 2)
    return d
