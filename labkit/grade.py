"""Grade lab notebooks: points per exercise, a table, Gradescope ``results.json``, a gradebook.

Usage::

    python -m labkit.grade labs/lab01_rnn_forward.ipynb          # a student's self-check
    python -m labkit.grade mine.ipynb --lab lab01_rnn_forward     # a renamed copy
    python -m labkit.grade submissions/*.ipynb --gradebook grades.csv -j 2   # a class

(``python -m rnnkit.labs.grade`` is the old name of the same command.)

The threat model: a student hands in a notebook (any bytes); the teacher grades it with this
grader and this project's rnnkit. No submission earns a point its code did not earn.

- **What is graded comes from the grader.** The lab is named by ``--lab``, else by the file's
  name, else by the exercise tags in it; its check cells, points, given code and hidden checks
  come from the manifest shipped with labkit (:mod:`labkit.release`), never from the
  submission, a ``labs/`` folder or git. ``--reference FILE`` is accepted only when FILE's
  checksum is a released lab's. The submission must be plain nbformat 4
  (:mod:`labkit.notebook`); anything else exits 2 with a one-line reason and a zero
  ``results.json``.
- **The student's code runs in a process of its own** (:mod:`labkit.sandbox`): ``python -I
  -S``, a clean environment, an empty temporary folder holding only the graded notebook, a
  copy of rnnkit in which the lab's reference answers are stubs, a session (process group) of
  its own (one such run per distinct reference policy, when an exercise may use what the
  others may not). It runs the student's code cells (tags and nbval markers stripped) and then only
  answers calls.
- **The checks run here**, in the grader's process (:mod:`labkit.remote`): the released check
  cells call the student's functions through the pipe and compare what comes back with values
  computed here, with labkit's and rnnkit's own code. Patching helpers, NumPy, builtins,
  input transformers or ``set_custom_exc`` in the student's process changes nothing here.
- **Nothing outlives the grading.** This process becomes a child subreaper (Linux), so
  whatever the student's code forks is re-parented here; before any result is written the
  student's process group and every remaining descendant are killed. It also marks itself
  non-dumpable so that other processes of the same user cannot open its ``/proc`` files.
  ``results.json`` is written (all zero) before the student's code starts and again, atomically,
  at the end.
- **Hidden checks** (``--hidden``; class-scale grading and Gradescope turn it on) run after the
  visible checks of their exercise with ``GRADING_SEED``, a fresh random seed, in their
  namespace. A self-check runs the visible ones and says how many more run at grading.

An exercise earns its points only if all its check cells (hidden ones included) pass. Exit
status: 0 full marks, 1 graded with points missing, 2 not graded (malformed notebook, unknown
lab, or grading cut short).
"""

import argparse
import contextlib
import hashlib
import importlib.util
import io
import json
import os
import secrets
import signal
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

from labkit import cell_exercise
from labkit.notebook import NotebookError, graded_notebook, load_submission, student_cells
from labkit.processes import children, guard_process, kill_descendants, write_results
from labkit.release import (
    MANIFEST,
    build_site,
    given_cell,
    load_manifest,
    policy_groups,
    stub_names,
)
from labkit.remote import (
    ProtocolError,
    Remote,
    Student,
    StudentDied,
    StudentError,
    StudentTimeout,
    describe_error,
)

__all__ = ["grade", "format_table", "identify_lab", "main"]

DEFAULT_CELL_TIMEOUT = 120.0
DEFAULT_TIMEOUT = 900.0
MAX_RESTARTS = 3


class GradingError(Exception):
    """Grading cannot start (unknown lab, unreadable manifest): one line for the student."""


class _CheckTimeout(Exception):
    pass


# ------------------------------------------------------------------ identifying the lab


def _lab_key(name):
    name = Path(str(name)).name
    return name if name.endswith(".ipynb") else name + ".ipynb"


