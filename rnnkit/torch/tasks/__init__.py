"""Torch pieces for the generated tasks of ``rnnkit.tasks``: ``adding`` (batches of the adding
problem as tensors, the last-step regressor that reads them, and its loss) and ``seq2seq``
(padded batches of string pairs, from ``copy`` or ``dates``, for the encoder-decoders)."""
