"""Let nbval collect the book's MyST-markdown notebooks.

nbval only collects ``.ipynb`` files. A chapter here is a ``.md`` file with a
jupytext header; we read it with jupytext and hand the notebook to nbval's
own file collector, so every code cell becomes one test item exactly as for
an ``.ipynb``. Markdown pages without a kernelspec (the preface, the glossary)
are not notebooks and are skipped.
"""

import jupytext
import nbformat
import pytest

try:
    from nbval.plugin import IPyNbFile
except ImportError:  # nbval not installed: nothing to collect
    IPyNbFile = None


def _is_notebook(path):
    if path.suffix != ".md":
        return False
    head = path.read_text(encoding="utf-8")[:2000]
    return head.startswith("---") and "kernelspec" in head and "jupytext" in head


class MystNotebookFile(IPyNbFile or pytest.File):
    """nbval's notebook file item, reading the notebook through jupytext."""

    def collect(self):
        real_read = nbformat.read

        def read_myst(path, as_version=4, **kwargs):
            return jupytext.read(path, as_version=as_version)

        nbformat.read = read_myst  # nbval calls nbformat.read(path, as_version=4)
        try:
            yield from super().collect()
        finally:
            nbformat.read = real_read


def pytest_collect_file(file_path, parent):
    opts = parent.config.option
    if IPyNbFile is None or not (opts.nbval or opts.nbval_lax):
        return None
    if _is_notebook(file_path):
        return MystNotebookFile.from_parent(parent, path=file_path)
    return None
