"""Checkpoints of a character LM without pickle: NumPy ``.npz`` weights and a JSON file.

A checkpoint is a folder:

- ``config.json``: the format and its version, the model's configuration (cell, V, H, D,
  layers), the vocabulary (its characters in id order, as one string) and what the caller
  adds (training progress, the data file, the best validation score);
- ``best.npz``: the weights with the best validation score so far (``sample`` and ``eval``
  use them);
- ``last.npz``: the latest weights and the optimizer's state, for ``resume``.

Weights are arrays named by ``state_dict`` keys, written with ``np.savez`` and read with
``np.load(..., allow_pickle=False)``: loading a checkpoint cannot run code. The optimizer's
tensors are stored beside them as ``optim/<param index>/<name>``, its hyperparameters in
``config.json``. Every file is written to a temporary name and renamed into place, so a
checkpoint interrupted halfway (Ctrl-C, a full disk) leaves the previous one intact.

Loading checks what it loads against what the caller expects: another model kind, another
shape or a vocabulary that does not cover the text raise ``CheckpointError`` with a one-line
message naming both sides.
"""

import json
import os
from pathlib import Path

import numpy as np
import torch

from rnnkit.data import Vocab
from rnnkit.torch.models.charlm import CharLM

__all__ = ["CheckpointError", "FORMAT", "save", "load_config", "load", "load_optimizer",
           "model_config", "check_kind", "check_covers"]

FORMAT, VERSION = "rnnkit-charlm", 1
CONFIG, BEST, LAST = "config.json", "best.npz", "last.npz"
OPTIM = "optim/"  # prefix of the optimizer's arrays in last.npz


class CheckpointError(ValueError):
    """A checkpoint is missing, damaged, or does not match what it is loaded for."""


def model_config(model):
    """The constructor arguments of a ``CharLM``, as JSON-ready values."""
    return {"cell": model.cell, "V": model.V, "H": model.H, "D": model.embed.embedding_dim,
            "num_layers": model.rnn.num_layers}


def _atomic(path, write):
    tmp = path.with_name(path.name + ".tmp")
    write(tmp)
    os.replace(tmp, path)


def _save_npz(path, arrays):
    def write(tmp):
        with open(tmp, "wb") as fh:  # a file object: np.savez would append .npz to a name
            np.savez(fh, **arrays)

    _atomic(path, write)


def _weights(model):
    return {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()}


def save(directory, model, vocab, extra=None, optimizer=None, best=False):
    """Write ``last.npz`` (and ``best.npz`` when ``best``) and ``config.json`` into ``directory``.

    Args:
        directory: the checkpoint folder, created if needed.
        model: a ``CharLM``.
        vocab: its ``rnnkit.data.Vocab``.
        extra: a JSON-ready dict stored under ``"train"`` in config.json (progress, data file).
        optimizer: a ``torch.optim`` optimizer whose state goes into last.npz, or None.
        best: also write the weights as ``best.npz``.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    arrays = _weights(model)
    optim_groups = None
    if optimizer is not None:
        sd = optimizer.state_dict()
        for idx, state in sd["state"].items():
            for name, value in state.items():
                arrays[f"{OPTIM}{idx}/{name}"] = torch.as_tensor(value).detach().cpu().numpy()
        optim_groups = [{k: (list(v) if isinstance(v, tuple) else v) for k, v in g.items()}
                        for g in sd["param_groups"]]
    _save_npz(directory / LAST, arrays)
    if best:
        _save_npz(directory / BEST, _weights(model))
    config = {"format": FORMAT, "version": VERSION, "model": model_config(model),
              "vocab": {"chars": "".join(vocab.chars), "unknown": vocab.unknown},
              "optimizer": None if optimizer is None else {
                  "class": type(optimizer).__name__, "param_groups": optim_groups},
              "train": extra or {}}
    _atomic(directory / CONFIG,
            lambda tmp: tmp.write_text(json.dumps(config, indent=1, ensure_ascii=False),
                                       encoding="utf-8"))


def load_config(directory):
    """Read and check ``config.json``; return it as a dict."""
    path = Path(directory) / CONFIG
    if not path.is_file():
        raise CheckpointError(f"{directory}: no checkpoint here ({CONFIG} is missing)")
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as err:
        raise CheckpointError(f"{path}: not a valid JSON file ({err})") from None
    found = config.get("format") if isinstance(config, dict) else None
    if found != FORMAT:
        raise CheckpointError(f"{path}: not an rnnkit char-LM checkpoint (format {found!r}, "
                              f"expected {FORMAT!r})")
    if config.get("version") != VERSION:
        raise CheckpointError(f"{path}: checkpoint format version {config.get('version')}, this "
                              f"rnnkit reads version {VERSION}")
    return config


def _read_npz(path):
    if not path.is_file():
        raise CheckpointError(f"{path.parent}: no checkpoint weights ({path.name} is missing)")
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}
    except (ValueError, OSError) as err:
        raise CheckpointError(f"{path}: cannot read the weights ({err})") from None


def check_kind(config, directory, cell=None, H=None, num_layers=None, D=None):
    """Raise ``CheckpointError`` when the checkpoint's model differs from the one asked for."""
    m = config["model"]
    asked = {"cell": cell, "H": H, "num_layers": num_layers, "D": D}
    flags = {"cell": "--model", "H": "--hidden", "num_layers": "--layers", "D": "--embed"}
    for key, want in asked.items():
        if want is not None and want != m[key]:
            raise CheckpointError(
                f"{directory} holds model {m['cell']} (hidden {m['H']}, {m['num_layers']} "
                f"layer(s), embedding {m['D']}), but {flags[key]} asks for {want}: "
                f"a checkpoint loads only into the model it was saved from")


