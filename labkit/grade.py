"""Grade a lab notebook: points per exercise, a table, and a Gradescope ``results.json``.

Usage::

    python -m labkit.grade labs/lab01_rnn_forward.ipynb
    python -m labkit.grade my_lab01.ipynb --reference labs/lab01_rnn_forward.ipynb \\
        --results out/results.json --cell-timeout 60 --timeout 600

(``python -m rnnkit.labs.grade`` is the old name of the same command.)

The notebook runs under pytest + nbval in a subprocess (``--nbval-lax
--nbval-current-env``, a per-cell timeout) with :mod:`labkit.plugin`,
which logs every cell's outcome to a file as it goes. This process owns the
result: it compares the check cells with the released lab (an edited or
deleted check cell scores 0 for its exercise), enforces a global time limit,
and writes ``results.json`` before starting (all zero) and again at the end,
whatever happened to pytest or the kernel.

The released lab (the reference) is the file given with ``--reference``; the
command line's default, the course's layout, is ``labs/<the notebook's name>``
under the current directory. Without a readable reference the notebook is not
graded (exit status 2): the check cells would go unchecked. Grading the
released file itself compares it with its copy in git's HEAD commit.

An exercise earns its points only if all its check cells pass. Exit status:
0 full marks, 1 graded with points missing, 2 grading could not finish.
"""

import argparse
import importlib.util
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from labkit import cell_exercise, cell_points, read_notebook
from labkit.plugin import LOG_ENV, aggregate

__all__ = ["grade", "format_table", "tampered", "committed_copy", "main"]

DEFAULT_CELL_TIMEOUT = 120.0
DEFAULT_TIMEOUT = 900.0
_ROOT_CAUSES = ("syntax", "timeout", "kernel-died")


def _normalise(source):
    """The source with trailing spaces and blank lines at either end removed."""
    return "\n".join(line.rstrip() for line in source.splitlines()).strip("\n")


def _code_cells(nb):
    return [c for c in nb["cells"] if c.get("cell_type") == "code"]


def check_cells(nb):
    """Map exercise -> list of ``(code cell number from 1, normalised source, points)``."""
    out = {}
    for n, cell in enumerate(_code_cells(nb), start=1):
        ex = cell_exercise(cell)
        if ex is not None:
            out.setdefault(ex, []).append((n, _normalise(cell["source"]), cell_points(cell)))
    return out


def tampered(student, reference):
    """Map exercise -> message, for each exercise whose check cells differ from the reference."""
    mine, theirs = check_cells(student), check_cells(reference)
    found = {}
    for ex, ref_cells in theirs.items():
        got = mine.get(ex, [])
        restore = "restore it from the released lab"
        if len(got) < len(ref_cells):
            found[ex] = (f"a check cell of exercise {ex} was deleted (or lost its "
                         f"'exercise-{ex}' tag): {restore}; the exercise scores 0")
        elif len(got) > len(ref_cells):
            found[ex] = (f"exercise {ex} has more check cells than the released lab (a cell "
                         f"tagged 'exercise-{ex}' was added): remove it; the exercise scores 0")
        else:
            for (n, src, pts), (_, ref_src, ref_pts) in zip(got, ref_cells, strict=True):
                if src != ref_src or pts != ref_pts:
                    found[ex] = (f"the check cell of exercise {ex} (code cell {n}) was edited: "
                                 f"{restore}; the exercise scores 0")
                    break
    return found


def own_cells(nb):
    """Map exercise -> indices (from 0) of the code cells between its check cells and the last."""
    out, pending = {}, []
    for i, cell in enumerate(_code_cells(nb)):
        ex = cell_exercise(cell)
        if ex is None:
            pending.append(i)
        else:
            out.setdefault(ex, pending)
            pending = []
    return out


