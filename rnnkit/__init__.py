"""rnnkit: the library under the book.

The NumPy reference lives in flat modules, one idea each:

- cells: ``rnn``, ``lstm``, ``gru``, ``lstm_variants`` (the coupled-gate LSTM),
  ``leaky`` (leaky units), ``layernorm`` (layer norm and a layer-normalised
  RNN), ``esn`` (echo state networks);
- pieces around them: ``layers`` (affine, embedding, softmax loss), ``init``,
  ``optim`` (optimisers and gradient clipping), ``gradcheck``;
- tasks and data: ``longlag`` (the adding problem), ``data`` (the bundled
  Shakespeare corpus, vocabularies, batches for truncated BPTT), ``charlm`` (a
  character language model), ``sample`` (greedy, temperature, top-k).

Every cell has a step and a sequence function, forward returning
``(out, cache)`` and backward taking ``(dout, cache)``. The torch path is the
subpackage ``rnnkit.torch``; importing ``rnnkit`` never imports torch. The lab
tools (generator and grader) are ``rnnkit.labs``.
"""

__version__ = "0.1.0"
