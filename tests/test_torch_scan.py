"""rnnkit.torch.scan and the minGRU: values equal the NumPy loop, gradients equal autograd's loop.

Values are compared with ``rnnkit.scan``'s loop (NumPy, independent code); gradients of each
parallel method with torch autograd through the plain loop and with finite differences
(``torch.autograd.gradcheck``). The minGRU's parallel forms (log space, doubling) are compared
with its sequential form, values and every gradient, in float64 (TF32 off, conftest).
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the torch scan and the minGRU need PyTorch")

from rnnkit.scan import linear_scan as np_linear_scan  # noqa: E402
from rnnkit.torch.models.mingru import MinGRU, MinGRULM  # noqa: E402
from rnnkit.torch.scan import linear_scan, log_space_scan  # noqa: E402

LENGTHS = (1, 2, 3, 7, 33)
N, H = 3, 4


def gated(T, dtype=torch.float64, seed=0):
    """``a`` near 0 and near 1 with both signs, b, and a nonzero h0, as leaf tensors."""
    g = torch.Generator().manual_seed(seed + T)
    near0 = 1e-4 + 1e-2 * torch.rand(N, T, H, generator=g, dtype=torch.float64)
    near1 = 1 - 1e-4 * torch.rand(N, T, H, generator=g, dtype=torch.float64)
    a = torch.where(torch.rand(N, T, H, generator=g) < 0.5, near0, near1)
    a = a * torch.where(torch.rand(N, T, H, generator=g) < 0.3, -1.0, 1.0).double()
    b = torch.randn(N, T, H, generator=g, dtype=torch.float64)
    h0 = torch.rand(N, H, generator=g, dtype=torch.float64) + 0.5
    return [x.to(dtype).requires_grad_() for x in (a, b, h0)]


@pytest.mark.parametrize("T", LENGTHS)
@pytest.mark.parametrize("dtype, tol", [(torch.float64, 1e-11), (torch.float32, 2e-5)])
@pytest.mark.parametrize("method", ["sequential", "doubling", "log"])
def test_values_equal_the_numpy_loop(method, dtype, tol, T):
    a, b, h0 = gated(T, dtype)
    want = np_linear_scan(*(x.detach().double().numpy() for x in (a, b, h0)), "sequential")
    h = linear_scan(a, b, h0, method)
    assert h.shape == (N, T, H) and h.dtype == dtype
    err = np.abs(h.detach().double().numpy() - want).max() / max(1.0, np.abs(want).max())
    assert err < tol, f"{method} {dtype} T={T}: {err:.2e}"


@pytest.mark.parametrize("T", LENGTHS)
@pytest.mark.parametrize("method", ["doubling", "log"])
def test_gradients_equal_the_loop(method, T):
    a, b, h0 = gated(T)
    w = torch.randn(N, T, H, dtype=torch.float64, generator=torch.Generator().manual_seed(9))
    want = torch.autograd.grad((linear_scan(a, b, h0, "sequential") * w).sum(), (a, b, h0))
    got = torch.autograd.grad((linear_scan(a, b, h0, method) * w).sum(), (a, b, h0))
    for name, x, y in zip(("da", "db", "dh0"), got, want, strict=True):
        err = float((x - y).abs().max() / max(1.0, float(y.abs().max())))
        assert err < 1e-10, f"{method} T={T} {name}: {err:.2e}"


@pytest.mark.parametrize("method", ["doubling", "log"])
def test_gradcheck(method):
    a, b, h0 = gated(7)
    assert torch.autograd.gradcheck(lambda *x: linear_scan(*x, method), (a, b, h0))


def test_log_space_scan_without_h0_starts_from_zero():
    a, b, _ = gated(7)
    a, b = a.detach().abs(), b.detach().abs()
    want = linear_scan(a, b, torch.zeros(N, H, dtype=torch.float64), "sequential")
    torch.testing.assert_close(log_space_scan(a.log(), b.log()), want, rtol=1e-12, atol=0)


def test_cumprod_underflows_where_log_does_not():
    a = torch.full((1, 40, 2), 0.05)
    b, h0 = torch.ones(1, 40, 2), torch.ones(1, 2)
    want = linear_scan(a, b, h0, "sequential")
    assert not bool(torch.isfinite(linear_scan(a, b, h0, "cumprod")).all())
    torch.testing.assert_close(linear_scan(a, b, h0, "log"), want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("call, match", [
    (lambda a, b, h0: linear_scan(a, b, h0, "scanny"), "method: expected one of"),
    (lambda a, b, h0: linear_scan(a[0], b, h0), r"^a: expected 3-D"),
    (lambda a, b, h0: linear_scan(a, b[:, :1], h0), r"^b: expected shape"),
    (lambda a, b, h0: linear_scan(a, b, h0[:1]), r"^h0: expected shape"),
    (lambda a, b, h0: linear_scan(a * 0, b, h0, "log"), r"^a: method='log' needs nonzero"),
    (lambda a, b, h0: MinGRU(4, 4)(b, h0=-h0.abs()), r"^h0: expected a positive"),
    (lambda a, b, h0: MinGRU(5, 4)(b), r"^x: expected a tensor of shape"),
    (lambda a, b, h0: MinGRU(4, 4)(b, mode="fast"), r"^mode: expected"),
    (lambda a, b, h0: MinGRU(4, 4, scan="cumprod"), r"^scan: expected"),
])
def test_bad_input_names_the_argument(call, match):
    a, b, h0 = (x.detach() for x in gated(5))
    with pytest.raises((ValueError, TypeError), match=match):
        call(a, b, h0)


@pytest.mark.parametrize("T", LENGTHS)
@pytest.mark.parametrize("scan", ["log", "doubling"])
@pytest.mark.parametrize("with_h0", [False, True])
def test_mingru_parallel_equals_sequential(scan, T, with_h0):
    torch.manual_seed(T)
    layer = MinGRU(5, H, scan=scan, dtype=torch.float64)
    with torch.no_grad():  # gates near 0 and near 1 as well as in between
        layer.b[:H] = torch.linspace(-9, 9, H, dtype=torch.float64)
    x = torch.randn(N, T, 5, dtype=torch.float64, requires_grad=True)
    h0 = (torch.rand(N, H, dtype=torch.float64) + 0.1).requires_grad_() if with_h0 else None
    w = torch.randn(N, T, H, dtype=torch.float64)
    inputs = [x, *layer.parameters()] + ([h0] if with_h0 else [])
    out = {}
    for mode in ("sequential", "parallel"):
        h = layer(x, h0, mode=mode)
        out[mode] = (h, torch.autograd.grad((h * w).sum(), inputs))
    torch.testing.assert_close(out["parallel"][0], out["sequential"][0], rtol=1e-10, atol=1e-12)
    for got, want in zip(out["parallel"][1], out["sequential"][1], strict=True):
        torch.testing.assert_close(got, want, rtol=1e-9, atol=1e-11)


def test_mingru_log_form_survives_saturated_gates_in_float32():
    """z = sigmoid(40) is 1.0 in float32, so 1 - z = 0; the log form never forms it.

    Its price: log A_t reaches -40 * 50 = -2000, where a float32 ulp is 1.2e-4, and the
    states come back with that relative error (the loop's are exact to rounding).
    """
    layer = MinGRU(2, 3)
    with torch.no_grad():
        layer.b[:3] = 40.0
    x = torch.randn(2, 50, 2)
    h = layer(x)
    assert bool(torch.isfinite(h).all())
    torch.testing.assert_close(h, layer(x, mode="sequential"), rtol=5e-4, atol=0)


def test_mingru_lm_parallel_equals_sequential():
    torch.manual_seed(0)
    model = MinGRULM(11, 8, num_layers=2).double()
    ids = torch.randint(0, 11, (2, 17))
    torch.testing.assert_close(model(ids), model(ids, mode="sequential"), rtol=1e-10, atol=1e-12)
