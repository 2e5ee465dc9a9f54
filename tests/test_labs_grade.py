"""The grader, end to end, on the honest paths: every real solution scores full marks (hidden
checks included), every shipped lab scores 0 with "not implemented" messages, a correct answer
written differently scores full marks, one exercise solved scores exactly its points; the
messages a student acts on; the command line, the old command ``python -m rnnkit.labs.grade``,
the manifest shipped with labkit; and the boundary between the packages.

The holes (cheating notebooks) are in test_labs_holes.py; class-scale grading and the
Gradescope bundle in test_labs_batch.py. Helpers here are shared with both. A grading run
starts one Python process for the student's code (about 1-2 s here; Lab 5 trains an LSTM).
"""

import hashlib
import importlib.util
import json
import os
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest

import rnnkit
from labkit import read_notebook
from labkit.generate import generate_lab, render
from labkit.grade import grade, main
from labkit.release import MANIFEST, lab_entry, load_manifest, write_manifest

ROOT = Path(__file__).resolve().parents[1]
HAVE_TORCH = importlib.util.find_spec("torch") is not None


def _lab_param(path):
    """A solution as a test parameter; a lab that uses torch is skipped, with why, without it."""
    code = "\n".join("".join(c["source"]) for c in json.loads(path.read_text(encoding="utf-8"))
                     ["cells"] if c["cell_type"] == "code")
    needs_torch = re.search(r"^\s*(import|from) (torch|rnnkit\.torch)\b", code, flags=re.M)
    marks = [] if HAVE_TORCH or not needs_torch else [pytest.mark.skip(
        reason=f"{path.stem} uses torch, which is not installed")]
    return pytest.param(path, marks=marks, id=path.stem)


SOLUTION_PATHS = sorted((ROOT / "solutions").glob("lab*.ipynb"))
SOLUTIONS = [_lab_param(p) for p in SOLUTION_PATHS]
LAB1 = "lab01_rnn_forward.ipynb"
TINY = ROOT / "tests" / "fixtures" / "labs" / "solutions" / "lab00_tiny.ipynb"
NOT_IMPLEMENTED = re.compile(r"^exercise \S+ not implemented yet")


# ------------------------------------------------------------------ helpers (shared)


