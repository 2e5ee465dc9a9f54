"""The training loop: it learns, it clips, it stops loudly when training diverges."""

import math

import pytest

torch = pytest.importorskip("torch")

import rnnkit.torch as rt  # noqa: E402


class LastStepRegressor(torch.nn.Module):
    """An rnnkit LSTM whose last hidden state is read out linearly."""

    def __init__(self, fast=False):
        super().__init__()
        self.lstm = rt.LSTM(1, 8, fast=fast)
        self.head = torch.nn.Linear(8, 1)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(out[:, -1]).squeeze(1)


def mse(model, batch):
    x, y = batch
    return torch.nn.functional.mse_loss(model(x), y)


def sum_task(n_batches, seed=0):
    """Predict the sum of 5 numbers seen one at a time (a tiny many-to-one task)."""
    g = torch.Generator().manual_seed(seed)
    xs = [torch.rand(16, 5, 1, generator=g) - 0.5 for _ in range(n_batches)]
    return [(x, x.sum(dim=(1, 2))) for x in xs]


@pytest.mark.parametrize("fast", [False, True])
def test_loss_goes_down_on_a_tiny_task(fast):
    torch.manual_seed(0)
    model = LastStepRegressor(fast)
    batches = sum_task(20)
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    hist = rt.fit(model, mse, batches, opt, epochs=3, max_norm=1.0)
    assert len(hist.loss) == len(hist.grad_norm) == 60
    first, last = sum(hist.loss[:10]) / 10, sum(hist.loss[-10:]) / 10
    assert last < 0.05 * first, (first, last)
    # held-out batches: learned, not memorised
    with torch.no_grad():
        held = sum(mse(model, b).item() for b in sum_task(5, seed=1)) / 5
    assert held < 0.05 * first


def test_clipping_bounds_the_update():
    """With plain SGD at lr=1 the update is the clipped gradient: its norm <= max_norm."""
    torch.manual_seed(0)
    model = LastStepRegressor()
    before = torch.cat([p.detach().flatten().clone() for p in model.parameters()])
    batch = [(torch.randn(16, 5, 1) * 10, torch.randn(16) * 100)]
    hist = rt.fit(model, mse, batch, torch.optim.SGD(model.parameters(), lr=1.0), max_norm=0.5)
    after = torch.cat([p.detach().flatten() for p in model.parameters()])
    assert hist.grad_norm[0] > 0.5  # the raw gradient was larger than the bound
    assert math.isclose((after - before).norm().item(), 0.5, rel_tol=1e-4)


def test_divergence_raises_with_the_step_and_a_suggestion():
    torch.manual_seed(0)
    model = LastStepRegressor()
    opt = torch.optim.SGD(model.parameters(), lr=1e6)
    with pytest.raises(rt.TrainingDiverged, match=r"diverged at step \d+.*learning rate") as info:
        rt.fit(model, mse, sum_task(50), opt)
    err = info.value
    assert err.step == len(err.history.loss) and err.step < 50
    assert all(math.isfinite(v) for v in err.history.loss)


def test_nan_input_is_reported_at_its_step():
    # the fused path: the teaching path refuses NaN input itself (test_torch_nn_conventions)
    model = LastStepRegressor(fast=True)
    batches = sum_task(4)
    batches[2] = (batches[2][0].clone().fill_(float("nan")), batches[2][1])
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    with pytest.raises(rt.TrainingDiverged, match="step 2 .*the loss is nan"):
        rt.fit(model, mse, batches, opt)


def test_amp_is_disabled_with_a_warning_on_cpu_and_options_are_checked(capsys):
    model = LastStepRegressor()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    with pytest.warns(UserWarning, match="CUDA-only"):
        hist = rt.fit(model, mse, sum_task(3), opt, amp="bf16")
    assert len(hist.loss) == 3
    with pytest.raises(ValueError, match="amp"):
        rt.fit(model, mse, sum_task(1), opt, amp="fp8")
    # a function gives a fresh iterable per epoch; max_steps stops early; text progress
    hist = rt.fit(model, mse, lambda: iter(sum_task(3)), opt, epochs=4, max_steps=10,
                  progress="text", log_every=5)
    assert len(hist.loss) == 10
    assert capsys.readouterr().err.count("loss") == 2


def test_seeded_runs_repeat_exactly():
    def run():
        rt.seed_everything(5, deterministic=True)
        model = LastStepRegressor()
        opt = torch.optim.Adam(model.parameters(), lr=0.01)
        return rt.fit(model, mse, sum_task(6), opt, max_norm=1.0).loss

    saved = torch.are_deterministic_algorithms_enabled()
    try:
        assert run() == run()
    finally:
        torch.use_deterministic_algorithms(saved)


def test_an_exhausted_generator_is_reported():
    model = LastStepRegressor()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    with pytest.raises(ValueError, match="epoch 1 had no batches"):
        rt.fit(model, mse, iter(sum_task(2)), opt, epochs=2)