def committed_copy(path):
    """The notebook at ``path`` as in git's HEAD commit, or None (not in git, not committed)."""
    path = Path(path).resolve()
    try:
        top = subprocess.run(["git", "-C", str(path.parent), "rev-parse", "--show-toplevel"],
                             capture_output=True, text=True, timeout=30)
        if top.returncode != 0:
            return None
        rel = path.relative_to(Path(top.stdout.strip()).resolve()).as_posix()
        shown = subprocess.run(["git", "-C", top.stdout.strip(), "show", f"HEAD:{rel}"],
                               capture_output=True, text=True, timeout=30)
        if shown.returncode != 0:
            return None
        return read_notebook(f"HEAD:{rel}", text=shown.stdout)
    except (OSError, ValueError, subprocess.SubprocessError):
        return None


def _read_log(path):
    """Return (cells, records, kernel pids, exit status or None, last cell started or None)."""
    cells, records, pids, finished, started = [], [], [], None, None
    if not path.exists():
        return cells, records, pids, finished, started
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut short by a kill
        kind = event.get("event")
        if kind == "collected":
            cells = event["cells"]
        elif kind == "report":
            records.append(event)
        elif kind == "kernel":
            pids.append(event["pid"])
        elif kind == "finished":
            finished = event["exitstatus"]
        elif kind == "start":
            started = event["cell"]
    return cells, records, pids, finished, started


def _kill(pid, group=False):
    try:
        (os.killpg if group else os.kill)(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _import_roots():
    """Folders from which this process imports labkit and rnnkit (which the check cells use).

    pytest and the kernel run in the notebook's folder, so a package this process found
    through its own working directory (not installed) needs its folder on ``PYTHONPATH``.
    """
    roots = []
    for name in ("labkit", "rnnkit"):
        spec = importlib.util.find_spec(name)
        for location in (spec.submodule_search_locations or []) if spec else []:
            root = str(Path(location).resolve().parent)
            if root not in roots:
                roots.append(root)
    return roots


def _run_pytest(notebook, workdir, cell_timeout, timeout):
    """Run nbval on ``notebook``; return ``(exit code or None on timeout, output, log path)``."""
    log = workdir / "cells.jsonl"
    ini = workdir / "pytest.ini"
    ini.write_text("[pytest]\n", encoding="utf-8")
    env = dict(os.environ)
    env[LOG_ENV] = str(log)
    env["PYTHONPATH"] = os.pathsep.join([*_import_roots(), *filter(None, [env.get("PYTHONPATH")])])
    cmd = [sys.executable, "-m", "pytest", str(notebook), "-c", str(ini),
           "--rootdir", str(notebook.parent), "--noconftest", "-p", "no:cacheprovider",
           "-p", "labkit.plugin", "--nbval-lax", "--nbval-current-env",
           f"--nbval-cell-timeout={cell_timeout:g}", "-q", "--color=no"]
    with open(workdir / "pytest.out", "w+", encoding="utf-8") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env,
                                cwd=notebook.parent, start_new_session=True)
        try:
            code = proc.wait(timeout=timeout)
        except (subprocess.TimeoutExpired, KeyboardInterrupt) as err:
            _kill(proc.pid, group=True)
            proc.wait()
            for pid in _read_log(log)[2]:
                _kill(pid)  # the kernel runs in a session of its own
            if isinstance(err, KeyboardInterrupt):
                raise
            code = None
        out.seek(0)
        return code, out.read(), log


def _exercise_result(name, max_score, agg, tamper, own, failed_cells, student_cells, cut_short):
    ex = agg.get(name, {"score": 0, "failures": [(None, "not-run", "not run")]})
    if tamper:
        message, score = tamper, 0
    elif not ex["failures"]:
        return {"name": name, "score": max_score, "max_score": max_score,
                "status": "passed", "message": "", "output": "all checks passed"}
    else:
        score = 0
        causes = [failed_cells[i] for i in own if i in failed_cells
                  and failed_cells[i][0] in _ROOT_CAUSES]
        _, kind, message = ex["failures"][0]
        message = message or "failed"
        if causes:
            message = causes[0][1]
        elif kind == "not-run" and message == "not run":
            message = f"not run: {cut_short}"
        elif kind == "error" and "NameError" in message:
            earlier = [i for i in failed_cells if i in student_cells and i < ex["failures"][0][0]]
            if earlier:
                message += f" (your code cell {max(earlier) + 1} above failed: fix it first)"
    details = [message] + [m for _, _, m in ex["failures"][1:] if m and m != message]
    return {"name": name, "score": score, "max_score": max_score, "status": "failed",
            "message": message, "output": "\n".join(details)}


