"""The course's own Sphinx pieces: lab pages, the student edition, author-year labels, layout.

- ``lab-launch`` directive: on a lab page, the Colab, Binder and download buttons of one lab
  notebook and its points table, read from the notebook's check-cell tags (``exercise-<id>``,
  ``points-<n>``) and section titles, so the page cannot drift from the lab.
- Student edition (``hide_solutions: true``, sphinx-exercise's switch): every ``{solution}`` block
  is cut from the source text as it is read (``source-read``), so no solution reaches the pages,
  the executed notebooks or the search index, and the ``_sources`` copies offered for download
  are rewritten the same way after the build.
- Bibliography labels in the author-year style of the in-text citations ("Elman, 1990").
- ``static/course.css``: a content width that fits a 100-character code line at 1400 px.
"""

import json
import re
from collections import Counter
from pathlib import Path

from course_student import strip_solutions
from docutils import nodes
from docutils.parsers.rst import Directive, directives
from docutils.statemachine import StringList
from pybtex.plugin import register_plugin
from pybtex.richtext import Text
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.labels import BaseLabelStyle
from sphinx import addnodes

STATIC = Path(__file__).resolve().parent / "static"
COLAB = "https://colab.research.google.com/github/{org}/{repo}/blob/{branch}/{path}"
BINDER = "https://mybinder.org/v2/gh/{org}/{repo}/{branch}?urlpath=lab/tree/{path}"


# --- author-year bibliography labels -------------------------------------------------------------

def _last_name(person):
    return Text.from_latex(" ".join(person.prelast_names + person.last_names)).render_as("text")


class AuthorYearLabels(BaseLabelStyle):
    """Labels "Elman, 1990", "Hochreiter and Schmidhuber, 1997", "Bengio et al., 1994"."""

    def format_labels(self, sorted_entries):
        labels = []
        for entry in sorted_entries:
            people = entry.persons.get("author") or entry.persons.get("editor") or []
            names = [_last_name(p) for p in people]
            if not names:
                who = entry.key
            elif len(names) == 1:
                who = names[0]
            elif len(names) == 2:
                who = f"{names[0]} and {names[1]}"
            else:
                who = f"{names[0]} et al."
            labels.append(f"{who}, {entry.fields.get('year', 'n.d.')}")
        # Two entries with one label ("Cho et al., 2014" twice) become 2014a and 2014b.
        counts, seen = Counter(labels), Counter()
        for label in labels:
            if counts[label] > 1:
                seen[label] += 1
                label += "abcdefghijklmnopqrstuvwxyz"[seen[label] - 1]
            yield label


class AuthorYearStyle(UnsrtStyle):
    """pybtex's unsrt formatting, sorted by author and year, with author-year labels."""

    default_label_style = "course_author_year"
    default_sorting_style = "author_year_title"


register_plugin("pybtex.style.labels", "course_author_year", AuthorYearLabels)
register_plugin("pybtex.style.formatting", "course_author_year", AuthorYearStyle)


# --- lab pages -----------------------------------------------------------------------------------

_TITLE = re.compile(r"^##\s+(?P<id>[0-9]+[a-z])\.\s+(?P<title>.+)$", re.MULTILINE)


def lab_exercises(notebook):
    """Return ``[(exercise id, title, points), ...]`` of a lab notebook, in notebook order."""
    nb = json.loads(Path(notebook).read_text(encoding="utf-8"))
    titles, points = {}, {}
    for cell in nb["cells"]:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if cell["cell_type"] == "markdown":
            for m in _TITLE.finditer(source):
                titles.setdefault(m["id"], m["title"].strip())
        tags = cell.get("metadata", {}).get("tags", [])
        ex = [t[len("exercise-"):] for t in tags if t.startswith("exercise-")]
        pts = [int(t[len("points-"):]) for t in tags if t.startswith("points-")]
        if ex and pts:
            points.setdefault(ex[0], pts[0])
    return [(ex, titles.get(ex, ""), pts) for ex, pts in points.items()]


class LabLaunch(Directive):
    """``:::{lab-launch} labs/lab01_rnn_forward.ipynb``: buttons and the points table of a lab."""

    required_arguments = 1
    option_spec = {"no-table": directives.flag}

    def run(self):
        env = self.state.document.settings.env
        path = self.arguments[0].lstrip("/")
        notebook = Path(env.srcdir) / path
        if not notebook.is_file():
            raise self.error(f"lab-launch: no notebook {path} under the book's root")
        env.note_dependency(str(notebook))
        opts = env.config.html_theme_options
        url = opts.get("repository_url", "").rstrip("/")
        branch = opts.get("repository_branch", "") or "main"
        m = re.match(r"https://github\.com/(?P<org>[^/]+)/(?P<repo>[^/]+)$", url)
        if not m:
            raise self.error(f"lab-launch: repository.url must be a GitHub repository, not {url!r}")
        where = dict(org=m["org"], repo=m["repo"], branch=branch, path=path)
        html = (
            '<div class="lab-launch">'
            f'<a class="lab-colab" href="{COLAB.format(**where)}">Open in Colab</a>'
            f'<a class="lab-binder" href="{BINDER.format(**where)}">Launch on Binder</a>'
            "</div>"
        )
        out = [nodes.raw("", html, format="html")]
        para = nodes.paragraph("", "Or download the notebook and open it in JupyterLab: ")
        para += addnodes.download_reference(
            "", "", nodes.literal("", Path(path).name), reftarget="/" + path,
            refdoc=env.docname, refdomain="", reftype="download", refexplicit=True)
        out.append(para)
        if "no-table" not in self.options:
            rows = lab_exercises(notebook)
            lines = ["| exercise | what you write | points |", "| --- | --- | ---: |"]
            lines += [f"| {ex} | {title} | {pts} |" for ex, title, pts in rows]
            lines.append(f"| **total** | | **{sum(p for _, _, p in rows)}** |")
            box = nodes.container(classes=["lab-points"])
            self.state.nested_parse(StringList(lines, source=path), self.content_offset, box)
            out.append(box)
        return out


# --- student edition -----------------------------------------------------------------------------

def _student(app):
    """True in the student edition: sphinx-exercise's ``hide_solutions`` is set."""
    return bool(getattr(app.config, "hide_solutions", False))


def _strip_source(app, docname, source):
    if _student(app):
        source[0] = strip_solutions(source[0])


def _strip_copied_sources(app, exception):
    if exception is not None or not _student(app) or app.builder.format != "html":
        return
    for copy in (Path(app.outdir) / "_sources").rglob("*"):
        if copy.suffix in (".md", ".txt") and copy.is_file():
            text = copy.read_text(encoding="utf-8")
            copy.write_text(strip_solutions(text), encoding="utf-8")


def _add_static(app):
    app.config.html_static_path.append(str(STATIC))


def setup(app):
    app.add_directive("lab-launch", LabLaunch)
    app.connect("builder-inited", _add_static)
    app.add_css_file("course.css")
    app.connect("source-read", _strip_source)
    app.connect("build-finished", _strip_copied_sources)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
