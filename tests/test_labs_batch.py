"""Class-scale grading (30 notebooks of the tiny lab: honest, wrong, hanging, ignoring SIGINT,
crashing, malformed) with ``-j 2`` and a gradebook, through the old command; and the
Gradescope bundle's ``run_autograder`` against a fake ``/autograder`` in a temporary folder."""

import csv
import json
import os
import subprocess
import sys
import zipfile

from test_labs_grade import (
    LAB1,
    ROOT,
    TINY,
    save,
    set_source,
    solution,
    source,
    tiny_code,
    tiny_manifest,
    tiny_solution,
)

from labkit.gradescope import bundle


def _variants():
    """name -> (notebook JSON text, expected score or None, expected status)."""
    out = {}
    honest = tiny_solution()
    wrong = tiny_solution()
    set_source(tiny_code(wrong, 4), "def square(x):\n    return x + x\n")  # b and c fail
    hang = tiny_solution()
    set_source(tiny_code(hang, 6), "def cube(x):\n    while True:\n        pass\n")
    deaf = tiny_solution()
    set_source(tiny_code(deaf, 2), "import time\n\nwhile True:\n    try:\n"
                                   "        time.sleep(0.05)\n    except KeyboardInterrupt:\n"
                                   "        pass\n")
    crash = tiny_solution()
    set_source(tiny_code(crash, 4), "import os\n\nos._exit(0)\n")
    kinds = [("honest", honest, 6, "graded")] * 12 + [("wrong", wrong, 1, "graded")] * 8 + [
        ("hang", hang, 3, "graded")] * 3 + [("deaf", deaf, 5, "graded")] * 2 + [
        ("crash", crash, 1, "graded")] * 2
    for k, (kind, nb, score, status) in enumerate(kinds):
        out[f"s{k:02d}_{kind}"] = (json.dumps(nb), score, status)
    for k, text in enumerate(['{"cells": [', json.dumps({"nbformat": 4, "cells": [3]}),
                              json.dumps(dict(honest, worksheets=[]))]):
        out[f"s{30 + k:02d}_malformed"] = (text, 0, "malformed")
    return out


def test_thirty_notebooks_on_two_cores_make_a_correct_gradebook(tmp_path):
    subs = tmp_path / "submissions"
    subs.mkdir()
    variants = _variants()
    assert len(variants) == 30
    for name, (text, _, _) in variants.items():
        (subs / f"{name}.ipynb").write_text(text)
    cmd = [sys.executable, "-m", "rnnkit.labs.grade", *sorted(map(str, subs.glob("*.ipynb"))),
           "--gradebook", "grades.csv", "-j", "2", "--lab", "lab00_tiny", "--manifest",
           str(tiny_manifest(tmp_path)), "--cell-timeout", "1.5", "--time-limit", "30"]
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=400)
    assert proc.returncode == 2, proc.stdout + proc.stderr  # some were malformed
    with open(tmp_path / "grades.csv", newline="") as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}
    assert sorted(rows) == sorted(variants)
    for name, (_, score, status) in variants.items():
        row = rows[name]
        assert (int(row["score"]), row["status"]) == (score, status), row
        assert row["max_score"] == "6" and row["lab"] == "lab00_tiny", row
        data = json.loads((tmp_path / "results" / f"{name}.json").read_text())
        assert data["score"] == score and data["max_score"] == 6
    assert "ignored the interrupt (SIGINT)" in rows["s23_deaf"]["message"]
    assert "'worksheets' list" in rows["s32_malformed"]["message"]


def test_a_submission_past_its_time_limit_scores_zero_and_the_rest_are_graded(tmp_path):
    slow = tiny_solution()
    for n in (2, 4, 6):
        set_source(tiny_code(slow, n), source(tiny_code(slow, n)) + "\nimport time\n"
                                                                    "time.sleep(1.5)\n")
    a = save(slow, tmp_path / "slow.ipynb")
    b = save(tiny_solution(), tmp_path / "fine.ipynb")
    cmd = [sys.executable, "-m", "labkit.grade", str(a), str(b), "--gradebook", "g.csv",
           "--lab", "lab00_tiny", "--manifest", str(tiny_manifest(tmp_path)),
           "--cell-timeout", "10", "--time-limit", "3"]
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=200)
    with open(tmp_path / "g.csv", newline="") as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}
    assert rows["fine"]["score"] == "6" and rows["fine"]["status"] == "graded", proc.stdout
    assert rows["slow"]["status"] == "incomplete" and "time limit of 3 s" in rows["slow"][
        "message"], rows["slow"]


def test_gradescope_bundle_runs_against_a_fake_autograder(tmp_path):
    zip_path = bundle("lab01_rnn_forward", tmp_path / "autograder.zip")
    root = tmp_path / "autograder"
    with zipfile.ZipFile(zip_path) as z:
        names = set(z.namelist())
        assert {"setup.sh", "run_autograder", "requirements.txt", f"released/{LAB1}",
                "released/SHA256SUMS", "labkit/released.json", "labkit/grade.py",
                "rnnkit/cells/rnn.py"} <= names
        z.extractall(root / "source")
    assert (root / "source" / "released" / LAB1).read_text() == (ROOT / "labs" / LAB1).read_text()
    run_autograder = root / "source" / "run_autograder"
    os.chmod(run_autograder, 0o755)
    (root / "results").mkdir()
    env = dict(os.environ, AUTOGRADER_ROOT=str(root), PYTHON=sys.executable)
    # no submission: a zero results file that says why
    subprocess.run([str(run_autograder)], env=env, check=True, timeout=60)
    data = json.loads((root / "results" / "results.json").read_text())
    assert data["score"] == 0 and "exactly one .ipynb" in data["output"]
    # an honest submission under any name, hidden checks included
    save(solution(), root / "submission" / "my work.ipynb")
    proc = subprocess.run([str(run_autograder)], env=env, timeout=300, capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads((root / "results" / "results.json").read_text())
    assert data["score"] == data["max_score"] == 10, data
    assert [t["name"] for t in data["tests"]] == [f"exercise 1{c}" for c in "abcde"]
    assert "hidden" not in data["output"]  # the hidden checks ran: no self-check notice
    assert TINY.exists()
