"""The released labs as shipped with the grader: ``labkit/released.json``.

The grader never takes check cells, points or the lab's given code from the submission, from a
``labs/`` folder or from git: it takes them from this manifest, which ``python -m
labkit.generate`` writes next to the labs it generates and a test compares with ``labs/``. For
each lab (keyed by its file name) it holds:

- ``sha256``: the checksum of the released lab's bytes (``labs/<name>``), as nbgrader keeps
  checksums of its cells; ``notebook``: that lab itself (check cells, given code, stubs);
- ``exercises``: exercise id -> points, from the visible check cells;
- ``hidden``: the hidden check cells (tagged ``hidden`` in the solution, stripped from the lab
  by the generator), which teachers' grading runs and a student's self-check does not;
- ``forbid``: exercise id -> rnnkit functions or classes (``module:name``, or a whole module)
  that are the reference answer of that exercise. When a lab is graded they are stubs in the
  student's process (:func:`build_site`): calling one raises an error that names the exercise;
- ``allow``: exercise id -> entries of ``forbid`` that this exercise may use after all (Lab 5's
  training exercise uses rnnkit's torch LSTM, the answer to its step exercises). The grader
  then runs the student's code once per distinct allowance: the checks of each exercise run
  against a process in which exactly its forbidden entries are stubs;
- ``depends``: exercise id -> the earlier exercises whose functions its solution calls, so a
  failure caused by an earlier exercise says so.

The policy lives in the solution notebook's metadata (``metadata.labkit.forbid`` and
``allow``) and each lab states it in words.
"""

import ast
import hashlib
import json
import shutil
from pathlib import Path

from labkit import cell_exercise, cell_points, cell_tags

__all__ = ["MANIFEST", "HIDDEN_TAG", "lab_entry", "render_lab", "policy_groups",
           "write_manifest", "load_manifest", "stub_names", "given_cell", "build_site"]

MANIFEST = Path(__file__).with_name("released.json")
HIDDEN_TAG = "hidden"
_STUB = 'raise NotImplementedError("exercise '


def is_hidden(cell):
    return HIDDEN_TAG in cell_tags(cell)


def given_cell(cell):
    """A released code cell that is neither a check nor an exercise: trusted given code."""
    return (cell.get("cell_type") == "code" and cell_exercise(cell) is None
            and _STUB not in cell["source"])


def stub_names(cell):
    """Top-level names a released exercise cell defines (the student's answers)."""
    try:
        tree = ast.parse(cell["source"])
    except SyntaxError:
        return []
    names = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, ast.Assign):
            names += [t.id for t in node.targets if isinstance(t, ast.Name)]
    return names


def _depends(solution, exercises):
    """Exercise -> earlier exercises whose functions its solution's code calls."""
    owner, bodies, pending = {}, {}, []
    for cell in solution["cells"]:
        ex = cell_exercise(cell)
        if cell.get("cell_type") != "code":
            continue
        if ex is None:
            if "### BEGIN SOLUTION" in cell["source"]:
                pending.append(cell["source"])
            continue
        if pending:
            for src in pending:
                bodies.setdefault(ex, []).append(src)
                for name in stub_names({"source": src}):
                    owner.setdefault(name, ex)
            pending = []
    out = {}
    for ex, sources in bodies.items():
        used = set()
        for src in sources:
            try:
                used |= {n.id for n in ast.walk(ast.parse(src)) if isinstance(n, ast.Name)}
            except SyntaxError:
                continue
        deps = sorted({owner[n] for n in used if n in owner and owner[n] != ex},
                      key=list(exercises).index)
        if deps:
            out[ex] = deps
    return out


def lab_entry(lab_text, solution):
    """The manifest entry of one lab: its released text and its solution notebook (a dict)."""
    lab = json.loads(lab_text)
    for cell in lab["cells"]:
        src = cell.get("source", "")
        cell["source"] = "".join(src) if isinstance(src, list) else src
    exercises = {}
    for cell in lab["cells"]:
        ex = cell_exercise(cell)
        if ex is not None:
            exercises[ex] = exercises.get(ex, 0) + cell_points(cell)
    hidden = [{"exercise": cell_exercise(c), "source": c["source"]}
              for c in solution["cells"] if cell_exercise(c) and is_hidden(c)]
    labkit_meta = (solution.get("metadata") or {}).get("labkit", {})
    policy, allow = labkit_meta.get("forbid", {}), labkit_meta.get("allow", {})
    return {"sha256": hashlib.sha256(lab_text.encode("utf-8")).hexdigest(),
            "exercises": exercises, "hidden": hidden,
            "forbid": {ex: list(v) for ex, v in policy.items()},
            "allow": {ex: list(v) for ex, v in allow.items()},
            "depends": _depends(solution, exercises), "notebook": lab}


