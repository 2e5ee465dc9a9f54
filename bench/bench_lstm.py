"""Benchmark one LSTM layer, forward + backward, across rnnkit's paths and torch.nn.

Variants, all at T=100, N=32, D=64 and each H:

- ``numpy-f32``, ``numpy-f64``: ``rnnkit.cells.lstm.lstm_forward`` + ``lstm_backward``
- ``loop``: ``rnnkit.torch.LSTM``, the explicit Python loop over time (autograd backward)
- ``fast``: ``rnnkit.torch.LSTM(fast=True)``, the same weights through torch.nn
- ``nn``: ``torch.nn.LSTM``, the reference every ratio is taken against

Torch variants run in float32 on the CPU, and on CUDA too when present. Every variant
also computes dx (the input requires grad), as the NumPy backward does.

NumPy and torch each run in their own worker process (this script with ``--worker``):
two thread pools in one process on a small machine slow each other down. The parent
alternates the workers, repeats, and reports medians over every timed call, so that
load from other processes on a shared machine spreads over all variants alike. Each
worker also measures its library's matmul rate; the best per dtype is the "peak" the
achieved GFLOP/s are compared with. FLOPs counted: the matmuls only,
24*N*T*H*(D+H) for forward + backward (forward 8*N*T*H*(D+H), backward twice that).

Usage:
    python bench/bench_lstm.py              # H in 128 256 512, 5 repeats
    python bench/bench_lstm.py --quick      # H=256, 3 repeats: about a minute
    python bench/bench_lstm.py --H 512 --repeats 7 --iters 5 --no-cuda
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

T, N, D = 100, 32, 64
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def lstm_flops(H):
    return 24 * N * T * H * (D + H)


def timed(fn, sync=lambda: None):
    sync()
    t0 = time.perf_counter()
    fn()
    sync()
    return time.perf_counter() - t0


def matmul_rate(matmul, make, n=1024, reps=5):
    """Best GFLOP/s of an n x n matmul over a few calls (after one warm-up)."""
    a, b = make(n), make(n)
    matmul(a, b)
    best = min(timed(lambda: matmul(a, b)) for _ in range(reps))
    return 2 * n**3 / best / 1e9


def numpy_worker(Hs):
    import numpy as np

    from rnnkit.cells.lstm import lstm_backward, lstm_forward

    rng = np.random.default_rng(0)
    out = {"rate": {}, "times": {}}
    for dt in (np.float32, np.float64):
        name = np.dtype(dt).name
        out["rate"][name] = matmul_rate(np.matmul, lambda n: rng.standard_normal((n, n)).astype(dt))
    cases = []
    for H in Hs:
        for dt in (np.float32, np.float64):
            x = rng.standard_normal((N, T, D)).astype(dt)
            h0 = np.zeros((N, H), dt)
            Wx = (rng.standard_normal((D, 4 * H)) / np.sqrt(D)).astype(dt)
            Wh = (rng.standard_normal((H, 4 * H)) / np.sqrt(H)).astype(dt)
            b = np.zeros(4 * H, dt)
            dh = rng.standard_normal((N, T, H)).astype(dt)

            def run(x=x, h0=h0, Wx=Wx, Wh=Wh, b=b, dh=dh):
                lstm_backward(dh, None, lstm_forward(x, h0, None, Wx, Wh, b)[2])

            key = f"cpu|{H}|numpy-{'f32' if dt is np.float32 else 'f64'}"
            cases.append((key, run, lambda: None))
    return out, cases


def torch_worker(Hs, use_cuda):
    import torch

    import rnnkit.torch as rt

    if os.environ.get("OMP_NUM_THREADS"):
        torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    out = {"rate": {}, "times": {}}
    devices = ["cpu"] + (["cuda"] if use_cuda and torch.cuda.is_available() else [])
    for dt in (torch.float32, torch.float64):
        name = str(dt).removeprefix("torch.")
        out["rate"][name] = matmul_rate(torch.matmul, lambda n, dt=dt: torch.randn(n, n, dtype=dt))
    cases = []
    for dev in devices:
        sync = torch.cuda.synchronize if dev == "cuda" else (lambda: None)
        if dev == "cuda":
            out["rate"]["cuda-float32"] = matmul_rate(
                lambda a, b: (torch.matmul(a, b), torch.cuda.synchronize()),
                lambda n: torch.randn(n, n, device="cuda"), n=4096)
        for H in Hs:
            torch.manual_seed(0)
            loop = rt.LSTM(D, H, device=dev)
            fast = rt.LSTM(D, H, fast=True, device=dev)
            fast.load_state_dict(loop.state_dict())
            models = {"loop": loop, "fast": fast, "nn": rt.to_torch_nn(loop)}
            x = torch.randn(N, T, D, device=dev, requires_grad=True)
            dout = torch.randn(N, T, H, device=dev)

            for name, model in models.items():
                def run(model=model, x=x, dout=dout):
                    model.zero_grad(set_to_none=True)
                    x.grad = None
                    model(x)[0].backward(dout)

                cases.append((f"{dev}|{H}|{name}", run, sync))
    return out, cases


def worker(args):
    Hs = args.H
    if args.worker == "numpy":
        out, cases = numpy_worker(Hs)
    else:
        out, cases = torch_worker(Hs, not args.no_cuda)
    for _, run, sync in cases:  # warm up every variant once (allocations, kernel choice)
        timed(run, sync)
    for _ in range(args.iters):  # interleave the variants inside the worker too
        for key, run, sync in cases:
            out["times"].setdefault(key, []).append(timed(run, sync))
    print(json.dumps(out))


def spawn(kind, args):
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", kind, "--iters",
           str(args.iters), "--H", *map(str, args.H)] + (["--no-cuda"] if args.no_cuda else [])
    env = dict(os.environ)
    if args.threads:  # read by OpenBLAS / MKL / OpenMP when the worker starts
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = str(args.threads)
    res = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env)
    if res.returncode:
        sys.exit(f"{kind} worker failed:\n{res.stderr}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def main(args):
    times, rates = {}, {}
    t_start = time.perf_counter()
    for rep in range(args.repeats):
        order = ("numpy", "torch") if rep % 2 == 0 else ("torch", "numpy")
        for kind in order:
            res = spawn(kind, args)
            for k, v in res["times"].items():
                times.setdefault(k, []).extend(v)
            for k, v in res["rate"].items():
                rates.setdefault(k, []).append(v)
        print(f"repeat {rep + 1}/{args.repeats} done", file=sys.stderr)
    report(args, times, rates, time.perf_counter() - t_start)


def report(args, times, rates, elapsed):
    peak = {k: max(v) for k, v in rates.items()}
    med = {k: statistics.median(v) for k, v in times.items()}
    calls = len(next(iter(times.values())))
    print(f"\nLSTM forward+backward, T={T} N={N} D={D}; median of {calls} calls per variant "
          f"from {args.repeats} alternating worker pairs ({elapsed:.0f} s)")
    print("measured matmul peak: " + ", ".join(f"{k} {v:.0f} GFLOP/s" for k, v in peak.items())
          + f"; threads: {args.threads or 'library default'}")
    print(f"\n{'device':6} {'H':>4} {'variant':10} {'median ms':>9} {'best ms':>8} "
          f"{'x nn.LSTM':>9} {'GFLOP/s':>8} {'% peak':>7}")
    order = ["numpy-f32", "numpy-f64", "loop", "fast", "nn"]
    for key in sorted(med, key=lambda k: (k.split("|")[0], int(k.split("|")[1]),
                                          order.index(k.split("|")[2]))):
        dev, H, name = key.split("|")
        gflops = lstm_flops(int(H)) / med[key] / 1e9
        pk = peak["cuda-float32"] if dev == "cuda" else peak[
            "float64" if name.endswith("f64") else "float32"]
        print(f"{dev:6} {H:>4} {name:10} {med[key] * 1e3:9.2f} {min(times[key]) * 1e3:8.2f} "
              f"{med[key] / med[f'{dev}|{H}|nn']:9.2f} {gflops:8.1f} {100 * gflops / pk:6.1f}%")
    print("\ntargets (ratios of medians):")
    checks = [("cpu", 256, "numpy-f32", 2.0)] + [
        (dev, H, "fast", 1.1) for dev in ("cpu", "cuda") for H in args.H]
    for dev, H, name, limit in checks:
        if f"{dev}|{H}|{name}" in med:
            r = med[f"{dev}|{H}|{name}"] / med[f"{dev}|{H}|nn"]
            print(f"  {name} / nn.LSTM on {dev} at H={H}: {r:.2f} (target <= {limit}) "
                  f"{'ok' if r <= limit else 'MISSED'}")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--H", type=int, nargs="+", default=None, help="hidden sizes")
    p.add_argument("--repeats", type=int, default=None, help="worker pairs (default 5, quick 3)")
    p.add_argument("--iters", type=int, default=3, help="timed calls per variant per worker")
    p.add_argument("--quick", action="store_true", help="H=256 and 3 repeats")
    p.add_argument("--no-cuda", action="store_true", help="CPU only even when CUDA is present")
    p.add_argument("--threads", type=int, default=None,
                   help="CPU threads per worker (default: each library's own choice)")
    p.add_argument("--worker", choices=["numpy", "torch"], help=argparse.SUPPRESS)
    a = p.parse_args()
    a.H = a.H or ([256] if a.quick else [128, 256, 512])
    a.repeats = a.repeats or (3 if a.quick else 5)
    if a.worker:
        worker(a)
    else:
        main(a)
