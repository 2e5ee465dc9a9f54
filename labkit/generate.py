"""Generate student labs from solution notebooks.

Usage::

    python -m labkit.generate                        # every ./solutions/lab*.ipynb -> ./labs/
    python -m labkit.generate solutions/lab01_rnn_forward.ipynb
    python -m labkit.generate path/to/lab01.ipynb --out-dir release/
    python -m labkit.generate --check                # exit 1 if labs/ is stale

The generator works on the paths it is given. Only the command line has a
default, the course's layout: with no paths, ``solutions/lab*.ipynb`` under the
current directory; with no ``--out-dir``, a ``labs/`` folder beside each
solution's folder (``solutions/X.ipynb`` -> ``labs/X.ipynb``).

What changes from ``solutions/X.ipynb`` to ``labs/X.ipynb``:

- in a code cell, the lines from ``### BEGIN SOLUTION`` to ``### END
  SOLUTION`` become a stub at the marker's indentation::

      # YOUR CODE HERE
      raise NotImplementedError("exercise 1a not implemented yet: f")

  The exercise is the one graded by the next check cell (a code cell tagged
  ``exercise-<id>``); the function is the ``def`` enclosing the region;
- in a markdown cell, the region becomes ``YOUR ANSWER HERE``;
- a check cell tagged ``hidden`` (with its ``exercise-<id>`` tag) is a hidden test: it is left
  out of the lab and shipped to the grader in ``labkit/released.json`` instead (see
  :mod:`labkit.release`), which the generator rewrites with every lab it writes (its
  checksum, points, given code, hidden checks and the reference policy from the solution's
  ``metadata.labkit.forbid``). The manifest is ``--manifest JSON``, by default
  ``labkit/released.json`` beside the labs folder when that folder's parent holds labkit (the
  course's layout), else none; ``--no-manifest`` leaves it alone;
- everything else (signatures, docstrings, check cells) is kept; outputs and
  execution counts are cleared, cell metadata keeps only ``tags``, and the
  notebook metadata is a fixed minimal set, so the same solution always
  gives a byte-identical lab.

A marker that is unterminated, nested, stray, or misspelt (any other line
mentioning ``BEGIN SOLUTION`` or ``END SOLUTION``) is refused with an error
naming the notebook and the cell.
"""

import argparse
import json
import re
import sys
from pathlib import Path

from labkit import cell_exercise, cell_points, read_notebook
from labkit.release import MANIFEST, is_hidden, lab_entry, load_manifest, write_manifest

__all__ = ["MarkerError", "generate_lab", "render", "lab_path_for", "main"]

_MARKER = re.compile(r"^(?P<indent>[ \t]*)### (?P<kind>BEGIN|END) SOLUTION[ \t]*$")
_MENTION = re.compile(r"(BEGIN|END)\s+SOLUTION", re.IGNORECASE)
_DEF = re.compile(r"^(?P<indent>[ \t]*)(?:async\s+)?def\s+(?P<name>\w+)\s*\(")
_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")

NOTEBOOK_METADATA = {
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}


class MarkerError(ValueError):
    """A solution notebook whose markers cannot be turned into a lab."""


def _enclosing_def(lines, indent):
    """Name of the innermost ``def`` above the region whose body holds ``indent``."""
    for line in reversed(lines):
        m = _DEF.match(line)
        if m and len(m["indent"]) < len(indent):
            return m["name"]
    return None


def _strip_regions(source, where, stub):
    """Replace every marked region of ``source`` by ``stub(indent, lines_before)``."""
    out, begin = [], None
    for lineno, line in enumerate(source.splitlines(), start=1):
        m = _MARKER.match(line)
        if m is None:
            if _MENTION.search(line):
                raise MarkerError(
                    f"{where}, line {lineno}: malformed marker {line.strip()!r}; "
                    "write '### BEGIN SOLUTION' or '### END SOLUTION' alone on a line"
                )
            if begin is None:
                out.append(line)
            continue
        if m["kind"] == "BEGIN":
            if begin is not None:
                raise MarkerError(
                    f"{where}, line {lineno}: nested '### BEGIN SOLUTION' "
                    f"(the region opened on line {begin} is not closed yet)"
                )
            begin = lineno
            out.extend(stub(m["indent"], out))
        else:
            if begin is None:
                raise MarkerError(
                    f"{where}, line {lineno}: stray '### END SOLUTION' with no open region"
                )
            begin = None
    if begin is not None:
        raise MarkerError(
            f"{where}, line {begin}: unterminated '### BEGIN SOLUTION' "
            "(no '### END SOLUTION' after it)"
        )
    text = "\n".join(out)
    return text + "\n" if source.endswith("\n") and out else text


