"""The book's palette: one colour per role, checked for contrast in light and dark mode.

Light fills carry dark ink; line colours are strong on white. The book theme shows images in dark
mode on white through a CSS ``brightness(0.8) contrast(1.2)`` filter, which ``dark_mode``
reproduces, so ``tests/test_draw.py`` can check every text and line colour in both modes.
"""

import numpy as np
from matplotlib.colors import to_rgb

# One palette for the book: light fills under dark ink, strong line colours on white.
FILLS = {
    "input": "#f7c4b5",  # salmon: what the model reads
    "state": "#bfe3b4",  # green: the recurrent state
    "output": "#b9d3f0",  # blue: scores, predictions
    "target": "#ffffff",  # white, dashed outline: the data a loss compares with
    "loss": "#dcc6ec",  # lavender: a loss term
    "param": "#f6e3a1",  # yellow: parameters (weights, biases)
    "gate": "#fbd88a",  # amber: a layer with a squashing function (sigma, tanh)
    "op": "#f5c2dd",  # pink: an elementwise operation
}
EDGE_COLOURS = {
    "forward": "#1f2328",  # the ink: data flowing forward
    "grad": "#b42318",  # red: a gradient flowing back
    "param": "#5f6773",  # grey: a shared parameter feeding a step
    "muted": "#6e7781",  # grey: context, not the point of the picture
}
PALETTE = {
    **{f"fill.{k}": v for k, v in FILLS.items()},
    **{f"edge.{k}": v for k, v in EDGE_COLOURS.items()},
    "ink": "#1f2328",
    "highlight": "#c4510c",  # orange: the path the text is about
    "highlight.band": "#fbd9bd",  # a light band drawn under a highlighted path
    "background": "#ffffff",
    # more lines of equal standing in one plot (several models side by side): after "highlight"
    "series.blue": "#1d5fa6",
    "series.green": "#2f7d32",
    "series.purple": "#7a3e9d",
    "series.gold": "#876400",
}
# Line colours for a plot's series, in the order to use them: the model the text is about first;
# "ink" stays for the data or the reference, "edge.muted" for context (a baseline, a bound).
SERIES = (PALETTE["highlight"], PALETTE["series.blue"], PALETTE["series.green"],
          PALETTE["series.purple"], PALETTE["series.gold"])
# A swept parameter (a family of curves ordered by a number) uses this sequential colour map, and
# an image or a heatmap a single-hue sequential map ("Greys", "Blues", "Oranges", ...).
SEQUENTIAL = "viridis"
SHAPES = {"input": "box", "state": "circle", "output": "box", "target": "box", "loss": "diamond",
          "param": "square", "gate": "box", "op": "circle"}
FONT = 11


def luminance(colour):
    """Relative luminance (WCAG 2) of a matplotlib colour."""
    rgb = np.array(to_rgb(colour))
    lin = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    return float(lin @ [0.2126, 0.7152, 0.0722])


def contrast(a, b):
    """WCAG contrast ratio between two colours, from 1 (none) to 21 (black on white)."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def dark_mode(colour):
    """The colour as the book theme shows it in dark mode: CSS brightness(0.8) contrast(1.2)."""
    rgb = np.array(to_rgb(colour)) * 0.8
    return tuple(np.clip((rgb - 0.5) * 1.2 + 0.5, 0, 1))
