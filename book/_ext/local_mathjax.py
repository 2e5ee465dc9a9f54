"""Serve MathJax 3 from the built book itself, so equations typeset offline.

Jupyter Book loads MathJax from a CDN by default; on a machine without the
internet nothing is typeset. MathJax 3.2.2 ships in the PyPI package
``django-static-mathjax`` (Apache-2.0, a pinned requirement of this project):
after the HTML build we copy its ``es5`` bundle into ``_static/mathjax`` and
``mathjax_path`` in ``_config.yml`` points there.
"""

import importlib.util
import shutil
from pathlib import Path


def _bundle():
    spec = importlib.util.find_spec("mathjax")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "local_mathjax: the package django-static-mathjax is not installed; "
            "run `pip install -r requirements.txt`"
        )
    es5 = Path(list(spec.submodule_search_locations)[0]) / "static" / "mathjax" / "es5"
    if not (es5 / "tex-chtml.js").is_file():
        raise RuntimeError(f"local_mathjax: no tex-chtml.js under {es5}")
    return es5


def _copy(app, exception):
    if exception is None and app.builder.format == "html":
        shutil.copytree(_bundle(), Path(app.outdir) / "_static" / "mathjax", dirs_exist_ok=True)


def setup(app):
    _bundle()  # fail early, before a long build, if the package is missing
    app.connect("build-finished", _copy)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
