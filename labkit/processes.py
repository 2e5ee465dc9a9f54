"""What keeps grading safe from the processes it starts, and how its results are written.

- ``guard_process``: the grader becomes a child subreaper (whatever student code forks comes
  back to it) and non-dumpable (other processes of the same user cannot read its /proc files).
- ``kill_descendants``: every process below the grader is killed before a result is written.
- ``write_results``: Gradescope's ``results.json``, replaced atomically, so a reader never sees
  half a file and a stale file never survives.

Used by :mod:`labkit.grade` (one notebook) and :mod:`labkit.batch` (a class).
"""

import contextlib
import ctypes
import json
import os
import signal
import sys
from pathlib import Path

__all__ = ["guard_process", "children", "kill_descendants", "write_results"]


def _prctl(option, value):
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(option, value, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def guard_process():
    """Become a child subreaper and non-dumpable (Linux; elsewhere a no-op)."""
    if sys.platform.startswith("linux"):
        _prctl(36, 1)  # PR_SET_CHILD_SUBREAPER: orphans of our children come back to us
        _prctl(4, 0)  # PR_SET_DUMPABLE 0: same-user processes cannot open /proc/<us>/*


def children(pid):
    """The pids whose parent is ``pid`` (from /proc; empty where there is none)."""
    out = []
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8", errors="replace") as f:
                stat = f.read()
            ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == pid:
            out.append(int(entry))
    return out


def kill_descendants(keep=()):
    """Kill every descendant of this process except the pids in ``keep`` (and theirs)."""
    for _ in range(100):
        found = [p for p in children(os.getpid()) if p not in keep]
        stack, seen = list(found), set()
        while stack:
            p = stack.pop()
            if p in seen:
                continue
            seen.add(p)
            stack += children(p)
        if not seen:
            return
        for p in seen:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(p, signal.SIGKILL)
        for p in found:
            with contextlib.suppress(ChildProcessError, OSError):
                os.waitpid(p, 0)


def write_results(path, summary):
    """Write ``summary`` as Gradescope's ``results.json`` at ``path``, atomically (None: skip)."""
    if path is None:
        return
    tests = [{"name": f"exercise {e['name']}", "score": e["score"], "max_score": e["max_score"],
              "status": e["status"], "output": e["output"]} for e in summary["exercises"]]
    data = {"score": summary["score"], "max_score": summary["max_score"],
            "output": "\n".join(summary["notes"] + summary.get("info", [])),
            "execution_time": summary["seconds"], "tests": tests}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)