def check_covers(vocab, text, directory, source):
    """Raise ``CheckpointError`` when ``text`` has characters outside the checkpoint's ``vocab``."""
    missing = sorted(set(text) - set(vocab.chars))
    if missing:
        shown = "".join(missing[:10]).encode("unicode_escape").decode("ascii")
        raise CheckpointError(
            f"{source} has {len(missing)} character(s) outside the vocabulary of {directory} "
            f"({len(vocab)} characters), e.g. '{shown}': a model reads only the characters "
            "it was trained on")


def load(directory, which="best", device="cpu", fast=True):
    """Rebuild the ``CharLM`` of a checkpoint.

    Args:
        directory: the checkpoint folder.
        which: ``"best"`` (falls back to ``"last"`` when no validation has run) or ``"last"``.
        device: where to put the model.
        fast: run the recurrence through torch.nn's fused kernel.
    Returns:
        model (in eval mode), vocab (``rnnkit.data.Vocab``), config (dict).
    """
    directory = Path(directory)
    config = load_config(directory)
    m, v = config["model"], config["vocab"]
    vocab = Vocab(list(v["chars"]))  # the stored chars already hold the unknown symbol, if any
    if len(vocab) != m["V"]:
        raise CheckpointError(f"{directory / CONFIG}: the vocabulary has {len(vocab)} "
                              f"characters but the model expects V={m['V']}")
    path = directory / (BEST if which == "best" and (directory / BEST).is_file() else LAST)
    arrays = {k: a for k, a in _read_npz(path).items() if not k.startswith(OPTIM)}
    model = CharLM(m["V"], m["H"], m["cell"], D=m["D"], num_layers=m["num_layers"], fast=fast,
                   device=device)
    expected = model.state_dict()
    if set(arrays) != set(expected) or any(
            arrays[k].shape != tuple(t.shape) for k, t in expected.items()):
        diff = sorted(set(arrays) ^ set(expected)) or [
            f"{k} {arrays[k].shape} vs {tuple(t.shape)}" for k, t in expected.items()
            if arrays[k].shape != tuple(t.shape)]
        raise CheckpointError(f"{path}: weights do not fit the {m['cell']} model described in "
                              f"{CONFIG} (first difference: {diff[0]})")
    model.load_state_dict({k: torch.from_numpy(a) for k, a in arrays.items()})
    model.eval()
    return model, vocab, config


def load_optimizer(directory, optimizer, config):
    """Restore an optimizer's state from ``last.npz``; False when the checkpoint has none."""
    saved = config.get("optimizer")
    if not saved:
        return False
    if saved["class"] != type(optimizer).__name__:
        raise CheckpointError(f"{directory}: the optimizer state is {saved['class']}'s, not "
                              f"{type(optimizer).__name__}'s")
    state = {}
    for key, value in _read_npz(Path(directory) / LAST).items():
        if key.startswith(OPTIM):
            idx, name = key[len(OPTIM):].split("/", 1)
            state.setdefault(int(idx), {})[name] = torch.from_numpy(value)
    optimizer.load_state_dict({"state": state, "param_groups": saved["param_groups"]})
    return True