def _write_results(path, summary):
    if path is None:
        return
    tests = [{"name": f"exercise {e['name']}", "score": e["score"], "max_score": e["max_score"],
              "status": e["status"], "output": e["output"]} for e in summary["exercises"]]
    data = {"score": summary["score"], "max_score": summary["max_score"],
            "output": "\n".join(summary["notes"]), "execution_time": summary["seconds"],
            "tests": tests}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)


def grade(notebook, reference=None, results="results.json",
          cell_timeout=DEFAULT_CELL_TIMEOUT, timeout=DEFAULT_TIMEOUT):
    """Grade ``notebook`` and return a summary dict (``score``, ``max_score``, ``exercises``...).

    Args:
        notebook: path of the student's notebook.
        reference: the released lab to compare check cells with (default:
            ``labs/<the notebook's name>`` under the current directory). If it does not
            exist or cannot be read, the notebook is not run: the summary has score 0,
            ``complete`` False and a note saying so.
        results: where to write the Gradescope ``results.json`` (None: nowhere).
        cell_timeout: seconds one cell may run.
        timeout: seconds the whole run may take.
    """
    start = time.monotonic()
    notebook = Path(notebook).resolve()
    ref_path = Path(reference) if reference else Path.cwd() / "labs" / notebook.name
    notes, ref_nb, ref_name, ref_error = [], None, str(ref_path), None
    if not ref_path.is_file():
        default = "" if reference else " (the default, labs/<same name> in the current directory)"
        ref_error = (f"no released lab at {ref_path}{default} to compare the check cells with, "
                     "so the notebook was not graded: name the released lab with "
                     "--reference RELEASED_LAB")
    elif ref_path.resolve() == notebook:
        # Grading the released file itself: compare with its committed version instead.
        ref_nb, ref_name = committed_copy(notebook), f"{ref_path} as committed (git HEAD)"
        if ref_nb is None:
            notes.append(f"{notebook.name} is the released lab itself and git has no committed "
                         "copy of it: check cells were not compared (use --reference)")
    else:
        try:
            ref_nb = read_notebook(ref_path)
        except (OSError, ValueError) as err:
            ref_error = (f"could not read the released lab: {err}; the notebook was not "
                         "graded: name a readable one with --reference RELEASED_LAB")
    if ref_error:
        notes.append(ref_error)
    summary = {"notebook": str(notebook), "reference": ref_name if ref_nb else None,
               "score": 0, "max_score": 0, "exercises": [], "notes": notes,
               "complete": False, "seconds": 0.0}
    try:
        student = read_notebook(notebook)
    except (OSError, ValueError) as err:
        student = None
        notes.append(f"could not read the notebook: {err}")
    source = ref_nb or student or {"cells": []}
    maxima = {ex: sum(p for _, _, p in cells) for ex, cells in check_cells(source).items()}
    summary["max_score"] = sum(maxima.values())
    summary["exercises"] = [{"name": ex, "score": 0, "max_score": m, "status": "failed",
                             "message": "not graded", "output": "grading did not finish"}
                            for ex, m in maxima.items()]
    _write_results(results, summary)
    if student is None or ref_error:
        return summary
    tamper = tampered(student, ref_nb) if ref_nb else {}
    with tempfile.TemporaryDirectory(prefix="labkit-grade-") as tmp:
        code, output, log = _run_pytest(notebook, Path(tmp), cell_timeout, timeout)
        cells, records, _, finished, started = _read_log(log)
    if code is None:
        cut_short = f"the grader's time limit of {timeout:g} s ran out"
        if started is not None and started not in {r["cell"] for r in records}:
            cut_short += f" while code cell {started + 1} was running"
        notes.append(f"grading stopped: {cut_short}")
    elif finished is None or code not in (0, 1):
        cut_short = f"pytest stopped early (exit status {code})"
        tail = "\n".join(output.strip().splitlines()[-5:])
        notes.append(f"{cut_short}:\n{tail}")
    else:
        cut_short, summary["complete"] = "", True
    first_lines = {c["cell"]: c.get("first_line", "") for c in cells}
    student_cells = {c["cell"] for c in cells if "exercise" not in c}
    failed_cells = {}
    for r in records:
        if not r["passed"] and r["cell"] not in failed_cells:
            failed_cells[r["cell"]] = (r["kind"], r["message"] or "failed")
            if r["cell"] in student_cells and r["kind"] != "not-run":
                where = f'code cell {r["cell"] + 1} ("{first_lines.get(r["cell"], "")}"): '
                notes.append(("" if "code cell" in str(r["message"]) else where) + r["message"])
    agg = aggregate(cells, records)
    owners = own_cells(student)
    summary["exercises"] = [
        _exercise_result(ex, m, agg, tamper.get(ex), owners.get(ex, []), failed_cells,
                         student_cells, cut_short)
        for ex, m in maxima.items()]
    summary["score"] = sum(e["score"] for e in summary["exercises"])
    summary["seconds"] = round(time.monotonic() - start, 1)
    _write_results(results, summary)
    return summary