def load(path):
    """A notebook as raw JSON (sources stay lists of lines, as on disk)."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def lab(name=LAB1):
    return load(ROOT / "labs" / name)


def solution(name=LAB1):
    return load(ROOT / "solutions" / name)


def source(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def set_source(cell, text):
    cell["source"] = text.splitlines(True)


def cell_defining(nb, name):
    """The code cell that defines ``name`` (its ``def name(`` or ``class name``)."""
    (cell,) = [c for c in nb["cells"] if c["cell_type"] == "code"
               and re.search(rf"^(def|class) {name}\b", source(c), re.M)]
    return cell


def check_cells(nb):
    return [c for c in nb["cells"] if any(t.startswith("exercise-")
                                          for t in c.get("metadata", {}).get("tags", []))]


def add_cell(nb, text, index=None):
    """Insert a code cell (right after the lab's imports cell, by default); return it."""
    cell = {"cell_type": "code", "execution_count": None, "id": f"added-{len(nb['cells'])}",
            "metadata": {}, "outputs": [], "source": text.splitlines(True)}
    if index is None:
        index = 1 + next(i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"
                         and "import numpy as np" in "".join(c["source"]))
    nb["cells"].insert(index, cell)
    return cell


def save(nb, path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb, indent=1) + "\n", encoding="utf-8")
    return path


def run(nb, tmp_path, name=LAB1, **kwargs):
    """Grade ``nb`` saved as tmp_path/sub/name; return the summary."""
    kwargs.setdefault("cell_timeout", 60)
    kwargs.setdefault("timeout", 240)
    kwargs.setdefault("results", tmp_path / "results.json")
    return grade(save(nb, tmp_path / "sub" / name), **kwargs)


def scores(summary):
    return {e["name"]: e["score"] for e in summary["exercises"]}


def messages(summary):
    return {e["name"]: e["message"] for e in summary["exercises"]}


def tiny_manifest(tmp_path):
    """A manifest holding the tiny synthetic lab (code cells: 1 imports, 2 double, 3 check a
    (1 pt), 4 square, 5 check b (2 pts), 6 cube (calls square), 7 check c (3 pts), 8 check c)."""
    sol = read_notebook(TINY)
    text = render(generate_lab(sol))
    path = tmp_path / "manifest.json"
    write_manifest({TINY.name: lab_entry(text, sol)}, path)
    return path


def tiny_solution():
    return load(TINY)


def tiny_code(nb, n):
    return [c for c in nb["cells"] if c["cell_type"] == "code"][n - 1]


# ------------------------------------------------------------------ the real labs


@pytest.mark.parametrize("path", SOLUTIONS)
def test_solution_gets_full_marks_hidden_checks_included(path, tmp_path):
    summary = run(load(path), tmp_path, path.name, hidden=True, timeout=400)
    assert summary["complete"] and summary["notes"] == [], summary["notes"]
    assert summary["max_score"] > 0
    assert summary["score"] == summary["max_score"], messages(summary)
    data = json.loads((tmp_path / "results.json").read_text())
    assert data["score"] == data["max_score"] == summary["max_score"]
    assert [t["score"] for t in data["tests"]] == [t["max_score"] for t in data["tests"]]


@pytest.mark.parametrize("path", SOLUTIONS)
def test_shipped_lab_scores_zero_with_only_not_implemented_failures(path, tmp_path):
    summary = run(lab(path.name), tmp_path, path.name)
    assert summary["complete"] and summary["notes"] == []  # every non-check cell runs cleanly
    assert summary["score"] == 0 and summary["max_score"] > 0
    for e in summary["exercises"]:
        assert NOT_IMPLEMENTED.match(e["message"]), e
        assert all(NOT_IMPLEMENTED.match(line) for line in e["output"].splitlines()), e


def test_self_check_says_hidden_checks_run_at_grading(tmp_path):
    summary = run(lab(), tmp_path)
    assert summary["info"] == ["this self-check ran the visible checks only: 2 more (fresh "
                               "random inputs, edge cases) run when the lab is graded"]


def test_a_correct_answer_written_differently_gets_full_marks(tmp_path):
    nb = solution()
    set_source(cell_defining(nb, "rnn_step_forward"), '''def rnn_step_forward(x, h_prev, Wx, Wh, b):
    a = np.einsum("nd,dh->nh", x, Wx) + np.einsum("nk,kh->nh", h_prev, Wh) + b
    h_next = (np.exp(2 * a) - 1) / (np.exp(2 * a) + 1)
    return h_next, (x, h_prev, Wx, Wh, h_next)
''')
    set_source(cell_defining(nb, "rnn_forward"), '''def rnn_forward(x, h0, Wx, Wh, b):
    N, T, D = x.shape
    H = h0.shape[1]
    h = np.zeros((N, T, H))
    prev = h0
    for t in range(T):
        for n in range(N):  # one sequence at a time, on purpose
            prev_n, _ = rnn_step_forward(x[n:n + 1, t], prev[n:n + 1], Wx, Wh, b)
            h[n, t] = prev_n[0]
        prev = h[:, t]
    cache = [(x[:, t], h0 if t == 0 else h[:, t - 1], Wx, Wh, h[:, t]) for t in range(T)]
    return h, cache
''')
    summary = run(nb, tmp_path, hidden=True)
    assert summary["score"] == summary["max_score"] == 10, messages(summary)


def test_one_exercise_solved_scores_exactly_its_points(tmp_path):
    nb, sol = lab(), solution()
    cell_defining(nb, "rnn_step_forward")["source"] = cell_defining(sol, "rnn_step_forward")[
        "source"]
    summary = run(nb, tmp_path, hidden=True)
    assert scores(summary) == {"1a": 2, "1b": 0, "1c": 0, "1d": 0, "1e": 0}


# ------------------------------------------------------------------ messages


def test_wrong_answer_shows_values_with_every_digit_and_dtype(tmp_path):
    nb = solution()
    cell = cell_defining(nb, "rnn_step_forward")
    set_source(cell, source(cell).replace("h_next = np.tanh(x @ Wx + h_prev @ Wh + b)",
                                          "h_next = np.tanh(x @ Wx + h_prev @ Wh + b)"
                                          ".astype(np.float32)"))
    ex = messages(run(nb, tmp_path))
    assert ex["1a"].startswith(
        "h_next (hand example): relative error 2.0e-08 exceeds tolerance 1e-08; first mismatch "
        "at index (0, 0): got 0.6000000238418579 (float32), expected 0.6\n"), ex["1a"]
    assert "your dtype is float32: compute in float64" in ex["1a"]
    # 1d's own code is right: its message says the failure comes from 1b (which uses 1a)
    assert ex["1d"].startswith("scores (hand example): relative error 3.0e-08")
    assert ex["1d"].endswith("(this exercise uses your answer to exercise 1b, which fails too: "
                             "fix that first)"), ex["1d"]


def test_errors_name_the_students_cell_line_and_function(tmp_path):
    nb = solution()
    cell = cell_defining(nb, "rnn_forward")
    set_source(cell, source(cell).replace("    N, T, _ = x.shape\n",
                                          "    N, T, _ = x.shape\n    x = x.undefined_thing\n"))
    ex = messages(run(nb, tmp_path))
    n = [c for c in nb["cells"] if c["cell_type"] == "code"].index(cell) + 1
    assert ex["1b"].startswith("error in your code: AttributeError: 'numpy.ndarray' object has "
                               f"no attribute 'undefined_thing' (your code cell {n}, line ")
    assert ex["1b"].endswith("in rnn_forward)") or "in rnn_forward)" in ex["1b"]


def _tiny(tmp_path, edit, **kwargs):
    nb = tiny_solution()
    edit(nb)
    kwargs.setdefault("cell_timeout", 2)
    kwargs.setdefault("timeout", 60)
    return run(nb, tmp_path, TINY.name, manifest=tiny_manifest(tmp_path), **kwargs)


def test_hanging_cell_times_out_and_the_rest_is_graded(tmp_path):
    def edit(nb):
        set_source(tiny_code(nb, 2), "def double(x):\n    return 2 * x\n\nwhile True:\n"
                                     "    pass\n")
    summary = _tiny(tmp_path, edit)
    assert scores(summary) == {"a": 1, "b": 2, "c": 3}  # double was defined before the loop
    assert summary["notes"] == ["your code cell 2 ran past the time limit of 2 s and was "
                                "interrupted"]


def test_a_loop_that_ignores_sigint_is_reported_as_such(tmp_path):
    def edit(nb):
        set_source(tiny_code(nb, 4), "import time\n\nwhile True:\n    try:\n"
                                     "        time.sleep(0.05)\n    except KeyboardInterrupt:\n"
                                     "        pass\n")
    summary = _tiny(tmp_path, edit)
    assert summary["notes"] == ["your code cell 4 ran past the time limit of 2 s and ignored "
                                "the interrupt (SIGINT): it was killed"]
    # the cell is skipped in a fresh process; square is never defined, the rest is graded
    assert scores(summary) == {"a": 1, "b": 0, "c": 0}
    assert messages(summary)["b"].startswith("square is not defined")


def test_exit_is_blamed_on_the_cell_that_called_it(tmp_path):
    def edit(nb):
        set_source(tiny_code(nb, 4), source(tiny_code(nb, 4)) + "\nexit()\n")
        set_source(tiny_code(nb, 6), "import sys\n\nsys.exit(3)\n")
    summary = _tiny(tmp_path, edit)
    assert summary["notes"] == [
        f"your code cell {n} calls exit() (or sys.exit, quit): that stops the notebook for "
        "everyone running it; remove the call" for n in (4, 6)]
    assert scores(summary) == {"a": 1, "b": 2, "c": 0}


def test_a_cell_that_kills_python_is_named_and_the_rest_graded(tmp_path):
    def edit(nb):
        set_source(tiny_code(nb, 4), source(tiny_code(nb, 4)) + "\nimport os\nos._exit(1)\n")
    summary = _tiny(tmp_path, edit)
    assert summary["notes"] == ["your code cell 4 stopped the Python process running your code "
                                "(os._exit, a crash in compiled code or running out of memory)"]
    assert scores(summary)["a"] == 1 and summary["complete"]


def test_syntax_error_and_what_it_leaves_undefined(tmp_path):
    def edit(nb):
        set_source(tiny_code(nb, 2), "def double(x)\n    return 2 * x\n")
    summary = _tiny(tmp_path, edit)
    assert summary["notes"][0].startswith("SyntaxError in your code cell 2 (line 1): ")
    a = messages(summary)["a"]
    assert a.startswith("double is not defined") and "(your code cell 2 failed: SyntaxError" in a
    assert scores(summary) == {"a": 0, "b": 2, "c": 3}


def test_global_time_limit_still_writes_results(tmp_path, capsys):
    nb = tiny_solution()
    set_source(tiny_code(nb, 4), "import time\n\ntime.sleep(600)\n")
    results = tmp_path / "results.json"
    code = main([str(save(nb, tmp_path / TINY.name)), "--manifest", str(tiny_manifest(tmp_path)),
                 "--results", str(results), "--cell-timeout", "300", "--time-limit", "4"])
    out = capsys.readouterr().out
    assert code == 2 and "grading stopped: the time limit of 4 s ran out" in out
    data = json.loads(results.read_text())
    assert data["max_score"] == 6 and data["score"] == 0
    assert all("time limit of 4 s ran out" in t["output"] for t in data["tests"]), data
    assert all(t["output"].strip() and "not run: \n" not in t["output"] for t in data["tests"])


# ------------------------------------------------------------------ command line, manifest


def test_manifest_matches_the_committed_labs():
    data = load_manifest(MANIFEST)
    assert sorted(data["labs"]) == sorted(p.name for p in SOLUTION_PATHS)
    for name, entry in data["labs"].items():
        text = (ROOT / "labs" / name).read_text(encoding="utf-8")
        assert entry["sha256"] == hashlib.sha256(text.encode()).hexdigest(), (
            f"labkit/released.json is stale for {name}: run python -m labkit.generate")
        assert entry == json.loads(json.dumps(lab_entry(text, read_notebook(
            ROOT / "solutions" / name)))), name
    for name in ("lab01_rnn_forward", "lab02_bptt", "lab03_char_lm", "lab04_long_term",
                 "lab05_lstm_gru"):  # the policies issue 12 decided; later labs add theirs
        assert data["labs"][f"{name}.ipynb"]["forbid"], f"{name} states no reference policy"


def test_old_command_grades_and_prints_the_table(tmp_path):
    nb = solution()
    path = save(nb, tmp_path / "work" / LAB1)
    proc = subprocess.run(
        [sys.executable, "-m", "rnnkit.labs.grade", str(path), "--results", "out/results.json",
         "--cell-timeout", "60"], cwd=tmp_path, capture_output=True, text=True, timeout=200)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert re.search(r"^total\s+10 / 10$", proc.stdout, re.M), proc.stdout
    assert json.loads((tmp_path / "out" / "results.json").read_text())["score"] == 10


def test_help_documents_the_options(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    for option in ("--lab", "--gradebook", "--time-limit", "-j", "--hidden"):
        assert option in text


# ------------------------------------------------------------------ the package boundary


def _rnnkit_modules(path=rnnkit.__path__, prefix="rnnkit."):
    """Every rnnkit module, at any depth, without importing it, except the torch path (it needs
    torch) and rnnkit.labs (the old commands, which run labkit)."""
    for m in pkgutil.iter_modules(path, prefix):
        if m.name in ("rnnkit.torch", "rnnkit.labs"):
            continue
        yield m.name
        if m.ispkg:
            yield from _rnnkit_modules([os.path.join(m.module_finder.path,
                                                     m.name.rpartition(".")[2])], m.name + ".")


def _loaded_after(*names):
    code = "import sys\n" + "".join(f"import {n}\n" for n in names) + "print(*sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return set(done.stdout.split())


def test_rnnkit_never_imports_labkit():
    names = sorted(_rnnkit_modules())
    assert {"rnnkit.gradcheck", "rnnkit.data"} <= set(names)
    loaded = _loaded_after("rnnkit", *names)
    assert set(names) <= loaded
    assert not any(m == "labkit" or m.startswith("labkit.") for m in loaded), sorted(
        m for m in loaded if m.startswith("labkit"))
    # the control: the same probe sees labkit when something imports it
    assert "labkit.grade" in _loaded_after("labkit.grade")
