"""dev.py's torch decision: the CPU build on a machine without an NVIDIA GPU, a kept torch.

dev.py is the set-up script at the repository's root (not part of rnnkit); the ``dev`` fixture
of conftest.py loads it from its file, and pip is never run: ``install_torch`` takes the
function that would run it.
"""

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("platform", ["linux", "win32"])
def test_no_nvidia_gpu_gets_the_cpu_build(dev, platform):
    index, message = dev.torch_plan(None, platform, nvidia=False)
    assert index == "https://download.pytorch.org/whl/cpu"
    assert "CPU build" in message and "MB" in message


def test_an_nvidia_gpu_gets_pypis_cuda_build_and_says_how_large(dev):
    index, message = dev.torch_plan(None, "linux", nvidia=True)
    assert index is None and "CUDA" in message and "GB" in message


def test_macos_uses_pypi(dev):
    index, message = dev.torch_plan(None, "darwin", nvidia=False)
    assert index is None and "macOS" in message


@pytest.mark.parametrize("nvidia", [False, True])
def test_an_installed_torch_is_kept(dev, nvidia):
    assert dev.torch_plan("2.13.0+cpu", "linux", nvidia) is None


class FakePip:
    """Records pip command lines; answers with the given exit codes in turn."""

    def __init__(self, *codes):
        self.codes, self.calls = list(codes), []

    def __call__(self, cmd, cwd=None):
        self.calls.append([str(c) for c in cmd])
        return self.codes.pop(0)


@pytest.fixture
def no_torch_in_venv(dev, monkeypatch):
    """dev.py's probes of .venv answer: no torch there (and nothing installed after)."""
    monkeypatch.setattr(dev.subprocess, "run", lambda *a, **k: subprocess.CompletedProcess(
        a, 0, stdout="", stderr=""))


def test_install_uses_the_cpu_index_and_prints_it(dev, no_torch_in_venv, capsys):
    pip = FakePip(0)
    dev.install_torch(call=pip, platform="linux", nvidia=False)
    assert len(pip.calls) == 1
    assert pip.calls[0][-6:-4] == ["--index-url", "https://download.pytorch.org/whl/cpu"]
    assert "CPU build of torch" in capsys.readouterr().out


def test_an_unreachable_cpu_index_falls_back_to_pypi_with_a_message(dev, no_torch_in_venv,
                                                                   capsys):
    pip = FakePip(1, 0)
    dev.install_torch(call=pip, platform="linux", nvidia=False)
    assert len(pip.calls) == 2 and "--index-url" not in pip.calls[1]
    out = capsys.readouterr().out
    assert "did not answer (pip exit 1)" in out and "PyPI instead" in out


def test_a_torch_already_in_the_venv_is_not_touched(dev, monkeypatch, capsys):
    monkeypatch.setattr(dev.subprocess, "run", lambda *a, **k: subprocess.CompletedProcess(
        a, 0, stdout="2.13.0+cpu\n", stderr=""))
    pip = FakePip()
    dev.install_torch(call=pip, platform="linux", nvidia=False)
    assert pip.calls == []
    assert "torch 2.13.0+cpu is already in .venv: kept" in capsys.readouterr().out


def test_ensure_env_installs_torch_before_the_requirements(dev):
    source = (ROOT / "dev.py").read_text()
    body = source[source.index("def ensure_env"):]
    assert body.index("install_torch()") < body.index('"-r", "requirements.txt"')
