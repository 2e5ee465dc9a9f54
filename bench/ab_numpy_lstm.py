"""A/B test of a change to the NumPy LSTM: the working tree's against a git revision's.

Loads ``rnnkit/cells/lstm.py`` twice in one process, as it is in the working tree ("new") and as
it was at ``--rev`` ("old", default HEAD), checks that both give the same outputs and gradients,
then alternates forward + backward calls of the two at T=100, N=32, D=64, H=256 in float32 and
prints the medians and their ratio. Alternating in one process spreads the load of a shared
machine over both alike, which timing two separate runs does not.

Usage:
    python bench/ab_numpy_lstm.py                        # against HEAD, 40 rounds
    python bench/ab_numpy_lstm.py --rev HEAD~3 --rounds 60
    OPENBLAS_NUM_THREADS=1 python bench/ab_numpy_lstm.py   # one BLAS thread
"""

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_lstm import D, N, T, lstm_problem  # noqa: E402 (bench/ is not a package)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PATH = "rnnkit/cells/lstm.py"
H = 256


def load(name, source_file):
    spec = importlib.util.spec_from_file_location(name, source_file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(args):
    sys.path.insert(0, ROOT)  # the old module imports rnnkit's helpers from the working tree
    show = subprocess.run(["git", "show", f"{args.rev}:{PATH}"], cwd=ROOT, capture_output=True,
                          text=True)
    if show.returncode:
        sys.exit(f"--rev: git cannot show {PATH} at {args.rev!r}: {show.stderr.strip()}")
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(show.stdout)
    try:
        old = load("lstm_old", f.name)
    finally:
        os.unlink(f.name)
    new = load("lstm_new", os.path.join(ROOT, PATH))

    x, h0, Wx, Wh, b, dh = lstm_problem(H, np.float32)  # the arrays bench_lstm.py times

    def run(m):
        h, c_n, cache = m.lstm_forward(x, h0, h0, Wx, Wh, b)
        return (h, c_n, *m.lstm_backward(dh, None, cache))

    pairs = zip(run(old), run(new), strict=True)
    gap = max(float(np.abs(a - b_).max() / np.abs(a).max()) for a, b_ in pairs)
    print(f"largest relative difference between old and new outputs and gradients: {gap:.1e}")
    times = {"old": [], "new": []}
    for _ in range(args.rounds):
        for name, m in (("old", old), ("new", new)):
            t0 = time.perf_counter()
            run(m)
            times[name].append(time.perf_counter() - t0)
    o, n = (statistics.median(times[k]) for k in ("old", "new"))
    threads = os.environ.get("OPENBLAS_NUM_THREADS", "default")
    print(f"forward + backward, float32, T={T} N={N} D={D} H={H}, BLAS threads {threads}, "
          f"median of {args.rounds} alternating calls: old ({args.rev}) {1e3 * o:.1f} ms, "
          f"new (working tree) {1e3 * n:.1f} ms, old / new {o / n:.3f}")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rev", default="HEAD", help="git revision of the old lstm.py (HEAD)")
    p.add_argument("--rounds", type=int, default=40, help="alternating calls of each (40)")
    main(p.parse_args())
