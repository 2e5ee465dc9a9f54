"""Whole modules across the three representations: NumPy params, rnnkit.torch, torch.nn.

Layer by layer, the conversion is ``rnnkit.torch.layout`` (pure, no models). This module
moves the numbers of a whole cell or sequence model:

- ``numpy_params(module)`` / ``load_numpy_params(module, params)``: rnnkit.torch <-> NumPy,
  same layout and names, no conversion at all (any cell of ``rnnkit.torch.cells``);
- ``to_torch_nn(model)`` / ``from_torch_nn(module)``: rnnkit.torch <-> ``torch.nn.RNN/LSTM/
  GRU``, through each cell's ``torch_nn_weights`` and ``layout.state_dict_to_layers``.
"""

import numpy as np
import torch
from torch import nn

from rnnkit._checks import check_float
from rnnkit.torch.cells import GRU, LSTM, RNN, Cell, Recurrent
from rnnkit.torch.layout import state_dict_to_layers

__all__ = ["numpy_params", "load_numpy_params", "to_torch_nn", "from_torch_nn"]

FROM_TORCH_NN = {nn.RNN: ("rnn", RNN), nn.LSTM: ("lstm", LSTM), nn.GRU: ("gru", GRU)}


def _cells(module, name="module"):
    if isinstance(module, Recurrent):
        return list(module.cells)
    if isinstance(module, Cell):
        return [module]
    raise TypeError(f"{name}: expected an rnnkit.torch cell or sequence model, got "
                    f"{type(module).__name__}")


def numpy_params(module):
    """Copy a cell's or model's parameters out as NumPy arrays (same layout, no conversion).

    Returns:
        for a cell, one dict of its parameters by name (``{"Wx", "Wh", "b"}`` for the LSTM);
        for a sequence model, a list of them, one per layer and direction in torch.nn's order
        (``[l0, l0_reverse, l1, ...]`` when bidirectional), the list ``rnnkit.compose.deep``
        and ``layout.numpy_to_state_dict`` take.
    """
    layers = [{n: p.detach().cpu().numpy().copy() for n, p in cell.named_parameters()}
              for cell in _cells(module)]
    return layers if isinstance(module, Recurrent) else layers[0]


def load_numpy_params(module, params):
    """Copy NumPy params into a cell (one dict) or a model (a list of dicts), in place.

    Names and shapes must match the module's exactly; values are cast to its dtype and device.
    """
    cells = _cells(module)
    layers = [params] if isinstance(params, dict) else params
    if not (isinstance(layers, (list, tuple)) and all(isinstance(p, dict) for p in layers)):
        raise TypeError(f"params: expected a dict or a list of dicts (one per layer), got "
                        f"{type(params).__name__}")
    if len(layers) != len(cells):
        raise ValueError(f"params: expected {len(cells)} layer(s), got {len(layers)}")
    for k, (cell, layer) in enumerate(zip(cells, layers, strict=True)):
        names = dict(cell.named_parameters())
        if set(layer) != set(names):
            raise ValueError(f"params[{k}]: expected keys {sorted(names)}, got {sorted(layer)}")
        for name, p in names.items():
            check_float(f"params[{k}][{name!r}]", layer[name])
            if tuple(layer[name].shape) != tuple(p.shape):
                raise ValueError(f"params[{k}][{name!r}]: expected shape {tuple(p.shape)}, "
                                 f"got {layer[name].shape}")
    with torch.no_grad():
        for cell, layer in zip(cells, layers, strict=True):
            for name, p in cell.named_parameters():
                p.copy_(torch.from_numpy(np.asarray(layer[name])))
    return module


def to_torch_nn(model):
    """Return a ``torch.nn.RNN/LSTM/GRU`` (batch_first) computing the same function.

    Works for every model whose cell has a fused kernel (``fast=True`` is allowed); the new
    module lives on the model's device and dtype and owns copies of the weights.
    """
    if not (isinstance(model, Recurrent) and model.cell_class.torch_nn is not None):
        raise TypeError(f"model: expected an rnnkit.torch sequence model with a torch.nn "
                        f"kernel (RNN, LSTM, GRU, CoupledLSTM), got {type(model).__name__}")
    p = next(model.parameters())
    module = model.cell_class.torch_nn(model.input_size, model.hidden_size,
                                       num_layers=model.num_layers, batch_first=True,
                                       bidirectional=model.bidirectional,
                                       dropout=model.dropout if model.num_layers > 1 else 0.0,
                                       device=p.device, dtype=p.dtype)
    with torch.no_grad():
        module.load_state_dict(model.torch_nn_params())
    return module


def from_torch_nn(module, fast=False):
    """Return an rnnkit.torch model computing the same function as a ``torch.nn`` module.

    Args:
        module: ``torch.nn.RNN`` (tanh), ``LSTM`` or ``GRU``, uni- or bidirectional, with its
            dropout; no projection.
        fast: passed to the new model.
    """
    if type(module) not in FROM_TORCH_NN:
        raise TypeError(f"module: expected torch.nn.RNN, LSTM or GRU, got {type(module).__name__}")
    if getattr(module, "nonlinearity", "tanh") != "tanh":
        raise ValueError(f"module: only the tanh RNN is supported, got {module.nonlinearity}")
    if module.proj_size:
        raise ValueError("module: projected RNNs (proj_size > 0) are not supported")
    kind, cls = FROM_TORCH_NN[type(module)]
    p = module.weight_ih_l0
    model = cls(module.input_size, module.hidden_size, num_layers=module.num_layers,
                bidirectional=module.bidirectional,
                dropout=module.dropout if module.num_layers > 1 else 0.0, fast=fast,
                device=p.device, dtype=p.dtype)
    with torch.no_grad():
        layers = state_dict_to_layers(kind, module.state_dict())
        for cell, layer in zip(model.cells, layers, strict=True):
            for name, param in cell.named_parameters():
                param.copy_(layer[name])
    return model
