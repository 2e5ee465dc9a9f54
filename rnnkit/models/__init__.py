"""Models built from the cells and layers, in NumPy: ``charlm`` (the character language model
of chapter 5, its training loop and count baselines) and ``esn`` (echo state networks: a fixed
reservoir and a ridge readout, chapter 7). ``rnnkit.torch.models`` has their twins."""
