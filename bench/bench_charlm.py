"""Benchmark: character language models on Shakespeare for the same wall-clock budget.

Four models train on the same split of ``rnnkit.data.load_shakespeare()`` (the last 10% held
out) for ``--budget`` seconds each, and are scored on the same 200,000 held-out characters:

- ``minchar``: an unbatched vanilla RNN in the style of Karpathy's min-char-rnn, written here:
  column vectors, one sequence of 25 characters at a time, Adagrad, float64;
- ``numpy-rnn``: ``rnnkit.models.charlm.CharRNN``, the NumPy reference, batched (N streams of
  truncated BPTT), Adam, gradient clipping, float32;
- ``numpy-lstm``: the same NumPy ``CharRNN`` with ``cell="lstm"`` (rnnkit.cells.lstm);
- ``torch-lstm``: ``rnnkit.torch.models.charlm.CharLM``, an LSTM through ``torch.nn``'s fused
  kernel (the configuration ``bench/sweep_charlm.py`` favoured; bench/README.md says why);
- ``torch-rnn``: the same ``CharLM`` with a vanilla RNN cell, same width and windows, a lower
  rate (the vanilla-beside-LSTM comparison of book chapter 5, at the full budget).

Both LSTMs decay the learning rate with the clock (``--schedule``, default cosine: the rate
falls from ``lr`` to 0 as the budget runs out). Each model runs in its own process (two thread
pools in one process fight over the cores), one after the other. The table reports training
characters per second and validation bits per character beside the unigram and bigram
baselines and two compressors on the same held-out slice (bzip2 and xz, bits per character
of the compressed bytes), each twice: alone, and with a head start, charged
``8 * (|C(P + v)| - |C(P)|) / |v|`` for the held-out text v once it has read the training
text P before it (xz all of it; bzip2 the last 500,000 characters, since it compresses 900 kB
blocks independently and P must share v's block to help). Usage::

    python bench/bench_charlm.py                  # 120 s per model, about 9 minutes in all
    python bench/bench_charlm.py --budget 30 --models torch-lstm
    python bench/bench_charlm.py --threads 2      # BLAS / torch threads per process (default 1)

It ends with a floor table (ok / missed), checked with the default 120 s budget: the torch
LSTM at or below 2.3 bits/char, and the NumPy LSTM within 0.15 bits/char of it.
"""

import argparse
import bz2
import json
import lzma
import math
import os
import subprocess
import sys
import time

import numpy as np

MODELS = ("minchar", "numpy-rnn", "numpy-lstm", "torch-lstm", "torch-rnn")
EVAL_CHARS = 200_000
FLOOR = 2.3  # bits/char the torch LSTM must reach in 120 s (the goal beyond it: 2.0)
NUMPY_GAP = 0.15  # the NumPy LSTM within this many bits/char of the torch one


def load_split():
    from rnnkit.data import Vocab, load_shakespeare, train_val_split

    text = load_shakespeare()
    vocab = Vocab.from_text(text)
    train, val = train_val_split(vocab.encode(text), val_fraction=0.1)
    return vocab, train, val[:EVAL_CHARS]


BZIP2_PREFIX = 500_000  # training characters bzip2 gets as a head start (one 900 kB block)


def compressed_bpc(val_text, train_text=None):
    """Bits per character of bzip2 (level 9) and xz (preset 9 extreme) on the held-out text.

    With ``train_text``, also each with a head start: charged only for the bytes the held-out
    text adds after the training text (xz: all of it; bzip2: its last ``BZIP2_PREFIX``).
    """
    data = val_text.encode("utf-8")
    compress = {"bzip2": lambda b: bz2.compress(b, 9),
                "xz": lambda b: lzma.compress(b, preset=9 | lzma.PRESET_EXTREME)}
    out = {name: 8 * len(c(data)) / len(val_text) for name, c in compress.items()}
    if train_text is not None:
        for name, prefix in (("bzip2", train_text[-BZIP2_PREFIX:]), ("xz", train_text)):
            head = prefix.encode("utf-8")
            extra = len(compress[name](head + data)) - len(compress[name](head))
            out[f"{name} +{len(prefix) // 1000:,}k"] = 8 * extra / len(val_text)
    return out


