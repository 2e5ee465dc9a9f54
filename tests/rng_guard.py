"""Fail any notebook cell that draws from a global random generator nobody has seeded.

The course promises that the same run gives the same numbers. A cell that draws from torch's,
NumPy's or Python's global generator before anything seeded it breaks that promise quietly: each
of the three seeds itself from the operating system at start-up, so an ``nn.Linear(8, 1)`` made
before ``seed_everything`` starts from different weights in every run, and a check on it can pass
today and fail tomorrow (Lab 5's clipping check did, in CI).

``dev.py test`` installs this guard in every kernel it starts (the book build and nbval) through an
IPython start-up file. After each cell it compares each global generator's state with the state it
had when the first cell began; a generator whose state moved before its first seeding fails the
cell, with a message naming the generator and the call that would have seeded it. Seeding is
``torch.manual_seed`` (which ``rnnkit.torch.seed_everything`` calls), ``np.random.seed``,
``random.seed``, or restoring a saved state. Generators made from a seed, such as
``np.random.default_rng(SEED)`` or ``torch.Generator().manual_seed(SEED)``, are never in question.
"""

import random

import numpy as np


def _numpy_state():
    name, key, pos, has_gauss, gauss = np.random.get_state()
    return name, key.copy(), pos, has_gauss, gauss


def _same_numpy(a, b):
    return a[0] == b[0] and np.array_equal(a[1], b[1]) and a[2:] == b[2:]


class _Generator:
    """One global generator: how to read its state, and how to seed it."""

    def __init__(self, name, get, same, seed_with):
        self.name, self.get, self.same, self.seed_with = name, get, same, seed_with
        self.start, self.seeded = None, False

    def begin(self):
        """Take the state the notebook's first cell starts from (the kernel's start-up may draw)."""
        self.start = self.get()

    def drawn_unseeded(self):
        return not self.seeded and self.start is not None and not self.same(self.get(), self.start)

    def message(self, cell):
        return (f"code cell {cell} (counting from 1) drew from {self.name}'s global random "
                f"generator before anything seeded it, so its numbers change from run to run: "
                f"call {self.seed_with} first (rnnkit.torch.seed_everything seeds all three), "
                f"or draw from a generator made from a seed")


class RngGuard:
    """Watches the global generators of one IPython shell (see the module docstring)."""

    def __init__(self, shell):
        self.shell, self.generators, self.cells = shell, [], 0  # cells run so far
        self.watch("Python", random.getstate, lambda a, b: a == b, "random.seed(SEED)",
                   [(random, "seed"), (random, "setstate")])
        self.watch("NumPy", _numpy_state, _same_numpy, "np.random.seed(SEED)",
                   [(np.random, "seed"), (np.random, "set_state")])
        try:
            import torch
        except ImportError:  # a notebook without torch has nothing of torch's to draw from
            torch = None
        if torch is not None:
            self.watch("torch", torch.get_rng_state, torch.equal, "torch.manual_seed(SEED)",
                       [(torch, "manual_seed"), (torch.random, "manual_seed"),
                        (torch, "set_rng_state"), (torch.random, "set_rng_state")])
        shell.events.register("pre_run_cell", self.before_cell)
        shell.events.register("post_run_cell", self.after_cell)

    def watch(self, name, get, same, seed_with, seeders):
        """Watch one generator; each ``(module, attribute)`` in ``seeders`` seeds it."""
        gen = _Generator(name, get, same, seed_with)
        self.generators.append(gen)
        for module, attr in seeders:
            setattr(module, attr, self._seeding(gen, getattr(module, attr)))

    def _seeding(self, gen, seed):
        """Wrap a seeding function: a draw before it is caught, a draw after it is fine."""

        def seeding(*args, **kwargs):
            if gen.drawn_unseeded():
                raise RuntimeError(gen.message(self.cells + 1))
            gen.seeded = True
            return seed(*args, **kwargs)

        return seeding

    def before_cell(self, info):
        """Before the first cell: note where each generator starts."""
        for gen in self.generators:
            if gen.start is None:
                gen.begin()

    def after_cell(self, result):
        """Fail the cell (as an exception in it would) if it drew from an unseeded generator."""
        self.cells += 1
        bad = [gen for gen in self.generators if gen.drawn_unseeded()]
        if result is None or not bad or not result.success:
            return
        for gen in bad:
            gen.seeded = True  # reported once, at the cell that drew
        try:
            raise RuntimeError(" ".join(gen.message(self.cells) for gen in bad))
        except RuntimeError as err:
            self.shell.showtraceback()
            result.error_in_exec = err


def install(shell):
    """Install the guard in ``shell`` (``get_ipython()``); returns it."""
    return RngGuard(shell)
