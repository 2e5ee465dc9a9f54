"""Sweep: the page-sized character models of book chapter 5, by fixed step counts and CPU time.

Chapter 5 trains its Shakespeare LSTM and the vanilla RNN beside it for a fixed number of
updates (so every build computes the same numbers), chosen to fit about 25 s of one core each.
This script measures candidate configurations the same way: ``torch.manual_seed(0)``, one
thread, Adam with clipping at 5 and the chapter's cosine decay to zero over the run, then bits
per character on the chapter's 200,000 held-out characters. It reports CPU seconds
(``time.process_time``) beside wall-clock seconds: on a shared machine the wall clock measures
the other users, the CPU time what the model cost. Usage::

    python bench/sweep_ch05.py                          # the configurations bench/README.md lists
    python bench/sweep_ch05.py lstm,192,128,16,1e-2,750 rnn,192,128,16,3e-3,1800

Each argument is ``cell,H,N,T,lr,steps`` (embedding width 64, as on the page).
"""

import json
import math
import sys
import time

DEFAULT = ("lstm,192,64,32,1e-2,800", "lstm,128,32,32,1e-2,2000", "lstm,256,32,32,1e-2,1000",
           "lstm,192,64,32,2e-2,800", "lstm,192,128,16,1e-2,800", "lstm,192,256,8,1e-2,800",
           "rnn,256,32,32,3e-3,2000", "rnn,192,64,32,3e-3,1600", "rnn,192,128,16,3e-3,1700")


def run(train, val, V, cell, H, N, T, lr, steps):
    import torch

    from rnnkit.data import StreamBatches
    from rnnkit.torch.models.charlm import CharLM, train_charlm

    torch.manual_seed(0)
    model = CharLM(V, H=H, cell=cell, D=64)
    opt = torch.optim.Adam(model.parameters(), lr=lr)

    def cosine(step, loss):
        for group in opt.param_groups:
            group["lr"] = lr * 0.5 * (1 + math.cos(math.pi * step / steps))

    wall, cpu = time.perf_counter(), time.process_time()
    train_charlm(model, StreamBatches(train, N=N, T=T), opt, max_norm=5.0, steps=steps,
                 callback=cosine)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    bpc = model.evaluate(val, N=50, T=200) / math.log(2)
    return {"cell": cell, "H": H, "N": N, "T": T, "lr": lr, "steps": steps,
            "chars": steps * N * T, "cpu_s": round(cpu, 1), "wall_s": round(wall, 1),
            "val_bpc": round(bpc, 3)}


def parse(spec):
    cell, H, N, T, lr, steps = spec.split(",")
    if cell not in ("rnn", "lstm", "gru"):
        raise SystemExit(f"configuration {spec!r}: cell must be rnn, lstm or gru, got {cell!r}")
    return cell, int(H), int(N), int(T), float(lr), int(steps)


def main(argv=None):
    import torch

    from rnnkit.data import Vocab, load_shakespeare, train_val_split

    specs = [parse(s) for s in (argv if argv else DEFAULT)]
    torch.set_num_threads(1)
    text = load_shakespeare()
    vocab = Vocab.from_text(text)
    train, val = train_val_split(vocab.encode(text), val_fraction=0.1)
    for spec in specs:
        print(json.dumps(run(train, val[:200_000], len(vocab), *spec)), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
