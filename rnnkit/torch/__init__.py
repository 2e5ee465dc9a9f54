"""rnnkit.torch: the torch path of the book, same equations and names as the NumPy reference.

What lives here:

- ``cells``: ``RNNCell``, ``LSTMCell``, ``GRUCell``, the equations written out, with the
  NumPy layout ``Wx (D, G*H)``, ``Wh (H, G*H)``, ``b (G*H,)`` (and ``b_hn`` for the GRU)
  as ``nn.Parameter``s.
- ``models``: ``RNN``, ``LSTM``, ``GRU`` sequence models over those cells, batch-first,
  multi-layer, with ``fast=True`` to run the same weights through ``torch.nn`` (cuDNN on GPU).
- ``convert``: the one place that knows torch's ``(G*H, D)`` layout and two-bias scheme.
- ``device``: ``pick_device`` and ``seed_everything``.
- ``train``: ``fit``, a small training loop (clipping, AMP on CUDA, divergence detection).

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
        "The NumPy reference (rnnkit.rnn, rnnkit.lstm, rnnkit.gru, ...) works without it."
    ) from err

from rnnkit.torch.cells import GRUCell, LSTMCell, RNNCell
from rnnkit.torch.convert import (
    from_torch_nn,
    load_numpy_params,
    numpy_params,
    numpy_to_state_dict,
    state_dict_to_numpy,
    to_torch_nn,
)
from rnnkit.torch.device import pick_device, seed_everything
from rnnkit.torch.models import GRU, LSTM, RNN
from rnnkit.torch.train import History, TrainingDiverged, fit

__all__ = [
    "RNNCell",
    "LSTMCell",
    "GRUCell",
    "RNN",
    "LSTM",
    "GRU",
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
