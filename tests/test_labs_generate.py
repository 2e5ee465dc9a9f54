"""The lab generator: committed labs match their solutions, stubs replace answers, bad markers fail.

Everything here runs in-process on notebook JSON; nothing starts a kernel.
"""

import copy
import json
import re
import shutil
from pathlib import Path

import pytest

from labkit import cell_exercise, read_notebook
from labkit.generate import NOTEBOOK_METADATA, MarkerError, generate_lab, main, render
from labkit.release import MANIFEST, is_hidden, lab_entry, load_manifest

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((ROOT / "solutions").glob("lab*.ipynb"))
TINY = ROOT / "tests" / "fixtures" / "labs" / "solutions" / "lab00_tiny.ipynb"
MARKER = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$")


def test_labs_one_and_two_exist():
    names = {p.name for p in SOLUTIONS}
    assert {"lab01_rnn_forward.ipynb", "lab02_bptt.ipynb"} <= names


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.stem)
def test_committed_lab_is_what_the_generator_makes(solution):
    lab = ROOT / "labs" / solution.name
    assert lab.exists(), f"{lab} is missing: run python -m labkit.generate"
    expected = render(generate_lab(read_notebook(solution), name=str(solution)))
    assert lab.read_text(encoding="utf-8") == expected, (
        f"{lab} has drifted from {solution}: run python -m labkit.generate")


def test_check_mode_passes_on_the_repository(capsys):
    assert main(["--check", *map(str, SOLUTIONS)]) == 0, capsys.readouterr().out


def _split(source):
    """(lines inside solution regions, lines outside them), each stripped, blanks dropped."""
    inside, outside, open_region = [], [], False
    for line in source.splitlines():
        if MARKER.match(line):
            open_region = line.strip().startswith("### BEGIN")
            continue
        if line.strip():
            (inside if open_region else outside).append(line.strip())
    return inside, outside


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.stem)
def test_no_solution_text_survives_into_the_lab(solution):
    sol, lab = read_notebook(solution), read_notebook(ROOT / "labs" / solution.name)
    inside, outside = [], []
    for cell in sol["cells"]:
        i, o = _split(cell["source"])
        inside += i
        outside += o
    assert inside, "the solution has no marked regions"
    lab_lines = [ln.strip() for c in lab["cells"] for ln in c["source"].splitlines()]
    assert not any("SOLUTION" in ln for ln in lab_lines)
    # The lab keeps every line outside the regions and adds stubs: a region line may appear in
    # the lab only as often as it appears outside the regions of the solution.
    leaked = [ln for ln in set(inside) if lab_lines.count(ln) > outside.count(ln)]
    assert not leaked, f"solution lines in the lab: {leaked}"


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.stem)
def test_lab_keeps_check_cells_and_clears_outputs(solution):
    sol, lab = read_notebook(solution), read_notebook(ROOT / "labs" / solution.name)
    sol["cells"] = [c for c in sol["cells"] if not is_hidden(c)]  # tested below
    assert len(sol["cells"]) == len(lab["cells"])
    for s, l in zip(sol["cells"], lab["cells"], strict=True):
        assert l["cell_type"] == s["cell_type"] and l["id"] == s["id"]
        if "exercise-" in " ".join(s.get("metadata", {}).get("tags", [])):
            assert l["source"] == s["source"] and l["metadata"] == s["metadata"]
        if l["cell_type"] == "code":
            assert l["outputs"] == [] and l["execution_count"] is None
    assert lab["metadata"] == NOTEBOOK_METADATA


def test_stub_keeps_indentation_signature_and_docstring():
    lab = generate_lab(read_notebook(TINY), name="tiny")
    double = "".join(lab["cells"][2]["source"])
    assert double == (
        "def double(x):\n"
        '    """Return 2 x."""\n'
        "    # YOUR CODE HERE\n"
        '    raise NotImplementedError("exercise a not implemented yet: double")'
    )
    answer = "".join(lab["cells"][-1]["source"])
    assert "YOUR ANSWER HERE" in answer and "changes sign" not in answer


