"""Benchmark one LSTM layer, forward + backward, across rnnkit's paths and torch.nn.

Variants, all at T=100, N=32, D=64 and each H:

- ``numpy-f32``, ``numpy-f64``: ``rnnkit.cells.lstm.lstm_forward`` + ``lstm_backward``
- ``loop``: ``rnnkit.torch.LSTM``, the explicit Python loop over time (autograd backward)
- ``fast``: ``rnnkit.torch.LSTM(fast=True)``, the same weights through torch.nn
- ``nn``: ``torch.nn.LSTM``, the reference every ratio is taken against

Torch variants run in float32 on the CPU, and on CUDA too when present. Every variant
also computes dx (the input requires grad), as the NumPy backward does.

The whole comparison runs once per thread setting (``--threads``, default ``1 0``: one
thread, then each library's default), and ends with a floor table (ok / missed) for each,
from the medians of paired ratios (calls matched by worker pair and round, so that a change
in the machine's load cancels out of each ratio): ``numpy-f32`` at or below 1.5x ``nn`` at
H=256 (goal 1.25x), ``fast`` at or below 1.05x ``nn`` on the CPU and 1.1x on CUDA. A
per-phase profile of the NumPy float32 LSTM at H=256 (where the time of one forward +
backward goes, per sequence and per step) is printed first.

NumPy and torch each run in their own worker process (this script with ``--worker``):
two thread pools in one process on a small machine slow each other down. The parent
alternates the workers, repeats, and reports medians over every timed call, so that
load from other processes on a shared machine spreads over all variants alike. Inside a
worker the variants take turns, and each timed call follows an untimed call of the same
variant: the steady state of a training loop, not the cost of switching variants. Each
worker also measures its library's matmul rate; the best per dtype is the "peak" the
achieved GFLOP/s are compared with. FLOPs counted: the matmuls only,
24*N*T*H*(D+H) for forward + backward (forward 8*N*T*H*(D+H), backward twice that).

Usage:
    python bench/bench_lstm.py              # H in 128 256 512, 5 repeats, 1 and default threads
    python bench/bench_lstm.py --quick      # H=256, 3 repeats: about two minutes
    python bench/bench_lstm.py --H 512 --repeats 7 --iters 5 --no-cuda --threads 1
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


def lstm_problem(H, dtype):
    """The arrays every NumPy timing uses: ``x, h0, Wx, Wh, b, dh`` at T, N, D and ``H``."""
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, T, D)).astype(dtype)
    Wx = (rng.standard_normal((D, 4 * H)) / np.sqrt(D)).astype(dtype)
    Wh = (rng.standard_normal((H, 4 * H)) / np.sqrt(H)).astype(dtype)
    b, dh = np.zeros(4 * H, dtype), rng.standard_normal((N, T, H)).astype(dtype)
    return x, np.zeros((N, H), dtype), Wx, Wh, b, dh


def step_matmul_us(matmul, make, H=256, reps=200):
    """Median microseconds of one step's ``h_prev @ Wh``, (N, H) @ (H, 4H), in float32.

    Both libraries time it, so that the report can say how much of the NumPy LSTM's gap to
    ``torch.nn.LSTM`` is the BLAS itself rather than the code around it.
    """
    h, Wh = make((N, H)), make((H, 4 * H))
    matmul(h, Wh)
    return 1e6 * statistics.median(timed(lambda: matmul(h, Wh)) for _ in range(reps))


def profile_numpy_lstm(H, reps=15):
    """Milliseconds of each phase of one NumPy float32 LSTM forward + backward at T, N, D, H.

    Each phase is timed alone on the arrays of a real forward pass (median of ``reps``), with
    the functions ``lstm_forward`` and ``lstm_backward`` run inside: ``_step`` (one step) and
    ``_step_backward``; what is neither loop is the bookkeeping outside it.
    """
    import numpy as np

    from rnnkit.cells import lstm

    x, h0, Wx, Wh, b, dh = lstm_problem(H, np.float32)
    _, _, cache = lstm.lstm_forward(x, h0, h0, Wx, Wh, b)
    # the loops run time-major, as lstm_forward and lstm_backward do: (T, N, ...) arrays
    h, c, ifgo, tanh_c = (a.transpose(1, 0, 2) for a in cache[5:])
    x_tm = np.ascontiguousarray(x.transpose(1, 0, 2)).reshape(T * N, D)
    xw = (x_tm @ Wx + b).reshape(T, N, 4 * H)
    dh_tm = np.ascontiguousarray(dh.transpose(1, 0, 2))
    da = np.empty_like(ifgo)
    WhT = np.ascontiguousarray(Wh.T)
    da2, h_prevs = da.reshape(T * N, -1), h.reshape(T * N, H)
    out = [np.empty_like(a) for a in (h, c, ifgo, tanh_c)]

    phases = {  # timed in turn, round after round, so that load on the machine hits all alike
        "fwd": lambda: lstm.lstm_forward(x, h0, h0, Wx, Wh, b),
        "bwd": lambda: lstm.lstm_backward(dh, None, cache),
        "steps": lambda: [lstm._step(xw[t], h[t], c[t], Wh, out=[a[t] for a in out])
                          for t in range(T)],
        "mm_f": lambda: [h[t] @ Wh for t in range(T)],
        "xw": lambda: x_tm @ Wx + b,
        "steps_b": lambda: [lstm._step_backward(dh_tm[t], dh_tm[t], c[t], ifgo[t], tanh_c[t],
                                                da[t]) for t in range(T)],
        "mm_b": lambda: [da[t] @ WhT for t in range(T)],
        "big": lambda: (da2 @ Wx.T, x_tm.T @ da2, h_prevs.T @ da2, da2.sum(0)),
    }
    runs = {k: [] for k in phases}
    for fn in phases.values():
        fn()
    for _ in range(reps):
        for k, fn in phases.items():
            runs[k].append(timed(fn))
    ms = {k: 1e3 * statistics.median(v) for k, v in runs.items()}
    return {
        "forward  h_prev @ Wh, per step": ms["mm_f"],
        "forward  gate algebra, per step": ms["steps"] - ms["mm_f"],
        "forward  x @ Wx + b, once": ms["xw"],
        "forward  the rest (checks, transposes)": ms["fwd"] - ms["steps"] - ms["xw"],
        "backward gate algebra, per step": ms["steps_b"],
        "backward da @ Wh.T, per step": ms["mm_b"],
        "backward dx, dWx, dWh, db: one matmul each": ms["big"],
        "backward the rest (checks, h_prevs, adds)": ms["bwd"] - ms["steps_b"] - ms["mm_b"]
        - ms["big"],
        "total forward + backward": ms["fwd"] + ms["bwd"],
    }


def numpy_worker(Hs):
    import numpy as np

    from rnnkit.cells.lstm import lstm_backward, lstm_forward

    rng = np.random.default_rng(0)
    out = {"rate": {}, "times": {}, "profile": profile_numpy_lstm(256)}
    for dt in (np.float32, np.float64):
        name = np.dtype(dt).name
        out["rate"][name] = matmul_rate(np.matmul, lambda n: rng.standard_normal((n, n)).astype(dt))
    out["step_us"] = step_matmul_us(np.matmul, lambda s: rng.standard_normal(s).astype(np.float32))
    cases = []
    for H in Hs:
        for dt in (np.float32, np.float64):
            x, h0, Wx, Wh, b, dh = lstm_problem(H, dt)

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
    out["step_us"] = step_matmul_us(torch.matmul, lambda s: torch.randn(*s))
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
    for _, run, sync in cases:  # the first two calls of a variant pay for lazy set-up
        timed(run, sync)
        timed(run, sync)
    # Interleave the variants inside the worker too. Each timed call directly follows an
    # untimed call of the same variant, so that it measures what a training loop sees, the
    # steady state, and not the cost of switching from another variant: a call right after
    # a different one refaults the memory the other freed (glibc hands large blocks back to
    # the system) and finds its caches cold, 1.5 ms or more here.
    for _ in range(args.iters):
        for key, run, sync in cases:
            timed(run, sync)
            out["times"].setdefault(key, []).append(timed(run, sync))
    print(json.dumps(out))


def spawn(kind, args, threads):
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", kind, "--iters",
           str(args.iters), "--H", *map(str, args.H)] + (["--no-cuda"] if args.no_cuda else [])
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env.pop(var, None)
        if threads:  # read by OpenBLAS / MKL / OpenMP when the worker starts
            env[var] = str(threads)
    res = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env)
    if res.returncode:
        sys.exit(f"{kind} worker failed:\n{res.stderr}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def main(args):
    floors = []
    for threads in args.threads:
        times, rates, profile, step_us = {}, {}, None, {"numpy": [], "torch": []}
        t_start = time.perf_counter()
        for rep in range(args.repeats):
            order = ("numpy", "torch") if rep % 2 == 0 else ("torch", "numpy")
            for kind in order:
                res = spawn(kind, args, threads)
                for k, v in res["times"].items():
                    times.setdefault(k, []).extend(v)
                for k, v in res["rate"].items():
                    rates.setdefault(k, []).append(v)
                profile = res.get("profile", profile)
                step_us[kind].append(res["step_us"])
            print(f"threads {threads or 'default'}: repeat {rep + 1}/{args.repeats} done",
                  file=sys.stderr)
        label = "1 thread" if threads == 1 else (f"{threads} threads" if threads else
                                                 "each library's default threads")
        if profile:
            print_profile(profile, label)
        floors += report(args, times, rates, time.perf_counter() - t_start, label)
        mm = {k: statistics.median(v) for k, v in step_us.items()}
        print(f"one step's h_prev @ Wh, ({N}, 256) @ (256, 1024) float32, median: NumPy "
              f"{mm['numpy']:.0f} us, torch {mm['torch']:.0f} us (NumPy / torch "
              f"{mm['numpy'] / mm['torch']:.2f}): the part of the gap that is the BLAS")
    print(f"\nfloors ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, medians of paired "
          "ratios in the same run):")
    for what, ratio, limit, goal in floors:
        verdict = "ok" if ratio <= limit else "MISSED"
        print(f"  {what:52s} {ratio:5.2f}  <= {limit:<4}  {verdict}"
              + (f"  (goal {goal})" if goal else ""))


def print_profile(profile, label):
    total = profile["total forward + backward"]
    print(f"\nwhere the time goes: NumPy float32 LSTM, T={T} N={N} D={D} H=256, {label} "
          f"(each phase timed alone, median)")
    for what, ms in profile.items():
        per_step = f"{1e3 * ms / T:7.0f} us/step" if "per step" in what else " " * 15
        print(f"  {what:50s} {ms:8.2f} ms {per_step} {100 * ms / total:5.1f}%")


def report(args, times, rates, elapsed, label):
    peak = {k: max(v) for k, v in rates.items()}
    med = {k: statistics.median(v) for k, v in times.items()}

    def paired(key, ref):
        """Median of the ratios of calls paired by worker pair and round.

        The two calls of a pair ran close in time: side by side in one worker (``fast`` and
        ``nn``), or in the two workers of one pair, one after the other (NumPy and torch). A
        change in the machine's load over a run then mostly cancels out of each ratio, which
        a ratio of two medians over the whole run does not ensure.
        """
        return statistics.median(a / b for a, b in zip(times[key], times[ref], strict=True))
    calls = len(next(iter(times.values())))
    print(f"\nLSTM forward+backward, T={T} N={N} D={D}, {label}; median of {calls} calls per "
          f"variant from {args.repeats} alternating worker pairs ({elapsed:.0f} s); x nn.LSTM: "
          "the median of the paired ratios")
    print("measured matmul peak: " + ", ".join(f"{k} {v:.0f} GFLOP/s" for k, v in peak.items()))
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
              f"{paired(key, f'{dev}|{H}|nn'):9.2f} {gflops:8.1f} {100 * gflops / pk:6.1f}%")
    checks = [("cpu", 256, "numpy-f32", 1.5, 1.25)] + [
        (dev, H, "fast", 1.05 if dev == "cpu" else 1.1, None)
        for dev in ("cpu", "cuda") for H in args.H]
    floors = []
    for dev, H, name, limit, goal in checks:
        if f"{dev}|{H}|{name}" in med:
            r = paired(f"{dev}|{H}|{name}", f"{dev}|{H}|nn")
            floors.append((f"{name} / nn.LSTM, {dev}, H={H}, {label}", r, limit, goal))
    return floors


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--H", type=int, nargs="+", default=None, help="hidden sizes")
    p.add_argument("--repeats", type=int, default=None, help="worker pairs (default 5, quick 3)")
    p.add_argument("--iters", type=int, default=3, help="timed calls per variant per worker")
    p.add_argument("--quick", action="store_true", help="H=256 and 3 repeats")
    p.add_argument("--no-cuda", action="store_true", help="CPU only even when CUDA is present")
    p.add_argument("--threads", type=int, nargs="+", default=[1, 0],
                   help="CPU threads per worker, one full comparison per value; 0: each "
                   "library's own choice (default: 1 0)")
    p.add_argument("--worker", choices=["numpy", "torch"], help=argparse.SUPPRESS)
    a = p.parse_args()
    a.H = a.H or ([256] if a.quick else [128, 256, 512])
    a.repeats = a.repeats or (3 if a.quick else 5)
    if a.worker:
        worker(a)
    else:
        main(a)
