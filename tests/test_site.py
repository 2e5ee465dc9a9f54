"""The built book, checked file by file (``python3 dev.py test`` runs this after both builds).

- Every code cell of every chapter, as the book build executed it: run, no error (a cell tagged
  ``raises-exception`` must raise), nothing on stderr. The build executes each chapter once; this
  is the per-cell report nbval gave when it executed every chapter a second time.
- The student edition: no solution's text anywhere in its built tree (pages, ``_sources``,
  downloads, executed notebooks, search index), while the same search finds every solution in the
  full edition.
- No page or file of the site carries a path of the machine that built it.

The build folder is ``_build`` (``BOOK_BUILD`` overrides it: a ``jupyter-book build
--path-output X`` writes ``X/_build``). A test whose build is missing is skipped with the reason.
"""

import json
import os
import re
import sys
from functools import cache
from pathlib import Path

import jupytext
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BUILD = Path(os.environ.get("BOOK_BUILD", ROOT / "_build"))
FULL = BUILD / "html"
EXECUTED = BUILD / "jupyter_execute" / "book"
STUDENT = BUILD / "student" / "_build"
sys.path.insert(0, str(ROOT / "book" / "_ext"))
import course_student  # noqa: E402  (book/_ext is not a package)

TOC = yaml.safe_load((ROOT / "_toc.yml").read_text())
PAGES = [ROOT / f"{f}.md" for f in re.findall(r"\bfile: (\S+)", (ROOT / "_toc.yml").read_text())]
PAGES.append(ROOT / f"{TOC['root']}.md")
CHAPTERS = sorted(p for p in PAGES if re.match(r"ch\d\d_", p.name))


def _cell_ids():
    return [(ch, i) for ch in CHAPTERS for i, c in enumerate(jupytext.read(ch).cells)
            if c.cell_type == "code"]


@cache
def _executed(stem):
    path = EXECUTED / f"{stem}.ipynb"
    if not path.exists():
        pytest.skip(f"no executed notebook {path}: build the book first (python3 dev.py book)")
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return [c for c in cells if c["cell_type"] == "code"]