def format_table(summary):
    """The summary as text: one row per exercise, then the total and the notes."""
    rows = [f"Grading {summary['notebook']}",
            f"  reference: {summary['reference'] or 'none'}", "",
            f"{'exercise':<10}{'points':>9}   result"]
    for e in summary["exercises"]:
        result = "ok" if e["status"] == "passed" else e["message"].splitlines()[0]
        rows.append(f"{e['name']:<10}{e['score']:>4} / {e['max_score']:<3}  {result}")
    rows.append(f"{'total':<10}{summary['score']:>4} / {summary['max_score']}")
    if summary["notes"]:
        rows += ["", "notes:"] + [f"  - {n}" for n in summary["notes"]]
    return "\n".join(rows)


def main(argv=None):
    """Run the command line; return the exit status (0 full marks, 1 points missing,
    2 grading could not finish, a missing or unreadable reference included)."""
    parser = argparse.ArgumentParser(
        prog="python -m labkit.grade",
        description="Grade a lab notebook with pytest + nbval: points per exercise, a table, "
                    "and a Gradescope results.json. An exercise whose check cells differ from "
                    "the released lab's scores 0.",
        epilog="Exit status: 0 full marks, 1 points missing, 2 grading could not finish "
               "(including: no released lab to compare with).")
    parser.add_argument("notebook", metavar="NOTEBOOK", help="the notebook to grade")
    parser.add_argument("--reference", metavar="RELEASED_LAB",
                        help="the released lab whose check cells the notebook must keep "
                             "(default: labs/<NOTEBOOK's file name> under the current "
                             "directory); if it does not exist, nothing is graded (exit 2)")
    parser.add_argument("--results", default="results.json",
                        help="where to write the Gradescope results (default: results.json)")
    parser.add_argument("--cell-timeout", type=float, default=DEFAULT_CELL_TIMEOUT,
                        help=f"seconds one cell may run (default {DEFAULT_CELL_TIMEOUT:g})")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                        help=f"seconds the whole run may take (default {DEFAULT_TIMEOUT:g})")
    args = parser.parse_args(argv)
    summary = grade(args.notebook, args.reference, args.results, args.cell_timeout, args.timeout)
    print(format_table(summary))
    print(f"\nresults written to {args.results}")
    if not summary["complete"]:
        return 2
    return 0 if summary["score"] == summary["max_score"] else 1


if __name__ == "__main__":
    sys.exit(main())
