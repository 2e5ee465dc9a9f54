"""The adding-problem helpers of the torch path: shapes, the loss, and fresh batches."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from rnnkit.tasks.adding import adding_problem  # noqa: E402
from rnnkit.torch import GRU, LSTM  # noqa: E402
from rnnkit.torch.tasks.adding import LastStepRegressor, adding_batches, mse_loss  # noqa: E402


@pytest.mark.parametrize("rnn", [lambda: LSTM(2, 5), lambda: GRU(2, 5, fast=True)])
def test_regressor_reads_the_last_hidden_state(rnn):
    torch.manual_seed(0)
    model = LastStepRegressor(rnn())
    x = torch.from_numpy(adding_problem(3, 7, np.random.default_rng(0))[0])
    pred = model(x)
    assert pred.shape == (3,)
    h, _ = model.rnn(x)
    want = h[:, -1] @ model.readout.weight[0] + model.readout.bias[0]
    torch.testing.assert_close(pred, want)


def test_mse_loss_is_the_mean_squared_error():
    class Fixed(torch.nn.Module):
        def forward(self, x):
            return x.sum(dim=(1, 2))

    x = torch.ones(4, 2, 1)
    y = torch.tensor([0.0, 1.0, 2.0, 3.0])
    assert float(mse_loss(Fixed(), (x, y))) == pytest.approx((4 + 1 + 0 + 1) / 4)


def test_adding_batches_are_the_generator_draws_in_order():
    batches = adding_batches(3, 4, 6, np.random.default_rng(1))
    rng = np.random.default_rng(1)
    assert len(batches) == 3
    for x, y in batches:
        want_x, want_y = adding_problem(4, 6, rng)
        assert x.shape == (4, 6, 2) and y.shape == (4,)
        np.testing.assert_array_equal(x.numpy(), want_x)
        np.testing.assert_array_equal(y.numpy(), want_y)
    with pytest.raises(TypeError, match="rng: expected a numpy.random.Generator"):
        adding_batches(1, 4, 6, 0)


def test_input_gradient_norms_match_autograd_step_by_step():
    from rnnkit.torch.tasks.adding import input_gradient_norms

    torch.manual_seed(0)
    model = LastStepRegressor(LSTM(2, 4)).double()
    x, y = (torch.from_numpy(a) for a in adding_problem(3, 6, np.random.default_rng(2),
                                                         dtype=np.float64))
    norms = input_gradient_norms(model, x, y)
    assert norms.shape == (6,) and all(p.grad is None for p in model.parameters())
    for t in range(6):  # the loss as a function of step t's inputs alone, by finite differences
        grad = np.zeros((3, 2))
        for n in range(3):
            for d in range(2):
                e = torch.zeros_like(x)
                e[n, t, d] = 1e-6
                with torch.no_grad():
                    diff = mse_loss(model, (x + e, y)) - mse_loss(model, (x - e, y))
                grad[n, d] = float(diff) / 2e-6
        assert norms[t] == pytest.approx(np.linalg.norm(grad, axis=1).mean(), rel=1e-6)
    with pytest.raises(ValueError, match=r"y: expected a tensor \(3,\)"):
        input_gradient_norms(model, x, y[:2])
