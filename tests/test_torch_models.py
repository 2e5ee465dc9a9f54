"""The sequence models' contract: both paths train the same parameters, states carry,
bad inputs are refused with messages that name the argument."""

import pytest

torch = pytest.importorskip("torch")

import rnnkit.torch as rt  # noqa: E402

MODELS = {"rnn": rt.RNN, "lstm": rt.LSTM, "gru": rt.GRU}
F64 = torch.float64


def make(kind, fast, seed=0, L=2, dtype=F64):
    torch.manual_seed(seed)
    return MODELS[kind](3, 4, num_layers=L, fast=fast, dtype=dtype)


@pytest.mark.parametrize("kind", MODELS)
def test_gradients_reach_the_same_parameters_on_both_paths(kind):
    torch.manual_seed(1)
    x, w = torch.randn(2, 5, 3, dtype=F64), torch.randn(2, 5, 4, dtype=F64)
    grads = {}
    for fast in (False, True):
        model = make(kind, fast)
        out, _ = model(x)
        (out * w).sum().backward()
        grads[fast] = {n: p.grad for n, p in model.named_parameters()}
        assert all(g is not None and torch.count_nonzero(g) > 0 for g in grads[fast].values())
    assert grads[False].keys() == grads[True].keys()
    for name in grads[False]:
        torch.testing.assert_close(grads[True][name], grads[False][name], rtol=1e-10, atol=0)


@pytest.mark.parametrize("kind", MODELS)
def test_fast_training_updates_the_models_own_parameters(kind):
    model = make(kind, fast=True)
    names = {"rnn": ["Wx", "Wh", "b"], "lstm": ["Wx", "Wh", "b"], "gru": ["Wx", "Wh", "b", "b_hn"]}
    # the torch.nn template is not a submodule: no extra parameters or state
    expected = [f"cells.{k}.{n}" for k in range(2) for n in names[kind]]
    assert [n for n, _ in model.named_parameters()] == expected
    assert list(model.state_dict()) == expected
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    out, _ = model(torch.randn(2, 5, 3, dtype=F64))
    out.pow(2).sum().backward()
    opt.step()
    for n, p in model.named_parameters():
        assert not torch.equal(p, before[n]), f"{n} did not move"


@pytest.mark.parametrize("fast", [False, True])
@pytest.mark.parametrize("kind", MODELS)
def test_carrying_the_final_state_equals_one_long_run(kind, fast):
    """Truncated BPTT's forward: two chunks with the state carried = one sequence."""
    model = make(kind, fast)
    x = torch.randn(2, 6, 3, dtype=F64)
    out, final = model(x)
    out1, state = model(x[:, :3])
    out2, final2 = model(x[:, 3:], state)
    torch.testing.assert_close(torch.cat((out1, out2), 1), out, rtol=1e-12, atol=1e-14)
    for a, b in zip(final2 if kind == "lstm" else (final2,),
                    final if kind == "lstm" else (final,), strict=True):
        assert a.shape == (2, 2, 4)
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-14)
    # the top layer's final h is the last output
    h_n = final[0] if kind == "lstm" else final
    torch.testing.assert_close(h_n[-1], out[:, -1], rtol=0, atol=0)


@pytest.mark.parametrize("kind", MODELS)
def test_dtype_conversion_moves_the_fast_path_too(kind):
    model = make(kind, fast=True, dtype=torch.float32).double()
    x = torch.randn(2, 3, 3, dtype=F64)
    out, _ = model(x)
    assert out.dtype == F64
    model.fast = False
    torch.testing.assert_close(model(x)[0], out, rtol=1e-12, atol=1e-14)