def identify_lab(manifest, notebook, raw, lab=None, reference=None):
    """Return the manifest key of the lab ``notebook`` is a copy of; raise GradingError."""
    labs = manifest["labs"]
    names = ", ".join(k[:-6] for k in labs)
    if lab is not None:
        if _lab_key(lab) not in labs:
            raise GradingError(f"--lab {lab}: no such released lab (the labs are: {names})")
        return _lab_key(lab)
    if reference is not None:
        try:
            digest = hashlib.sha256(Path(reference).read_bytes()).hexdigest()
        except OSError as err:
            raise GradingError(f"--reference {reference}: cannot read it ({err.strerror}); "
                               "name the lab with --lab instead") from None
        for key, entry in labs.items():
            if entry["sha256"] == digest:
                return key
        raise GradingError(f"--reference {reference} is not a released lab (its checksum "
                           "matches none that labkit ships): name the lab with --lab "
                           f"(one of {names})")
    if Path(notebook).name in labs:
        return Path(notebook).name
    found = set()
    try:
        nb = load_submission(raw)
        tags = {cell_exercise(c) for c in nb["cells"]} - {None}
        found = {k for k, e in labs.items() if tags & set(e["exercises"])}
    except NotebookError:
        pass
    if len(found) == 1:
        return found.pop()
    raise GradingError(f"cannot tell which lab {Path(notebook).name} is: name it with --lab "
                       f"(one of {names})")


def _package_dir(name):
    spec = importlib.util.find_spec(name)
    return Path(next(iter(spec.submodule_search_locations))).resolve()


def _student_env(work, site):
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(work),
            "TMPDIR": str(work), "LANG": "C.UTF-8", "MPLBACKEND": "Agg",
            "MPLCONFIGDIR": str(site / ".matplotlib"), "IPYTHONDIR": str(site / ".ipython"),
            "PYTHONHASHSEED": "0",
            "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}


# ------------------------------------------------------------------ one graded run


class _Run:
    """The student's process plus what happened to their cells."""

    def __init__(self, cells, site, work, out, cell_timeout, deadline):
        self.cells, self.site, self.work, self.out = cells, site, work, out
        self.cell_timeout, self.deadline = cell_timeout, deadline
        self.cell_errors = {}  # code cell number -> (kind, message)
        self.skip = set()
        self.restarts = 0
        self.student = None

    def limit(self):
        return max(0.1, min(self.cell_timeout, self.deadline - time.monotonic()))

    def start(self):
        """Start a fresh process and run the student's cells (those that did not kill one)."""
        while True:
            if self.student is not None:
                self.student.kill()
            self.student = Student(self.site, self.work, _student_env(self.work, self.site),
                                   self.out, start_timeout=max(5.0, self.limit()))
            stopped = None
            for n, source in self.cells:
                if n in self.skip:
                    continue
                if time.monotonic() >= self.deadline:
                    break
                self.student.set_deadline(self.limit())
                try:
                    self.student.run_cell(n, source)
                except StudentError as err:
                    self.cell_errors.setdefault(n, _cell_error(n, err.reply))
                except StudentTimeout as err:
                    self.cell_errors[n] = ("timeout", f"your code cell {n} {err}")
                    if err.ignored:
                        stopped = n
                        break
                except (StudentDied, ProtocolError) as err:
                    self.cell_errors[n] = ("died", f"your code cell {n} stopped the Python "
                                           "process running your code (os._exit, a crash in "
                                           "compiled code or running out of memory)"
                                           if isinstance(err, StudentDied) else
                                           f"your code cell {n}: {err}")
                    stopped = n
                    break
            self.student.set_deadline(None)
            if stopped is None or self.restarts >= MAX_RESTARTS:
                return
            self.skip.add(stopped)
            self.restarts += 1

    def restart(self):
        if self.restarts >= MAX_RESTARTS or time.monotonic() >= self.deadline:
            return False
        self.restarts += 1
        self.start()
        return True


