"""Grade a class: many notebooks, ``-j`` at a time, a gradebook and a results file each.

``python -m labkit.grade submissions/*.ipynb --gradebook grades.csv -j 2 --time-limit 600``
(or ``python -m rnnkit.labs.grade ...``) lands here. Each notebook is graded by its own
``python -m labkit.grade NOTEBOOK --summary-json`` process, in a session of its own, that
prints its summary on a pipe this process reads (the student's code cannot reach that pipe:
the worker is non-dumpable). A worker that runs past the time limit (plus a margin for
starting and cleaning up) is killed with its whole process group and the notebook scores 0
with the reason; one that crashes or prints no summary scores 0 with the reason too. Hidden
checks always run.

This process is a child subreaper too: after the last worker it kills every process left
beneath it, and only then writes ``results/<notebook's stem>.json`` for each notebook (names
made unique) and the gradebook, one row per notebook: ``student`` (the file's stem), ``file``,
``lab``, ``score``, ``max_score``, one column per exercise, ``status`` (graded, incomplete,
malformed, timeout, crashed) and ``message``.
"""

import concurrent.futures
import csv
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from labkit.processes import guard_process, kill_descendants, write_results

__all__ = ["grade_many"]

_MARGIN_S = 30.0


def _zero(path, message, status):
    return {"notebook": str(path), "lab": None, "score": 0, "max_score": 0, "exercises": [],
            "notes": [message], "info": [], "complete": False, "seconds": 0.0,
            "status": status}


def _grade_one(path, args):
    cmd = [sys.executable, "-m", "labkit.grade", str(path), "--summary-json", "--hidden",
           "--time-limit", f"{args.time_limit:g}", "--cell-timeout", f"{args.cell_timeout:g}"]
    for flag, value in (("--lab", args.lab), ("--manifest", args.manifest),
                        ("--reference", args.reference)):
        if value:
            cmd += [flag, str(value)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, start_new_session=True, text=True)
    try:
        out, err = proc.communicate(timeout=args.time_limit + _MARGIN_S)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        proc.communicate()
        return _zero(path, f"not graded: the time limit of {args.time_limit:g} s per notebook "
                           "ran out", "timeout")
    lines = [ln for ln in out.splitlines() if ln.startswith("LABKIT-SUMMARY ")]
    if not lines:
        tail = (err.strip().splitlines() or ["no output"])[-1]
        return _zero(path, f"not graded: the grader stopped (exit status {proc.returncode}): "
                           f"{tail}", "crashed")
    summary = json.loads(lines[-1][len("LABKIT-SUMMARY "):])
    if summary.get("malformed"):
        summary["status"] = "malformed"
    elif not summary.get("complete"):
        summary["status"] = "incomplete"
    else:
        summary["status"] = "graded"
    return summary


def grade_many(args):
    """Grade ``args.notebooks``; write results and the gradebook; return the exit status."""
    guard_process()
    keep = set()
    paths = [Path(p) for p in args.notebooks]
    summaries = [None] * len(paths)
    with concurrent.futures.ThreadPoolExecutor(max(1, args.jobs)) as pool:
        futures = {pool.submit(_grade_one, p, args): i for i, p in enumerate(paths)}
        for done in concurrent.futures.as_completed(futures):
            i = futures[done]
            try:
                summaries[i] = done.result()
            except Exception as err:  # noqa: BLE001 (one notebook never stops the class)
                summaries[i] = _zero(paths[i], f"not graded: {type(err).__name__}: {err}",
                                     "crashed")
            s = summaries[i]
            print(f"{paths[i]}: {s['score']} / {s['max_score']} ({s['status']})", flush=True)
    kill_descendants(keep)
    out_dir = Path(args.results_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    exercises, used = [], set()
    for s in summaries:
        for e in s["exercises"]:
            if e["name"] not in exercises:
                exercises.append(e["name"])
    rows = []
    for path, s in zip(paths, summaries, strict=True):
        stem, k = path.stem, 1
        while stem in used:
            k += 1
            stem = f"{path.stem}-{k}"
        used.add(stem)
        write_results(out_dir / f"{stem}.json", s)
        scores = {e["name"]: e["score"] for e in s["exercises"]}
        message = "; ".join(s["notes"])[:500]
        rows.append([stem, str(path), (s.get("lab") or "").removesuffix(".ipynb"), s["score"],
                     s["max_score"], *[scores.get(e, "") for e in exercises], s["status"],
                     message])
    if args.gradebook:
        Path(args.gradebook).parent.mkdir(parents=True, exist_ok=True)
        with open(args.gradebook, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(["student", "file", "lab", "score", "max_score", *exercises,
                             "status", "message"])
            writer.writerows(rows)
        print(f"gradebook written to {args.gradebook}; results in {out_dir}/")
    return 0 if all(s["status"] == "graded" for s in summaries) else 2
