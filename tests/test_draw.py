"""rnnkit.draw: the cell diagrams compute what the cells compute, the drawings show exactly the
objects they are drawn from, and the palette stays readable in the book's light and dark modes."""

import itertools
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from rnnkit import draw  # noqa: E402
from rnnkit.cells.gru import gru_step_forward  # noqa: E402
from rnnkit.cells.leaky import leaky_step_forward  # noqa: E402
from rnnkit.cells.lstm import lstm_step_forward  # noqa: E402

N, D, H = 3, 4, 5


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _arrays(rng, G):
    x, h = rng.standard_normal((N, D)), rng.standard_normal((N, H))
    Wx = rng.standard_normal((D, G * H)) / D**0.5
    Wh = rng.standard_normal((H, G * H)) / H**0.5
    b = 0.5 * rng.standard_normal(G * H)
    return x, h, Wx, Wh, b


def _block(a, k):
    return a[..., k * H : (k + 1) * H]


def test_lstm_diagram_computes_rnnkits_lstm_step(rng):
    x, h, Wx, Wh, b = _arrays(rng, 4)
    c = rng.standard_normal((N, H))
    params = {g: {"x": _block(Wx, k), "h_prev": _block(Wh, k), "b": _block(b, k)}
              for k, g in enumerate("ifgo")}  # rnnkit's (and torch's) gate order
    vals = draw.run_cell(draw.lstm_cell(), {"x": x, "h_prev": h, "c_prev": c}, params)
    h_next, c_next, _ = lstm_step_forward(x, h, c, Wx, Wh, b)
    np.testing.assert_allclose(vals["h_next"], h_next, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(vals["c_next"], c_next, rtol=1e-13, atol=1e-15)


def test_gru_diagram_reset_after_computes_rnnkits_gru_step(rng):
    x, h, Wx, Wh, b = _arrays(rng, 3)
    b_hn = 0.5 * rng.standard_normal(H)
    params = {g: {"x": _block(Wx, k), "h_prev": _block(Wh, k), "b": _block(b, k)}
              for k, g in enumerate("rz")}
    params["hn"] = {"h_prev": _block(Wh, 2), "b": b_hn}
    params["n"] = {"x": _block(Wx, 2), "rhn": None, "b": _block(b, 2)}
    vals = draw.run_cell(draw.gru_cell("after"), {"x": x, "h_prev": h}, params)
    h_next, _ = gru_step_forward(x, h, Wx, Wh, b, b_hn)
    np.testing.assert_allclose(vals["h_next"], h_next, rtol=1e-13, atol=1e-15)


def test_gru_diagram_reset_before_is_cho_et_al(rng):
    # the oracle: Cho et al.'s equations written out, r applied to h before the matrix
    x, h, Wx, Wh, b = _arrays(rng, 3)
    U = [_block(Wx, k) for k in range(3)]
    W = [_block(Wh, k) for k in range(3)]
    bb = [_block(b, k) for k in range(3)]
    r = 1 / (1 + np.exp(-(x @ U[0] + h @ W[0] + bb[0])))
    z = 1 / (1 + np.exp(-(x @ U[1] + h @ W[1] + bb[1])))
    n = np.tanh(x @ U[2] + (r * h) @ W[2] + bb[2])
    expected = z * h + (1 - z) * n
    params = {"r": {"x": U[0], "h_prev": W[0], "b": bb[0]},
              "z": {"x": U[1], "h_prev": W[1], "b": bb[1]},
              "n": {"x": U[2], "rh": W[2], "b": bb[2]}}
    vals = draw.run_cell(draw.gru_cell("before"), {"x": x, "h_prev": h}, params)
    np.testing.assert_allclose(vals["h_next"], expected, rtol=1e-13, atol=1e-15)
    after = draw.gru_cell("after")
    assert {op.name for op in after.ops} != {op.name for op in draw.gru_cell("before").ops}


def test_leaky_diagram_computes_rnnkits_leaky_step(rng):
    x, h, Wx, Wh, b = _arrays(rng, 1)
    tau = 1 + 4 * rng.random(H)
    vals = draw.run_cell(draw.leaky_unit(),
                         {"x": x, "h_prev": h, "keep": 1 - 1 / tau, "rate": 1 / tau},
                         {"u": {"x": Wx, "h_prev": Wh, "b": b}})
    h_next, _ = leaky_step_forward(x, h, Wx, Wh, b, tau)
    np.testing.assert_allclose(vals["h_next"], h_next, rtol=1e-13, atol=1e-15)


def test_highway_diagram_is_the_highway_formula(rng):
    x = rng.standard_normal((N, H))
    W_H, W_T = rng.standard_normal((2, H, H))
    vals = draw.run_cell(draw.highway_layer(), {"x": x},
                         {"Hx": {"x": W_H, "b": 0.1}, "T": {"x": W_T, "b": -1.0}})
    T = 1 / (1 + np.exp(-(x @ W_T - 1.0)))
    np.testing.assert_allclose(vals["y"], T * np.tanh(x @ W_H + 0.1) + (1 - T) * x, rtol=1e-13)


@pytest.mark.parametrize("spec", [draw.lstm_cell(), draw.gru_cell("after"),
                                  draw.gru_cell("before"), draw.leaky_unit(),
                                  draw.highway_layer()],
                         ids=lambda s: s.name)
def test_a_cell_drawing_shows_its_dataflow_and_nothing_else(spec):
    d = draw.draw_cell(spec)
    ops = {op.name for op in spec.ops}
    dataflow = {(i, op.name) for op in spec.ops for i in op.inputs}
    drawn = {(e.src, e.dst) for e in d.edges if e.dst in ops}
    assert drawn == dataflow
    assert ops <= set(d.nodes)
    assert all(name in ops for name in spec.highlight)
    # evaluation order: every input is computed (or given) before it is used
    seen = set()
    for op in spec.ops:
        assert set(op.inputs) <= seen, op.name
        seen.add(op.name)


def test_unfolded_rnn_has_the_elman_graph():
    T = 4
    d = draw.unfolded_rnn(plt.subplots()[1], T, losses=True, loss_values=np.arange(T))
    edges = {(e.src, e.dst): e.label for e in d.edges}
    for t in range(1, T + 1):
        assert edges[(f"x{t}", f"h{t}")] == "$U$" and edges[(f"h{t}", f"o{t}")] == "$V$"
        assert (f"o{t}", f"L{t}") in edges and (f"y{t}", f"L{t}") in edges
        assert d.nodes[f"L{t}"].kind == "loss" and d.nodes[f"y{t}"].kind == "target"
    assert [k for k, lab in edges.items() if lab == "$W$"] == [
        (f"h{t}", f"h{t + 1}") for t in range(1, T)]
    assert len(d.edges) == 5 * T - 1


def test_pattern_draws_the_steps_it_is_given():
    d = draw.pattern(plt.subplots()[1], 5, {0, 1, 2}, {3, 4}, "many to many")
    kinds = [n.kind for n in d.nodes.values()]
    assert kinds.count("state") == 5 and kinds.count("input") == 3 and kinds.count("output") == 2


def test_dark_mode_follows_the_theme_filter():
    # pydata-sphinx-theme: html[data-theme=dark] img {filter: brightness(.8) contrast(1.2)}
    assert np.allclose(draw.dark_mode("white"), (0.86, 0.86, 0.86))
    assert np.allclose(draw.dark_mode("black"), (0, 0, 0))
    assert draw.contrast("white", "black") == pytest.approx(21)


@pytest.mark.parametrize("mode", ["light", "dark"])
def test_palette_is_readable_in_both_modes(mode):
    show = (lambda c: c) if mode == "light" else draw.dark_mode
    ink, paper = show(draw.PALETTE["ink"]), show(draw.PALETTE["background"])
    for kind, fill in draw.FILLS.items():  # labels sit on fills: WCAG AA for text
        assert draw.contrast(ink, show(fill)) >= 4.5, (mode, kind)
    lines = {**draw.EDGE_COLOURS, "highlight": draw.PALETTE["highlight"],
             **{f"series {i}": c for i, c in enumerate(draw.SERIES)}}
    for name, colour in lines.items():  # edge labels are text in the line colour, on paper
        assert draw.contrast(show(colour), paper) >= 4.5, (mode, name)
    # the highlight band under a path must not swallow the ink or the highlighted line
    band = show(draw.PALETTE["highlight.band"])
    assert draw.contrast(ink, band) >= 4.5 and draw.contrast(show(lines["highlight"]), band) >= 3


def _rgb_gap(a, b):
    """The largest difference between two colours in any of R, G, B (0 to 1)."""
    return np.abs(np.subtract(matplotlib.colors.to_rgb(a), matplotlib.colors.to_rgb(b))).max()


def test_roles_are_told_apart_by_colour_and_by_shape():
    fills = {k: v for k, v in draw.FILLS.items() if k != "target"}
    for (a, ca), (b, cb) in itertools.combinations(fills.items(), 2):
        assert _rgb_gap(ca, cb) > 0.08, (a, b)
    series = (*draw.SERIES, draw.PALETTE["ink"], draw.EDGE_COLOURS["grad"])
    for ca, cb in itertools.combinations(series, 2):  # plot lines, and a gradient's red
        assert _rgb_gap(ca, cb) > 0.15, (ca, cb)
    for role in ("input", "output", "loss", "param"):  # not by colour alone
        assert draw.SHAPES[role] != draw.SHAPES["state"]


def test_edges_stop_at_the_node_outline():
    d = draw.Diagram()
    d.node("a", (0, 0), "a", "state", size=0.3)
    d.node("b", (2, 0), "b", "loss", size=0.4)
    d.edge("a", "b")
    ext = d.ax.patches[-1].get_path().get_extents()  # the arrow, head included, in data units
    assert ext.x0 == pytest.approx(0.3, abs=1e-6) and ext.x1 == pytest.approx(1.6, abs=0.01)


def test_chapters_draw_with_this_module_not_their_own_helpers():
    # the helpers chapters 1-3 used to define, each in its own copy
    book = Path(__file__).resolve().parents[1] / "book"
    copied = re.compile(r"def (draw_node|draw_edge|draw_pattern|draw_graph|box|arrow)\(|"
                        r"FancyArrowPatch")
    offenders = [p.name for p in sorted(book.glob("ch*.md")) if copied.search(p.read_text())]
    assert not offenders, f"chapters with their own arrow/node drawing code: {offenders}"
