"""Choosing a device and seeding every random generator, once, at the top of a script.

Library code never calls ``.cuda()``: it takes the device from its inputs. Scripts,
chapters and labs call ``pick_device()`` once and move the model and data there.
"""

import os
import random

import numpy as np
import torch

__all__ = ["pick_device", "seed_everything"]

ENV_VAR = "RNNKIT_DEVICE"


def _mps_available():
    mps = getattr(torch.backends, "mps", None)
    return mps is not None and mps.is_available()


def pick_device():
    """Return the best available ``torch.device``: cuda, then mps, then cpu.

    The environment variable ``RNNKIT_DEVICE`` (for example ``cpu`` or ``cuda:1``)
    overrides the choice, so a whole book build can be pinned to the CPU.

    Returns:
        torch.device.
    Raises:
        ValueError: ``RNNKIT_DEVICE`` is not a device name torch understands.
        RuntimeError: ``RNNKIT_DEVICE`` names a backend this machine does not have.
    """
    wanted = os.environ.get(ENV_VAR, "").strip()
    if wanted:
        try:
            device = torch.device(wanted)
        except RuntimeError as err:
            raise ValueError(
                f"{ENV_VAR}={wanted!r} is not a device name; use cpu, cuda, cuda:<k> or mps"
            ) from err
        if device.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError(f"{ENV_VAR}={wanted!r} but torch sees no CUDA device")
        if device.type == "mps" and not _mps_available():
            raise RuntimeError(f"{ENV_VAR}={wanted!r} but the MPS backend is not available")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    if _mps_available():
        return torch.device("mps")
    return torch.device("cpu")


def seed_everything(seed, deterministic=False):
    """Seed Python's ``random``, NumPy's global generator and torch (every device).

    Seeding makes a run repeatable on the same machine and software; it does not
    make CPU and GPU agree. With ``deterministic=True`` torch is also asked to use
    deterministic kernels only (``torch.use_deterministic_algorithms``, cuDNN
    deterministic, no cuDNN autotuning), which can be slower and makes ops without a
    deterministic kernel raise. ``deterministic=False`` restores the defaults.

    Args:
        seed: a non-negative int.
        deterministic: whether to force deterministic kernels.
    Returns:
        a ``numpy.random.Generator`` seeded with ``seed``, for code that prefers one.
    """
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed: expected a non-negative int, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # seeds the CPU and every CUDA device
    if deterministic:
        # cuBLAS needs a fixed workspace to be deterministic (CUDA >= 10.2)
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(deterministic)
    torch.backends.cudnn.deterministic = deterministic
    torch.backends.cudnn.benchmark = False
    return np.random.default_rng(seed)
