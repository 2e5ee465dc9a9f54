"""Torch pieces for the generated tasks of ``rnnkit.tasks``: ``adding`` (batches of the adding
problem as tensors, the last-step regressor that reads them, and its loss)."""
