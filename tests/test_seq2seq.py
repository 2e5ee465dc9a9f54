"""The torch encoder-decoder: padding never changes a result; decoding through rnnkit.decode."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from rnnkit.decode import beam_search, greedy  # noqa: E402
from rnnkit.tasks.copy import copy_task  # noqa: E402
from rnnkit.tasks.tokens import END, START, TokenVocab  # noqa: E402
from rnnkit.torch.models.seq2seq import Seq2Seq, sequence_loss  # noqa: E402
from rnnkit.torch.tasks.seq2seq import make_batch  # noqa: E402

VOCAB = TokenVocab("abcde")
KINDS = [dict(condition="init"), dict(condition="input"), dict(condition="both"),
         dict(attention="additive"), dict(attention="multiplicative")]


def model(**kw):
    torch.manual_seed(0)
    return Seq2Seq(len(VOCAB), len(VOCAB), 5, 6, dtype=torch.float64, **kw)


@pytest.mark.parametrize("kw", KINDS, ids=lambda k: "-".join(k.values()))
def test_padded_batch_equals_one_by_one(rng, kw):
    m = model(length_model=True, max_len=8, **kw)
    pairs = copy_task(4, rng, 1, 5, alphabet="abcde")
    pairs[0] = ("abcdea", "eaedcb")  # one long, the others shorter: padding on both sides

    def loss_and_grads(batch):
        m.zero_grad()
        logits, _ = m(batch.src, batch.src_mask, batch.tgt_in)
        loss = sequence_loss(logits, batch.tgt_out, batch.tgt_mask, reduction="sum")
        loss.backward()
        return loss.item(), [p.grad.clone() for p in m.parameters() if p.grad is not None]

    full, grads = loss_and_grads(make_batch(pairs, VOCAB, VOCAB))
    parts = [loss_and_grads(make_batch([p], VOCAB, VOCAB)) for p in pairs]
    assert full == pytest.approx(sum(lo for lo, _ in parts), rel=1e-12)
    for k, g in enumerate(grads):
        torch.testing.assert_close(g, sum(gr[k] for _, gr in parts), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kw", KINDS[2:], ids=lambda k: "-".join(k.values()))
def test_library_decoders_agree_with_the_batch_decoder(rng, kw):
    m = model(**kw).eval()
    pairs = copy_task(3, rng, 2, 5, alphabet="abcde")
    batch = make_batch(pairs, VOCAB, VOCAB)
    ids, _ = m.greedy_batch(batch.src, batch.src_mask, 7)
    for n in range(3):
        state = m.start_state(batch.src[n : n + 1], batch.src_mask[n : n + 1])
        g = greedy(m.step, state, START, END, 7)
        b = beam_search(m.step, state, START, END, 1, 7)[0]
        row = [t for t in ids[n].tolist() if t != 0]
        assert list(g.tokens) == row == list(b.tokens)
        # the score is the model's log-probability of the sequence under teacher forcing
        tgt_in = torch.tensor([[START, *g.tokens[:-1]]])
        logits, _ = m(batch.src[n : n + 1], batch.src_mask[n : n + 1], tgt_in)
        lp = torch.log_softmax(logits, -1)[0, np.arange(len(g.tokens)), list(g.tokens)].sum()
        assert g.log_prob == pytest.approx(lp.item(), rel=1e-10)


def test_fit_moves_a_namedtuple_batch_and_learns(rng):
    """fit keeps a Batch a Batch (its fields by name) and a few steps lower the loss."""
    from rnnkit.torch import fit
    from rnnkit.torch.train import _to

    batch = make_batch(copy_task(8, rng, 2, 4, alphabet="abcde"), VOCAB, VOCAB)
    moved = _to(batch, torch.device("cpu"))
    assert type(moved) is type(batch) and moved.tgt_mask is not None
    m = Seq2Seq(len(VOCAB), len(VOCAB), 8, 16, attention="additive")
    opt = torch.optim.Adam(m.parameters(), lr=1e-2)
    hist = fit(m, lambda mod, b: mod.loss(b), [batch] * 30, opt, max_norm=1.0)
    assert hist.loss[-1] < 0.5 * hist.loss[0]
