"""Models built from the cells and layers, in NumPy: ``charlm`` (the character language model
of chapter 5, its training loop and count baselines) and ``esn`` (echo state networks: a fixed
reservoir and a ridge readout, chapter 7), ``tree`` (the child-sum Tree-LSTM, a recursive
network, with backpropagation through structure, chapter 10) and ``captioning`` (an image
captioner, image features -> RNN or LSTM, CS231n's form, chapter 13). ``rnnkit.torch.models`` has
their twins."""
