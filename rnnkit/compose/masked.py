"""Any cell over a right-padded batch of sequences of different lengths, with a mask (chapter 11).

A batch of N sequences of lengths T_1..T_N is stored as one ``(N, T, D)`` array padded after each
sequence's end, with ``mask (N, T)`` True on the real steps. At a padded step a sequence's state
does not move::

    state_t = where(mask_t, step(x_t, state_{t-1}), state_{t-1})

so each sequence's final state is its state after its own last real step, and padding never
changes a result: the outputs at real steps, the final states and every gradient equal those of
the sequences run one by one (``tests/test_masked.py``). In the backward pass a padded step passes
the state's gradient straight through and contributes nothing to ``dx`` or the weights.

Works for every cell of the contract (``rnnkit.cells.CELLS``) through its step functions. The
encoder-decoders of chapters 11-12 run on the torch path (``rnnkit.torch.models.seq2seq``), where a
unidirectional encoder needs no state freezing (a real step never sees the padding after it) and
the summary is read at each sequence's last real step; this module is the NumPy reference of the
same rule.
"""

from typing import NamedTuple

import numpy as np

from rnnkit.compose.bidirectional import cell_spec

__all__ = ["MaskedCache", "masked_forward", "masked_backward"]


class MaskedCache(NamedTuple):
    """The step caches, the mask, and the state shapes; ``spec`` names the cell."""

    steps: tuple  # one step cache per time step (each the cell's own NamedTuple)
    mask: np.ndarray  # (N, T) bool
    zeros: np.ndarray  # (N, H), the shape and dtype of every state's gradient
    spec: object


def masked_forward(cell, x, mask, state0, params):
    """Run ``cell`` over a padded batch, freezing each sequence's state after its end.

    Args:
        cell: a name in ``rnnkit.cells.CELLS`` (``"lstm"``) or a ``CellSpec``.
        x: (N, T, D), padded after each sequence's end (the padding's values never matter).
        mask: bool (N, T), True on real steps; each row a run of Trues then Falses, at least one.
        state0: tuple of initial states, one (N, H) per state of the cell; None: zeros.
        params: tuple of the cell's parameters, in the contract's order.
    Returns:
        h: (N, T, H), the first state at every step (the frozen value on padded steps).
        state_n: tuple, each state after each sequence's last real step, (N, H) each.
        cache.
    """
    spec = cell_spec(cell)
    N, T, _ = x.shape
    mask = np.asarray(mask, dtype=bool)
    runs = mask.shape == (N, T) and mask[:, 0].all() and not (np.diff(mask.astype(int)) > 0).any()
    if not runs:
        raise ValueError(f"mask: expected bool (N, T) = ({N}, {T}), True then False in each row "
                         f"from a True first step, got {mask.dtype} {mask.shape}")
    H = params[1].shape[0]  # Wh (or W_h.) is (H, ...) in every cell of the contract
    if state0 is None:
        state0 = tuple(np.zeros((N, H), dtype=params[0].dtype) for _ in spec.states)
    state, hs, caches = tuple(state0), [], []
    for t in range(T):
        *new, cache = spec.step_forward(x[:, t], *state, *params)
        m = mask[:, t, None]
        state = tuple(np.where(m, s_new, s_old) for s_new, s_old in zip(new, state, strict=True))
        hs.append(state[0])
        caches.append(cache)
    return np.stack(hs, axis=1), state, MaskedCache(tuple(caches), mask, np.zeros_like(state[0]),
                                                    spec)


def masked_backward(dh, dstate_n, cache):
    """Backward of ``masked_forward``.

    Args:
        dh: (N, T, H) upstream gradient of ``h``, or None.
        dstate_n: tuple of upstream gradients of the final states (entries may be None), or None.
        cache: from ``masked_forward``.
    Returns:
        dx (N, T, D), dstate0 (tuple), dparams (tuple, the parameters' order).
    """
    steps, mask, zeros, spec = cache
    T, k = len(steps), len(spec.states)
    dstate = [zeros if d is None else d for d in (dstate_n or (None,) * k)]
    dx, dparams = [None] * T, None
    for t in reversed(range(T)):
        if dh is not None:
            dstate[0] = dstate[0] + dh[:, t]
        m = mask[:, t, None]
        # real rows go through the step; padded rows pass the gradient straight back
        grads = spec.step_backward(*(np.where(m, d, 0.0) for d in dstate), steps[t])
        dx[t] = grads[0]
        dstate = [g + np.where(m, 0.0, d) for g, d in zip(grads[1 : 1 + k], dstate, strict=True)]
        step_dparams = grads[1 + k :]
        dparams = list(step_dparams) if dparams is None else \
            [a + b for a, b in zip(dparams, step_dparams, strict=True)]
    return np.stack(dx, axis=1), tuple(dstate), tuple(dparams)

