"""The seed guard (tests/rng_guard.py) in a real kernel, installed as ``dev.py test`` installs it.

Each case runs a small notebook in a fresh kernel whose environment comes from
``dev.guarded_env``: draws from an unseeded global generator must fail the cell that made them,
naming the generator; seeded draws and draws from generators made from a seed must pass.
"""

import os

import nbclient
import nbformat
import pytest


@pytest.fixture(scope="module")
def guarded(dev, tmp_path_factory):
    return dev.guarded_env(dict(os.environ), tmp_path_factory.mktemp("guard"))


def execute(cells, env, tmp_path):
    """Run ``cells`` (sources) in one kernel; None if every cell passed, else the error text."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    try:
        client.execute(env=env)  # the kernel's environment, as dev.py test gives it
    except nbclient.exceptions.CellExecutionError as err:
        return str(err)
    return None


FAILS = {
    "torch module made unseeded": (
        ["import torch", "layer = torch.nn.Linear(3, 2)"], "code cell 2", "torch's"),
    "numpy legacy draw": (["import numpy as np\nx = np.random.rand(3)"], "code cell 1", "NumPy's"),
    "python random": (["import random\nx = random.random()"], "code cell 1", "Python's"),
    "draw, then seed, in one cell": (
        ["import torch\nx = torch.randn(2)\ntorch.manual_seed(0)"], "code cell 1", "torch's"),
    "seeding numpy does not seed torch": (
        ["import numpy as np\nimport torch\nnp.random.seed(0)", "x = torch.rand(2)"],
        "code cell 2", "torch's"),
}


@pytest.mark.parametrize("case", list(FAILS))
def test_unseeded_draws_fail_the_cell_that_made_them(case, guarded, tmp_path):
    cells, where, which = FAILS[case]
    error = execute(cells, guarded, tmp_path)
    assert error is not None, f"{case}: the guard let an unseeded draw pass"
    assert "RuntimeError" in error and where in error and which in error, error[-800:]


PASSES = {
    "seed_everything first": [
        "import random\nimport numpy as np\nimport torch\nfrom rnnkit.torch import seed_everything",
        "seed_everything(3)\nlayer = torch.nn.Linear(3, 2)",
        "x = np.random.rand(2) + random.random()"],
    "torch.manual_seed first": ["import torch\ntorch.manual_seed(0)\nx = torch.randn(4)"],
    "generators made from a seed": [
        "import numpy as np\nimport torch\nx = np.random.default_rng(0).normal(size=3)",
        "g = torch.Generator().manual_seed(1)\ny = torch.randn(3, generator=g)"],
    "no randomness at all": ["import torch\nx = torch.zeros(3).sum()"],
}


@pytest.mark.parametrize("case", list(PASSES))
def test_seeded_draws_pass(case, guarded, tmp_path):
    assert execute(PASSES[case], guarded, tmp_path) is None
