"""Generated tasks with known answers, so that nothing is downloaded: ``adding`` (the adding
problem of Hochreiter and Schmidhuber, chapters 8-9) and ``listops`` (nested list operations
with a known value, as token strings and as trees, chapter 10), ``copy`` (copy and reversal,
chapter 11), ``dates`` (dates in many formats to ISO 8601, chapter 12), ``shapes`` (images of
coloured shapes with captions whose truth can be checked, chapter 13), ``radar`` (drifting,
growing, fading blobs), ``trajectories`` (walkers who repel each other) and ``phones``
(formant-like frames in noise, chapter 14), with ``tokens``
(vocabularies with pad, start and end ids, padded batches and masks). ``rnnkit.torch.tasks``
turns them into tensors."""
