"""Read a submission strictly, and build the notebook that is graded from it.

A submission is any bytes a student hands in. :func:`load_submission` accepts only plain
nbformat 4: a JSON object with ``nbformat`` 4, a ``cells`` list of objects, each with a known
``cell_type`` and a ``source`` that is a string or a list of strings, and no v3 ``worksheets``
list beside it (one reader would see one list of cells and another the other). Anything else
raises :class:`NotebookError` with a one-line reason; the grader then exits with status 2 and a
zero ``results.json``.

:func:`graded_notebook` builds what is graded: the student's code cells that are not check
cells (any cell tagged ``exercise-*`` in the submission is dropped, and so is a cell that
repeats a released check cell's source), each with its metadata emptied (so nbval's
``raises-exception`` or ``skip-execution`` tags and every other tag are gone) and nbval's
``# NBVAL_*`` marker comments removed, followed at their places by the released lab's check
cells, source and metadata as released.
"""

import re

from labkit import cell_exercise

__all__ = ["NotebookError", "load_submission", "student_cells", "graded_notebook",
           "normalise"]

_CELL_TYPES = {"code", "markdown", "raw"}
_NBVAL = re.compile(r"^[ \t]*#[ \t]*NBVAL_\w+[ \t]*(?:\n|$)", re.MULTILINE)
_MAX_BYTES = 50 * 1024 * 1024


class NotebookError(ValueError):
    """The submission is not a plain nbformat 4 notebook; ``str`` is a one-line reason."""


def normalise(source):
    """The source with trailing spaces and blank lines at either end removed."""
    return "\n".join(line.rstrip() for line in source.splitlines()).strip("\n")


def _source(value, where):
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(s, str) for s in value):
        return "".join(value)
    kind = type(value).__name__
    if isinstance(value, list):
        bad = next(type(s).__name__ for s in value if not isinstance(s, str))
        kind = f"a list holding a {bad}"
    raise NotebookError(f"{where}: 'source' must be a string or a list of strings, not {kind}")


def load_submission(data, name="the notebook"):
    """Parse ``data`` (bytes or str) as a plain nbformat 4 notebook; return it as a dict.

    Every cell comes back as ``{"cell_type", "source" (one string), "metadata" (dict),
    "id"}``. Raises NotebookError on anything else.
    """
    import json

    if isinstance(data, bytes):
        if len(data) > _MAX_BYTES:
            raise NotebookError(f"{name} is larger than {_MAX_BYTES >> 20} MiB")
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as err:
            raise NotebookError(f"{name} is not UTF-8 text (byte {err.start})") from None
    try:
        nb = json.loads(data)
    except (json.JSONDecodeError, RecursionError) as err:
        raise NotebookError(f"{name} is not valid JSON ({err})") from None
    if not isinstance(nb, dict):
        raise NotebookError(f"{name} is not a notebook: a JSON {type(nb).__name__}, "
                            "not an object")
    if "worksheets" in nb:
        raise NotebookError(f"{name} has a 'worksheets' list (nbformat 3): save it as "
                            "nbformat 4 (a plain 'cells' list) from Jupyter")
    if nb.get("nbformat") != 4:
        raise NotebookError(f"{name} is nbformat {nb.get('nbformat')!r}, not 4: save it "
                            "from a current Jupyter")
    cells = nb.get("cells")
    if not isinstance(cells, list):
        raise NotebookError(f"{name} has no 'cells' list")
    out = []
    for i, cell in enumerate(cells, start=1):
        where = f"{name}, cell {i}"
        if not isinstance(cell, dict):
            raise NotebookError(f"{where} is a JSON {type(cell).__name__}, not an object")
        kind = cell.get("cell_type")
        if kind not in _CELL_TYPES:
            raise NotebookError(f"{where} has cell_type {kind!r}: expected code, markdown "
                                "or raw")
        meta = cell.get("metadata", {})
        if not isinstance(meta, dict):
            raise NotebookError(f"{where}: 'metadata' must be an object")
        tags = meta.get("tags", [])
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise NotebookError(f"{where}: metadata 'tags' must be a list of strings")
        cid = cell.get("id", f"cell-{i}")
        out.append({"cell_type": kind, "source": _source(cell.get("source", ""), where),
                    "metadata": meta, "id": cid if isinstance(cid, str) else f"cell-{i}"})
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": out}


def student_cells(student, released):
    """The student's code cells to run: ``[(code cell number from 1, source)]``.

    Dropped: cells tagged ``exercise-*`` and cells repeating a released check cell.
    Cleaned: nbval's marker comments.
    """
    checks = {normalise(c["source"]) for c in released["cells"] if cell_exercise(c)}
    out, n = [], 0
    for cell in student["cells"]:
        if cell["cell_type"] != "code":
            continue
        n += 1
        if cell_exercise(cell) is not None or normalise(cell["source"]) in checks:
            continue
        out.append((n, _NBVAL.sub("", cell["source"])))
    return out


def graded_notebook(student, released):
    """The notebook that is graded (nbformat 4): the student's cells, the released checks."""
    cells = []
    mine = dict(student_cells(student, released))
    n = 0
    for cell in student["cells"]:
        if cell["cell_type"] == "code":
            n += 1
            if n in mine:
                cells.append({"cell_type": "code", "id": f"student-{n}", "metadata": {},
                              "execution_count": None, "outputs": [],
                              "source": mine[n].splitlines(True)})
    # Each check goes after the student's cell that carries the id of the released cell
    # before it (the exercise's own cell), or at the end when the student renamed it.
    ids = {c["id"]: c for c in student["cells"]}
    placed = []
    previous = None
    for cell in released["cells"]:
        if cell_exercise(cell) is None:
            previous = cell.get("id")
            continue
        check = {"cell_type": "code", "id": cell.get("id", "check"),
                 "metadata": cell.get("metadata", {}), "execution_count": None,
                 "outputs": [], "source": cell["source"].splitlines(True)}
        anchor = ids.get(previous)
        pos = len(cells)
        if anchor is not None and anchor["cell_type"] == "code":
            num = [c["id"] for c in student["cells"] if c["cell_type"] == "code"].index(
                anchor["id"]) + 1
            for k, c in enumerate(cells):
                if c["id"] == f"student-{num}":
                    pos = k + 1
        while pos < len(cells) and cells[pos]["id"] in placed:
            pos += 1
        cells.insert(pos, check)
        placed.append(check["id"])
    return {"cells": cells, "metadata": {"kernelspec": {"display_name": "Python 3",
                                                        "language": "python",
                                                        "name": "python3"}},
            "nbformat": 4, "nbformat_minor": 5}
