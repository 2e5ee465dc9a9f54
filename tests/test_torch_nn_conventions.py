"""rnnkit.torch's sequence models take torch.nn's input forms: batch_first, unbatched, NaN guard.

Compared with ``torch.nn.RNN/LSTM/GRU`` themselves, holding the same weights (float64).
"""

import pytest

torch = pytest.importorskip("torch")

import rnnkit.torch as rt  # noqa: E402

KINDS = {"rnn": (rt.RNN, torch.nn.RNN), "lstm": (rt.LSTM, torch.nn.LSTM),
         "gru": (rt.GRU, torch.nn.GRU)}


def pair(kind, fast, batch_first):
    """An rnnkit.torch model and the torch.nn module with the same weights."""
    torch.manual_seed(0)
    ours = KINDS[kind][0](3, 4, 2, batch_first=batch_first, fast=fast, dtype=torch.float64)
    ref = KINDS[kind][1](3, 4, 2, batch_first=batch_first, dtype=torch.float64)
    ref.load_state_dict(rt.to_torch_nn(ours).state_dict())
    return ours, ref


def state_like(kind, *shape):
    s = torch.randn(*shape, dtype=torch.float64)
    return (s, torch.randn(*shape, dtype=torch.float64)) if kind == "lstm" else s


def test_batch_first_is_rnnkits_default_and_stated():
    assert rt.LSTM(3, 4).batch_first is True
    assert "batch_first=False" in repr(rt.LSTM(3, 4, batch_first=False))


@pytest.mark.parametrize("fast", [False, True])
@pytest.mark.parametrize("kind", KINDS)
def test_time_major_input_matches_torch_nn(kind, fast):
    ours, ref = pair(kind, fast, batch_first=False)
    x = torch.randn(5, 2, 3, dtype=torch.float64)  # (T, N, D)
    state = state_like(kind, 2, 2, 4)  # (L, N, H) either way
    out, final = ours(x, state)
    out_ref, final_ref = ref(x, state)
    assert out.shape == (5, 2, 4)
    torch.testing.assert_close(out, out_ref)
    torch.testing.assert_close(final, final_ref)


@pytest.mark.parametrize("batch_first", [True, False])
@pytest.mark.parametrize("fast", [False, True])
@pytest.mark.parametrize("kind", KINDS)
def test_unbatched_input_matches_torch_nn(kind, fast, batch_first):
    ours, ref = pair(kind, fast, batch_first)
    x = torch.randn(5, 3, dtype=torch.float64)  # (T, D)
    for state in (None, state_like(kind, 2, 4)):  # (L, H)
        out, final = ours(x, state)
        out_ref, final_ref = ref(x, state)
        assert out.shape == (5, 4)
        torch.testing.assert_close(out, out_ref)
        torch.testing.assert_close(final, final_ref)


def test_the_teaching_path_rejects_nan_and_says_where():
    model = rt.LSTM(3, 4)
    x = torch.randn(2, 5, 3)
    x[1, 2, 0] = float("nan")
    with pytest.raises(ValueError, match=r"x: expected finite values, got 1 NaN or inf entries, "
                                         r"the first at \(n, t, d\) = \(1, 2, 0\)"):
        model(x)
    h0 = torch.zeros(1, 2, 4)
    h0[0, 1, 3] = float("inf")
    with pytest.raises(ValueError, match=r"state\[0\]: .* \(layer, n, h\) = \(0, 1, 3\)"):
        model(torch.randn(2, 5, 3), (h0, torch.zeros(1, 2, 4)))
