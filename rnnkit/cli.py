"""The ``rnnkit`` command: train a character LM on any text file, sample from it, score it.

In the spirit of Karpathy's char-rnn (``train.lua input.txt``, ``sample.lua checkpoint``)::

    rnnkit charlm train [FILE] --out DIR [--model lstm|gru|rnn --hidden H --layers L]
                        [--seconds S | --steps K] [--device auto|cpu|cuda|mps] [--resume]
    rnnkit charlm sample DIR [--prime "ROMEO:" --temperature 0.8 --top-k 40 --length 500 --seed 0]
    rnnkit charlm eval DIR [FILE]          # bits per character

``python -m rnnkit ...`` is the same command. FILE is any UTF-8 text file; without one,
training uses the bundled Shakespeare. DIR is a checkpoint folder
(``rnnkit.torch.checkpoint``: JSON and ``.npz``, no pickle).

This module parses the command line and checks the numbers and names it is given; the
commands themselves are in ``rnnkit.torch.charlm_commands``, imported only when one runs, so
``rnnkit --help`` works without torch; ``rnnkit.cli_common`` holds what both use (the error,
reading a text file, the training defaults). Bad input
ends with one line on stderr, ``rnnkit: error: ...``, and exit status 2; Ctrl-C during
training saves a checkpoint and exits with 130.
"""

import argparse
import sys

from rnnkit.cli_common import DEFAULTS, CLIError

__all__ = ["build_parser", "main"]

class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, not argparse's usage block
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _number(kind, minimum, strict):
    """An argparse type: ``kind`` (int or float) > minimum (strict) or >= minimum."""
    def parse(value):
        try:
            v = kind(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a {kind.__name__}, got {value!r}") from None
        if not (v > minimum if strict else v >= minimum):  # refuses nan too
            raise argparse.ArgumentTypeError(
                f"expected a number {'>' if strict else '>='} {minimum}, got {value}")
        return v
    parse.__name__ = f"{'positive' if strict else 'non-negative'} {kind.__name__}"
    return parse


def _positive(kind):
    return _number(kind, 0, strict=True)


def _non_negative(kind):
    return _number(kind, 0, strict=False)


def build_parser():
    """The argument parser of ``rnnkit`` (subcommand ``charlm`` with train, sample, eval)."""
    top = _Parser(prog="rnnkit", description="rnnkit from the command line.")
    groups = top.add_subparsers(dest="group", required=True, parser_class=_Parser)
    charlm = groups.add_parser("charlm", help="character language models",
                               description="Train a character LM on a text file, sample, score.")
    cmds = charlm.add_subparsers(dest="command", required=True, parser_class=_Parser)
    devices = ("auto", "cpu", "cuda", "mps")

    t = cmds.add_parser("train", help="train on a UTF-8 text file (default: bundled Shakespeare)",
                        description="Train a character LM; checkpoints go to --out DIR.")
    t.add_argument("file", nargs="?", help="UTF-8 text file (default: the bundled Shakespeare)")
    t.add_argument("--out", required=True, metavar="DIR", help="checkpoint folder")
    t.add_argument("--resume", action="store_true",
                   help="continue training the checkpoint in --out DIR")
    t.add_argument("--model", choices=("lstm", "gru", "rnn"),
                   help=f"recurrent cell (default {DEFAULTS['model']})")
    t.add_argument("--hidden", type=_positive(int), help=f"H (default {DEFAULTS['hidden']})")
    t.add_argument("--layers", type=_positive(int), help=f"stacked layers (default "
                   f"{DEFAULTS['layers']})")
    t.add_argument("--embed", type=_positive(int), help=f"embedding size D (default "
                   f"{DEFAULTS['embed']})")
    stop = t.add_mutually_exclusive_group()
    stop.add_argument("--seconds", type=_positive(float),
                      help="training time, validation excluded (default 120)")
    stop.add_argument("--steps", type=_positive(int), help="number of updates")
    t.add_argument("--batch", type=_positive(int), help=f"streams per batch N (default "
                   f"{DEFAULTS['batch']})")
    t.add_argument("--seq", type=_positive(int), help=f"truncated-BPTT length T (default "
                   f"{DEFAULTS['seq']})")
    t.add_argument("--lr", type=_positive(float), help=f"Adam's learning rate (default "
                   f"{DEFAULTS['lr']})")
    t.add_argument("--clip", type=_positive(float), help=f"gradient-norm clip (default "
                   f"{DEFAULTS['clip']})")
    t.add_argument("--schedule", choices=("cosine", "const"), default="cosine",
                   help="cosine: the learning rate falls from --lr to 0 over this run's "
                   "--seconds or --steps (default); const: it stays at --lr")
    t.add_argument("--val-every", type=_positive(float), default=30.0, metavar="SECONDS",
                   help="seconds of training between validations (default 30; also at the end)")
    t.add_argument("--val-chars", type=_positive(int), default=200_000,
                   help="held-out characters scored at each validation (default 200000)")
    t.add_argument("--device", choices=devices, default="auto",
                   help="auto: CUDA, then MPS, then CPU (RNNKIT_DEVICE overrides auto)")
    t.add_argument("--threads", type=_positive(int), help="CPU threads (default: torch's)")
    t.add_argument("--seed", type=_non_negative(int), default=0)
    t.add_argument("--progress", choices=("auto", "bar", "lines", "off"), default="auto",
                   help="auto: a bar on a terminal, a line every 10 s otherwise")

    s = cmds.add_parser("sample", help="generate text from a checkpoint",
                        description="Generate text from a checkpoint; prints prime + text.")
    s.add_argument("dir", metavar="DIR", help="checkpoint folder")
    s.add_argument("--prime", help="text to start from (default: a newline)")
    s.add_argument("--length", type=_non_negative(int), default=500,
                   help="characters to generate (default 500)")
    s.add_argument("--temperature", type=_non_negative(float), default=0.8,
                   help="0 is greedy (default 0.8)")
    s.add_argument("--top-k", type=_positive(int), help="sample among the k likeliest")
    s.add_argument("--seed", type=_non_negative(int), help="the same seed gives the same text")
    s.add_argument("--which", choices=("best", "last"), default="best")
    s.add_argument("--device", choices=devices, default="cpu")

    e = cmds.add_parser("eval", help="bits per character of a checkpoint on a text file",
                        description="Score a checkpoint: bits per character on FILE, or on "
                        "the held-out tail of its training text.")
    e.add_argument("dir", metavar="DIR", help="checkpoint folder")
    e.add_argument("file", nargs="?", help="UTF-8 text file (default: the held-out tail of "
                   "the training text)")
    e.add_argument("--which", choices=("best", "last"), default="best")
    e.add_argument("--device", choices=devices, default="auto")
    return top


def main(argv=None):
    """Run the command line; return the exit status (0 ok, 2 bad input, 130 interrupted)."""
    args = build_parser().parse_args(argv)
    try:
        try:
            from rnnkit.torch import charlm_commands
        except ImportError as err:
            if "PyTorch" not in str(err):
                raise
            raise CLIError("the char-LM commands need PyTorch: pip install torch (a CPU-only "
                           "build: --index-url https://download.pytorch.org/whl/cpu)") from None
        return charlm_commands.COMMANDS[args.command](args)
    except CLIError as err:
        print(f"rnnkit: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
