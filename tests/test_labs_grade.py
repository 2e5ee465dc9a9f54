"""The grader, end to end: real labs (solution, as shipped, one exercise solved) and the failure
modes on a tiny synthetic lab (hang, kernel death, edited or deleted check cells, syntax errors,
the global time limit, an unreadable notebook, no released lab to compare with); the old command
``python -m rnnkit.labs.grade``; and the boundary between the packages (rnnkit never imports
labkit).

Each grading run starts pytest + nbval and one kernel in a subprocess (about 2 s here).
"""

import json
import os
import pkgutil
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import rnnkit
from labkit import cell_exercise, read_notebook
from labkit.generate import generate_lab, render
from labkit.grade import check_cells, grade, main, tampered

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((ROOT / "solutions").glob("lab*.ipynb"))
TINY = ROOT / "tests" / "fixtures" / "labs" / "solutions" / "lab00_tiny.ipynb"
NOT_IMPLEMENTED = re.compile(r"^exercise \S+ not implemented yet")


def _write(nb, path):
    path.write_text(render(nb) if "nbformat" in nb else json.dumps(nb), encoding="utf-8")
    return path


def _release(solution, tmp_path):
    """Generate the lab from ``solution`` into tmp_path/labs (the grading reference)."""
    lab = tmp_path / "labs" / solution.name
    lab.parent.mkdir(exist_ok=True)
    return _write(generate_lab(read_notebook(solution)), lab)


def _by_name(summary):
    return {e["name"]: e for e in summary["exercises"]}


def _stub_cell(nb, exercise):
    marker = f'raise NotImplementedError("exercise {exercise} not implemented yet'
    (i,) = [i for i, c in enumerate(nb["cells"]) if marker in c["source"]]
    return i


def _points(nb):
    return {ex: sum(p for _, _, p in cells) for ex, cells in check_cells(nb).items()}


# ------------------------------------------------------------------ the real labs


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.stem)
def test_solution_gets_full_marks(solution, tmp_path):
    ref = _release(solution, tmp_path)
    results = tmp_path / "results.json"
    summary = grade(solution, reference=ref, results=results, cell_timeout=60, timeout=300)
    assert summary["complete"] and summary["notes"] == []
    assert summary["max_score"] > 0
    assert summary["score"] == summary["max_score"], [e["message"] for e in summary["exercises"]]
    data = json.loads(results.read_text())
    assert data["score"] == data["max_score"] == summary["max_score"]
    assert [t["score"] for t in data["tests"]] == [t["max_score"] for t in data["tests"]]


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.stem)
def test_shipped_lab_scores_zero_with_only_not_implemented_failures(solution, tmp_path):
    ref = _release(solution, tmp_path)
    shipped = ROOT / "labs" / solution.name
    summary = grade(shipped, reference=ref, results=None, cell_timeout=60, timeout=300)
    assert summary["complete"] and summary["notes"] == []  # every non-check cell runs cleanly
    assert summary["score"] == 0 and summary["max_score"] > 0
    for e in summary["exercises"]:
        assert e["score"] == 0
        assert NOT_IMPLEMENTED.match(e["message"]), e
        assert all(NOT_IMPLEMENTED.match(line) for line in e["output"].splitlines()), e


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.stem)
def test_one_exercise_solved_scores_exactly_its_points(solution, tmp_path):
    ref = _release(solution, tmp_path)
    sol_nb, lab = read_notebook(solution), read_notebook(ref)
    points = _points(lab)
    first = next(iter(points))
    i = _stub_cell(lab, first)
    lab["cells"][i] = sol_nb["cells"][i]  # paste the solution cell of the first exercise
    student = _write(lab, tmp_path / solution.name)
    summary = grade(student, reference=ref, results=None, cell_timeout=60, timeout=300)
    assert summary["score"] == points[first] > 0
    scored = {e["name"]: e["score"] for e in summary["exercises"]}
    assert scored == {ex: (p if ex == first else 0) for ex, p in points.items()}


def test_wrong_answer_fails_with_the_expected_values(tmp_path):
    solution = ROOT / "solutions" / "lab01_rnn_forward.ipynb"
    ref = _release(solution, tmp_path)
    nb = read_notebook(solution)
    right = "    h_last = h[np.arange(N), last - 1]"
    (cell,) = [c for c in nb["cells"] if right in c["source"]]
    cell["source"] = cell["source"].replace(right, "    h_last = h[:, -1]")  # ignores lengths
    summary = grade(_write(nb, tmp_path / "mine.ipynb"), reference=ref, results=None,
                    cell_timeout=60, timeout=300)
    ex = _by_name(summary)
    assert summary["score"] == summary["max_score"] - ex["1d"]["max_score"]
    assert ex["1d"]["message"].startswith(
        "scores with lengths=[1]: relative error 2.0e-01 exceeds tolerance 1e-08; first mismatch "
        "at index (0, 0): got 3, expected 4")


