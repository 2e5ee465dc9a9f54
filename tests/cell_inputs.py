"""Random inputs and parameters in rnnkit's layout, shared by the cell and parity tests.

Importing this module does not import torch (the NumPy tests use it too).
"""

import numpy as np


def random_layers(rng, kind, D, H, L, dtype=np.float64, *, scale=1.0):
    """NumPy parameter dicts (``Wx, Wh, b[, b_hn]``) for an L-layer RNN, LSTM or GRU."""
    from rnnkit.torch.layout import GATES  # torch tests only

    G, layers = GATES[kind], []
    for k in range(L):
        shapes = {"Wx": (D if k == 0 else H, G * H), "Wh": (H, G * H), "b": (G * H,)}
        if kind == "gru":
            shapes["b_hn"] = (H,)
        layers.append({n: (scale * rng.standard_normal(s)).astype(dtype)
                       for n, s in shapes.items()})
    return layers


def spec_arrays(spec, N, T, D, H, rng, dtype=np.float64):
    """Draw x (N, T, D), initial states and parameters for any cell of ``rnnkit.cells.CELLS``.

    Weights are scaled by 1/sqrt(fan-in) and biases by 0.5 so that no gate saturates; a
    leaky unit's ``tau`` lies in [1.5, 4] and a layer norm's ``gamma`` near 1.
    Returns:
        x, a list of (N, H) states (one per ``spec.states``), a dict of parameters in the
        cell's argument order.
    """
    x = rng.standard_normal((N, T, D))
    states = [rng.standard_normal((N, H)) for _ in spec.states]
    params = spec_params(spec, D, H, rng)
    cast = lambda a: a.astype(dtype)  # noqa: E731
    return cast(x), [cast(s) for s in states], {k: cast(v) for k, v in params.items()}


def spec_params(spec, D, H, rng, scale=0.5):
    """One layer's parameters for ``spec`` (a ``rnnkit.cells.CellSpec``), float64, by name.

    Weights are N(0, 1/fan-in), biases N(0, scale^2); a leaky unit's ``tau`` lies in [1.5, 4]
    and a layer norm's ``gamma`` near 1, so that no gate saturates.
    """
    sizes, params = {"D": D, "H": H}, {}
    for name, letters, gates in spec.params:
        shape = [sizes[c] for c in letters]
        shape[-1] *= gates
        if name == "tau":
            params[name] = 1.5 + 2.5 * rng.random(shape)
        elif name == "gamma":
            params[name] = 1.0 + 0.3 * rng.standard_normal(shape)
        elif len(shape) == 2:
            params[name] = rng.standard_normal(shape) / np.sqrt(shape[0])
        else:
            params[name] = scale * rng.standard_normal(shape)
    return params