def _cell_error(n, reply):
    if reply.get("syntax"):
        line = (reply.get("where") or [None, None])[1]
        at = f" (line {line})" if line else ""
        return "syntax", f"SyntaxError in your code cell {n}{at}: {reply.get('message', '')}"
    if reply.get("exit"):
        return "exit", (f"your code cell {n} calls exit() (or sys.exit, quit): that stops the "
                        "notebook for everyone running it; remove the call")
    if reply.get("type") == "KeyboardInterrupt":
        return "timeout", f"your code cell {n} was interrupted"
    return "error", describe_error(reply)


def _bind(ns, student, names):
    for name in names:
        ns.pop(name, None)
    for name in student.defined(names):
        ns[name] = Remote(student, ("name", name))


def _run_check(source, label, ns, run, seconds):
    """Run one trusted check cell; return (ok, kind, message, printed)."""
    printed = io.StringIO()
    student = run.student
    student.set_deadline(seconds)
    alarm = threading.current_thread() is threading.main_thread()
    if alarm:
        def on_alarm(signum, frame):
            raise _CheckTimeout

        old = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, seconds + 10.0)
    try:
        with contextlib.redirect_stdout(printed), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exec(compile(source, label, "exec"), ns)  # noqa: S102 (released, trusted code)
        return True, "passed", "", printed.getvalue()
    except StudentTimeout as err:
        what = "ignored-sigint" if err.ignored else "timeout"
        return False, what, f"your code {err} while {label[1:-1]} ran", printed.getvalue()
    except StudentDied:
        return False, "died", (f"your code stopped the Python process running it (os._exit, "
                               f"a crash in compiled code or out of memory) while "
                               f"{label[1:-1]} ran"), printed.getvalue()
    except StudentError as err:
        if err.reply.get("not_implemented"):
            return False, "not-implemented", str(err), printed.getvalue()
        return False, "error", f"error in your code: {describe_error(err.reply)}", (
            printed.getvalue())
    except ProtocolError as err:
        return False, "error", f"your code sent back something that is not a value: {err}", (
            printed.getvalue())
    except _CheckTimeout:
        student.kill()  # it may have been cut off mid-message: start a fresh one
        student.dead = "a check ran too long"
        return False, "timeout", (f"{label[1:-1]} ran past {seconds + 10:g} s on what your "
                                  "code returned"), printed.getvalue()
    except AssertionError as err:
        kind = "not-implemented" if type(err).__name__ == "NotImplementedYet" else "failed"
        return False, kind, str(err) or "a check failed", printed.getvalue()
    except Exception as err:  # noqa: BLE001 (a check tripping over a wrong answer)
        return False, "error", f"{type(err).__name__}: {err}", printed.getvalue()
    finally:
        if alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)
        student.set_deadline(None)
        with contextlib.suppress(Exception):
            import matplotlib.pyplot as plt

            plt.close("all")


def _summary_skeleton(notebook, lab_key, entry):
    exercises = entry["exercises"] if entry else {}
    return {"notebook": str(notebook), "lab": lab_key, "score": 0,
            "max_score": sum(exercises.values()),
            "exercises": [{"name": ex, "score": 0, "max_score": m, "status": "failed",
                           "message": "not graded", "output": "grading did not finish"}
                          for ex, m in exercises.items()],
            "notes": [], "info": [], "complete": False, "seconds": 0.0}


