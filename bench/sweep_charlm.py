"""Sweep char-LM configurations at the benchmark's budget, to choose what bench_charlm.py runs.

Each configuration trains in its own process, one after the other, for ``--budget`` seconds
on the same Shakespeare split as ``bench_charlm.py`` (whose runners it reuses) and is scored
on the same 200,000 held-out characters. The table is sorted by validation bits/char.
On a shared machine, rerun the best few before trusting a difference under ~0.03.

Usage::

    python bench/sweep_charlm.py                     # every configuration, 120 s each
    python bench/sweep_charlm.py --budget 60 --only 0,1,2
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_charlm import spawn  # noqa: E402

from rnnkit.models.charlm import bits_per_char  # noqa: E402

BASE = {"runner": "torch", "cell": "lstm", "H": 256, "N": 32, "T": 64, "lr": 5e-3,
        "schedule": "const"}
CONFIGS = [  # (threads, changes to BASE)
    (1, {}),  # the best run before this sweep: 2.36
    (1, {"schedule": "cosine"}),
    (1, {"schedule": "cosine", "lr": 1e-2}),
    (1, {"schedule": "cosine", "H": 384}),
    (1, {"schedule": "cosine", "N": 16}),
    (1, {"schedule": "cosine", "T": 32}),
    (1, {"schedule": "cosine", "cell": "gru"}),
    (2, {"schedule": "cosine"}),
    (1, {"runner": "numpy", "schedule": "cosine"}),
    (1, {"runner": "numpy", "schedule": "cosine", "H": 128}),
    # round two: the winners of round one (lr 1e-2, T=32) combined
    (1, {"schedule": "cosine", "T": 32, "lr": 1e-2}),
    (1, {"schedule": "cosine", "T": 32, "lr": 2e-2}),
    (1, {"schedule": "cosine", "T": 32, "lr": 1e-2, "H": 192}),
    (1, {"schedule": "cosine", "T": 32, "lr": 1e-2, "cell": "gru"}),
    (1, {"runner": "numpy", "schedule": "cosine", "T": 32, "lr": 1e-2}),
    (1, {"runner": "numpy", "schedule": "cosine", "T": 32, "lr": 1e-2, "H": 128}),
    # round three: narrower and wider batches around the best of round two (H=192)
    (1, {"schedule": "cosine", "T": 32, "lr": 1e-2, "H": 128}),
    (1, {"schedule": "cosine", "T": 32, "lr": 1e-2, "H": 192, "N": 64}),
]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--budget", type=float, default=120.0)
    p.add_argument("--only", help="comma-separated indices into CONFIGS")
    args = p.parse_args()
    picked = range(len(CONFIGS)) if not args.only else [int(i) for i in args.only.split(",")]
    print(f"sweep: {args.budget:.0f} s each, {os.cpu_count()} CPUs, "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}", flush=True)
    rows = []
    for i in picked:
        threads, change = CONFIGS[i]
        config = {**BASE, **change}
        name = f"{config['runner']}-{config['cell']}"
        r = spawn(name, args.budget, threads, config)
        rows.append((bits_per_char(r["val_nats"]), i, threads, r))
        print(f"  [{i}] {bits_per_char(r['val_nats']):.3f} bits/char, {r['steps']} steps, "
              f"{r['chars'] / r['seconds']:,.0f} chars/s: {r['config']}", flush=True)
    print(f"\n{'#':>2} {'bits/char':>9} {'steps':>6} {'chars/s':>8}  configuration")
    for bpc, i, threads, r in sorted(rows, key=lambda row: row[0]):
        print(f"{i:2d} {bpc:9.3f} {r['steps']:6d} {r['chars'] / r['seconds']:8,.0f}  "
              f"{r['config']} ({threads} thread(s) for BLAS)")


if __name__ == "__main__":
    main()
