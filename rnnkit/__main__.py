"""``python -m rnnkit ...``: the same command as the ``rnnkit`` console script (``rnnkit.cli``)."""

import sys

from rnnkit.cli import main

if __name__ == "__main__":
    sys.exit(main())