def test_nested_function_and_top_level_regions():
    nb = read_notebook(TINY)
    nb["cells"][2]["source"] = (
        "def outer(x):\n    def inner(y):\n        ### BEGIN SOLUTION\n        return y\n"
        "        ### END SOLUTION\n    return inner(x)\n"
        "### BEGIN SOLUTION\nz = 1\n### END SOLUTION\n"
    )
    src = "".join(generate_lab(nb)["cells"][2]["source"])
    assert '        raise NotImplementedError("exercise a not implemented yet: inner")\n' in src
    assert '\nraise NotImplementedError("exercise a not implemented yet")\n' in src
    assert "return y" not in src and "z = 1" not in src and "    return inner(x)\n" in src


def test_output_is_deterministic_and_drops_outputs_and_metadata():
    nb = read_notebook(TINY)
    dirty = copy.deepcopy(nb)
    dirty["metadata"] = {"kernelspec": {"name": "other"}, "widgets": {"state": 1}}
    for i, cell in enumerate(dirty["cells"]):
        cell["metadata"]["collapsed"] = True
        cell["metadata"]["execution"] = {"iopub.status.busy": f"2024-01-0{i % 9 + 1}"}
        if cell["cell_type"] == "code":
            cell["execution_count"] = i
            cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "secret\n"}]
    clean = render(generate_lab(nb))
    assert render(generate_lab(dirty)) == clean
    assert render(generate_lab(read_notebook(TINY))) == clean
    assert "secret" not in clean and "collapsed" not in clean and "widgets" not in clean


