"""The long-lag grid of book chapters 8 and 9: the adding problem at several lengths.

Every model reads the adding problem (``rnnkit.tasks.adding``) and a linear readout maps its
last hidden state to the prediction (``LastStepRegressor``), trained with Adam on the mean
squared error, gradients clipped to norm 1, batches of 64 fresh sequences, for a fixed number
of steps. The grid crosses

- models with about the same number of parameters: a tanh RNN with torch's default
  initialisation (``rnn``), the same with an orthogonal recurrent matrix (``rnn-orth``), an
  IRNN (ReLU units, recurrent matrix the identity, zero biases: Le et al., 2015) (``irnn``), an
  LSTM with forget bias 1 (``lstm``), a GRU (``gru``), and MUT3 (``mut3``, Jozefowicz et al.,
  2015; chapter 9's zoo), the only one without a fused kernel, so the slowest per step;
- lengths ``T``, learning rates and seeds.

For each run it records the validation error on 1000 fixed sequences and how strongly the loss
reads the inputs ``k`` steps before the end, ``mean_n ||dL/dx_{T-k}||``, at initialisation and
after training (``rnnkit.torch.tasks.adding.input_gradient_norms``: the same quantity for every
model). A run *solves* the task when its validation error is below ``THRESHOLD`` = 1/24: a model
that knows the second (recent) value exactly and nothing about the first scores 1/12, so below
half of that it must carry the first value across the lag.

    python bench/longlag_grid.py                  # the full grid (long: see bench/README.md)
    python bench/longlag_grid.py --T 20 50 --seeds 0 1 --lrs 0.01 --models rnn lstm
"""

import argparse
import time

import numpy as np
import torch
from torch import nn

from rnnkit.init import orthogonal
from rnnkit.tasks.adding import BASELINE_MSE, adding_problem
from rnnkit.torch import GRU, LSTM, RNN, fit, seed_everything
from rnnkit.torch.cells.mut import MUT
from rnnkit.torch.tasks.adding import (
    LastStepRegressor,
    adding_batches,
    input_gradient_norms,
    mse_loss,
)

THRESHOLD = BASELINE_MSE / 4  # = 1/24, half the error of knowing only the recent value
MODELS = ("rnn", "rnn-orth", "irnn", "lstm", "gru", "mut3")
HIDDEN = {"rnn": 64, "rnn-orth": 64, "irnn": 64, "lstm": 32, "gru": 37, "mut3": 37}  # ~4.5k each


def build(kind, seed):
    """A LastStepRegressor around model ``kind``, its weights drawn after seeding with ``seed``."""
    seed_everything(seed)
    H = HIDDEN[kind]
    if kind == "lstm":
        rnn = LSTM(2, H, fast=True)
        with torch.no_grad():
            rnn.cells[0].b[H : 2 * H] = 1.0  # forget-gate bias
    elif kind == "gru":
        rnn = GRU(2, H, fast=True)
    elif kind == "mut3":  # a Python loop over rnnkit.torch's MUT3 cell: no fused kernel
        rnn = MUT("mut3", 2, H)
    elif kind == "irnn":
        rnn = nn.RNN(2, H, nonlinearity="relu", batch_first=True)
        with torch.no_grad():
            rnn.weight_hh_l0.copy_(torch.eye(H))
            rnn.bias_hh_l0.zero_()
            rnn.bias_ih_l0.zero_()
    else:
        rnn = RNN(2, H, fast=True)
        if kind == "rnn-orth":
            Wh = orthogonal((H, H), np.random.default_rng(seed), dtype=np.float32)
            with torch.no_grad():
                rnn.cells[0].Wh.copy_(torch.from_numpy(Wh))
    return LastStepRegressor(rnn)


