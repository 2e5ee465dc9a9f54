"""Models on the torch path, twins of ``rnnkit.models``: ``charlm`` (the character language
model of chapter 5, ``CharLM`` and ``train_charlm``) and ``esn`` (echo state networks,
chapter 7)."""