def lr_factor(schedule, frac):
    """The learning rate's multiplier when ``frac`` of the time budget has passed."""
    frac = min(max(frac, 0.0), 1.0)
    if schedule == "cosine":  # from 1 down to 0 at the end of the budget
        return 0.5 * (1 + math.cos(math.pi * frac))
    if schedule == "linear":
        return 1 - frac
    return 1.0  # "const"


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


def run_numpy(budget, train, val, V, cell="rnn", H=256, N=32, T=64, lr=2e-3, schedule="const"):
    from rnnkit.data import StreamBatches
    from rnnkit.models.charlm import CharRNN, train_charlm
    from rnnkit.optim import Adam

    model = CharRNN(V, H, cell, D=64, rng=np.random.default_rng(0), dtype=np.float32)
    model.init_output_bias(train)  # start from the training text's character frequencies
    opt, start = Adam(lr=lr), time.perf_counter()

    def decay(step, loss):
        opt.lr = lr * lr_factor(schedule, (time.perf_counter() - start) / budget)

    losses = train_charlm(model, StreamBatches(train, N, T), opt, max_norm=5.0, seconds=budget,
                          callback=decay)
    seconds = time.perf_counter() - start
    return {"steps": len(losses), "chars": len(losses) * N * T, "seconds": seconds,
            "params": sum(p.size for p in model.params.values()),
            "val_nats": model.evaluate(val, N=50, T=200),
            "config": f"{cell} H={H}, D=64, {N} x {T}, Adam {lr} {schedule}, float32"}


def run_numpy_rnn(budget, train, val, V):
    return run_numpy(budget, train, val, V, "rnn", H=256, N=32, T=64, lr=2e-3)


def run_numpy_lstm(budget, train, val, V):
    return run_numpy(budget, train, val, V, "lstm", **NUMPY_LSTM)


def run_torch(budget, train, val, V, cell="lstm", H=256, N=32, T=64, lr=5e-3, layers=1,
              schedule="const"):
    import torch

    from rnnkit.data import StreamBatches
    from rnnkit.torch.models.charlm import CharLM, train_charlm

    torch.manual_seed(0)
    model = CharLM(V, H, cell, D=64, num_layers=layers).init_output_bias(train)
    opt, start = torch.optim.Adam(model.parameters(), lr=lr), time.perf_counter()

    def decay(step, loss):
        for group in opt.param_groups:
            group["lr"] = lr * lr_factor(schedule, (time.perf_counter() - start) / budget)

    history = train_charlm(model, StreamBatches(train, N, T), opt, max_norm=5.0, seconds=budget,
                           callback=decay)
    seconds = time.perf_counter() - start
    return {"steps": len(history.loss), "chars": len(history.loss) * N * T, "seconds": seconds,
            "params": sum(p.numel() for p in model.parameters()),
            "val_nats": model.evaluate(val, N=50, T=200),
            "config": f"{cell} H={H}x{layers}, D=64, {N} x {T}, Adam {lr} {schedule}, float32, "
                      f"{torch.get_num_threads()} thr"}


# The configurations bench/sweep_charlm.py favoured at 120 s on 2 shared cores (bench/README.md).
TORCH_LSTM = {"H": 192, "N": 64, "T": 32, "lr": 1e-2, "schedule": "cosine"}
NUMPY_LSTM = {"H": 128, "N": 32, "T": 32, "lr": 1e-2, "schedule": "cosine"}


TORCH_RNN = {"H": 192, "N": 64, "T": 32, "lr": 3e-3, "schedule": "cosine"}  # book chapter 5


def run_torch_lstm(budget, train, val, V):
    return run_torch(budget, train, val, V, "lstm", **TORCH_LSTM)


def run_torch_rnn(budget, train, val, V):
    return run_torch(budget, train, val, V, "rnn", **TORCH_RNN)


RUNNERS = {"minchar": run_minchar, "numpy-rnn": run_numpy_rnn, "numpy-lstm": run_numpy_lstm,
           "torch-lstm": run_torch_lstm, "torch-rnn": run_torch_rnn}


