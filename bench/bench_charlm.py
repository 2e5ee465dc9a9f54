"""Benchmark: character language models on Shakespeare for the same wall-clock budget.

Three models train on the same split of ``rnnkit.data.load_shakespeare()`` (the last 10% held
out) for ``--budget`` seconds each, and are scored on the same 200,000 held-out characters:

- ``minchar``: an unbatched vanilla RNN in the style of Karpathy's min-char-rnn, written here:
  column vectors, one sequence of 25 characters at a time, Adagrad, float64;
- ``numpy-rnn``: ``rnnkit.models.charlm.CharRNN``, the NumPy reference, batched (N streams of
  truncated BPTT), Adam, gradient clipping, float32;
- ``torch-lstm``: ``rnnkit.torch.models.charlm.CharLM``, an LSTM through ``torch.nn``'s fused
  kernel.

Each model runs in its own process (two thread pools in one process fight over the cores), one
after the other, and the table reports training characters per second and validation bits per
character beside the unigram and bigram baselines. Usage::

    python bench/bench_charlm.py                  # 120 s per model, about 7 minutes in all
    python bench/bench_charlm.py --budget 30 --models torch-lstm
    python bench/bench_charlm.py --threads 2      # BLAS / torch threads per process (default 1)

Floor asserted at the end (with the default budget): the torch LSTM reaches <= 2.5 bits/char.
"""

import argparse
import json
import math
import os
import subprocess
import sys
import time

import numpy as np

MODELS = ("minchar", "numpy-rnn", "torch-lstm")
EVAL_CHARS = 200_000
FLOOR = 2.5  # bits/char the torch LSTM must reach in 120 s


def load_split():
    from rnnkit.data import Vocab, load_shakespeare, train_val_split

    text = load_shakespeare()
    vocab = Vocab.from_text(text)
    train, val = train_val_split(vocab.encode(text), val_fraction=0.1)
    return vocab, train, val[:EVAL_CHARS]


# ------------------------------------------------------------ min-char-rnn style baseline


class MinCharRNN:
    """One sequence at a time, column vectors: h = tanh(Wxh x + Whh h + bh), y = Why h + by."""

    def __init__(self, V, H, rng):
        self.Wxh = 0.01 * rng.standard_normal((H, V))
        self.Whh = 0.01 * rng.standard_normal((H, H))
        self.Why = 0.01 * rng.standard_normal((V, H))
        self.bh, self.by = np.zeros((H, 1)), np.zeros((V, 1))
        self.names = ("Wxh", "Whh", "Why", "bh", "by")
        self.memory = {n: np.zeros_like(getattr(self, n)) for n in self.names}  # Adagrad sums

    def loss_and_grads(self, inputs, targets, h):
        """Forward and backward over one chunk; return loss (nats, summed), grads, last h."""
        V = self.Wxh.shape[1]
        xs, hs, ps = {}, {-1: h}, {}
        loss = 0.0
        for t, (i, j) in enumerate(zip(inputs, targets, strict=True)):
            xs[t] = np.zeros((V, 1))
            xs[t][i] = 1.0  # one-hot input
            hs[t] = np.tanh(self.Wxh @ xs[t] + self.Whh @ hs[t - 1] + self.bh)
            y = self.Why @ hs[t] + self.by
            e = np.exp(y - y.max())
            ps[t] = e / e.sum()  # softmax
            loss -= math.log(ps[t][j, 0])
        g = {n: np.zeros_like(getattr(self, n)) for n in self.names}
        dh_next = np.zeros_like(h)
        for t in reversed(range(len(inputs))):
            dy = ps[t].copy()
            dy[targets[t]] -= 1  # backprop into the scores: p - onehot
            g["Why"] += dy @ hs[t].T
            g["by"] += dy
            dh = self.Why.T @ dy + dh_next  # from the output and from step t+1
            da = (1 - hs[t] ** 2) * dh  # backprop through tanh
            g["bh"] += da
            g["Wxh"] += da @ xs[t].T
            g["Whh"] += da @ hs[t - 1].T
            dh_next = self.Whh.T @ da
        for d in g.values():
            np.clip(d, -5, 5, out=d)  # min-char-rnn clips each entry
        return loss, g, hs[len(inputs) - 1]

    def adagrad(self, g, lr):
        for n in self.names:
            m = self.memory[n]
            m += g[n] * g[n]
            getattr(self, n)[...] -= lr * g[n] / np.sqrt(m + 1e-8)

    def nll(self, ids):
        """Mean NLL (nats) of every character of ids after the first, from h = 0."""
        h = np.zeros_like(self.bh)
        total = 0.0
        for i, j in zip(ids[:-1], ids[1:], strict=True):
            h = np.tanh(self.Wxh[:, i : i + 1] + self.Whh @ h + self.bh)
            y = self.Why @ h + self.by
            m = y.max()
            total -= y[j, 0] - m - math.log(np.exp(y - m).sum())
        return total / (len(ids) - 1)


