"""``fit``: the small training loop shared by the later chapters and the labs.

One loop, one optimizer step per batch: forward under optional autocast, backward,
gradient clipping by global norm, step. It records the loss and the gradient norm
(before clipping) of every step, and stops with ``TrainingDiverged`` the moment the loss
or the gradient stops being finite, naming the step and the usual cures. Everything
model-specific (how a batch becomes a loss, truncated-BPTT state carrying) lives in the
caller's ``loss_fn``.
"""

import math
import sys
import warnings
from dataclasses import dataclass, field

import torch

__all__ = ["fit", "History", "TrainingDiverged"]

AMP_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


@dataclass
class History:
    """Per-step records of a run: ``loss[k]`` and ``grad_norm[k]`` (before clipping)."""

    loss: list = field(default_factory=list)
    grad_norm: list = field(default_factory=list)


class TrainingDiverged(RuntimeError):
    """The loss or the gradient became NaN or inf; ``.step`` and ``.history`` tell where."""

    def __init__(self, message, step, history):
        super().__init__(message)
        self.step, self.history = step, history


def _to(batch, device):
    """Move every tensor in a (nested) tuple, list or dict to ``device``."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):  # a NamedTuple
        return type(batch)(*(_to(b, device) for b in batch))
    if isinstance(batch, (list, tuple)):
        return type(batch)(_to(b, device) for b in batch)
    if isinstance(batch, dict):
        return {k: _to(v, device) for k, v in batch.items()}
    return batch


def _progress_bar(progress):
    """Return a ``wrap(iterable) -> iterable`` for the chosen progress display, or None."""
    if progress in (False, None):
        return None
    if progress not in (True, "text", "tqdm"):
        raise ValueError(f"progress: expected False, True, 'text' or 'tqdm', got {progress!r}")
    if progress in (True, "tqdm"):
        try:
            from tqdm.auto import tqdm

            return tqdm
        except ImportError:
            if progress == "tqdm":
                raise ImportError("progress='tqdm' needs tqdm: pip install tqdm") from None
    return "text"


def fit(model, loss_fn, batches, optimizer, *, epochs=1, max_norm=None, amp=None,
        scheduler=None, progress=False, log_every=100, max_steps=None):
    """Train ``model`` with ``optimizer`` over ``batches`` and return the ``History``.

    Args:
        model: an ``nn.Module``; its first parameter's device is where batches go.
        loss_fn: ``loss_fn(model, batch) -> scalar tensor``.
        batches: an iterable gone through once per epoch (a list, a DataLoader), or a
            function of no arguments returning a fresh iterable for each epoch.
        optimizer: a ``torch.optim`` optimizer over the model's parameters.
        epochs: passes over ``batches``.
        max_norm: clip the global gradient norm to this value; None: no clipping.
        amp: None, "bf16" or "fp16": autocast on CUDA (fp16 with a GradScaler). On
            other devices it is disabled with a warning and training runs in full precision.
        scheduler: an LR scheduler stepped after every optimizer step, or None.
        progress: False (default, quiet), "text" (a line every ``log_every`` steps),
            "tqdm", or True (tqdm when installed, else text).
        log_every: steps between text progress lines.
        max_steps: stop after this many steps in total, or None.
    Returns:
        History with one loss and one gradient norm per step.
    Raises:
        TrainingDiverged: the loss or the gradient norm is NaN or inf at some step.
    """
    if amp not in (None, *AMP_DTYPES):
        raise ValueError(f"amp: expected None, 'bf16' or 'fp16', got {amp!r}")
    device = next(model.parameters()).device
    use_amp = amp is not None and device.type == "cuda"
    if amp is not None and not use_amp:
        warnings.warn(f"amp={amp!r} is CUDA-only here; training in full precision on "
                      f"{device.type}", stacklevel=2)
    scaler = torch.amp.GradScaler("cuda") if use_amp and amp == "fp16" else None
    bar = _progress_bar(progress)
    clip = math.inf if max_norm is None else float(max_norm)
    history, step = History(), 0
    model.train()
    for epoch in range(epochs):
        iterable = batches() if callable(batches) else batches
        steps_before = step
        if bar not in (None, "text"):
            iterable = bar(iterable, desc=f"epoch {epoch}", leave=False)
        for batch in iterable:
            batch = _to(batch, device)
            with torch.autocast(device.type, dtype=AMP_DTYPES.get(amp), enabled=use_amp):
                loss = loss_fn(model, batch)
            value = float(loss.detach())
            if not math.isfinite(value):
                _diverged(step, f"the loss is {value}", optimizer, max_norm, history)
            optimizer.zero_grad(set_to_none=True)
            if scaler is not None:
                scaler.scale(loss).backward()
                scaler.unscale_(optimizer)  # clip the true gradients, not the scaled ones
            else:
                loss.backward()
            params = [p for g in optimizer.param_groups for p in g["params"] if p.grad is not None]
            norm = float(torch.nn.utils.clip_grad_norm_(params, clip))
            if not math.isfinite(norm) and scaler is None:  # the scaler skips such steps itself
                _diverged(step, f"the gradient norm is {norm}", optimizer, max_norm, history)
            if scaler is not None:
                scaler.step(optimizer)
                scaler.update()
            else:
                optimizer.step()
            if scheduler is not None:
                scheduler.step()
            history.loss.append(value)
            history.grad_norm.append(norm)
            step += 1
            if bar == "text" and step % log_every == 0:
                recent = history.loss[-log_every:]
                print(f"epoch {epoch} step {step}: loss {sum(recent) / len(recent):.4f}",
                      file=sys.stderr)
            elif bar not in (None, "text"):
                iterable.set_postfix(loss=f"{value:.4f}")
            if max_steps is not None and step >= max_steps:
                return history
        if step == steps_before:
            raise ValueError(f"batches: epoch {epoch} had no batches (an exhausted generator?); "
                             "pass a list, a DataLoader, or a function returning a new iterable")
    return history


def _diverged(step, what, optimizer, max_norm, history):
    lr = optimizer.param_groups[0].get("lr")
    clip = "clip gradients (pass max_norm=1.0, say)" if max_norm is None else \
        f"clip harder (max_norm={max_norm} now)"
    raise TrainingDiverged(
        f"training diverged at step {step} (counting from 0): {what}. "
        f"Try a lower learning rate (lr={lr} now) or {clip}; check the inputs for NaN too.",
        step, history,
    )
