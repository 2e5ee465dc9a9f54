"""pytest plugin the grader loads with ``-p labkit.plugin`` (never auto-loaded).

On top of nbval (one test item per code cell) it

- copies each check cell's tags into ``item.user_properties``
  (``exercise``, ``points``), so they survive xdist and ``--junitxml``;
- turns each failure into one actionable line (``report.user_properties``
  gets ``kind`` and ``message``): the check's own message, "SyntaxError in
  your code cell N", "timed out after 120 s", "the kernel died";
- keeps grading after a cell timeout: nbval marks every later cell xfail,
  but when the interrupt worked the kernel is fine, so the mark is dropped;
- notices a dead kernel within a second instead of waiting for the cell
  timeout (it polls ``is_alive`` while waiting for the reply);
- appends one JSON line per event to the file named by ``$LABKIT_GRADE_LOG``
  as it goes, so a grader that kills pytest still knows what was graded;
- totals the points per exercise (all of an exercise's check cells must pass;
  xfail and skip earn nothing) and prints them at the end of the run.

The kernel-side details rely on nbval 0.11 (``IPyNbFile.kernel``,
``RunningKernel.await_reply``, ``IPyNbCell.test_outputs``).
"""

import functools
import json
import os
import re
import time
from queue import Empty

import pytest

from labkit import cell_exercise, cell_points

LOG_ENV = "LABKIT_GRADE_LOG"
_POLL_S = 0.5
_SYNTAX = ("SyntaxError", "IndentationError", "TabError")
_NOT_IMPLEMENTED = ("NotImplementedError", "NotImplementedYet")


class KernelDied(RuntimeError):
    """The kernel process exited while a cell was running."""


def _log(event):
    path = os.environ.get(LOG_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(event) + "\n")
            f.flush()


def _first_line(source, width=50):
    line = next((s.strip() for s in source.splitlines() if s.strip()), "")
    return line if len(line) <= width else line[: width - 3] + "..."


# Per-process state: with xdist the controller sees only reports, so cells are
# also registered from the properties each report carries.
_state = {"cells": {}, "records": [], "died_in": {}}  # died_in: notebook -> code cell


def _register(entry):
    _state["cells"].setdefault((entry["notebook"], entry["cell"]), entry)


def pytest_collection_modifyitems(session, config, items):
    cells = []
    for item in items:
        cell = getattr(item, "cell", None)
        if cell is None or not hasattr(item, "cell_num"):
            continue
        item.user_properties.append(("cell", item.cell_num))
        entry = {"notebook": item.nodeid.split("::")[0], "cell": item.cell_num,
                 "first_line": _first_line(cell.get("source", ""))}
        exercise = cell_exercise(cell)
        if exercise is not None:
            item.user_properties += [("exercise", exercise), ("points", cell_points(cell))]
            entry.update(exercise=exercise, points=cell_points(cell))
        cells.append(entry)
        _register(entry)
    _log({"event": "collected", "cells": cells})


def _await_reply(kernel, msg_id, timeout=None):
    """nbval's ``await_reply``, but failing fast when the kernel process is gone."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        wait = _POLL_S if deadline is None else min(_POLL_S, deadline - time.monotonic())
        if wait <= 0:
            raise Empty
        try:
            msg = kernel.get_message(stream="shell", timeout=wait)
        except Empty:
            if not kernel.is_alive():
                raise KernelDied("the kernel process exited") from None
            continue
        if msg["parent_header"].get("msg_id") == msg_id:
            if msg["content"]["status"] == "aborted":
                raise RuntimeError("Kernel aborted execution request")
            return


def pytest_runtest_logstart(nodeid, location):
    m = re.search(r"::Cell (\d+)$", nodeid)
    if m:
        _log({"event": "start", "cell": int(m[1])})


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    notebook = getattr(item, "parent", None)
    kernel = getattr(notebook, "kernel", None)
    # After a timeout nbval marks every later cell xfail; if the interrupt
    # worked the kernel is alive and its state intact, so keep grading.
    if getattr(notebook, "timed_out", False) and kernel is not None and kernel.is_alive():
        notebook.timed_out = False


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item):
    kernel = getattr(getattr(item, "parent", None), "kernel", None)
    if kernel is None or getattr(kernel, "_labkit_patched", False):
        return
    kernel.await_reply = functools.partial(_await_reply, kernel)
    kernel._labkit_patched = True
    process = getattr(getattr(getattr(kernel, "km", None), "provisioner", None), "process", None)
    if process is not None:
        _log({"event": "kernel", "pid": process.pid})


def _explain(item, excinfo):
    """Return ``(kind, message)`` for a failed cell; the message's first line is for the table."""
    n = getattr(item, "cell_num", -1) + 1
    notebook = item.nodeid.split("::")[0]
    exc = excinfo.value
    if isinstance(exc, KernelDied):
        where = f'code cell {n} ("{_first_line(item.cell.get("source", ""))}")'
        _state["died_in"][notebook] = n
        return "kernel-died", (f"the kernel died while running {where}: os._exit, a crash "
                               "in compiled code or running out of memory stops Python itself")
    if "Kernel dead" in str(exc):
        died = _state["died_in"].get(notebook)
        cause = f"the kernel died in code cell {died}" if died else "the kernel had stopped"
        return "not-run", f"not run: {cause}"
    outputs = getattr(item, "test_outputs", None) or []
    errors = [o for o in outputs if o.get("output_type") == "error"]
    text = str(exc)
    if text.startswith("Timeout"):
        limit = item.config.getoption("nbval_cell_timeout", default=None)
        return "timeout", (f"timed out after {limit:g} s in code cell {n} (an endless loop, or "
                           "much too slow?); the kernel was interrupted")
    if not errors:
        return "error", f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}"
    ename, evalue = errors[-1].get("ename", "Error"), errors[-1].get("evalue", "")
    if ename in _SYNTAX:
        kind = "" if ename == "SyntaxError" else f"{ename}: "
        evalue = re.sub(r"\(\S+\.py, line (\d+)\)", r"(line \1)", evalue)
        return "syntax", f"SyntaxError in your code cell {n}: {kind}{evalue}"
    if ename in _NOT_IMPLEMENTED:
        return "not-implemented", evalue or f"{ename} in code cell {n}"
    if ename in ("AssertionError", "NotImplementedYet") and evalue:
        return "failed", evalue
    return "error", f"{ename} in code cell {n}: {evalue}" if evalue else f"{ename} in code cell {n}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if call.excinfo is not None and not report.passed and hasattr(item, "cell_num"):
        kind, message = _explain(item, call.excinfo)
        report.user_properties += [("kind", kind), ("message", message)]
    return report


