"""labkit: the lab pipeline. Solution notebooks in, student labs and grades out.

A package of its own, apart from the RNN library: it knows nothing of the
checkout's folders beyond the paths it is given. The course's layout is a
convention that only the command lines' defaults assume (paths relative to the
current directory):

- ``solutions/labNN_<topic>.ipynb`` is the only file a teacher edits. Code
  between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` lines is the answer.
- ``python -m labkit.generate [SOLUTION...] [--out-dir DIR]`` writes
  ``labs/labNN_<topic>.ipynb`` with each answer replaced by a stub (see
  :mod:`labkit.generate`).
- Check cells carry two tags, ``exercise-<id>`` and ``points-<n>``; a check cell
  also tagged ``hidden`` is a hidden test, left out of the lab. The generator also
  writes ``labkit/released.json`` (:mod:`labkit.release`): the released labs, their
  checksums, points, hidden checks and reference policy, the only source the
  grader trusts.
- ``python -m labkit.grade NOTEBOOK... [--lab LAB] [--gradebook CSV -j N]`` runs
  the student's cells in a sandboxed process (:mod:`labkit.sandbox`) and the
  released check cells in the grader against the student's functions
  (:mod:`labkit.remote`), and totals the points (see :mod:`labkit.grade`; a class
  at once: :mod:`labkit.batch`). ``python -m labkit.gradescope LAB`` writes a
  Gradescope autograder bundle.
- :mod:`labkit.checks` holds the assertion helpers the check cells use; they
  build on ``rnnkit.gradcheck`` (labkit uses rnnkit; rnnkit never imports labkit).

``python -m rnnkit.labs.grade`` and ``python -m rnnkit.labs.generate`` are the
old names of the two commands and still work.

Notebooks are read as plain JSON (nbformat 4) so that generating a lab needs
nothing beyond the standard library.
"""

import json

EXERCISE_PREFIX = "exercise-"
POINTS_PREFIX = "points-"


def read_notebook(path, text=None):
    """Load a notebook (from ``path``, or from ``text`` if given) as a dict.

    Every cell's source becomes one string. Raises ValueError if it is not a notebook.
    """
    if text is None:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    try:
        nb = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not valid JSON ({err})") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise ValueError(f"{path}: not a Jupyter notebook (no 'cells' list)")
    for cell in nb["cells"]:
        src = cell.get("source", "")
        cell["source"] = "".join(src) if isinstance(src, list) else src
    return nb


def cell_tags(cell):
    tags = cell.get("metadata", {}).get("tags", [])
    return [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else []


def cell_exercise(cell):
    """Return the exercise id a check cell grades (``"1a"`` for ``exercise-1a``), or None."""
    if cell.get("cell_type") != "code":
        return None
    for tag in cell_tags(cell):
        if tag.startswith(EXERCISE_PREFIX) and len(tag) > len(EXERCISE_PREFIX):
            return tag[len(EXERCISE_PREFIX):]
    return None


def cell_points(cell):
    """Return the points a check cell is worth (its ``points-<n>`` tag), 0 if none."""
    for tag in cell_tags(cell):
        if tag.startswith(POINTS_PREFIX) and tag[len(POINTS_PREFIX):].isdigit():
            return int(tag[len(POINTS_PREFIX):])
    return 0