def _next_exercise(cells, index):
    for cell in cells[index + 1:]:
        ex = cell_exercise(cell)
        if ex is not None:
            return ex
    return None


def _source_lines(text):
    return text.splitlines(keepends=True)


#: The first code cell of every solution, and so of every lab (tests/test_course_pages.py checks
#: it): on Colab or Binder, where rnnkit is missing, it installs rnnkit and labkit from the
#: course's repository; where they are importable (a student's machine after ``python3 dev.py
#: lab``, nbval, the grader's sandbox) it does nothing.
INSTALL_CELL = """\
# Colab and Binder start without rnnkit: install it (with labkit) from the course's repository.
# Where it is already installed (your machine, after `python3 dev.py lab`) this cell does nothing.
import importlib.util
import subprocess
import sys

if importlib.util.find_spec("rnnkit") is None or importlib.util.find_spec("labkit") is None:
    subprocess.check_call([sys.executable, "-m", "pip", "install", "-q",
                           "rnnkit @ git+https://github.com/rnnkit/rnn-course@main"])
"""


def generate_lab(nb, name="notebook"):
    """Return the student lab (a notebook dict) made from the solution notebook ``nb``.

    Args:
        nb: a notebook as returned by :func:`labkit.read_notebook`.
        name: the notebook's name, used in error messages.
    Raises:
        MarkerError: on a bad marker, markers in a check cell, a solution with
            no check cell after it, or an exercise worth no points.
    """
    cells, lab_cells, points = nb["cells"], [], {}
    for i, cell in enumerate(cells):
        kind, source = cell.get("cell_type"), cell.get("source", "")
        where = f"{name}: cell {i + 1} ({kind})"
        exercise = cell_exercise(cell)
        if is_hidden(cell):
            if exercise is None:
                raise MarkerError(f"{where}: a cell tagged 'hidden' must also carry its "
                                  "'exercise-<id>' tag")
            continue
        if exercise is not None:
            points[exercise] = points.get(exercise, 0) + cell_points(cell)
            if _MENTION.search(source):
                raise MarkerError(f"{where}: a check cell (exercise-{exercise}) holds "
                                  "solution markers; check cells are copied as they are")
        if kind == "code":
            target = _next_exercise(cells, i)

            def stub(indent, before, target=target, where=where):
                if target is None:
                    raise MarkerError(f"{where}: solution region with no check cell after it "
                                      "(tag a later code cell 'exercise-<id>')")
                fn = _enclosing_def(before, indent)
                msg = f"exercise {target} not implemented yet" + (f": {fn}" if fn else "")
                return [f"{indent}# YOUR CODE HERE", f'{indent}raise NotImplementedError("{msg}")']

            new = _strip_regions(source, where, stub)
        elif kind == "markdown":
            new = _strip_regions(source, where, lambda indent, _: [f"{indent}YOUR ANSWER HERE"])
        else:
            new = source
        cid = cell.get("id")
        out = {"cell_type": kind, "id": cid if isinstance(cid, str) and _ID.match(cid)
               else f"cell-{i + 1}", "metadata": {}, "source": _source_lines(new)}
        tags = cell.get("metadata", {}).get("tags")
        if tags:
            out["metadata"]["tags"] = list(tags)
        if kind == "code":
            out["execution_count"] = None
            out["outputs"] = []
        elif cell.get("attachments"):
            out["attachments"] = cell["attachments"]
        lab_cells.append(out)
    for exercise, total in points.items():
        if total <= 0:
            raise MarkerError(f"{name}: exercise {exercise} has no points "
                              "(tag one of its check cells 'points-<n>')")
    return {"cells": lab_cells, "metadata": NOTEBOOK_METADATA, "nbformat": 4,
            "nbformat_minor": 5}