def pytest_runtest_logreport(report):
    props = dict(report.user_properties)
    if "cell" not in props or (report.when != "call" and report.passed):
        return
    entry = {"notebook": report.nodeid.split("::")[0], "cell": props["cell"]}
    if "exercise" in props:
        entry.update(exercise=props["exercise"], points=props.get("points", 0))
    _register(entry)
    xfailed = hasattr(report, "wasxfail")
    record = {
        "notebook": entry["notebook"],
        "cell": props["cell"],
        "when": report.when,
        "passed": report.passed and not xfailed,
        "outcome": "xfailed" if xfailed else report.outcome,
        "kind": props.get("kind"),
        "message": props.get("message") or ("skipped" if report.skipped else None),
        "duration": round(report.duration, 3),
    }
    _state["records"].append(record)
    _log(dict(record, event="report"))


def aggregate(cells, records):
    """Points per exercise from the collected cells and their reports.

    Args:
        cells: list of ``{"notebook", "cell", "exercise"?, "points"?}`` (the
            "collected" event) for one notebook.
        records: list of report records (the "report" events), any order.
    Returns:
        dict exercise -> ``{"score", "max_score", "cells", "failures"}``, where
        ``failures`` lists ``(cell, kind, message)`` for each check cell that
        did not pass (a cell with no record was never run).
    """
    by_cell = {}
    for r in records:
        by_cell.setdefault((r.get("notebook"), r["cell"]), []).append(r)
    result = {}
    for entry in cells:
        exercise = entry.get("exercise")
        if exercise is None:
            continue
        ex = result.setdefault(exercise, {"score": 0, "max_score": 0, "cells": [], "failures": []})
        ex["max_score"] += entry.get("points", 0)
        ex["cells"].append(entry["cell"])
        reports = by_cell.get((entry.get("notebook"), entry["cell"]), [])
        call = [r for r in reports if r["when"] == "call"]
        bad = [r for r in reports if not r["passed"]]
        if bad:
            ex["failures"].append((entry["cell"], bad[0]["kind"], bad[0]["message"]))
        elif not call:
            ex["failures"].append((entry["cell"], "not-run", "not run"))
    for ex in result.values():
        ex["score"] = 0 if ex["failures"] else ex["max_score"]
    return result


def pytest_sessionfinish(session, exitstatus):
    _log({"event": "finished", "exitstatus": int(exitstatus)})


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter):
    notebooks = sorted({nb for nb, _ in _state["cells"]})
    for notebook in notebooks:
        cells = [e for (nb, _), e in sorted(_state["cells"].items()) if nb == notebook]
        totals = aggregate(cells, _state["records"])
        if not totals:
            continue
        terminalreporter.section(f"points per exercise: {notebook}")
        for exercise, ex in totals.items():
            why = "" if not ex["failures"] else "  " + str(ex["failures"][0][2]).splitlines()[0]
            line = f"{exercise:>8}  {ex['score']:>3} / {ex['max_score']:<3}{why}"
            terminalreporter.line(line.rstrip())
        score = sum(ex["score"] for ex in totals.values())
        possible = sum(ex["max_score"] for ex in totals.values())
        terminalreporter.line(f"{'total':>8}  {score:>3} / {possible}")
