"""``python -m rnnkit.labs.grade``: the old name of ``python -m labkit.grade`` (same arguments)."""

if __name__ == "__main__":
    import sys

    from labkit.grade import main

    sys.exit(main())