def grade(notebook, lab=None, results="results.json", cell_timeout=DEFAULT_CELL_TIMEOUT,
          timeout=DEFAULT_TIMEOUT, hidden=False, manifest=None, reference=None):
    """Grade ``notebook``; return a summary dict and write ``results`` (None: nowhere).

    Args:
        notebook: path of the submission.
        lab: the released lab's name (``lab01_rnn_forward``); default: from the file's name,
            else from the exercise tags inside.
        results: where to write the Gradescope ``results.json``.
        cell_timeout: seconds one cell or one check may run.
        timeout: seconds the whole grading may take.
        hidden: also run the hidden checks (teachers' grading).
        manifest: the manifest of released labs (default: the one shipped with labkit).
        reference: a released lab's file, accepted only if its checksum is in the manifest.
    Returns:
        dict with ``score``, ``max_score``, ``exercises`` (name, score, max_score, status,
        message, output), ``notes`` (problems), ``info``, ``complete``, ``malformed``.
    """
    start = time.monotonic()
    deadline = start + timeout
    notebook = Path(notebook)
    summary = _summary_skeleton(notebook, None, None)
    try:
        data = load_manifest(manifest or MANIFEST)
    except (OSError, ValueError) as err:
        summary["notes"].append(f"cannot read the grader's manifest of released labs: {err}")
        write_results(results, summary)
        return summary
    try:
        raw = notebook.read_bytes()
    except OSError as err:
        raw, read_error = None, f"cannot read {notebook}: {err.strerror}"
    else:
        read_error = None
    try:
        key = identify_lab(data, notebook, raw if raw is not None else b"", lab, reference)
    except GradingError as err:
        summary["notes"].append(read_error or str(err))
        summary["malformed"] = read_error or str(err)
        write_results(results, summary)
        return summary
    entry = data["labs"][key]
    summary = _summary_skeleton(notebook, key, entry)
    write_results(results, summary)  # zero first: a stale file never survives
    if read_error:
        summary["notes"].append(read_error)
        summary["malformed"] = read_error
        return summary
    try:
        student_nb = load_submission(raw, notebook.name)
    except NotebookError as err:
        summary["notes"].append(f"not graded: {err}")
        summary["malformed"] = str(err)
        return summary
    released = entry["notebook"]
    hidden_cells = entry.get("hidden", []) if hidden else []
    n_hidden = len(entry.get("hidden", []))
    if not hidden and n_hidden:
        summary["info"].append(
            f"this self-check ran the visible checks only: {n_hidden} more (fresh random "
            "inputs, edge cases) run when the lab is graded")
    guard_process()
    keep = set(children(os.getpid()))
    outcome, runs = {}, []
    graded = json.dumps(graded_notebook(student_nb, released), indent=1) + "\n"
    cells = student_cells(student_nb, released)
    with tempfile.TemporaryDirectory(prefix="labkit-") as tmp:
        tmp = Path(tmp)
        # One run of the student's code per distinct reference policy (usually one).
        for k, (exercises, forbid) in enumerate(policy_groups(entry)):
            work, site = tmp / f"work{k}", tmp / f"site{k}"
            work.mkdir()
            site.mkdir()
            (work / notebook.name).write_text(graded, encoding="utf-8")
            build_site(site, forbid, [_package_dir("rnnkit"), _package_dir("labkit")])
            with open(tmp / f"student{k}.out", "w+", encoding="utf-8") as out:
                run = _Run(cells, site, work, out, cell_timeout, deadline)
                runs.append(run)
                try:
                    outcome.update(_grade_run(run, released, hidden_cells, summary, deadline,
                                              cell_timeout, set(exercises)))
                finally:
                    if run.student is not None:
                        run.student.kill()
                    kill_descendants(keep)
    _finish(summary, entry, outcome, runs[0], deadline, timeout)
    summary["seconds"] = round(time.monotonic() - start, 1)
    write_results(results, summary)
    return summary