def child(name, budget, threads, config=None):
    if name.startswith("torch"):
        import torch

        torch.set_num_threads(threads)
    vocab, train, val = load_split()
    if config:  # a configuration from the sweep: {"runner": "torch"|"numpy", ...}
        config = json.loads(config)
        runner = run_torch if config.pop("runner") == "torch" else run_numpy
        result = runner(budget, train, val, len(vocab), **config)
    else:
        result = RUNNERS[name](budget, train, val, len(vocab))
    print(json.dumps(result))


def spawn(name, budget, threads, config=None):
    """Run one model in its own process with ``threads`` BLAS / torch threads; its result."""
    env = {**os.environ, **{k: str(threads) for k in
                            ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}}
    cmd = [sys.executable, os.path.abspath(__file__), "--child", name, "--budget", str(budget),
           "--threads", str(threads)] + (["--config", json.dumps(config)] if config else [])
    res = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if res.returncode:
        raise SystemExit(f"{name} failed:\n{res.stderr}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=120.0, help="seconds of training per model")
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated subset")
    parser.add_argument("--threads", type=int, default=1, help="BLAS / torch threads per process")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--config", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child, args.budget, args.threads, args.config)

    from rnnkit.models.charlm import bigram_bpc, bits_per_char, unigram_bpc

    vocab, train, val = load_split()
    V = len(vocab)
    names = args.models.split(",")
    for name in names:
        if name not in RUNNERS:
            raise SystemExit(f"--models: unknown model {name!r}; choose from {MODELS}")
    print(f"Shakespeare: train {len(train):,} characters, validation {len(val):,}, V = {V}; "
          f"{args.budget:.0f} s per model, {args.threads} thread(s), {os.cpu_count()} CPUs; "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    results = {}
    for name in names:
        results[name] = r = spawn(name, args.budget, args.threads)
        print(f"  {name}: done, {r['steps']} steps, {bits_per_char(r['val_nats']):.3f} bits/char",
              flush=True)

    print(f"\n{'model':12s} {'params':>8s} {'steps':>7s} {'chars/s':>9s} {'val bits/char':>14s}"
          f"  configuration")
    for name in ("unigram", "bigram"):
        bpc = (unigram_bpc if name == "unigram" else bigram_bpc)(train, val, V)
        print(f"{name:12s} {'':>8s} {'':>7s} {'':>9s} {bpc:14.3f}  counts, add-one smoothing")
    for name, bpc in compressed_bpc(vocab.decode(val), vocab.decode(train)).items():
        how = "with a head start of the last training characters" if "+" in name else "alone"
        print(f"{name:12s} {'':>8s} {'':>7s} {'':>9s} {bpc:14.3f}  compressed held-out slice, "
              f"{how}")
    for name, r in results.items():
        print(f"{name:12s} {r['params']:8,d} {r['steps']:7d} {r['chars'] / r['seconds']:9,.0f} "
              f"{bits_per_char(r['val_nats']):14.3f}  {r['config']}")
    print_floors(results, args.budget)


def print_floors(results, budget):
    """The floor table: ok / missed for each floor, or why it was not checked."""
    from rnnkit.models.charlm import bits_per_char

    bpc = {k: bits_per_char(r["val_nats"]) for k, r in results.items()}
    rows = []
    if "torch-lstm" in bpc:
        rows.append((f"torch LSTM <= {FLOOR} bits/char", f"{bpc['torch-lstm']:.3f}",
                     bpc["torch-lstm"] <= FLOOR))
    if "torch-lstm" in bpc and "numpy-lstm" in bpc:
        gap = bpc["numpy-lstm"] - bpc["torch-lstm"]
        rows.append((f"NumPy LSTM within {NUMPY_GAP} of torch", f"{gap:+.3f}", gap <= NUMPY_GAP))
    print(f"\nfloors ({budget:.0f} s per model):")
    for what, value, ok in rows:
        verdict = ("ok" if ok else "MISSED") if budget >= 120 else "not checked (budget < 120 s)"
        print(f"  {what:34s} {value:>7s}  {verdict}")


if __name__ == "__main__":
    main()
