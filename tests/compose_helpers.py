"""Flat wrappers around ``rnnkit.compose`` so that ``check_backward`` sees every array.

``check_backward`` perturbs positional array arguments; the stacks take parameter dicts.
``flat(cell, L, dirs, ...)`` returns a forward and a backward over ``(x, *states0, *every
parameter of every layer)``, in that order, with the outputs ``(out, *state_n)``.
Importing this module does not import torch.
"""


from cell_inputs import spec_params

from rnnkit.cells import CELLS
from rnnkit.compose.deep import stacked_backward, stacked_forward


def draw_stack(cell, N, T, D, H, L, dirs, rng, *, scale=0.5):
    """x (N, T, D), states each (L*dirs, N, H), and L*dirs parameter dicts, float64."""
    spec = CELLS[cell]
    x = rng.standard_normal((N, T, D))
    states = tuple(0.5 * rng.standard_normal((L * dirs, N, H)) for _ in spec.states)
    layers = [spec_params(spec, D if k < dirs else dirs * H, H, rng, scale)
              for k in range(L * dirs)]
    return x, states, layers


def flat(cell, n_layers, **kw):
    """Forward and backward over flat arguments: (x, *states0, *params of every layer)."""
    spec = CELLS[cell]
    S, names = len(spec.states), [p[0] for p in spec.params]
    P = len(names)

    def forward(x, *rest):
        states, params = rest[:S], rest[S:]
        layers = [dict(zip(names, params[k * P:(k + 1) * P], strict=True))
                  for k in range(n_layers)]
        out, state_n, cache = stacked_forward(cell, x, states, layers, **kw)
        return (out, *state_n, cache)

    def backward(dout, *rest):
        *dstate_n, cache = rest
        dx, dstate0, dlayers = stacked_backward(cell, dout, tuple(dstate_n), cache)
        return (dx, *dstate0, *(d[n] for d in dlayers for n in names))

    return forward, backward


def flat_inputs(x, states, layers, cell):
    names = [p[0] for p in CELLS[cell].params]
    return [x, *states, *(layer[n] for layer in layers for n in names)]
