"""Importing, choosing a device and seeding."""

import random
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import rnnkit.torch as rt  # noqa: E402
from rnnkit.torch import device as device_mod  # noqa: E402


def run_python(code):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)


def test_numpy_modules_never_import_torch():
    code = (
        "import importlib, pathlib, sys, rnnkit\n"
        "root = pathlib.Path(rnnkit.__file__).parent\n"  # not pkgutil.walk_packages: it
        "files = [f.relative_to(root.parent) for f in root.rglob('*.py')]\n"  # imports packages
        "names = sorted('.'.join(f.with_suffix('').parts).removesuffix('.__init__')\n"
        "               for f in files if 'torch' not in f.parts)\n"
        "for n in names: importlib.import_module(n)\n"
        "print(len(names), 'torch' in sys.modules)\n"
    )
    res = run_python(code)
    assert res.returncode == 0, res.stderr
    count, imported = res.stdout.split()
    assert int(count) >= 4 and imported == "False", res.stdout


def test_missing_torch_gives_an_install_hint():
    code = (
        "import sys\n"
        "sys.modules['torch'] = None  # makes `import torch` fail as if not installed\n"
        "try:\n"
        "    import rnnkit.torch\n"
        "except ImportError as err:\n"
        "    print(err)\n"
        "else:\n"
        "    print('NO ERROR')\n"
    )
    res = run_python(code)
    assert res.returncode == 0, res.stderr
    assert "pip install torch" in res.stdout
    assert "download.pytorch.org/whl/cpu" in res.stdout


@pytest.fixture
def no_accelerators(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(device_mod, "_mps_available", lambda: False)


def test_pick_device_prefers_cuda_then_mps_then_cpu(monkeypatch, no_accelerators):
    monkeypatch.delenv("RNNKIT_DEVICE", raising=False)
    assert rt.pick_device() == torch.device("cpu")
    monkeypatch.setattr(device_mod, "_mps_available", lambda: True)
    assert rt.pick_device() == torch.device("mps")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert rt.pick_device() == torch.device("cuda")


def test_pick_device_env_override(monkeypatch, no_accelerators):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setenv("RNNKIT_DEVICE", "cpu")
    assert rt.pick_device() == torch.device("cpu")
    monkeypatch.setenv("RNNKIT_DEVICE", "cuda:1")
    assert rt.pick_device() == torch.device("cuda", 1)
    monkeypatch.setenv("RNNKIT_DEVICE", "gpu please")
    with pytest.raises(ValueError, match="RNNKIT_DEVICE"):
        rt.pick_device()
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setenv("RNNKIT_DEVICE", "cuda")
    with pytest.raises(RuntimeError, match="no CUDA device"):
        rt.pick_device()


@pytest.fixture
def restore_determinism():
    saved = torch.are_deterministic_algorithms_enabled(), torch.backends.cudnn.deterministic
    yield
    torch.use_deterministic_algorithms(saved[0])
    torch.backends.cudnn.deterministic = saved[1]


def draws():
    model = rt.GRU(3, 4)  # parameter init uses torch's generator
    return (random.random(), np.random.rand(), torch.rand(3).tolist(),
            model.cells[0].Wx.detach().clone())


@pytest.mark.parametrize("deterministic", [False, True])
def test_seed_everything_repeats_every_generator(deterministic, restore_determinism):
    rng = rt.seed_everything(123, deterministic=deterministic)
    first = draws() + (rng.random(),)
    rng = rt.seed_everything(123, deterministic=deterministic)
    second = draws() + (rng.random(),)
    assert first[:3] == second[:3] and first[4] == second[4]
    assert torch.equal(first[3], second[3])
    assert torch.are_deterministic_algorithms_enabled() is deterministic
    rt.seed_everything(124)
    assert draws()[:3] != first[:3]
    with pytest.raises(ValueError, match="seed"):
        rt.seed_everything(-1)
