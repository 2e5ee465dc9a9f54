"""Recurrent cells on the torch path, one per module, twins of ``rnnkit.cells``.

Each module holds a cell (one step, an ``nn.Module``) and its sequence model (batch-first,
multi-layer, torch.nn's shapes): ``rnn`` (``RNNCell``, ``RNN``), ``lstm`` (``LSTMCell``,
``LSTM``), ``gru`` (``GRUCell``, ``GRU``), ``coupled_lstm`` (``CoupledLSTMCell``,
``CoupledLSTM``), ``leaky`` (``LeakyCell``, ``Leaky``), ``ln_rnn`` (``LNRNNCell``, ``LNRNN``),
``mut`` (``MUT1Cell``..``MUT3Cell``, ``MUT1``..``MUT3``, ``MUT(kind, ...)``), ``dt_rnn``
(``DTRNNCell``, ``DTRNN``, the deep-transition RNN of chapter 10), ``conv_lstm``
(``ConvLSTMCell``, ``ConvLSTM``, images as states, chapter 14; not in ``TWINS``, see its
docstring). ``_base`` has
the two bases and says how the teaching loop and the fused ``fast=True`` path share
parameters. Parameter names, shapes and order are those of the NumPy twin
(``rnnkit.cells.CELLS``); autograd provides the backward pass.
"""

from rnnkit.torch.cells._base import Cell, Recurrent
from rnnkit.torch.cells.conv_lstm import ConvLSTM, ConvLSTMCell
from rnnkit.torch.cells.coupled_lstm import CoupledLSTM, CoupledLSTMCell
from rnnkit.torch.cells.dt_rnn import DTRNN, DTRNNCell
from rnnkit.torch.cells.gru import GRU, GRUCell
from rnnkit.torch.cells.leaky import Leaky, LeakyCell
from rnnkit.torch.cells.ln_rnn import LNRNN, LNRNNCell
from rnnkit.torch.cells.lstm import LSTM, LSTMCell
from rnnkit.torch.cells.mut import MUT, MUT1, MUT2, MUT3, MUT1Cell, MUT2Cell, MUT3Cell
from rnnkit.torch.cells.rnn import RNN, RNNCell

__all__ = ["Cell", "Recurrent", "RNNCell", "RNN", "LSTMCell", "LSTM", "GRUCell", "GRU",
           "CoupledLSTMCell", "CoupledLSTM", "LeakyCell", "Leaky", "LNRNNCell", "LNRNN",
           "MUT1Cell", "MUT2Cell", "MUT3Cell", "MUT1", "MUT2", "MUT3", "MUT", "DTRNNCell", "DTRNN",
           "ConvLSTMCell", "ConvLSTM", "TWINS", "SEQUENCES"]

#: NumPy cell name (a key of ``rnnkit.cells.CELLS``) -> its torch cell class.
TWINS = {c.numpy_name: c for c in (RNNCell, LSTMCell, GRUCell, CoupledLSTMCell, LeakyCell,
                                   LNRNNCell, MUT1Cell, MUT2Cell, MUT3Cell, DTRNNCell)}

#: NumPy cell name -> the torch sequence model over its twin.
SEQUENCES = {m.cell_class.numpy_name: m for m in (RNN, LSTM, GRU, CoupledLSTM, Leaky, LNRNN,
                                                  MUT1, MUT2, MUT3, DTRNN)}
