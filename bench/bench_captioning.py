"""Chapter 13 at full size: the captioners trained longer, with the variants the page leaves out.

The page trains two captioners (image through the initial state, image at every step) for 700
steps. This script trains, on the same generated shapes set and the same batches:

- ``init``: c0 = v, h0 = tanh(v) (the page's);
- ``init-h0``: CS231n's h0 = v, c0 = 0 (Exercise 13.1);
- ``step``: v at every step (the page's);
- ``attention``: Show, Attend and Tell's attention over the nine regions;

and prints, for each, the fraction of greedy test captions the checker calls true, corpus BLEU
(NLTK) and the training time. ``--device`` defaults to ``rnnkit.torch.pick_device()``.

    python bench/bench_captioning.py                  # 3000 steps, every variant
    python bench/bench_captioning.py --steps 700 --variants init step
"""

import argparse
import time

import numpy as np
import torch
from nltk.translate.bleu_score import corpus_bleu

from rnnkit.tasks.shapes import WORD_TO_IDX, check_caption, decode, encode, shapes_captions
from rnnkit.torch import pick_device, seed_everything
from rnnkit.torch.models.captioning import Captioner

VARIANTS = {"init": {"condition": "init"}, "init-h0": {"condition": "init"},
            "step": {"condition": "step"}, "attention": {"attention": True}}


class H0Only(Captioner):
    """CS231n's conditioning: h0 = v and c0 = 0."""

    def start_state(self, images):
        h, c = super().start_state(images)
        return (c, torch.zeros_like(c))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--train", type=int, default=8000, help="training images")
    ap.add_argument("--test", type=int, default=1000, help="test images")
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    ap.add_argument("--device", default=None)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device) if args.device else pick_device()
    rng = np.random.default_rng(0)
    train, test = shapes_captions(args.train, rng), shapes_captions(args.test, rng)
    X = torch.from_numpy(train.images)
    X_test = torch.from_numpy(test.images).to(device)
    brng = np.random.default_rng(1)
    idx = [brng.integers(0, len(X), 64) for _ in range(args.steps)]
    caps = [torch.from_numpy(encode([train.references[i][brng.integers(len(train.references[i]))]
                                     for i in b], 13)) for b in idx]
    print(f"device {device}, {args.steps} steps of 64, {args.train} training images, "
          f"{args.test} test images")
    print(f"{'variant':>10} {'true':>6} {'BLEU':>6} {'loss':>6} {'seconds':>8}")
    for name in args.variants:
        seed_everything(0)
        cls = H0Only if name == "init-h0" else Captioner
        model = cls(len(WORD_TO_IDX), 32, 96, **VARIANTS[name]).to(device)
        opt = torch.optim.Adam(model.parameters(), lr=args.lr)
        start, losses = time.perf_counter(), []
        for b, c in zip(idx, caps, strict=True):
            loss = model.loss(X[b].to(device), c.to(device))
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            losses.append(float(loss.detach()))
        seconds = time.perf_counter() - start
        model.eval()
        ids, _ = model.greedy_batch(X_test, 12)
        hyps = [decode(r) for r in ids.cpu().numpy()]
        true = np.mean([check_caption(h, sc).true for h, sc in zip(hyps, test.scenes,
                                                                     strict=True)])
        bleu = corpus_bleu(test.references, hyps)
        print(f"{name:>10} {true:6.3f} {bleu:6.3f} {np.mean(losses[-100:]):6.3f} {seconds:8.1f}")


if __name__ == "__main__":
    main()