def render_lab(notebook):
    """The released lab's bytes (as text) from its manifest copy, as the generator wrote it."""
    lab = json.loads(json.dumps(notebook))
    for cell in lab["cells"]:
        cell["source"] = cell["source"].splitlines(True)
    return json.dumps(lab, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def write_manifest(entries, path=MANIFEST):
    """Write (or update) the manifest with ``entries`` (lab file name -> :func:`lab_entry`)."""
    path = Path(path)
    data = load_manifest(path) if path.exists() else {"labs": {}}
    data["labs"].update(entries)
    data["labs"] = dict(sorted(data["labs"].items()))
    text = json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    return text


def load_manifest(path=MANIFEST):
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    if not isinstance(data, dict) or not isinstance(data.get("labs"), dict):
        raise ValueError(f"{path}: not a labkit manifest (no 'labs' object)")
    return data


# ------------------------------------------------------------------ the student's packages

_STUB_SOURCE = '''

def _labkit_forbidden(qualname, exercises, original):
    message = (f"{qualname} is rnnkit's answer to exercise {exercises}: it is not available "
               "when the lab is graded; write your own (see the lab's introduction)")
    if isinstance(original, type):
        class Forbidden(original):
            def __init__(self, *args, **kwargs):
                raise RuntimeError(message)
        Forbidden.__name__ = Forbidden.__qualname__ = original.__name__
        return Forbidden

    def forbidden(*args, **kwargs):
        raise RuntimeError(message)
    forbidden.__name__ = original.__name__
    return forbidden
'''


def _public_names(source):
    tree = ast.parse(source)
    return [n.name for n in tree.body  # functions only: classes are subclassed elsewhere
            if isinstance(n, ast.FunctionDef) and not n.name.startswith("_")]


def policy_groups(entry):
    """``[(exercises, forbid)]``: one run of the student's code per distinct allowance."""
    forbid, allow = entry.get("forbid", {}), entry.get("allow", {})
    groups = {}
    for ex in entry["exercises"]:
        groups.setdefault(frozenset(allow.get(ex, [])), []).append(ex)
    return [(exs, {e: [x for x in entries if x not in allowed] for e, entries in forbid.items()})
            for allowed, exs in groups.items()]


def build_site(site, forbid, packages):
    """Fill the folder ``site`` with what the student's process may import.

    Args:
        site: an empty folder (it goes first on the student's ``sys.path``).
        forbid: exercise -> entries (``module`` or ``module:name``), from the manifest.
        packages: paths of the package folders to copy (rnnkit, labkit).
    """
    site = Path(site)
    for pkg in packages:
        shutil.copytree(pkg, site / Path(pkg).name,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "released.json"))
    shutil.copy(Path(__file__).with_name("sandbox.py"), site / "_labkit_sandbox.py")
    by_module = {}
    for ex, entries in forbid.items():
        for entry in entries:
            module, _, name = entry.partition(":")
            by_module.setdefault(module, {}).setdefault(name, []).append(ex)
    for module, names in by_module.items():
        parts = module.split(".")
        path = site.joinpath(*parts).with_suffix(".py")
        if not path.exists():
            path = site.joinpath(*parts, "__init__.py")
        if not path.exists():
            raise ValueError(f"forbid: no module {module} in the copied packages")
        source = path.read_text(encoding="utf-8")
        if "" in names:  # the whole module
            for n in _public_names(source):
                names.setdefault(n, []).extend(names[""])
            del names[""]
        lines = [_STUB_SOURCE]
        for name, exs in sorted(names.items()):
            label = ", ".join(sorted(set(exs)))
            lines.append(f"{name} = _labkit_forbidden({module + '.' + name!r}, {label!r}, "
                         f"{name})\n")
        path.write_text(source + "".join(lines), encoding="utf-8")
