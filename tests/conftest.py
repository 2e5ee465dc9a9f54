"""Fixtures for every test: a seeded generator, strict floating-point errors, TF32 off; and
``dev``, the set-up script dev.py loaded as a module.

Nothing here imports torch: the TF32 switch is only touched when torch is already imported
or the test module imported it, so ``pytest tests`` runs where torch is not installed.
"""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(scope="module")
def dev():
    """dev.py, the set-up script at the repository's root (not part of rnnkit), as a module."""
    spec = importlib.util.spec_from_file_location(
        "dev_under_test", Path(__file__).resolve().parents[1] / "dev.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def rng():
    """A NumPy generator seeded with 0, fresh for each test."""
    return np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _strict_float_errors():
    """Turn division by zero, overflow and invalid operations into errors (underflow is fine)."""
    with np.errstate(divide="raise", over="raise", invalid="raise"):
        yield


def _loaded_torch(module):
    """The torch module if this test can use it without importing it here, else None."""
    torch = sys.modules.get("torch")  # None also when a test run simulates a missing torch
    if torch is None:
        torch = getattr(module, "torch", None)  # a module-level importorskip
    return torch if hasattr(torch, "backends") else None


@pytest.fixture(autouse=True)
def _no_tf32(request):
    """Run each test with TF32 matmuls off (float32 parity needs full precision), then restore."""
    torch = _loaded_torch(request.module)
    if torch is None:
        yield
        return
    matmul, cudnn = torch.backends.cuda.matmul, torch.backends.cudnn
    saved = matmul.allow_tf32, cudnn.allow_tf32
    matmul.allow_tf32 = cudnn.allow_tf32 = False
    try:
        yield
    finally:
        matmul.allow_tf32, cudnn.allow_tf32 = saved
