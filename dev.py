#!/usr/bin/env python3
"""Set everything up, then build the book or run every test.

    python3 dev.py book   # create .venv, install, build the HTML book into _build/html
    python3 dev.py test   # create/reuse .venv, install, run every test (book build included)

    python3 dev.py book --student   # also: the student edition, exercise solutions hidden,
                                    # into _build/student/_build/html

Both commands need only Python >= 3.10 and git. The virtual environment lives in
``.venv`` next to this file and is reinstalled when requirements.txt or
pyproject.toml change.
"""

import hashlib
import os
import shutil
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"
BUILD = ROOT / "_build"


def run(step, cmd, results, env=None):
    """Run one step, print its duration, record whether it passed."""
    print(f"\n=== {step}\n$ {' '.join(map(str, cmd))}", flush=True)
    t0 = time.time()
    code = subprocess.call([str(c) for c in cmd], cwd=ROOT, env=env)
    results.append((step, code == 0, time.time() - t0))
    print(f"--- {step}: {'ok' if code == 0 else f'FAILED (exit {code})'} "
          f"in {time.time() - t0:.0f} s", flush=True)
    return code == 0


def ensure_env():
    """Create .venv if needed and install requirements + rnnkit (editable) when they changed."""
    if sys.version_info < (3, 10):  # noqa: UP036 (dev.py runs on the system Python)
        sys.exit(f"dev.py: Python >= 3.10 is needed, this is {sys.version.split()[0]}")
    if not PY.exists():
        print(f"creating the virtual environment {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    stamp = VENV / ".installed"
    digest = hashlib.sha256(
        (ROOT / "requirements.txt").read_bytes() + (ROOT / "pyproject.toml").read_bytes()
    ).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return
    subprocess.check_call([PY, "-m", "pip", "install", "-q", "-r", "requirements.txt"], cwd=ROOT)
    subprocess.check_call([PY, "-m", "pip", "install", "-q", "--no-deps", "-e", "."], cwd=ROOT)
    stamp.write_text(digest)


def build_book(results):
    """Clean build with every chapter executed; warnings are errors."""
    shutil.rmtree(BUILD, ignore_errors=True)
    return run("book: jupyter-book build (executes every chapter, -W)",
               [BIN / "jupyter-book", "build", ".", "--all", "-W", "--keep-going"], results)


def build_student_edition(results):
    """The same book with every exercise's solution left out (sphinx-exercise's hide_solutions)."""
    config = ROOT / "_build" / "_config_student.yml"
    config.parent.mkdir(exist_ok=True)
    # Paths in the config are relative to its own folder: make them absolute in the copy.
    code = ("import os, sys, yaml; c = yaml.safe_load(open('_config.yml'));"
            "c['title'] += ' (student edition)';"
            "ext = c['sphinx']['local_extensions'];"
            "c['sphinx']['local_extensions'] = {k: os.path.abspath(v) for k, v in ext.items()};"
            "c['bibtex_bibfiles'] = [os.path.abspath(b) for b in c['bibtex_bibfiles']];"
            "c['sphinx']['config']['html_favicon'] = os.path.abspath(c['sphinx']['config']"
            "['html_favicon']);"
            "c['sphinx']['config']['hide_solutions'] = True;"
            "yaml.safe_dump(c, open(sys.argv[1], 'w'))")
    subprocess.check_call([PY, "-c", code, config], cwd=ROOT)
    return run("student edition: jupyter-book build with exercise solutions hidden",
               [BIN / "jupyter-book", "build", ".", "--all", "-W", "--keep-going",
                "--config", config, "--path-output", BUILD / "student"], results)


def test(results):
    pytest = [PY, "-m", "pytest", "-p", "no:cacheprovider"]
    env = dict(os.environ, PYTHONHASHSEED="0", MPLBACKEND="Agg")
    run("lint: ruff", [BIN / "ruff", "check", "."], results)
    run("unit tests, gradient checks, torch parity, lab pipeline",
        pytest + ["-n", "2", "tests", "--ignore=tests/e2e"], results, env)
    run("notebooks: every chapter and lab solution through nbval",
        pytest + ["-n", "2", "--dist", "loadscope", "--nbval-lax", "--nbval-current-env",
                  "--nbval-cell-timeout", "300", "book", "solutions"], results, env)
    if build_book(results):
        run("book in a browser: every page, MathJax, images, links",
            pytest + ["tests/e2e"], results, env)


def main():
    what = sys.argv[1] if len(sys.argv) > 1 else ""
    student = sys.argv[2:] == ["--student"]
    if what not in ("book", "test") or sys.argv[2:] not in ([], ["--student"]) or (
            student and what != "book"):
        sys.exit(__doc__)
    t0 = time.time()
    ensure_env()
    results = []
    if what == "book":
        if build_book(results) and student:
            build_student_edition(results)
    else:
        test(results)
    print(f"\n=== summary ({time.time() - t0:.0f} s in all)")
    for step, ok, secs in results:
        print(f"{'ok    ' if ok else 'FAILED'} {secs:6.0f} s  {step}")
    if what == "book" and all(ok for _, ok, _ in results):
        print(f"\nThe book is in {BUILD / 'html'}; open {BUILD / 'html' / 'index.html'}")
    sys.exit(0 if all(ok for _, ok, _ in results) else 1)


if __name__ == "__main__":
    main()
