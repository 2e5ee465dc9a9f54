"""``python -m rnnkit.labs.generate``: the old name of ``python -m labkit.generate`` (same
arguments)."""

if __name__ == "__main__":
    import sys

    from labkit.generate import main

    sys.exit(main())