def render(nb):
    """Serialise a notebook dict the way nbformat does (stable key order, one-space indent)."""
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def lab_path_for(solution, out_dir=None):
    """``out_dir/X.ipynb`` for the solution ``.../X.ipynb``.

    Without ``out_dir``: ``labs/`` beside the solution's folder (``solutions/X.ipynb`` ->
    ``labs/X.ipynb``), found from the solution's own path.
    """
    solution = Path(solution)
    base = Path(out_dir) if out_dir is not None else solution.resolve().parent.parent / "labs"
    return base / solution.name


def _default_manifest(lab):
    """``labkit/released.json`` beside the labs folder, if that is this labkit; else None."""
    here = Path(lab).resolve().parent.parent / "labkit"
    return MANIFEST if here.resolve() == MANIFEST.parent.resolve() else None


def main(argv=None):
    """Run the command line; return the exit status (0 done, 1 ``--check`` found stale labs,
    2 an error: no notebooks, or one that cannot be read or has bad markers)."""
    parser = argparse.ArgumentParser(
        prog="python -m labkit.generate",
        description="Write student labs from solution notebooks: each answer between "
                    "'### BEGIN SOLUTION' and '### END SOLUTION' becomes a stub.",
        epilog="The defaults follow the course's layout, relative to the current directory: "
               "solutions/lab*.ipynb in, labs/ out. Exit status: 0 done, 1 --check found a "
               "stale or missing lab, 2 error.")
    parser.add_argument("paths", nargs="*", metavar="SOLUTION",
                        help="solution notebooks (default: solutions/lab*.ipynb under the "
                             "current directory)")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if any lab differs from what would be written")
    parser.add_argument("--manifest", metavar="JSON",
                        help="the grader's manifest of released labs to update (default: "
                             "labkit/released.json beside the labs folder, if labkit is there)")
    parser.add_argument("--no-manifest", action="store_true",
                        help="leave the manifest alone")
    parser.add_argument("--out-dir", metavar="DIR",
                        help="folder for the labs (default: labs/ beside each solution's folder, "
                             "so solutions/X.ipynb -> labs/X.ipynb)")
    args = parser.parse_args(argv)
    paths = [Path(p) for p in args.paths] or sorted(Path("solutions").glob("lab*.ipynb"))
    if not paths:
        print(f"no solution notebooks given and no solutions/lab*.ipynb in {Path.cwd()}: "
              "name the notebooks, or run from the folder that holds solutions/", file=sys.stderr)
        return 2
    again = "" if args.out_dir is None else f" --out-dir {args.out_dir}"
    stale, entries = [], {}
    for path in paths:
        try:
            solution = read_notebook(path)
            text = render(generate_lab(solution, name=str(path)))
        except (MarkerError, ValueError, OSError) as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        target = lab_path_for(path, args.out_dir)
        entries[target.name] = lab_entry(text, solution)
        if not entries[target.name]["forbid"]:
            print(f"note: {path} states no reference policy (metadata.labkit.forbid): when "
                  "it is graded, every rnnkit function is available to the student's code")
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if current == text:
            continue
        if args.check:
            stale.append(target)
            state = "missing" if current is None else "out of date"
            print(f"{target}: {state}; regenerate with python -m labkit.generate {path}{again}")
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            print(f"wrote {target}")
    manifest = Path(args.manifest) if args.manifest else _default_manifest(target)
    if entries and manifest is not None and not args.no_manifest:
        try:
            current = load_manifest(manifest)["labs"] if manifest.exists() else {}
        except ValueError:
            current = {}
        if any(current.get(k) != json.loads(json.dumps(v)) for k, v in entries.items()):
            if args.check:
                stale.append(manifest)
                print(f"{manifest}: out of date; regenerate with python -m labkit.generate")
            else:
                write_manifest(entries, manifest)
                print(f"wrote {manifest}")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
