"""Compositions on the torch path, twins of ``rnnkit.compose``: ``attention`` (additive and
multiplicative attention, chapter 12)."""
