"""Models on the torch path, twins of ``rnnkit.models``: ``charlm`` (the character language
model of chapter 5, ``CharLM`` and ``train_charlm``), ``esn`` (echo state networks,
chapter 7), ``tree`` (the child-sum Tree-LSTM, every node of one height at once, chapter
10) and ``seq2seq`` (GRU encoder-decoders, with or without attention, masked for padded
batches, chapters 11-12)."""
