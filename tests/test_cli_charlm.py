"""`rnnkit charlm train|sample|eval` end to end, on a small generated text.

Training, sampling, scoring, resuming and Ctrl-C run the real command in a subprocess
(``python -m rnnkit``); the bad-input cases call ``rnnkit.cli.main`` in this process (the
same code from argument parsing on, without paying for a torch import each time), and two
of them run as a subprocess too, for the exit status and the single line on stderr.
"""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from rnnkit.cli import main  # noqa: E402
from rnnkit.torch import checkpoint as ckpt  # noqa: E402

TINY = ["--hidden", "32", "--embed", "16", "--batch", "8", "--seq", "16", "--threads", "1",
        "--device", "cpu", "--progress", "lines"]


def rnnkit(*args, check=True, timeout=120):
    res = subprocess.run([sys.executable, "-m", "rnnkit", *map(str, args)], capture_output=True,
                         text=True, timeout=timeout)
    if check:
        assert res.returncode == 0, res.stderr
    return res


@pytest.fixture(scope="module")
def text_file(tmp_path_factory):
    """About 30,000 characters of a small made-up language: learnable in seconds."""
    rng = np.random.default_rng(0)
    words = "the cat sat on a mat and then ran to the red barn where a dog slept".split()
    lines = [" ".join(rng.choice(words, 8)) + "." for _ in range(800)]
    path = tmp_path_factory.mktemp("text") / "tiny.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def trained(text_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("ckpt") / "run"
    res = rnnkit("charlm", "train", text_file, "--out", out, "--steps", 60, *TINY)
    return out, res


def test_train_writes_a_checkpoint_without_pickle(trained):
    out, res = trained
    assert "saved" in res.stderr and "bits/char" in res.stderr
    assert "steps/s" in res.stderr and "chars/s" in res.stderr and "val " in res.stderr
    config = json.loads((out / "config.json").read_text(encoding="utf-8"))
    assert config["format"] == "rnnkit-charlm" and config["model"]["cell"] == "lstm"
    assert config["train"]["step"] == 60 and config["train"]["best_step"] == 60
    for name in ("best.npz", "last.npz"):
        with np.load(out / name, allow_pickle=False) as npz:  # plain arrays only
            assert "head.weight" in npz.files
    with np.load(out / "last.npz", allow_pickle=False) as npz:
        assert any(k.startswith("optim/") for k in npz.files)  # Adam's moments, for --resume


def run_main(capsys, *args):
    """``rnnkit.cli.main`` in this process; return its stdout."""
    assert main([str(a) for a in args]) == 0
    return capsys.readouterr().out


