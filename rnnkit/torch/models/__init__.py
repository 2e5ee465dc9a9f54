"""Models on the torch path, twins of ``rnnkit.models``: ``charlm`` (the character language
model of chapter 5, ``CharLM`` and ``train_charlm``), ``esn`` (echo state networks,
chapter 7), ``tree`` (the child-sum Tree-LSTM, every node of one height at once, chapter
10), ``seq2seq`` (GRU encoder-decoders, with or without attention, masked for padded
batches, chapters 11-12), ``captioning`` (a CNN encoder and an LSTM decoder, conditioned
through the initial state or at every step, with optional attention over image regions,
chapter 13), ``nowcast`` (next-frame ConvLSTM and FC-LSTM forecasters), ``social`` (the
Social LSTM and the same LSTM without pooling) and ``speech`` (stacked, bidirectional framewise
taggers; the three of chapter 14) and ``mingru`` (the minGRU, trained in parallel by a scan, and a
language model of them, chapter 15)."""
