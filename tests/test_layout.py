"""The package layout: no import cycle anywhere, the torch path mirrors the NumPy names, and the
README's map names only what is there."""

import ast
import re
from pathlib import Path

import rnnkit

ROOT = Path(rnnkit.__file__).resolve().parents[1]
PACKAGES = ("rnnkit", "labkit")


def _module_name(path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _import_graph():
    """Module -> the project modules it imports explicitly (at any depth of its code)."""
    files = {_module_name(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}
    graph = {}
    for name, path in files.items():
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                # `from pkg import sub` imports the submodule when there is one
                subs = {f"{node.module}.{a.name}" for a in node.names}
                targets |= {node.module} | (subs & files.keys())
        graph[name] = {t for t in targets if t in files and t != name}
    return graph


def _cycle(graph):
    """One import cycle as a list of modules, or None (depth-first search)."""
    state, stack = {}, []

    def visit(m):
        state[m] = "open"
        stack.append(m)
        for n in sorted(graph[m]):
            if name_is_parent(n, m):  # a package's own __init__ runs first anyway
                continue
            if state.get(n) == "open":
                return stack[stack.index(n):] + [n]
            if n not in state and (found := visit(n)):
                return found
        state[m] = "done"
        stack.pop()
        return None

    for m in sorted(graph):
        if m not in state and (found := visit(m)):
            return found
    return None


def name_is_parent(pkg, mod):
    return mod.startswith(pkg + ".")


def test_the_graph_sees_known_edges():  # the control: the probe finds real imports
    graph = _import_graph()
    assert "rnnkit.torch.layout" in graph["rnnkit.torch.cells.lstm"]
    assert "rnnkit.cells.leaky" in graph["rnnkit.models.esn"]
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_no_import_cycle():
    assert _cycle(_import_graph()) is None


def test_layout_converter_imports_nothing_else_from_the_torch_path():
    deps = _import_graph()["rnnkit.torch.layout"]
    assert not [d for d in deps if d.startswith("rnnkit.torch")], deps


def test_rnnkit_never_imports_labkit_except_the_command_shims():
    for name, deps in _import_graph().items():
        if name.startswith("rnnkit") and not name.startswith("rnnkit.labs"):
            assert not [d for d in deps if d.startswith("labkit")], name


def test_torch_path_mirrors_the_numpy_names():
    """Every NumPy cell has a torch twin of the same name, and the torch path has no cell of
    its own; models and tasks may live on one path only (a model trained only with autograd)."""
    for group in ("cells", "models", "tasks"):
        assert (ROOT / "rnnkit" / "torch" / group / "__init__.py").is_file(), group
    cells = {p.stem for p in (ROOT / "rnnkit" / "cells").glob("*.py")} - {"__init__"}
    torch_cells = {p.stem for p in (ROOT / "rnnkit" / "torch" / "cells").glob("*.py")}
    assert torch_cells - {"__init__", "_base"} == cells


def test_readme_map_names_only_what_is_there():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Where things are", 1)[1].split("```", 2)[1]
    for path in re.findall(r"^\s*([\w/]+/)\s", block, flags=re.M):
        assert (ROOT / path.strip()).is_dir() or (ROOT / "rnnkit" / path).is_dir(), path
    for name in re.findall(r"\b([a-z_]+\.py)\b", block):
        assert list(ROOT.rglob(name)), name
