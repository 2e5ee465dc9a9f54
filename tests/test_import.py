"""Importing rnnkit, or any of its NumPy modules, must not import torch."""

import importlib.util
import os
import pkgutil
import subprocess
import sys

import pytest

import rnnkit


def _submodules(path, prefix):
    """Names of every module and subpackage under ``path``, at any depth, without importing."""
    for m in pkgutil.iter_modules(path, prefix):
        if m.name == "rnnkit.torch":  # the torch path may import torch; nothing else may
            continue
        yield m.name
        if m.ispkg:
            sub = os.path.join(m.module_finder.path, m.name.rpartition(".")[2])
            yield from _submodules([sub], m.name + ".")


NUMPY_MODULES = sorted(_submodules(rnnkit.__path__, "rnnkit."))


def _modules_after_import(*names):
    """Import ``names`` in a fresh interpreter and return its sys.modules keys."""
    code = "import sys\n" + "".join(f"import {n}\n" for n in names) + "print(*sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return set(done.stdout.split())


def test_the_numpy_modules_are_found():
    for name in ("rnnkit.layers", "rnnkit.cells.rnn", "rnnkit.optim", "rnnkit.init",
                 "rnnkit.gradcheck"):
        assert name in NUMPY_MODULES


def test_importing_rnnkit_and_every_numpy_module_leaves_torch_out():
    loaded = _modules_after_import("rnnkit", *NUMPY_MODULES)
    assert set(NUMPY_MODULES) <= loaded
    assert "torch" not in loaded, "some rnnkit NumPy module imports torch"


def test_the_probe_would_see_torch():
    # the control: the same probe does report torch when something imports it
    if importlib.util.find_spec("torch") is None:
        pytest.skip("torch is not installed")
    assert "torch" in _modules_after_import("torch")
