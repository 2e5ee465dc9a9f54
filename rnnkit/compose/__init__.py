"""Networks composed from the cells of ``rnnkit.cells``, in NumPy, with hand-written backward.

Every function here works for any cell of the cell contract (``rnnkit.cells.CELLS``): it
calls the cell's sequence forward and backward and adds only the wiring.

- ``bidirectional``: one bidirectional layer, a forward and a time-reversed run of the same
  kind of cell, outputs side by side (book chapter 10);
- ``deep``: a stack of L layers, unidirectional or bidirectional, optionally with residual
  (vertical skip) connections between layers, with ``torch.nn``'s state shapes and order
  (book chapter 10). The deep *transition* is a cell, ``rnnkit.cells.dt_rnn``.
- ``attention``: additive (Bahdanau) and multiplicative (Luong) attention over a masked set of
  encoder states, forward and backward (book chapter 12); its twin is
  ``rnnkit.torch.compose.attention``;
- ``masked``: any cell over a right-padded batch of sequences of different lengths, each state
  frozen after its sequence's end, so padding never changes a result (book chapter 11).

``rnnkit.torch.cells`` runs the same stacks (``RNN/LSTM/GRU(..., bidirectional=True)``);
``tests/test_torch_parity.py`` checks the two against ``torch.nn``.
"""
