"""The bodies of ``rnnkit charlm train|sample|eval`` (parsing and input checks: ``rnnkit.cli``).

``train`` is truncated BPTT through ``rnnkit.torch.fit`` (clipping, AMP on CUDA, divergence
detection) over ``rnnkit.data.StreamBatches``, with what a long run needs around it: a
progress display (steps/s, chars/s, train loss, last validation bits/char), validation on
the held-out tail every ``--val-every`` seconds of training and at the end, the best weights
kept, ``--resume``, and a checkpoint written on Ctrl-C. Checkpoints: ``rnnkit.torch.checkpoint``.
"""

import hashlib
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch

from rnnkit.cli_common import DEFAULTS, CLIError, read_text
from rnnkit.data import StreamBatches, Vocab, load_shakespeare, train_val_split
from rnnkit.decode import sample as sample_text
from rnnkit.models.charlm import bits_per_char
from rnnkit.torch import checkpoint as ckpt
from rnnkit.torch.device import pick_device, seed_everything
from rnnkit.torch.models.charlm import CharLM
from rnnkit.torch.train import TrainingDiverged, fit

__all__ = ["train", "sample", "evaluate", "COMMANDS"]

BUNDLED = "shakespeare"  # the data name stored in a checkpoint trained on the bundled text
VAL_FRACTION = 0.1


def _device(name):
    if name == "auto":
        try:
            return pick_device()
        except (ValueError, RuntimeError) as err:
            raise CLIError(str(err)) from None
    if name == "cuda" and not torch.cuda.is_available():
        build = f"CUDA {torch.version.cuda}" if torch.version.cuda else "a CPU-only build"
        raise CLIError(f"--device cuda: torch sees no CUDA device (torch {torch.__version__}, "
                       f"{build}); use --device cpu")
    if name == "mps" and not (getattr(torch.backends, "mps", None)
                              and torch.backends.mps.is_available()):
        raise CLIError("--device mps: the MPS backend is not available here; use --device cpu")
    return torch.device(name)


def _load_data(file):
    """The text to train on and a label for messages: FILE, or the bundled Shakespeare."""
    if file is None:
        return load_shakespeare(), "the bundled Shakespeare", BUNDLED
    return read_text(file), str(file), str(Path(file).resolve())


def _checked(call):
    try:
        return call()
    except ckpt.CheckpointError as err:
        raise CLIError(str(err)) from None