def test_bad_inputs_are_refused_with_clear_messages():
    model = rt.LSTM(3, 4, num_layers=2, dtype=F64)
    x = torch.randn(2, 5, 3, dtype=F64)
    with pytest.raises(ValueError, match=r"x: expected shape \(N, T, D\).*axis 2 \(D\)"):
        model(torch.randn(2, 5, 6, dtype=F64))
    with pytest.raises(ValueError, match=r"x: expected 3-D"):
        model(x[0, 0])  # (T, D) is accepted unbatched, as torch.nn does; (D,) is not
    with pytest.raises(TypeError, match=r"x: expected dtype torch.float64"):
        model(x.float())
    h0 = torch.zeros(2, 2, 4, dtype=F64)
    with pytest.raises(TypeError, match=r"state: expected a tuple \(h0, c0\)"):
        model(x, h0)
    with pytest.raises(ValueError, match=r"c0: expected shape \(L, N, H\)"):
        model(x, (h0, torch.zeros(1, 2, 4, dtype=F64)))
    # N comes from the state when one is given: the batch of x is what disagrees
    with pytest.raises(ValueError, match=r"x: expected shape \(N, T, D\) = \(3, \?, 3\)"):
        rt.GRU(3, 4, dtype=F64)(x, torch.zeros(1, 3, 4, dtype=F64))
    with pytest.raises(ValueError, match="fast: LeakyCell has no fused"):
        rt.Leaky(3, 4, fast=True)
    with pytest.raises(ValueError, match="at least one time step"):
        model(x[:, :0])
    with pytest.raises(ValueError, match="num_layers"):
        rt.RNN(3, 4, num_layers=0)
    with pytest.raises(ValueError, match="hidden_size"):
        rt.RNNCell(3, 0)


def test_cells_check_shapes_at_the_call():
    cell = rt.LSTMCell(3, 4)
    x, h = torch.zeros(2, 3), torch.zeros(2, 4)
    with pytest.raises(ValueError, match=r"x: expected shape \(N, D\).*axis 1 \(D\)"):
        cell(torch.zeros(2, 5), (h, h))
    with pytest.raises(ValueError, match=r"c_prev: expected shape \(N, H\)"):
        cell(x, (h, torch.zeros(3, 4)))
    with pytest.raises(TypeError, match=r"state: expected a tuple \(h_prev, c_prev\)"):
        cell(x, h)
    with pytest.raises(ValueError, match=r"h_prev: expected shape \(N, H\)"):
        rt.GRUCell(3, 4)(x, torch.zeros(2, 5))


@pytest.mark.parametrize("fast", [False, True])
def test_coupled_lstm_forget_bias_and_shapes(fast):
    model = rt.CoupledLSTM(2, 3, forget_bias=1.5, fast=fast)
    assert torch.equal(model.cells[0].b[:3].detach(), torch.full((3,), 1.5))
    assert sum(p.numel() for p in model.parameters()) == 3 * 3 * (2 + 3 + 1)
    out, (h_n, c_n) = model(torch.randn(4, 6, 2))
    assert out.shape == (4, 6, 3) and h_n.shape == c_n.shape == (1, 4, 3)
    with pytest.raises(ValueError, match="x: expected shape"):
        model(torch.randn(4, 6, 3))


@pytest.mark.parametrize("model", ["Leaky", "LNRNN"])
def test_twins_without_a_kernel_start_where_their_numpy_cell_is_neutral(model):
    """Leaky starts at tau (1 by default: the vanilla RNN), layer norm at gain 1 and shift 0."""
    m = getattr(rt, model)(3, 4, num_layers=2, dtype=F64)
    cell = m.cells[1]
    if model == "Leaky":
        assert torch.equal(cell.tau.detach(), torch.ones(4, dtype=F64))
        assert torch.equal(rt.Leaky(3, 4, tau=5).cells[0].tau.detach(), torch.full((4,), 5.0))
        with pytest.raises(ValueError, match="tau: expected a number >= 1"):
            rt.Leaky(3, 4, tau=0.5)
    else:
        assert torch.equal(cell.gamma.detach(), torch.ones(4, dtype=F64))
        assert torch.equal(cell.beta.detach(), torch.zeros(4, dtype=F64))
    out, h_n = m(torch.randn(2, 5, 3, dtype=F64))
    assert out.shape == (2, 5, 4) and h_n.shape == (2, 2, 4)
    assert torch.equal(h_n[1], out[:, -1])