def test_training_learns_and_eval_reports_the_validation_score(trained, text_file, capsys):
    out, _ = trained
    config = json.loads((out / "config.json").read_text(encoding="utf-8"))
    best = config["train"]["best_val_bpc"]
    assert best < np.log2(len(config["vocab"]["chars"])) - 1  # well below a uniform guess
    res = rnnkit("charlm", "eval", out)  # the held-out tail of the training text
    assert res.stdout.startswith(f"{best:.4f} bits/char"), res.stdout
    # the whole file, checked against the Python API on the same checkpoint
    printed = float(run_main(capsys, "charlm", "eval", out, text_file).split()[0])
    model, vocab, _ = ckpt.load(out)
    ids = vocab.encode(text_file.read_text(encoding="utf-8"))
    nats = model.evaluate(ids, N=32, T=min(200, (len(ids) - 1) // 32))
    assert abs(printed - nats / np.log(2)) < 1e-3


def test_sample_prints_the_prime_and_repeats_with_a_seed(trained, capsys):
    out, _ = trained
    args = ("charlm", "sample", out, "--prime", "the cat", "--length", 80, "--seed", 3,
            "--top-k", 5)
    first = rnnkit(*args).stdout
    assert first == run_main(capsys, *args)  # the same seed, the same text
    assert first.startswith("the cat") and len(first) >= 80
    greedy = run_main(capsys, "charlm", "sample", out, "--temperature", 0, "--length", 40)
    assert len(greedy) == 1 + 40 + 1  # the default prime (a newline), 40 characters, a newline


def test_resume_continues_the_step_count_and_the_optimizer(trained, text_file):
    out, _ = trained
    # without FILE, --resume continues on the text the checkpoint was trained on
    res = rnnkit("charlm", "train", "--out", out, "--resume", "--steps", 15,
                 "--threads", 1, "--progress", "off")
    assert "resuming at step 60" in res.stderr and str(text_file) in res.stderr
    config = json.loads((out / "config.json").read_text(encoding="utf-8"))
    assert config["train"]["step"] == 75 and config["model"]["H"] == 32  # kept from the checkpoint


def test_ctrl_c_saves_a_checkpoint(text_file, tmp_path, capsys):
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "rnnkit", "charlm", "train", str(text_file), "--out", str(out),
           "--seconds", "60", *TINY]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        line = ""
        while not line.startswith("step ") and time.monotonic() < deadline:
            line = proc.stderr.readline()  # the first progress line: training has begun
        assert line.startswith("step "), "no progress line"
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        rest = proc.communicate(timeout=60)[1]
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, rest
    assert "interrupted at step" in rest and "--resume" in rest
    config = json.loads((out / "config.json").read_text(encoding="utf-8"))
    assert config["train"]["step"] >= 1
    assert run_main(capsys, "charlm", "sample", out, "--length", 20)  # the checkpoint loads
    assert not any(p.name.endswith(".tmp") for p in out.iterdir())


# ------------------------------------------------------------ bad input: one line, exit 2


def bad(capsys, *args):
    code = main([str(a) for a in args])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("rnnkit: error: ") and err.count("\n") == 1, err
    return err


def test_bad_files(capsys, tmp_path):
    empty, binary, latin, short = (tmp_path / n for n in ("e.txt", "b.bin", "l.txt", "s.txt"))
    empty.write_bytes(b"")
    binary.write_bytes(b"\x7fELF\x02\x01\x01\x00\x00")
    latin.write_bytes("café au lait\n".encode("latin-1"))
    short.write_text("to be or not to be\n")
    out = tmp_path / "out"
    assert "no such file" in bad(capsys, "charlm", "train", tmp_path / "nope.txt", "--out", out)
    assert "empty" in bad(capsys, "charlm", "train", empty, "--out", out)
    assert "binary" in bad(capsys, "charlm", "train", binary, "--out", out)
    assert "not UTF-8" in bad(capsys, "charlm", "train", latin, "--out", out)
    assert "0xe9 at offset 3" in bad(capsys, "charlm", "train", latin, "--out", out)
    err = bad(capsys, "charlm", "train", short, "--out", out)
    assert "too few" in err and "--batch 64 x --seq 32" in err
    assert not out.exists()


def test_bad_prime_names_the_character(capsys, trained):
    err = bad(capsys, "charlm", "sample", trained[0], "--prime", "the Zoo")
    assert "'Z'" in err and "position 4" in err and "--prime" in err


def test_unknown_and_missing_devices(capsys, text_file, tmp_path):
    with pytest.raises(SystemExit) as exc:
        main(["charlm", "train", str(text_file), "--out", str(tmp_path / "o"), "--device", "tpu"])
    assert exc.value.code == 2
    assert "invalid choice: 'tpu'" in capsys.readouterr().err
    if not torch.cuda.is_available():
        err = bad(capsys, "charlm", "train", text_file, "--out", tmp_path / "o", "--device",
                  "cuda")
        assert "no CUDA device" in err


def test_a_checkpoint_of_another_model_or_vocabulary_names_both(capsys, trained, tmp_path):
    out = trained[0]
    err = bad(capsys, "charlm", "train", "--out", out, "--resume", "--model", "gru")
    assert "holds model lstm" in err and "--model asks for gru" in err
    other = tmp_path / "other.txt"
    other.write_text("Quiz: jumbo vex!\n")
    err = bad(capsys, "charlm", "eval", out, other)
    assert str(other) in err and str(out) in err and "outside the vocabulary" in err
    err = bad(capsys, "charlm", "train", other, "--out", out, "--resume")
    assert "outside the vocabulary" in err
    assert "--resume" in bad(capsys, "charlm", "train", other, "--out", out)  # no overwrite
    assert "no checkpoint here" in bad(capsys, "charlm", "sample", tmp_path)


def test_errors_in_a_subprocess_are_one_line_and_exit_2(tmp_path):
    res = rnnkit("charlm", "train", tmp_path / "nope.txt", "--out", tmp_path / "o", check=False)
    assert res.returncode == 2 and res.stderr == f"rnnkit: error: {tmp_path / 'nope.txt'}: " \
                                                 "no such file\n"
    env = dict(os.environ)  # without torch: still one line, with the install hint
    code = ("import sys; sys.modules['torch'] = None; from rnnkit.cli import main; "
            "sys.exit(main(['charlm', 'sample', 'x']))")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         timeout=60)
    assert res.returncode == 2 and "need PyTorch" in res.stderr and res.stderr.count("\n") == 1
