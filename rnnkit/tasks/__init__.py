"""Generated tasks with known answers, so that nothing is downloaded: ``adding`` (the adding
problem of Hochreiter and Schmidhuber, chapters 8-9). ``rnnkit.torch.tasks`` turns them into
tensors."""