# ------------------------------------------------------------ the tiny synthetic lab
# Code cells of lab00_tiny: 1 imports, 2 double, 3 check a (1 pt), 4 square, 5 check b (2 pts),
# 6 cube (calls square), 7 check c (3 pts), 8 second check c.


@pytest.fixture
def tiny(tmp_path):
    """(solution notebook dict, lab notebook dict, path of the released lab)."""
    ref = _release(TINY, tmp_path)
    return read_notebook(TINY), read_notebook(ref), ref


def _code(nb, n):
    """The n-th code cell (from 1), as the grader counts them."""
    return [c for c in nb["cells"] if c["cell_type"] == "code"][n - 1]


def test_hanging_cell_times_out_and_the_rest_is_graded(tiny, tmp_path):
    sol, _, ref = tiny
    _code(sol, 2)["source"] = "def double(x):\n    while True:\n        pass\n"
    summary = grade(_write(sol, tmp_path / "hang.ipynb"), reference=ref,
                    results=tmp_path / "r.json", cell_timeout=2, timeout=120)
    ex = _by_name(summary)
    assert ex["a"]["score"] == 0 and "timed out after 2 s" in ex["a"]["message"]
    assert ex["b"]["score"] == 2 and ex["c"]["score"] == 3
    assert summary["complete"] and json.loads((tmp_path / "r.json").read_text())["score"] == 5


def test_kernel_death_is_reported_and_results_written(tiny, tmp_path):
    sol, _, ref = tiny
    _code(sol, 4)["source"] = "import os\n\nos._exit(1)\n"
    student = _write(sol, tmp_path / "die.ipynb")
    results = tmp_path / "out" / "results.json"
    proc = subprocess.run(
        [sys.executable, "-m", "labkit.grade", str(student), "--reference", str(ref),
         "--results", str(results), "--cell-timeout", "30", "--timeout", "120"],
        capture_output=True, text=True, timeout=200)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert re.search(r"^total\s+1 / 6$", proc.stdout, re.M), proc.stdout
    assert "the kernel died while running code cell 4" in proc.stdout
    data = json.loads(results.read_text())
    assert data["score"] == 1 and data["max_score"] == 6
    tests = {t["name"]: t for t in data["tests"]}
    assert tests["exercise a"]["score"] == 1
    assert "kernel died" in tests["exercise b"]["output"]
    assert tests["exercise c"]["output"].startswith("not run: the kernel died in code cell 4")


def test_edited_and_deleted_check_cells_score_zero(tiny, tmp_path):
    sol, _, ref = tiny
    _code(sol, 3)["source"] = "pass  # nothing to check\n"  # passes, but is not the released check
    sol["cells"] = [c for c in sol["cells"] if c is not _code(sol, 8)]
    summary = grade(_write(sol, tmp_path / "tamper.ipynb"), reference=ref, results=None,
                    cell_timeout=30, timeout=120)
    ex = _by_name(summary)
    assert ex["a"]["score"] == 0 and "check cell of exercise a (code cell 3) was edited" in (
        ex["a"]["message"])
    assert ex["b"]["score"] == 2
    assert ex["c"]["score"] == 0 and "check cell of exercise c was deleted" in ex["c"]["message"]
    assert summary["max_score"] == 6  # maxima come from the released lab


def test_syntax_error_and_unimplemented_dependency(tiny, tmp_path):
    sol, lab, ref = tiny
    _code(lab, 2)["source"] = "def double(x)\n    return 2 * x\n"
    _code(lab, 6)["source"] = _code(sol, 6)["source"]  # cube solved, square still a stub
    summary = grade(_write(lab, tmp_path / "syntax.ipynb"), reference=ref, results=None,
                    cell_timeout=30, timeout=120)
    ex = _by_name(summary)
    assert summary["score"] == 0
    assert ex["a"]["message"].startswith("SyntaxError in your code cell 2: ")
    assert ex["b"]["message"] == "exercise b not implemented yet: square"
    assert ex["c"]["message"] == "exercise b not implemented yet: square"
    assert any(n.startswith("SyntaxError in your code cell 2") for n in summary["notes"])


