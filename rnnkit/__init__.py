"""rnnkit: the library under the book, grouped by role like the book's table of contents.

NumPy reference (forward and hand-written backward, exactly the book's equations):

- ``cells``: one recurrent cell per module, every one following the contract written in
  ``rnnkit.cells``: ``rnn``, ``leaky``, ``ln_rnn``, ``lstm``, ``coupled_lstm``, ``gru``, ``mut``,
  ``dt_rnn`` (deep transition);
- ``compose``: any cell, composed: ``deep`` (stacks, residual skips) and ``bidirectional``;
- ``models``: what is built from cells: ``charlm`` (character language model), ``esn``
  (echo state networks), ``tree`` (the child-sum Tree-LSTM);
- ``tasks``: generated data with known answers: ``adding`` (the adding problem), ``listops``
  (nested list operations, as strings and as trees), ``copy``, ``dates``, ``tokens``;
- ``data``: corpora (the bundled Shakespeare), vocabularies, batches for truncated BPTT;
- ops and tools, one module each: ``layers`` (affine, embedding, softmax loss),
  ``layernorm`` (the op), ``init``, ``optim`` (optimisers, gradient clipping), ``gradcheck``
  (finite differences), ``decode`` (greedy, temperature and top-k sampling, greedy and beam
  search), ``scan`` (linear recurrences ``h_t = a_t * h_{t-1} + b_t`` by a loop or a
  parallel scan), ``_checks`` (input checks whose errors name the argument);
- ``draw``: the book's diagrams, one palette and vocabulary (needs matplotlib, which nothing
  else in rnnkit imports);
- ``cli`` (with ``cli_common``): the ``rnnkit`` command, ``rnnkit charlm train|sample|eval``;
  it parses arguments without torch and hands the work to ``rnnkit.torch.charlm_commands``.

The torch path is the subpackage ``rnnkit.torch``, with the same names (``rnnkit.torch.cells``,
``rnnkit.torch.models``, ``rnnkit.torch.tasks``). Importing ``rnnkit`` never imports torch.
The lab tools (generator, grader) are a separate package, ``labkit``.
"""

__version__ = "0.1.0"
