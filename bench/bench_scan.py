"""Time a linear recurrence h_t = a_t * h_{t-1} + b_t: the loop against the parallel scans.

For each width W = N*H (the recurrence is elementwise, so only the product of batch and width
matters) and length T, it times ``rnnkit.torch.scan.linear_scan`` with methods "sequential"
(a Python loop of T steps), "doubling" (Hillis-Steele, ceil(log2 T) rounds) and "log"
(Heinsen's log-space form), forward only and forward + backward, prints the median times
side by side with the ratio loop / best scan, and then, for each width, the crossover: the
shortest T at which a scan beats the loop. CPU rows always, CUDA rows when torch sees a GPU.

    python bench/bench_scan.py            # the full grid, 1 thread
    python bench/bench_scan.py --quick    # a smaller grid (about a minute)
    python bench/bench_scan.py --threads 2 --repeats 9 --no-cuda

Medians of ``--repeats`` calls after one warm-up; on a shared machine compare the ratios
within one run, not absolute times between runs. Cells with W*T above ``--max-elements`` are
skipped, and the log form (slow on a CPU) is timed only up to ``--log-max-elements`` ("-" in
the table). Nothing is asserted.
"""

import argparse
import math
import platform
import statistics
import time

import torch

from rnnkit.torch.scan import linear_scan

METHODS = ("sequential", "doubling", "log")


def time_call(fn, repeats, device):
    """Median seconds of ``repeats`` calls of ``fn`` after one warm-up call."""
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    fn()
    sync()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def measure(W, T, device, repeats, backward, methods=METHODS):
    """Median ms per method for one (W, T) cell, as a dict method -> ms."""
    gen = torch.Generator().manual_seed(0)
    a = torch.rand(1, T, W, generator=gen).mul_(0.5).add_(0.5).to(device)  # in (0.5, 1)
    b = torch.randn(1, T, W, generator=gen).to(device)
    h0 = torch.randn(1, W, generator=gen).to(device)
    out = {}
    for method in methods:
        if backward:
            a_, b_ = a.clone().requires_grad_(), b.clone().requires_grad_()

            def fn(method=method, a_=a_, b_=b_):
                linear_scan(a_, b_, h0, method).sum().backward()
        else:
            def fn(method=method):
                with torch.no_grad():
                    linear_scan(a, b, h0, method)
        out[method] = 1e3 * time_call(fn, repeats, device)
    return out


def crossover(rows, W):
    """The shortest T at width W from which on the best scan beat the loop at every longer T.

    None if the loop won at the longest T measured. A scan that wins only in a window of
    lengths (the loop winning again at longer T, once the scan's arrays leave the cache) has
    no crossover by this definition; the table shows the window.
    """
    lengths = sorted(T for (w, T) in rows if w == W)
    scan_wins = {T: min(rows[W, T]["doubling"], rows[W, T].get("log", math.inf))
                 < rows[W, T]["sequential"] for T in lengths}
    wins = [T for T in lengths if all(scan_wins[T2] for T2 in lengths if T2 >= T)]
    return min(wins) if wins else None


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="a smaller grid")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (0: default)")
    p.add_argument("--no-cuda", action="store_true", help="CPU rows only")
    p.add_argument("--max-elements", type=int, default=2**21,
                   help="skip cells with W*T above this (memory and time)")
    p.add_argument("--log-max-elements", type=int, default=2**20,
                   help="time the log form only up to this W*T (it is slow on a CPU)")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    widths = (16, 1024, 65536) if args.quick else (16, 256, 4096, 65536)
    lengths = (16, 128, 1024) if args.quick else (16, 64, 256, 1024, 4096)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() and not args.no_cuda else [])
    print(f"torch {torch.__version__}, {platform.processor() or platform.machine()}, "
          f"{torch.get_num_threads()} CPU thread(s)"
          + (f", {torch.cuda.get_device_name()}" if "cuda" in devices else ", no CUDA"))
    for device in devices:
        for backward in (False, True):
            what = "forward + backward" if backward else "forward"
            print(f"\n{device}, {what}: median ms per call, loop / best scan (>1: scan wins)")
            print(f"{'W=N*H':>7} {'T':>5} {'loop':>9} {'doubling':>9} {'log':>9} {'loop/scan':>10}")
            rows = {}
            for W in widths:
                for T in lengths:
                    if W * T > args.max_elements:
                        continue
                    methods = METHODS if W * T <= args.log_max_elements else METHODS[:2]
                    ms = rows[W, T] = measure(W, T, device, args.repeats, backward, methods)
                    best = min(ms["doubling"], ms.get("log", math.inf))
                    log_ms = f"{ms['log']:>9.3f}" if "log" in ms else f"{'-':>9}"
                    print(f"{W:>7} {T:>5} {ms['sequential']:>9.3f} {ms['doubling']:>9.3f} "
                          f"{log_ms} {ms['sequential'] / best:>10.2f}", flush=True)
            print(f"crossover ({device}, {what}): the shortest T from which on a scan beats "
                  f"the loop at every longer T")
            for W in widths:
                T = crossover(rows, W)
                print(f"  W={W:>6}: " + (f"T={T}" if T else "none: the loop wins at the longest T"))


if __name__ == "__main__":
    main()