def _grade_run(run, released, hidden_cells, summary, deadline, cell_timeout, exercises):
    """Run the student's cells, then the checks of ``exercises``; return exercise -> list of
    outcomes."""
    outcome = {}
    try:
        run.start()
    except (StudentDied, StudentTimeout, ProtocolError) as err:
        note = f"the Python process for your code did not start: {err}"
        if note not in summary["notes"]:
            summary["notes"].append(note)
        return outcome
    names = [n for c in released["cells"] if c.get("cell_type") == "code"
             and cell_exercise(c) is None and not given_cell(c) for n in stub_names(c)]
    ns = {"__name__": "__labkit_check__"}
    _bind(ns, run.student, names)
    code_cells = [c for c in released["cells"] if c.get("cell_type") == "code"]
    seed = secrets.randbits(32)
    for i, cell in enumerate(code_cells):
        ex = cell_exercise(cell)
        if ex is None:
            if given_cell(cell):
                try:
                    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        exec(compile(cell["source"], "<given cell>", "exec"), ns)  # noqa: S102
                except Exception as err:  # noqa: BLE001
                    summary["notes"].append(f"the lab's given cell failed in the grader: "
                                            f"{type(err).__name__}: {err}")
            continue
        if ex not in exercises:
            continue
        checks = [(cell["source"], f"<the check of exercise {ex}>")]
        last = not any(cell_exercise(c) == ex for c in code_cells[i + 1:])
        if last:
            checks += [(h["source"], f"<a hidden check of exercise {ex}>")
                       for h in hidden_cells if h["exercise"] == ex]
        for source, label in checks:
            if time.monotonic() >= deadline:
                outcome.setdefault(ex, []).append((False, "cut-short", None, ""))
                continue
            if run.student.dead:
                if not run.restart():
                    outcome.setdefault(ex, []).append(
                        (False, "not-run", "not run: the Python process running your code "
                         f"stopped ({run.student.dead}) too often to start it again", ""))
                    continue
                _bind(ns, run.student, names)
            ns["GRADING_SEED"] = seed
            seconds = max(0.1, min(cell_timeout, deadline - time.monotonic()))
            ok, kind, message, printed = _run_check(source, label, ns, run, seconds)
            if not ok and "hidden" in label and message:
                message = f"a hidden check: {message}"
            outcome.setdefault(ex, []).append((ok, kind, message, printed))
            if run.student.dead and run.restart():
                _bind(ns, run.student, names)  # a fresh process: rebind its functions
    return outcome


def _finish(summary, entry, outcome, run, deadline, timeout):
    cut = time.monotonic() >= deadline
    if cut:
        summary["notes"].append(f"grading stopped: the time limit of {timeout:g} s ran out")
    for _, (_, message) in sorted(run.cell_errors.items()):
        summary["notes"].append(message)
    failed = set()
    results = []
    for e in summary["exercises"]:
        ex = e["name"]
        checks = outcome.get(ex, [])
        if checks and all(ok for ok, *_ in checks):
            printed = "".join(p for *_, p in checks).strip()
            results.append(dict(e, score=e["max_score"], status="passed", message="",
                                output=("all checks passed\n" + printed).strip()))
            continue
        failed.add(ex)
        bad = [(kind, m) for ok, kind, m, _ in checks if not ok]
        if not checks or bad[0][0] == "cut-short":
            message = f"not run: the grader's time limit of {timeout:g} s ran out"
        else:
            message = bad[0][1] or "failed"
        if "is not defined" in message and run.cell_errors:
            n, (_, why) = min(run.cell_errors.items())
            message += f" (your code cell {n} failed: {why.splitlines()[0]})"
        deps = [d for d in entry.get("depends", {}).get(ex, []) if d in failed]
        if deps and not message.startswith(f"exercise {ex} not implemented yet"):
            message += (f" (this exercise uses your answer to exercise "
                        f"{', '.join(deps)}, which fails too: fix that first)")
        details = [message] + [m for _, m in bad[1:] if m and m != message]
        results.append(dict(e, score=0, status="failed", message=message,
                            output="\n".join(details)))
    summary["exercises"] = results
    summary["score"] = sum(e["score"] for e in results)
    summary["complete"] = not cut and bool(outcome)