def run_minchar(budget, train, val, V, H=100, seq=25, lr=0.1):
    model = MinCharRNN(V, H, np.random.default_rng(0))
    steps, p, h = 0, 0, np.zeros((H, 1))
    start = time.perf_counter()
    while time.perf_counter() - start < budget:
        if p + seq + 1 > len(train):
            p, h = 0, np.zeros((H, 1))  # wrap around: start again from a zero state
        _, g, h = model.loss_and_grads(train[p : p + seq], train[p + 1 : p + seq + 1], h)
        model.adagrad(g, lr)
        p += seq
        steps += 1
    seconds = time.perf_counter() - start
    n_params = sum(getattr(model, n).size for n in model.names)
    return {"steps": steps, "chars": steps * seq, "seconds": seconds, "params": n_params,
            "val_nats": model.nll(val), "config": f"H={H}, 1 x {seq}, Adagrad {lr}"}


# ------------------------------------------------------------------ the two library models


def run_numpy_rnn(budget, train, val, V, H=256, N=32, T=64, lr=2e-3):
    from rnnkit.data import StreamBatches
    from rnnkit.models.charlm import CharRNN, train_charlm
    from rnnkit.optim import Adam

    model = CharRNN(V, H, "rnn", D=64, rng=np.random.default_rng(0), dtype=np.float32)
    start = time.perf_counter()
    losses = train_charlm(model, StreamBatches(train, N, T), Adam(lr=lr), max_norm=5.0,
                          seconds=budget)
    seconds = time.perf_counter() - start
    return {"steps": len(losses), "chars": len(losses) * N * T, "seconds": seconds,
            "params": sum(p.size for p in model.params.values()),
            "val_nats": model.evaluate(val, N=50, T=200),
            "config": f"H={H}, D=64, {N} x {T}, Adam {lr}, float32"}


def run_torch_lstm(budget, train, val, V, H=256, N=32, T=64, lr=5e-3):
    import torch

    from rnnkit.data import StreamBatches
    from rnnkit.torch.models.charlm import CharLM, train_charlm

    torch.manual_seed(0)
    model = CharLM(V, H, "lstm", D=64)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    start = time.perf_counter()
    history = train_charlm(model, StreamBatches(train, N, T), opt, max_norm=5.0, seconds=budget)
    seconds = time.perf_counter() - start
    return {"steps": len(history.loss), "chars": len(history.loss) * N * T, "seconds": seconds,
            "params": sum(p.numel() for p in model.parameters()),
            "val_nats": model.evaluate(val, N=50, T=200),
            "config": f"H={H}, D=64, {N} x {T}, Adam {lr}, float32, {torch.get_num_threads()} thr"}


RUNNERS = {"minchar": run_minchar, "numpy-rnn": run_numpy_rnn, "torch-lstm": run_torch_lstm}


def child(name, budget, threads):
    if name == "torch-lstm":
        import torch

        torch.set_num_threads(threads)
    vocab, train, val = load_split()
    result = RUNNERS[name](budget, train, val, len(vocab))
    print(json.dumps(result))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=120.0, help="seconds of training per model")
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated subset")
    parser.add_argument("--threads", type=int, default=1, help="BLAS / torch threads per process")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child, args.budget, args.threads)

    from rnnkit.models.charlm import bigram_bpc, bits_per_char, unigram_bpc

    vocab, train, val = load_split()
    V = len(vocab)
    print(f"Shakespeare: train {len(train):,} characters, validation {len(val):,}, V = {V}; "
          f"{args.budget:.0f} s per model, {args.threads} thread(s), {os.cpu_count()} CPUs")
    env = {**os.environ, **{k: str(args.threads) for k in
                            ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}}
    results = {}
    for name in args.models.split(","):
        if name not in RUNNERS:
            raise SystemExit(f"--models: unknown model {name!r}; choose from {MODELS}")
        cmd = [sys.executable, __file__, "--child", name, "--budget", str(args.budget),
               "--threads", str(args.threads)]
        out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
        results[name] = json.loads(out.strip().splitlines()[-1])
        r = results[name]
        print(f"  {name}: done, {r['steps']} steps, {bits_per_char(r['val_nats']):.3f} bits/char",
              flush=True)

    print(f"\n{'model':12s} {'params':>8s} {'steps':>7s} {'chars/s':>9s} {'val bits/char':>14s}"
          f"  configuration")
    for name in ("unigram", "bigram"):
        bpc = (unigram_bpc if name == "unigram" else bigram_bpc)(train, val, V)
        print(f"{name:12s} {'':>8s} {'':>7s} {'':>9s} {bpc:14.3f}  counts, add-one smoothing")
    for name, r in results.items():
        print(f"{name:12s} {r['params']:8,d} {r['steps']:7d} {r['chars'] / r['seconds']:9,.0f} "
              f"{bits_per_char(r['val_nats']):14.3f}  {r['config']}")
    if "torch-lstm" in results and args.budget >= 120:
        bpc = bits_per_char(results["torch-lstm"]["val_nats"])
        assert bpc <= FLOOR, f"torch LSTM: {bpc:.3f} bits/char, above the floor {FLOOR}"
        print(f"\nfloor met: torch LSTM {bpc:.3f} <= {FLOOR} bits/char in {args.budget:.0f} s")


if __name__ == "__main__":
    main()
