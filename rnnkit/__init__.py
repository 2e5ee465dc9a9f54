"""rnnkit: the library under the book.

The NumPy reference lives in flat modules, one idea each: ``layers``, ``rnn``,
``lstm``, ``gru``, ``gradcheck``, ``optim``, ``init``. Every cell has a step
and a sequence function, forward returning ``(out, cache)`` and backward
taking ``(dout, cache)``. The torch path is the subpackage ``rnnkit.torch``;
importing ``rnnkit`` never imports torch.
"""

__version__ = "0.1.0"