def format_table(summary):
    """The summary as text: one row per exercise, then the total and the notes."""
    rows = [f"Grading {summary['notebook']}", f"  lab: {summary['lab'] or 'unknown'}", "",
            f"{'exercise':<10}{'points':>9}   result"]
    for e in summary["exercises"]:
        result = "ok" if e["status"] == "passed" else e["message"].splitlines()[0]
        rows.append(f"{e['name']:<10}{e['score']:>4} / {e['max_score']:<3}  {result}")
    rows.append(f"{'total':<10}{summary['score']:>4} / {summary['max_score']}")
    if summary["notes"]:
        rows += ["", "notes:"] + [f"  - {n}" for n in summary["notes"]]
    rows += [f"\n{line}" for line in summary.get("info", [])]
    return "\n".join(rows)


def _exit_status(summary):
    if summary.get("malformed") or not summary["complete"]:
        return 2
    return 0 if summary["score"] == summary["max_score"] else 1


def main(argv=None):
    """Run the command line; return the exit status (see the module's docstring)."""
    parser = argparse.ArgumentParser(
        prog="python -m labkit.grade",
        description="Grade lab notebooks: the released check cells (shipped with labkit) run "
                    "against the functions the notebook defines, which run in a process of "
                    "their own. Points per exercise, a table, and a Gradescope results.json.",
        epilog="Exit status: 0 full marks, 1 points missing, 2 not graded (a malformed "
               "notebook, an unknown lab, grading cut short). With several notebooks or "
               "--gradebook: 0 when every notebook was graded, 2 otherwise.")
    parser.add_argument("notebooks", nargs="+", metavar="NOTEBOOK")
    parser.add_argument("--lab", help="the released lab, e.g. lab01_rnn_forward (default: the "
                                      "notebook's file name, else the exercises inside)")
    parser.add_argument("--reference", metavar="RELEASED_LAB",
                        help="a released lab's file; accepted only if its checksum is one "
                             "labkit ships (prefer --lab)")
    parser.add_argument("--results", default=None,
                        help="where to write results.json (one notebook; default "
                             "results.json)")
    parser.add_argument("--results-dir", default="results",
                        help="with several notebooks: a results file per notebook here")
    parser.add_argument("--gradebook", metavar="CSV", help="write one row per notebook")
    parser.add_argument("-j", "--jobs", type=int, default=1, help="notebooks graded at once")
    parser.add_argument("--time-limit", type=float, default=DEFAULT_TIMEOUT,
                        help=f"seconds per notebook (default {DEFAULT_TIMEOUT:g})")
    parser.add_argument("--timeout", type=float, dest="time_limit", help=argparse.SUPPRESS)
    parser.add_argument("--cell-timeout", type=float, default=DEFAULT_CELL_TIMEOUT,
                        help=f"seconds one cell or check may run "
                             f"(default {DEFAULT_CELL_TIMEOUT:g})")
    parser.add_argument("--hidden", action="store_true",
                        help="also run the hidden checks (on with --gradebook)")
    parser.add_argument("--manifest", help=argparse.SUPPRESS)
    parser.add_argument("--summary-json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if len(args.notebooks) > 1 or args.gradebook:
        from labkit.batch import grade_many

        return grade_many(args)
    results = args.results or "results.json"
    try:
        summary = grade(args.notebooks[0], args.lab, None if args.summary_json else results,
                        args.cell_timeout, args.time_limit, hidden=args.hidden,
                        manifest=args.manifest, reference=args.reference)
    except Exception as err:  # noqa: BLE001 (a bug of the grader's: still one line, exit 2)
        print(f"error: the grader failed ({type(err).__name__}: {err}); results.json, if "
              "written, holds zero", file=sys.stderr)
        return 2
    if args.summary_json:
        print("LABKIT-SUMMARY " + json.dumps(summary))
        return _exit_status(summary)
    if summary.get("malformed"):
        print(f"error: {summary['malformed']}", file=sys.stderr)
        print(f"results written to {results} (score 0)")
        return 2
    print(format_table(summary))
    print(f"\nresults written to {results}")
    return _exit_status(summary)


if __name__ == "__main__":
    sys.exit(main())