BAD = {
    "unterminated": ("def f():\n    ### BEGIN SOLUTION\n    return 1\n", "unterminated", 2),
    "nested": ("def f():\n    ### BEGIN SOLUTION\n    ### BEGIN SOLUTION\n    return 1\n"
               "    ### END SOLUTION\n", "nested", 3),
    "stray end": ("def f():\n    return 1\n    ### END SOLUTION\n", "stray", 3),
    "misspelt": ("def f():\n    ## BEGIN SOLUTION\n    return 1\n", "malformed", 2),
}


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_refuses_bad_markers(case, tmp_path, capsys):
    source, word, line = BAD[case]
    nb = read_notebook(TINY)
    nb["cells"][4]["source"] = source
    with pytest.raises(MarkerError, match=rf"mylab: cell 5 \(code\), line {line}: .*{word}"):
        generate_lab(nb, name="mylab")
    # The command line reports it and writes nothing.
    path = tmp_path / "solutions" / "lab00_tiny.ipynb"
    path.parent.mkdir()
    path.write_text(render(nb), encoding="utf-8")
    assert main([str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "cell 5" in err and word in err
    assert not (tmp_path / "labs").exists()


def test_refuses_markers_in_check_cells_and_orphan_regions():
    nb = read_notebook(TINY)
    nb["cells"][3]["source"] += "\n### BEGIN SOLUTION\n### END SOLUTION\n"
    with pytest.raises(MarkerError, match="check cell"):
        generate_lab(nb)
    nb = read_notebook(TINY)
    nb["cells"] = nb["cells"][:7] + [nb["cells"][4]]  # a region after the last check cell
    with pytest.raises(MarkerError, match="no check cell after it"):
        generate_lab(nb)
    nb = read_notebook(TINY)
    nb["cells"][3]["metadata"]["tags"] = ["exercise-a"]  # no points anywhere for exercise a
    with pytest.raises(MarkerError, match="exercise a has no points"):
        generate_lab(nb)


def test_check_detects_drift(tmp_path, capsys):
    sol = tmp_path / "solutions" / TINY.name
    sol.parent.mkdir()
    shutil.copy(TINY, sol)
    lab = tmp_path / "labs" / TINY.name
    assert main(["--check", str(sol)]) == 1  # missing
    assert main([str(sol)]) == 0 and lab.exists()
    assert main(["--check", str(sol)]) == 0
    written = lab.read_bytes()
    nb = json.loads(sol.read_text(encoding="utf-8"))
    nb["cells"][5]["source"][-1] = nb["cells"][5]["source"][-1].replace("4.0", "4.5")
    sol.write_text(json.dumps(nb), encoding="utf-8")
    capsys.readouterr()
    assert main(["--check", str(sol)]) == 1
    assert "out of date" in capsys.readouterr().out
    assert lab.read_bytes() == written  # --check writes nothing
    assert main([str(sol)]) == 0 and main(["--check", str(sol)]) == 0


def test_paths_default_to_solutions_under_the_current_directory(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main([]) == 2  # nothing given, nothing here: an error, not a look elsewhere
    err = capsys.readouterr().err
    assert "no solutions/lab*.ipynb in" in err and str(tmp_path) in err
    (tmp_path / "solutions").mkdir()
    shutil.copy(TINY, tmp_path / "solutions" / TINY.name)
    assert main([]) == 0
    assert (tmp_path / "labs" / TINY.name).read_text(encoding="utf-8") == render(
        generate_lab(read_notebook(TINY)))
    assert main(["--check"]) == 0


def test_out_dir_takes_the_labs_anywhere(tmp_path, capsys):
    out = tmp_path / "release"
    assert main([str(TINY), "--out-dir", str(out)]) == 0
    assert (out / TINY.name).exists() and not (tmp_path / "labs").exists()
    assert main(["--check", str(TINY), "--out-dir", str(out)]) == 0
    (out / TINY.name).unlink()
    capsys.readouterr()
    assert main(["--check", str(TINY), "--out-dir", str(out)]) == 1
    assert f"missing; regenerate with python -m labkit.generate {TINY} --out-dir {out}" in (
        capsys.readouterr().out)


def test_help_documents_the_defaults(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "python -m labkit.generate" in text
    assert "solutions/lab*.ipynb under the current directory" in text
    assert "labs/ beside each solution's folder" in text


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.stem)
def test_hidden_checks_are_left_out_of_the_lab_and_shipped_in_the_manifest(solution):
    sol = read_notebook(solution)
    lab_path = ROOT / "labs" / solution.name
    lab, text = read_notebook(lab_path), lab_path.read_text(encoding="utf-8")
    hidden = [c for c in sol["cells"] if is_hidden(c)]
    assert not [c for c in lab["cells"] if is_hidden(c)]
    assert len(lab["cells"]) == len(sol["cells"]) - len(hidden)
    for cell in hidden:  # not even a line of a hidden check reaches the student
        assert cell["source"].strip() not in text
    entry = load_manifest(MANIFEST)["labs"][solution.name]
    assert entry["sha256"] == lab_entry(text, sol)["sha256"]
    assert [(h["exercise"], h["source"]) for h in entry["hidden"]] == [
        (cell_exercise(c), c["source"]) for c in hidden]
    assert {h["exercise"] for h in entry["hidden"]} <= set(entry["exercises"])


def test_a_hidden_cell_must_name_its_exercise():
    nb = read_notebook(TINY)
    code = next(c for c in nb["cells"] if c["cell_type"] == "code")
    nb["cells"].append({**copy.deepcopy(code), "metadata": {"tags": ["hidden"]}})
    with pytest.raises(MarkerError, match="'hidden' must also carry its 'exercise-<id>' tag"):
        generate_lab(nb)


def test_check_mode_reports_a_stale_manifest(tmp_path, capsys):
    manifest = tmp_path / "released.json"
    assert main([str(TINY), "--out-dir", str(tmp_path), "--manifest", str(manifest)]) == 0
    assert main([str(TINY), "--out-dir", str(tmp_path), "--manifest", str(manifest),
                 "--check"]) == 0
    data = json.loads(manifest.read_text(encoding="utf-8"))
    data["labs"]["lab00_tiny.ipynb"]["sha256"] = "0" * 64  # a manifest edited by hand
    manifest.write_text(json.dumps(data), encoding="utf-8")
    capsys.readouterr()
    assert main([str(TINY), "--out-dir", str(tmp_path), "--manifest", str(manifest),
                 "--check"]) == 1
    assert "out of date" in capsys.readouterr().out
