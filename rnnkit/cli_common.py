"""What ``rnnkit.cli`` and the commands it runs share, importing neither torch nor them.

``CLIError`` (bad input: one line, exit status 2), ``read_text`` (a UTF-8 text file, or an
error saying what is wrong with it) and ``DEFAULTS`` (the training configuration a left-out
flag gets). Kept apart so that ``rnnkit.cli`` can import the torch commands lazily and those
can raise its errors, with no import cycle.
"""

from pathlib import Path

__all__ = ["CLIError", "read_text", "DEFAULTS"]

DEFAULTS = {  # what `rnnkit charlm train` uses when a flag is left out: the configuration
    # bench/sweep_charlm.py favoured for 120 s on 2 CPU cores (bench/README.md says why)
    "model": "lstm", "hidden": 192, "layers": 1, "embed": 64, "batch": 64, "seq": 32,
    "lr": 1e-2, "clip": 5.0,
}


class CLIError(Exception):
    """Bad input from the command line: printed as one line, exit status 2."""


def read_text(path):
    """Read a UTF-8 text file, or raise ``CLIError`` saying what is wrong with it.

    Args:
        path: the file's path.
    Returns:
        str, the text (a leading byte-order mark removed).
    """
    p = Path(path)
    if not p.exists():
        raise CLIError(f"{path}: no such file")
    if not p.is_file():
        raise CLIError(f"{path}: not a regular file (a folder?); expected a UTF-8 text file")
    data = p.read_bytes()
    if not data:
        raise CLIError(f"{path}: the file is empty")
    nul = data.find(b"\0")
    if nul >= 0:
        raise CLIError(f"{path}: looks like a binary file (a NUL byte at offset {nul}); "
                       "expected UTF-8 text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise CLIError(f"{path}: not UTF-8 text (byte 0x{data[err.start]:02x} at offset "
                       f"{err.start}); convert it first, e.g. iconv -f latin1 -t utf-8") from None
    text = text.removeprefix("\ufeff")
    if not text:
        raise CLIError(f"{path}: the file is empty (only a byte-order mark)")
    return text