def _source(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


@pytest.mark.parametrize("chapter,index", _cell_ids(),
                         ids=lambda v: v.stem if isinstance(v, Path) else f"cell{v:03d}")
def test_chapter_cell_ran_cleanly_in_the_build(chapter, index):
    source_cells = jupytext.read(chapter).cells
    code_index = sum(1 for c in source_cells[:index] if c.cell_type == "code")
    executed = _executed(chapter.stem)
    n_code = sum(1 for c in source_cells if c.cell_type == "code")
    assert len(executed) == n_code, (
        f"{chapter.name}: {n_code} code cells in the source, {len(executed)} in the build's "
        "executed notebook: the build is stale")
    cell = executed[code_index]
    src = source_cells[index].source
    assert _source(cell).strip() == src.strip(), f"{chapter.name}: the build is stale"
    tags = cell.get("metadata", {}).get("tags", [])
    head = src.strip().splitlines()[0][:80] if src.strip() else "(empty)"
    if "skip-execution" in tags:
        return
    assert cell.get("execution_count") is not None, (
        f"{chapter.name}, cell {code_index + 1} ({head}): not executed (an earlier cell failed)")
    errors = [o for o in cell.get("outputs", []) if o["output_type"] == "error"]
    if "raises-exception" in tags:
        assert errors, f"{chapter.name}, cell {code_index + 1} ({head}): tagged raises-exception " \
                       "but raised nothing"
    else:
        assert not errors, (f"{chapter.name}, cell {code_index + 1} ({head}): "
                            f"{errors[0]['ename']}: {errors[0]['evalue']}")
    stderr = [o for o in cell.get("outputs", [])
              if o["output_type"] == "stream" and o.get("name") == "stderr"]
    assert not stderr, (f"{chapter.name}, cell {code_index + 1} ({head}) wrote to stderr: "
                        f"{''.join(stderr[0]['text'])[:300]}")


# --- the student edition -------------------------------------------------------------------------

_PHRASE = re.compile(r"[A-Za-z][A-Za-z ,;]*[A-Za-z]")


def solution_phrases(chapter):
    """Distinctive runs of words from each solution's prose, one list per solution.

    Runs of at least six plain words within one source line: they reach every output verbatim
    (HTML, notebook JSON, the copied source), whatever markup surrounds them.
    """
    out = []
    for block in course_student.solution_blocks(chapter.read_text(encoding="utf-8")):
        phrases, in_code = [], False
        for line in block.splitlines():
            if line.lstrip().startswith(("```", "~~~")):
                in_code = not in_code
                continue
            if in_code:
                continue
            for m in _PHRASE.finditer(line):
                if len(m.group().split()) >= 6:
                    phrases.append(" ".join(m.group().split()))
        out.append(phrases)
    return out


@cache
def _tree_text(root):
    """Every file under root, as whitespace-normalised text, keyed by its relative path."""
    texts = {}
    for path in Path(root).rglob("*"):
        if path.is_file() and path.suffix not in (".png", ".jpg", ".woff", ".woff2", ".ttf"):
            text = path.read_bytes().decode("utf-8", "replace")
            texts[str(path.relative_to(root))] = " ".join(text.split())
    return texts


def _search_terms(html):
    """The stemmed words of a built site's search index."""
    index = (Path(html) / "searchindex.js").read_text(encoding="utf-8")
    data = json.loads(index[index.index("(") + 1:index.rindex(")")])
    return set(data["terms"]) | set(data.get("titleterms", {}))


def _stem(word):
    from sphinx.search.en import SearchEnglish

    return SearchEnglish({}).stem(word.lower())


@pytest.fixture(scope="module")
def student_tree():
    if not (STUDENT / "html" / "index.html").exists():
        pytest.skip(f"no student edition at {STUDENT} (python3 dev.py book --student builds it)")
    return _tree_text(STUDENT)


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_student_edition_contains_no_solution_text(chapter, student_tree):
    phrases = solution_phrases(chapter)
    assert all(phrases), f"{chapter.name}: a solution with no prose to search for: {phrases}"
    found = [(p, where) for ps in phrases for p in ps
             for where, text in student_tree.items() if p in text]
    assert not found, (f"{chapter.name}: solution text in the student edition: "
                       f"{found[:3]}{' ...' if len(found) > 3 else ''}")


def _outputs_text(executed):
    """The text of every output of the executed notebooks under a folder."""
    out = []
    for path in Path(executed).rglob("*.ipynb"):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            for o in cell.get("outputs", []):
                out.append(json.dumps(o.get("text", "")) + json.dumps(o.get("data", {})))
    return " ".join(out)


def test_student_edition_search_index_has_no_solution_words(student_tree):
    """Words that only the solutions use are in the full edition's index and not the student's."""
    pytest.importorskip("sphinx")
    sources = [p.read_text(encoding="utf-8") for p in PAGES]
    rest = " ".join(course_student.strip_solutions(s) for s in sources) + " ".join(
        p.read_text(encoding="utf-8") for p in [ROOT / "book" / "references.bib",
                                                 *sorted((ROOT / "labs").glob("*.ipynb"))])
    rest += _outputs_text(STUDENT / "jupyter_execute")
    outside = {_stem(w) for w in re.findall(r"[a-z]+", rest.lower())}
    inside = {w for s in sources for b in course_student.solution_blocks(s)
              for w in re.findall(r"\b[a-z]{6,}\b", b.lower())}
    only = {_stem(w) for w in inside} - outside
    assert only, "no word is unique to the solutions: nothing to look for"
    leaked = sorted(only & _search_terms(STUDENT / "html"))
    assert not leaked, f"the student edition's search index has solution words: {leaked[:10]}"
    if (FULL / "searchindex.js").exists():  # the control: the full edition indexes them
        assert only & _search_terms(FULL), "the full edition's index lacks the solution words"


def test_full_edition_contains_every_solution():
    """The control of the search above: the same phrases are found in the full edition."""
    if not (FULL / "index.html").exists():
        pytest.skip(f"no full edition at {FULL} (python3 dev.py book builds it)")
    tree = _tree_text(FULL)
    for chapter in CHAPTERS:
        for phrases in solution_phrases(chapter):
            assert any(p in text for p in phrases for text in tree.values()), (
                f"{chapter.name}: a solution's text is not in the full edition: {phrases[:2]}")


def test_every_page_of_the_toc_was_built():
    """(Moved here from the browser test, which now needs Chromium for every test it has.)"""
    if not (FULL / "index.html").exists():
        pytest.skip(f"no full edition at {FULL} (python3 dev.py book builds it)")
    missing = [p.relative_to(ROOT).with_suffix(".html") for p in PAGES
               if not (FULL / p.relative_to(ROOT).with_suffix(".html")).exists()]
    assert not missing, f"pages in _toc.yml with no HTML: {[str(m) for m in missing]}"


# --- no build-machine paths ----------------------------------------------------------------------

def _machine_paths():
    home = str(Path.home())
    return [str(ROOT), "/site-packages/", "/dist-packages/", "/tmp/"] + (
        [home + "/"] if home not in ("/", "") else [])


@pytest.mark.parametrize("edition", ["full", "student"])
def test_no_page_carries_a_path_of_the_build_machine(edition):
    html = FULL if edition == "full" else STUDENT / "html"
    if not (html / "index.html").exists():
        pytest.skip(f"no {edition} edition built at {html}")
    leaks = [(where, needle) for where, text in _tree_text(html).items()
             if where.endswith((".html", ".js", ".txt", ".md", ".ipynb"))
             and not where.startswith("_static/")
             for needle in _machine_paths() if needle in text]
    assert not leaks, f"paths of the build machine in the {edition} site: {leaks[:5]}"
