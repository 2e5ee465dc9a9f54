"""Random inputs and parameters in rnnkit's layout, shared by the cell and parity tests.

Importing this module does not import torch (the NumPy tests use it too).
"""

import numpy as np


def gated_cell_args(N, T, D, H, G, *, states=1, b_hn=False, seed=0, dtype=np.float64):
    """Draw a sequence, initial states and parameters, scaled to keep gates unsaturated.

    Args:
        N, T, D, H: batch, time, input and hidden sizes.
        G: gate blocks in the parameters (4 LSTM, 3 GRU or coupled LSTM).
        states: how many (N, H) initial states (1: h0; 2: h0 and c0).
        b_hn: also draw the GRU's candidate bias ``b_hn`` (H,), last.
    Returns:
        list: x (N, T, D), the states, Wx (D, G*H), Wh (H, G*H), b (G*H,)[, b_hn (H,)].
    """
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, T, D))
    init = list(rng.standard_normal((states, N, H)))
    Wx = rng.standard_normal((D, G * H)) / np.sqrt(D)
    Wh = rng.standard_normal((H, G * H)) / np.sqrt(H)
    b = 0.5 * rng.standard_normal(G * H)
    extra = [0.5 * rng.standard_normal(H)] if b_hn else []
    return [a.astype(dtype) for a in [x, *init, Wx, Wh, b, *extra]]


def random_layers(rng, kind, D, H, L, dtype=np.float64, *, scale=1.0):
    """NumPy parameter dicts (``Wx, Wh, b[, b_hn]``) for an L-layer RNN, LSTM or GRU."""
    from rnnkit.torch.convert import GATES  # torch tests only

    G, layers = GATES[kind], []
    for k in range(L):
        shapes = {"Wx": (D if k == 0 else H, G * H), "Wh": (H, G * H), "b": (G * H,)}
        if kind == "gru":
            shapes["b_hn"] = (H,)
        layers.append({n: (scale * rng.standard_normal(s)).astype(dtype)
                       for n, s in shapes.items()})
    return layers
