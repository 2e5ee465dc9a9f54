"""First-order optimisers and gradient clipping, in place, on dicts of NumPy arrays.

Usage::

    opt = Adam(lr=1e-3)
    for batch in batches:
        loss, grads = model_loss(params, batch)   # dicts with the same keys
        clip_grad_norm(grads, max_norm=5.0)
        opt.step(params, grads)                   # updates params in place

Each optimiser keeps its state (velocities, running averages, step counts) per
parameter, keyed by the parameter's name, so one optimiser serves one model.
The update rules are those of ``torch.optim`` with its default options (no
weight decay); ``tests/test_optim.py`` checks them against it step by step.
Book chapter 7 uses clipping and RMSProp against exploding gradients.
"""

import numbers

import numpy as np

from rnnkit._checks import check_float

__all__ = ["SGD", "Momentum", "Adagrad", "RMSProp", "Adam", "clip_grad_norm", "clip_grad_value"]


def _number(name, value, low, high=None, low_open=False, high_open=True):
    """Return ``value`` as a float if it lies in the stated interval, else raise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: expected a real number, got {type(value).__name__}")
    value = float(value)
    too_low = value <= low if low_open else value < low
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high or np.isnan(value):
        interval = f"{'(' if low_open else '['}{low}, {'inf' if high is None else high}"
        interval += ")" if high is None or high_open else "]"
        raise ValueError(f"{name}: expected a value in {interval}, got {value}")
    return value


class _Optimizer:
    """Shared bookkeeping: argument checks and per-name state."""

    def __init__(self, lr):
        self.lr = _number("lr", lr, 0.0)
        self.state = {}  # parameter name -> dict of arrays and counters

    def step(self, params, grads):
        """Update every array in ``params`` in place from the matching entry of ``grads``.

        Args:
            params: dict name -> float array (any shape); updated in place.
            grads: dict name -> array of the same shape, the loss gradient.
        """
        if not isinstance(params, dict) or not isinstance(grads, dict):
            raise TypeError(
                f"params and grads: expected two dicts keyed by parameter name, got "
                f"{type(params).__name__} and {type(grads).__name__}"
            )
        if params.keys() != grads.keys():
            missing = sorted(params.keys() - grads.keys())
            extra = sorted(grads.keys() - params.keys())
            raise ValueError(
                f"grads: expected the keys of params; missing {missing}, extra {extra}"
            )
        for name, p in params.items():
            g = grads[name]
            check_float(f"params[{name!r}]", p, allow_nan=True)
            check_float(f"grads[{name!r}]", g, allow_nan=True)  # NaN is let through, as in torch
            if g.shape != p.shape:
                raise ValueError(
                    f"grads[{name!r}]: expected the shape of params[{name!r}], {p.shape}, "
                    f"got {g.shape}"
                )
            self._update(name, p, g)

    def _update(self, name, p, g):
        raise NotImplementedError


class SGD(_Optimizer):
    """Plain stochastic gradient descent: ``p -= lr * g``."""

    def __init__(self, lr=1e-2):
        super().__init__(lr)

    def _update(self, name, p, g):
        p -= self.lr * g


class Momentum(_Optimizer):
    """SGD with momentum, in torch's form (``torch.optim.SGD(momentum=mu)``).

    ``v = mu * v + g`` (v starts at g), ``p -= lr * v``. With a constant lr
    this is the same trajectory as the other common form ``v = mu * v - lr * g;
    p += v``. With ``nesterov=True`` the step uses ``g + mu * v`` instead of ``v``.
    """

    def __init__(self, lr=1e-2, momentum=0.9, nesterov=False):
        super().__init__(lr)
        self.momentum = _number("momentum", momentum, 0.0, 1.0)
        self.nesterov = bool(nesterov)

    def _update(self, name, p, g):
        if name not in self.state:
            self.state[name] = {"v": g.copy()}  # the first velocity is the first gradient
        else:
            v = self.state[name]["v"]
            v *= self.momentum
            v += g
        v = self.state[name]["v"]
        p -= self.lr * (g + self.momentum * v if self.nesterov else v)


class Adagrad(_Optimizer):
    """Adagrad (Duchi et al., 2011), as ``torch.optim.Adagrad`` with its defaults.

    ``G += g**2``, ``p -= lr * g / (sqrt(G) + eps)``: each weight's step shrinks
    with the total squared gradient it has seen.
    """

    def __init__(self, lr=1e-2, eps=1e-10):
        super().__init__(lr)
        self.eps = _number("eps", eps, 0.0)

    def _update(self, name, p, g):
        G = self.state.setdefault(name, {"G": np.zeros_like(p)})["G"]
        G += g * g
        p -= self.lr * g / (np.sqrt(G) + self.eps)


class RMSProp(_Optimizer):
    """RMSProp (Tieleman & Hinton, 2012), as ``torch.optim.RMSprop`` with its defaults.

    ``v = rho * v + (1 - rho) * g**2`` (v starts at 0), ``p -= lr * g / (sqrt(v) + eps)``:
    each weight's gradient is divided by a running root-mean-square of its
    recent gradients. Defaults are torch's (lr 1e-2, ``decay_rate`` rho 0.99
    (torch's ``alpha``), eps 1e-8); Tieleman & Hinton's lecture used rho = 0.9.
    """

    def __init__(self, lr=1e-2, decay_rate=0.99, eps=1e-8):
        super().__init__(lr)
        self.decay_rate = _number("decay_rate", decay_rate, 0.0, 1.0)
        self.eps = _number("eps", eps, 0.0)

    def _update(self, name, p, g):
        v = self.state.setdefault(name, {"v": np.zeros_like(p)})["v"]
        v *= self.decay_rate
        v += (1 - self.decay_rate) * g * g
        p -= self.lr * g / (np.sqrt(v) + self.eps)


class Adam(_Optimizer):
    """Adam (Kingma & Ba, 2015) with bias correction, as ``torch.optim.Adam`` with its defaults.

    At the t-th update of a parameter (t = 1, 2, ...)::

        m = beta1 * m + (1 - beta1) * g          # running mean of g
        v = beta2 * v + (1 - beta2) * g**2       # running mean of g**2
        m_hat = m / (1 - beta1**t)               # bias correction: m, v start at 0
        v_hat = v / (1 - beta2**t)
        p -= lr * m_hat / (sqrt(v_hat) + eps)
    """

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        super().__init__(lr)
        self.beta1 = _number("beta1", beta1, 0.0, 1.0)
        self.beta2 = _number("beta2", beta2, 0.0, 1.0)
        self.eps = _number("eps", eps, 0.0)

    def _update(self, name, p, g):
        st = self.state.setdefault(name, {"m": np.zeros_like(p), "v": np.zeros_like(p), "t": 0})
        st["t"] += 1
        m, v, t = st["m"], st["v"], st["t"]
        m *= self.beta1
        m += (1 - self.beta1) * g
        v *= self.beta2
        v += (1 - self.beta2) * g * g
        m_hat = m / (1 - self.beta1**t)
        v_hat = v / (1 - self.beta2**t)
        p -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


def _arrays(grads):
    """Return the gradient arrays of a dict or a list, checked to be float ndarrays."""
    if isinstance(grads, dict):
        named = [(f"grads[{k!r}]", g) for k, g in grads.items()]
    elif isinstance(grads, (list, tuple)):
        named = [(f"grads[{i}]", g) for i, g in enumerate(grads)]
    else:
        raise TypeError(f"grads: expected a dict or a list of arrays, got {type(grads).__name__}")
    return [check_float(name, g, allow_nan=True) for name, g in named]


def clip_grad_norm(grads, max_norm):
    """Rescale gradients in place so that their global L2 norm is at most ``max_norm``.

    The norm is taken over all arrays together, ``sqrt(sum_k sum(g_k**2))``. If
    ``max_norm / (norm + 1e-6) < 1`` every array is multiplied by that factor;
    otherwise nothing changes. These are ``torch.nn.utils.clip_grad_norm_``'s
    semantics. (Lecture ``000``'s snippet compares the *squared* norm with the
    threshold; the rescaling needs the norm itself.)

    Args:
        grads: dict name -> float array, or a list of float arrays; modified in place.
        max_norm: the largest norm allowed, > 0.
    Returns:
        the global norm before clipping, a Python float.
    """
    max_norm = _number("max_norm", max_norm, 0.0, low_open=True)
    arrays = _arrays(grads)
    total_norm = float(np.sqrt(sum(float(np.sum(g * g)) for g in arrays)))
    scale = max_norm / (total_norm + 1e-6)
    if scale < 1:
        for g in arrays:
            g *= scale
    return total_norm


def clip_grad_value(grads, clip_value):
    """Clip every gradient entry in place to ``[-clip_value, clip_value]``.

    These are ``torch.nn.utils.clip_grad_value_``'s semantics.

    Args:
        grads: dict name -> float array, or a list of float arrays; modified in place.
        clip_value: the largest magnitude allowed, > 0.
    """
    clip_value = _number("clip_value", clip_value, 0.0, low_open=True)
    for g in _arrays(grads):
        np.clip(g, -clip_value, clip_value, out=g)