def test_global_time_limit_still_writes_results(tiny, tmp_path, capsys):
    sol, _, ref = tiny
    _code(sol, 4)["source"] = "import time\n\ntime.sleep(600)\n"
    results = tmp_path / "results.json"
    code = main([str(_write(sol, tmp_path / "slow.ipynb")), "--reference", str(ref),
                 "--results", str(results), "--cell-timeout", "300", "--timeout", "6"])
    out = capsys.readouterr().out
    assert code == 2 and "time limit of 6 s ran out while code cell 4 was running" in out
    data = json.loads(results.read_text())
    tests = {t["name"]: t for t in data["tests"]}
    assert data["max_score"] == 6 and tests["exercise a"]["score"] == 1 and data["score"] == 1
    assert "time limit" in tests["exercise c"]["output"]


def test_unreadable_notebook_gets_zero_and_a_results_file(tiny, tmp_path):
    _, _, ref = tiny
    broken = tmp_path / "broken.ipynb"
    broken.write_text('{"cells": [', encoding="utf-8")
    results = tmp_path / "results.json"
    summary = grade(broken, reference=ref, results=results)
    assert not summary["complete"] and "could not read the notebook" in summary["notes"][0]
    data = json.loads(results.read_text())
    assert data["score"] == 0 and data["max_score"] == 6 and len(data["tests"]) == 3


def test_missing_reference_stops_grading_and_names_the_option(tiny, tmp_path, monkeypatch, capsys):
    sol, _, _ = tiny
    student = _write(sol, tmp_path / "elsewhere.ipynb")
    work = tmp_path / "work"  # no labs/ here, so the default reference does not exist
    work.mkdir()
    monkeypatch.chdir(work)
    results = tmp_path / "results.json"
    assert main([str(student), "--results", str(results)]) == 2
    out = capsys.readouterr().out
    assert f"no released lab at {work / 'labs' / 'elsewhere.ipynb'}" in out
    assert "--reference RELEASED_LAB" in out and "not graded" in out
    assert re.search(r"^total\s+0 / 6$", out, re.M), out
    data = json.loads(results.read_text())
    assert data["score"] == 0 and data["max_score"] == 6 and "--reference" in data["output"]
    # An explicit reference that does not exist, or is not a notebook, fails the same way.
    for bad in (tmp_path / "nope.ipynb", _write({"cells": "x"}, tmp_path / "bad.ipynb")):
        summary = grade(student, reference=bad, results=None)
        assert not summary["complete"] and summary["score"] == 0, bad
        assert "--reference" in summary["notes"][-1] and str(bad) in summary["notes"][-1]
        assert all(e["message"] == "not graded" for e in summary["exercises"])


def test_help_documents_the_default_reference(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--reference RELEASED_LAB" in text
    assert "labs/<NOTEBOOK's file name> under the current directory" in text


def test_old_command_still_grades_with_the_default_reference(tmp_path):
    # The layout of a course folder: python -m rnnkit.labs.grade finds labs/<name> from the cwd.
    (tmp_path / "solutions").mkdir()
    shutil.copy(TINY, tmp_path / "solutions" / TINY.name)
    _release(TINY, tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "rnnkit.labs.grade", f"solutions/{TINY.name}",
         "--results", "out/results.json", "--cell-timeout", "30", "--timeout", "120"],
        cwd=tmp_path, capture_output=True, text=True, timeout=200)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"reference: {tmp_path / 'labs' / TINY.name}" in proc.stdout
    assert re.search(r"^total\s+6 / 6$", proc.stdout, re.M), proc.stdout
    assert json.loads((tmp_path / "out" / "results.json").read_text())["score"] == 6
    generated = subprocess.run(
        [sys.executable, "-m", "rnnkit.labs.generate", "--check"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert generated.returncode == 0, generated.stdout + generated.stderr


# ------------------------------------------------------------ the package boundary


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


def test_tampered_compares_sources_tags_and_points(tiny):
    _, lab, _ = tiny
    assert tampered(lab, lab) == {}
    cases = {
        "whitespace only": (lambda c: c.update(source=c["source"] + "\n\n   \n"), None),
        "edited": (lambda c: c.update(source=c["source"].replace("2.0", "3.0")), "edited"),
        "points": (lambda c: c["metadata"].update(tags=["exercise-a", "points-9"]), "edited"),
        "untagged": (lambda c: c["metadata"].update(tags=[]), "deleted"),
        "moved": (lambda c: c["metadata"].update(tags=["exercise-b", "points-1"]), "deleted"),
    }
    for name, (edit, word) in cases.items():
        mine = json.loads(json.dumps(lab))
        edit(next(c for c in mine["cells"] if cell_exercise(c) == "a"))
        found = tampered(mine, lab)
        if word is None:
            assert found == {}, name
        else:
            assert word in found.get("a", ""), (name, found)
