"""rnnkit.torch: the torch path of the book, the same names and layout as the NumPy reference.

It mirrors ``rnnkit``:

- ``cells``: one module per cell, each with the cell (one step) and its batch-first,
  multi-layer sequence model: ``RNN``, ``LSTM``, ``GRU`` (``fast=True`` runs torch.nn's
  fused kernels with the same weights), ``CoupledLSTM`` (fused too), ``Leaky``, ``LNRNN``,
  ``MUT1``-``MUT3``, ``DTRNN``; parameters named and shaped as in ``rnnkit.cells``; every one
  takes torch.nn's ``bidirectional=True`` and ``dropout=p``.
- ``compose``: ``attention`` (additive and multiplicative attention modules).
- ``models``: ``charlm`` (the character LM), ``esn`` (echo state networks), ``tree`` (the
  child-sum Tree-LSTM, one batched step per tree height), ``seq2seq`` (GRU encoder-decoders,
  with or without attention), ``captioning`` (a CNN + LSTM image captioner), ``mingru`` (the
  minGRU and a language model of them).
- ``scan``: ``linear_scan`` (the loop, doubling and log-space scans of chapter 15, with
  autograd) and ``log_space_scan``.
- ``tasks``: ``adding`` (the adding problem as tensors, its regressor and loss), ``seq2seq``
  (padded batches of string pairs).
- ``layout``: the one place that knows torch.nn's ``(G*H, D)`` layout and two-bias scheme
  (pure, layer by layer); ``convert``: whole modules between NumPy, rnnkit.torch and torch.nn.
- ``device`` (``pick_device``, ``seed_everything``) and ``train`` (``fit``: clipping, AMP on
  CUDA, divergence detection).
- ``checkpoint`` (pickle-free checkpoints: ``.npz`` weights and a JSON configuration) and
  ``charlm_commands`` (what ``rnnkit charlm train|sample|eval`` runs).

Importing ``rnnkit`` alone never imports torch; importing this subpackage does.
"""

try:
    import torch  # noqa: F401  (absolute import: the real torch, not this package)
except ImportError as err:  # pragma: no cover - exercised in a subprocess by the tests
    raise ImportError(
        "rnnkit.torch needs PyTorch, which is not installed. Install it with\n"
        "    pip install torch\n"
        "or, for a smaller CPU-only build,\n"
        "    pip install torch --index-url https://download.pytorch.org/whl/cpu\n"
        "The NumPy reference (rnnkit.cells, rnnkit.models, ...) works without it."
    ) from err

from rnnkit.torch.cells import (
    GRU,
    LNRNN,
    LSTM,
    MUT,
    RNN,
    CoupledLSTM,
    GRUCell,
    Leaky,
    LSTMCell,
    RNNCell,
)
from rnnkit.torch.convert import from_torch_nn, load_numpy_params, numpy_params, to_torch_nn
from rnnkit.torch.device import pick_device, seed_everything
from rnnkit.torch.layout import numpy_to_state_dict, state_dict_to_numpy
from rnnkit.torch.train import History, TrainingDiverged, fit

__all__ = [
    "RNNCell",
    "LSTMCell",
    "GRUCell",
    "RNN",
    "LSTM",
    "GRU",
    "CoupledLSTM",
    "Leaky",
    "LNRNN",
    "MUT",
    "numpy_params",
    "load_numpy_params",
    "numpy_to_state_dict",
    "state_dict_to_numpy",
    "to_torch_nn",
    "from_torch_nn",
    "pick_device",
    "seed_everything",
    "fit",
    "History",
    "TrainingDiverged",
]