def _eval_batches_shape(n):
    """Streams and window for scoring n ids: up to 32 x 200, fewer for a short text."""
    N = max(1, min(32, (n - 1) // 200))
    return N, max(1, min(200, (n - 1) // N))


class Progress:
    """One status line: redrawn up to 10 times a second on a terminal, else a line every 10 s."""

    def __init__(self, mode):
        self.bar = mode == "bar" or (mode == "auto" and sys.stderr.isatty())
        self.off, self.last_print = mode == "off", -math.inf

    def show(self, s, force=False):
        if self.off:
            return
        now = time.perf_counter()
        if not force and now - self.last_print < (0.1 if self.bar else 10):
            return
        self.last_print = now
        if self.bar:
            print(f"\r{s:<118}", end="", file=sys.stderr, flush=True)
        else:
            print(s, file=sys.stderr, flush=True)

    def close(self):
        if self.bar and not self.off:
            print(file=sys.stderr, flush=True)


def train(args):
    """``rnnkit charlm train``: see ``rnnkit.cli``."""
    out = Path(args.out)
    file = args.file
    if args.resume:
        config = _checked(lambda: ckpt.load_config(out))
        data = config["train"].get("data")
        if file is None and data not in (None, BUNDLED):  # the text it was trained on
            if not Path(data).is_file():
                raise CLIError(f"{out} was trained on {data}, which is not there any more; "
                               "name the text to continue on: rnnkit charlm train FILE --resume")
            file = data
    text, source, data_name = _load_data(file)
    device = _device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    seed_everything(args.seed)
    saved = {}
    if args.resume:
        _checked(lambda: ckpt.check_kind(config, out, args.model, args.hidden, args.layers,
                                         args.embed))
        model, vocab, _ = _checked(lambda: ckpt.load(out, "last", device))
        _checked(lambda: ckpt.check_covers(vocab, text, out, source))
        saved = config["train"]
    elif (out / ckpt.CONFIG).exists():
        raise CLIError(f"{out} already holds a checkpoint: pass --resume to continue training "
                       "it, or choose another --out")
    else:
        vocab = Vocab.from_text(text)
    hp = {k: getattr(args, k) if getattr(args, k) is not None else saved.get(k, v)
          for k, v in DEFAULTS.items()}
    N, T = hp["batch"], hp["seq"]
    ids = vocab.encode(text)
    n_val = int(round(len(ids) * VAL_FRACTION))
    if len(ids) - n_val < N * T + 1 or n_val < 2:
        raise CLIError(f"{source}: {len(text):,} characters are too few: one batch of --batch "
                       f"{N} x --seq {T} needs {N * T + 1:,} training characters, and "
                       f"{VAL_FRACTION:.0%} more are held out ({math.ceil((N * T + 1) / 0.9):,} "
                       "in all); use a longer file or a smaller --batch / --seq")
    train_ids, val_ids = train_val_split(ids, VAL_FRACTION)
    if not args.resume:  # a new model starts out predicting the training text's frequencies
        model = CharLM(len(vocab), hp["hidden"], hp["model"], D=hp["embed"],
                       num_layers=hp["layers"], device=device).init_output_bias(train_ids)
    val_ids = val_ids[: args.val_chars]
    batches = StreamBatches(train_ids, N, T)
    optimizer = torch.optim.Adam(model.parameters(), lr=hp["lr"])
    if args.resume:
        _checked(lambda: ckpt.load_optimizer(out, optimizer, ckpt.load_config(out)))
        for group in optimizer.param_groups:  # a --lr given now wins over the saved one
            group["lr"] = hp["lr"]
    amp = None
    if device.type == "cuda":
        amp = "bf16" if torch.cuda.is_bf16_supported() else "fp16"

    run = {"step": saved.get("step", 0), "seconds": saved.get("seconds", 0.0),
           "best_val_bpc": saved.get("best_val_bpc"), "best_step": saved.get("best_step"),
           "last_val_bpc": saved.get("last_val_bpc"), "loss": None}
    budget_steps = None if args.steps is None else run["step"] + args.steps
    budget_seconds = None if args.steps is not None else run["seconds"] + (args.seconds or 120.0)
    progress = Progress(args.progress)
    carried = {"state": None}
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    clock = {"start": time.perf_counter(), "paused": 0.0, "next_val": run["seconds"]
             + args.val_every, "run_steps": 0}

    def trained_seconds():  # of training in this run, validation and saving excluded
        return time.perf_counter() - clock["start"] - clock["paused"]

    def total_seconds():
        return saved.get("seconds", 0.0) + trained_seconds()

    def extra():
        return {**hp, **{k: run[k] for k in ("step", "best_val_bpc", "best_step",
                                             "last_val_bpc")},
                "seconds": round(total_seconds(), 3), "data": data_name,
                "data_sha256": digest,
                "val_chars": len(val_ids), "device": device.type}

    def validate_and_save():
        t0 = time.perf_counter()
        bpc = bits_per_char(model.evaluate(val_ids, *_eval_batches_shape(len(val_ids))))
        run["last_val_bpc"] = round(bpc, 5)
        best = run["best_val_bpc"] is None or bpc < run["best_val_bpc"]
        if best:
            run["best_val_bpc"], run["best_step"] = round(bpc, 5), run["step"]
        ckpt.save(out, model, vocab, extra(), optimizer, best=best)
        clock["paused"] += time.perf_counter() - t0

    def status():
        secs = max(trained_seconds(), 1e-9)
        val = "-" if run["last_val_bpc"] is None else f"{run['last_val_bpc']:.3f}"
        best = "" if run["best_val_bpc"] is None else f" (best {run['best_val_bpc']:.3f})"
        limit = f"{run['step']:,}/{budget_steps:,} steps" if budget_steps else \
            f"{total_seconds():.0f}/{budget_seconds:.0f} s"
        loss = "-" if run["loss"] is None else f"{bits_per_char(run['loss']):.3f}"
        return (f"step {run['step']:,} | {clock['run_steps'] / secs:.1f} steps/s "
                f"{clock['run_steps'] * N * T / secs:,.0f} chars/s | train {loss} bits/char | "
                f"val {val}{best} | {limit}")

    def set_lr():  # the cosine schedule over this run's budget, by the clock or by the step
        if args.schedule == "const":
            return
        frac = clock["run_steps"] / args.steps if budget_steps is not None else \
            trained_seconds() / (budget_seconds - saved.get("seconds", 0.0))
        for group in optimizer.param_groups:
            group["lr"] = hp["lr"] * 0.5 * (1 + math.cos(math.pi * min(frac, 1.0)))

    def done():
        if budget_steps is not None:
            return run["step"] >= budget_steps
        return total_seconds() >= budget_seconds

    def stream():
        k = run["step"] % len(batches)  # resume where the last run stopped in the text
        while not done():
            carried["state"] = None  # each pass over the streams starts from zeros
            for j in range(k, len(batches)):
                x, y = batches[j]
                if done():
                    return
                yield torch.as_tensor(x), torch.as_tensor(y)
                run["step"] += 1  # fit has taken the step when it asks for the next batch
                clock["run_steps"] += 1
                set_lr()
                if total_seconds() >= clock["next_val"] and not done():  # the end has its own
                    validate_and_save()
                    clock["next_val"] = total_seconds() + args.val_every
                    progress.show(status(), force=True)
                else:
                    progress.show(status())
            k = 0

    def loss_fn(model, batch):
        nll, carried["state"] = model.loss(*batch, carried["state"])
        run["loss"] = float(nll.detach())
        return nll

    print(f"rnnkit charlm train: {source}, {len(text):,} characters, V={len(vocab)}; "
          f"{hp['model']} H={hp['hidden']} x{hp['layers']} on {device.type}, batch {N} x {T}"
          + (f", resuming at step {run['step']:,}" if args.resume else ""), file=sys.stderr)
    try:
        fit(model, loss_fn, stream(), optimizer, max_norm=hp["clip"], amp=amp)
        validate_and_save()
    except KeyboardInterrupt:
        progress.close()
        ckpt.save(out, model, vocab, extra(), optimizer,
                  best=run["best_val_bpc"] is None)
        print(f"interrupted at step {run['step']:,}: checkpoint saved in {out}; continue with "
              f"--resume", file=sys.stderr)
        return 130
    except TrainingDiverged as err:
        progress.close()
        print(f"rnnkit: {err}", file=sys.stderr)
        return 1
    progress.show(status(), force=True)
    progress.close()
    print(f"saved {out}: best {run['best_val_bpc']:.3f} bits/char on {len(val_ids):,} held-out "
          f"characters at step {run['best_step']:,}; try: rnnkit charlm sample {out}",
          file=sys.stderr)
    return 0


def sample(args):
    """``rnnkit charlm sample``: print the prime and the generated text."""
    device = _device(args.device)
    model, vocab, _ = _checked(lambda: ckpt.load(args.dir, args.which, device))
    prime = args.prime
    if prime is None:
        prime = "\n" if "\n" in vocab else vocab.chars[0]
    if not prime:
        raise CLIError("--prime: expected at least one character")
    for pos, ch in enumerate(prime):
        if ch not in vocab:
            raise CLIError(f"--prime: character {ch!r} (U+{ord(ch):04X}) at position {pos} is "
                           f"not in the vocabulary of {args.dir} ({len(vocab)} characters)")
    if args.top_k is not None and args.top_k > len(vocab):
        raise CLIError(f"--top-k: expected at most the vocabulary size {len(vocab)}, got "
                       f"{args.top_k}")
    text = sample_text(model, vocab, prime, args.length, temperature=args.temperature,
                       top_k=args.top_k, seed=args.seed)
    sys.stdout.write(prime + text + ("" if (prime + text).endswith("\n") else "\n"))
    return 0


def evaluate(args):
    """``rnnkit charlm eval``: bits per character on FILE or on the held-out tail."""
    device = _device(args.device)
    model, vocab, config = _checked(lambda: ckpt.load(args.dir, args.which, device))
    if args.file is not None:
        text, source = read_text(args.file), args.file
        _checked(lambda: ckpt.check_covers(vocab, text, args.dir, source))
        ids = vocab.encode(text)
    else:
        data = config["train"].get("data")
        if data == BUNDLED:
            text, source = load_shakespeare(), "the bundled Shakespeare"
        elif data and Path(data).is_file():
            text, source = read_text(data), data
        else:
            raise CLIError(f"{args.dir}: its training text {data!r} is not here; name a FILE")
        _checked(lambda: ckpt.check_covers(vocab, text, args.dir, source))
        ids = train_val_split(vocab.encode(text), VAL_FRACTION)[1]
        ids = ids[: config["train"].get("val_chars", len(ids))]
        source += f" (held-out tail, {len(ids):,} characters)"
    if len(ids) < 2:
        raise CLIError(f"{source}: expected at least two characters to score one prediction")
    nats = model.evaluate(np.asarray(ids), *_eval_batches_shape(len(ids)))
    step = config["train"].get("best_step" if args.which == "best" else "step")
    print(f"{bits_per_char(nats):.4f} bits/char  {source}; {args.which} weights of {args.dir}"
          + (f" (step {step:,})" if step is not None else ""))
    return 0


COMMANDS = {"train": train, "sample": sample, "eval": evaluate}