def run(kind, T, lr, seed, steps, x_val, y_val, spans):
    """Train one model; return its validation MSE and input-gradient ratios before and after."""
    model = build(kind, seed)
    probe = (x_val[:256], y_val[:256])
    before = input_gradient_norms(model, *probe)
    model.train()
    data_rng = np.random.default_rng(1000 + seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    diverged = False
    for _ in range(steps // 100):
        try:
            fit(model, mse_loss, adding_batches(100, 64, T, data_rng), optimizer, max_norm=1.0)
        except Exception as err:  # rnnkit.torch.fit stops on a NaN or inf loss or gradient
            if type(err).__name__ != "TrainingDiverged":
                raise
            diverged = True
            break
    model.eval()
    with torch.no_grad():
        val = float(mse_loss(model, (x_val, y_val))) if not diverged else float("nan")
    after = input_gradient_norms(model, *probe) if not diverged else np.full(T, np.nan)
    ratio = {k: (before[T - 1 - k] / before[T - 1], after[T - 1 - k] / after[T - 1])
             for k in spans if k < T}
    return {"val": val, "ratio": ratio, "params": sum(q.numel() for q in model.parameters())}


def summary(results, lengths, args):
    """Print the table for the lengths in ``lengths`` (diverged runs count as unsolved)."""
    print(f"\nsolved runs (of {len(args.seeds)} seeds) per learning rate; median val MSE at the "
          f"best learning rate (nan: a run diverged); mean_n ||dL/dx_(T-k)|| / ||dL/dx_T|| at "
          f"k = T/2, median over seeds, at initialisation -> after training at that rate")
    header = f"{'model':9s}{'T':>5s}" + "".join(f"{'lr ' + format(lr, 'g'):>10s}"
                                                 for lr in args.lrs)
    print(header + f"{'best median':>13s}{'grad T/2 init -> trained':>28s}")
    for kind in args.models:
        for T in lengths:
            runs = {lr: [results[kind, T, lr, s] for s in args.seeds] for lr in args.lrs}
            solved = {lr: sum(r["val"] < THRESHOLD for r in rs) for lr, rs in runs.items()}
            medians = {lr: float(np.median([r["val"] for r in rs])) for lr, rs in runs.items()}
            best = min(args.lrs, key=lambda lr: (-solved[lr], np.nan_to_num(medians[lr], nan=9)))
            k = T // 2
            g0 = np.median([r["ratio"][k][0] for r in runs[best]])
            g1 = np.median([r["ratio"][k][1] for r in runs[best]])
            print(f"{kind:9s}{T:5d}" + "".join(f"{solved[lr]:>8d}/{len(args.seeds)}"
                                               for lr in args.lrs)
                  + f"{medians[best]:13.4f}{g0:16.1e} -> {g1:8.1e}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--T", nargs="+", type=int, default=[20, 50, 100, 200])
    parser.add_argument("--lrs", nargs="+", type=float, default=[1e-3, 3e-3, 1e-2])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--steps", type=int, default=1500, help="training steps per run")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    started = time.time()
    print(f"adding problem; {args.steps} steps of 64 sequences, Adam, clip 1; solved: val MSE < "
          f"{THRESHOLD:.4f} (baseline {BASELINE_MSE:.4f}); {time.strftime('%Y-%m-%d %H:%M %Z')}")
    results = {}
    for T in args.T:
        x_val, y_val = map(torch.from_numpy, adding_problem(1000, T, np.random.default_rng(123)))
        spans = sorted({T // 2, T - 1})
        for kind in args.models:
            for lr in args.lrs:
                for seed in args.seeds:
                    t0 = time.time()
                    res = run(kind, T, lr, seed, args.steps, x_val, y_val, spans)
                    results[kind, T, lr, seed] = res
                    print(f"  T={T:4d} {kind:9s} lr={lr:<7g} seed={seed} val={res['val']:.4f} "
                          f"({time.time() - t0:.0f} s)", flush=True)
        summary(results, [T], args)
    if len(args.T) > 1:
        summary(results, args.T, args)
    params = {kind: results[kind, args.T[0], args.lrs[0], args.seeds[0]]["params"]
              for kind in args.models}
    print("parameters:", ", ".join(f"{k} {v}" for k, v in params.items()))
    print(f"total {time.time() - started:.0f} s")


if __name__ == "__main__":
    main()
