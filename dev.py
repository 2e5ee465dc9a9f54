#!/usr/bin/env python3
"""Set everything up, then build the book, run every test, or open the labs.

    python3 dev.py book   # create .venv, install, build the HTML book into _build/html
    python3 dev.py test   # create/reuse .venv, install, run every test (book build included)
    python3 dev.py lab    # create/reuse .venv, install, open the labs in JupyterLab

    python3 dev.py book --student   # also: the student edition, exercise solutions cut out,
                                    # into _build/student/_build/html

The summary marks each step ok, FAILED, or SKIPPED (with pytest's reason) when every test of
the step was skipped.

All three need only Python >= 3.10 and git. The virtual environment lives in
``.venv`` next to this file and is reinstalled when requirements.txt or
pyproject.toml change.
"""

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import venv
from collections import Counter
from pathlib import Path
from xml.etree import ElementTree

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"
BUILD = ROOT / "_build"


REPORTS = None  # a temporary folder for the JUnit reports and the kernels' IPython folder


def reports():
    """The temporary folder of this run's reports, outside _build (made on first use)."""
    global REPORTS
    REPORTS = REPORTS or Path(tempfile.mkdtemp(prefix="dev-py-"))
    return REPORTS


def junit(name):
    """A fresh path for a pytest step's JUnit XML report (``--junitxml``)."""
    return reports() / f"{name}.xml"


def step_status(code, report=None):
    """``(status, note)`` of a finished step: ok, FAILED, or SKIPPED when every test was skipped.

    ``report`` is the step's JUnit XML (pytest steps): a step whose tests were all skipped did not
    check anything, so it is SKIPPED with the reason pytest gave, not ok; some skipped tests are
    counted in the note with their most common reasons.
    """
    if code != 0:
        return "FAILED", f"exit {code}"
    if report is None or not Path(report).exists():
        return "ok", ""
    reasons = []
    cases = list(ElementTree.parse(report).getroot().iter("testcase"))
    for case in cases:
        skipped = case.find("skipped")
        if skipped is not None:
            reasons.append((skipped.get("message") or "no reason given").strip())
    common = "; ".join(f"{n} x {why}" for why, n in Counter(reasons).most_common(2))
    if cases and len(reasons) == len(cases):
        return "SKIPPED", f"all {len(cases)} tests skipped: {common}"
    return "ok", f"{len(reasons)} of {len(cases)} tests skipped: {common}" if reasons else ""


def record(step, code, secs, results, report=None):
    """Append a finished step to the results and print its line; True unless it FAILED."""
    status, note = step_status(code, report)
    results.append((step, status, secs, note))
    print(f"--- {step}: {status}{f' ({note})' if note else ''} in {secs:.0f} s", flush=True)
    return status != "FAILED"


def run(step, cmd, results, env=None, report=None):
    """Run one step, print its duration, record whether it passed (or was skipped)."""
    print(f"\n=== {step}\n$ {' '.join(map(str, cmd))}", flush=True)
    t0 = time.time()
    code = subprocess.call([str(c) for c in cmd], cwd=ROOT, env=env)
    return record(step, code, time.time() - t0, results, report)


def run_parallel(steps, results, env=None):
    """Run ``(step, cmd, report)`` steps at once, one per core; True unless one FAILED.

    The first step prints as it goes; the others' output is held and printed when they end.
    """
    running = []
    for i, (step, cmd, report) in enumerate(steps):
        print(f"\n=== {step} (in parallel)\n$ {' '.join(map(str, cmd))}", flush=True)
        log = tempfile.TemporaryFile(mode="w+") if i else None
        proc = subprocess.Popen([str(c) for c in cmd], cwd=ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT if log else None)
        running.append((step, report, log, proc))
    t0, ok = time.time(), True
    while running:
        for item in [r for r in running if r[3].poll() is not None]:
            step, report, log, proc = item
            running.remove(item)
            if log is not None:
                log.seek(0)
                print(f"\n=== output of: {step}\n{log.read()}", flush=True)
            ok = record(step, proc.returncode, time.time() - t0, results, report) and ok
        time.sleep(0.5)
    return ok


TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def has_nvidia_gpu():
    """True when an NVIDIA driver is present (nvidia-smi on PATH, or the Linux driver's file)."""
    return shutil.which("nvidia-smi") is not None or Path("/proc/driver/nvidia/version").exists()


def torch_plan(installed, platform, nvidia):
    """Decide how torch gets into .venv: ``(index_url or None, message)``, or None to keep it.

    Args:
        installed: the version of the torch already in .venv, or None.
        platform: ``sys.platform``.
        nvidia: whether the machine has an NVIDIA GPU.
    Returns:
        None when ``installed`` (an existing torch is never replaced); otherwise the index to
        install from (None: pip's default, PyPI) and a line saying what that brings.
    """
    if installed:
        return None
    if platform.startswith(("linux", "win")) and not nvidia:
        return TORCH_CPU_INDEX, ("no NVIDIA GPU here: installing the CPU build of torch "
                                 f"(about 200 MB) from {TORCH_CPU_INDEX}")
    if platform.startswith(("linux", "win")):
        return None, ("NVIDIA GPU found: installing torch with CUDA from PyPI (about 3 GB "
                      "with its CUDA libraries)")
    return None, "installing torch from PyPI (the macOS build: CPU and MPS, about 80 MB)"


def install_torch(call=subprocess.call, platform=None, nvidia=None):
    """Install torch into .venv as ``torch_plan`` decides, saying what and how large.

    ``call`` runs pip (``subprocess.call``'s signature); ``platform`` and ``nvidia`` default to
    this machine's. The tests pass their own.
    """
    version = subprocess.run(
        [PY, "-c", "import importlib.metadata as m; print(m.version('torch'))"],
        capture_output=True, text=True).stdout.strip() or None
    plan = torch_plan(version, platform or sys.platform,
                      has_nvidia_gpu() if nvidia is None else nvidia)
    if plan is None:
        print(f"torch {version} is already in .venv: kept", flush=True)
        return
    index, message = plan
    print(message, flush=True)
    pip, code = [PY, "-m", "pip", "install", "-q", "torch>=2.2"], None
    if index is not None:
        code = call(pip + ["--index-url", index, "--timeout", "20", "--retries", "1"], cwd=ROOT)
        if code != 0:
            print(f"{index} did not answer (pip exit {code}): installing torch from PyPI "
                  "instead, which on Linux is the CUDA build (about 3 GB)", flush=True)
    if code != 0 and call(pip, cwd=ROOT) != 0:
        sys.exit("dev.py: installing torch failed; see pip's message above")
    size = ("import pathlib, torch; p = pathlib.Path(torch.__file__).parent; "
            "print(torch.__version__, sum(f.stat().st_size for f in p.rglob('*')) >> 20)")
    done = subprocess.run([PY, "-c", size], capture_output=True, text=True).stdout.split()
    if len(done) == 2:
        print(f"installed torch {done[0]}: {done[1]} MB in .venv", flush=True)


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
    install_torch()  # before requirements.txt, whose torch>=2.2 alone pulls the CUDA build
    subprocess.check_call([PY, "-m", "pip", "install", "-q", "-r", "requirements.txt"], cwd=ROOT)
    subprocess.check_call([PY, "-m", "pip", "install", "-q", "--no-deps", "-e", "."], cwd=ROOT)
    stamp.write_text(digest)


def write_config(path, student=False):
    """Write the build's config: _config.yml with absolute paths and a fresh execution cache.

    Both editions execute through one jupyter-cache under _build (``execute_notebooks: cache``,
    emptied with _build before every build), so the full book executes each chapter once and the
    student edition, whose code cells are the same, reuses those outputs instead of running them
    again. ``_config.yml`` itself keeps ``force`` for a plain ``jupyter-book build``.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    # Paths in the config are relative to its own folder: make them absolute in the copy.
    code = ("import os, sys, yaml; c = yaml.safe_load(open('_config.yml'));"
            "ext = c['sphinx']['local_extensions'];"
            "c['sphinx']['local_extensions'] = {k: os.path.abspath(v) for k, v in ext.items()};"
            "c['bibtex_bibfiles'] = [os.path.abspath(b) for b in c['bibtex_bibfiles']];"
            "c['sphinx']['config']['html_favicon'] = os.path.abspath(c['sphinx']['config']"
            "['html_favicon']);"
            "c['execute']['execute_notebooks'] = 'cache';"
            "c['execute']['cache'] = sys.argv[2];"
            "student = sys.argv[3] == 'student';"
            "c['title'] += ' (student edition)' if student else '';"
            "c['sphinx']['config']['hide_solutions'] = student;"
            "yaml.safe_dump(c, open(sys.argv[1], 'w'))")
    subprocess.check_call([PY, "-c", code, path, BUILD / ".jupyter_cache",
                           "student" if student else "full"], cwd=ROOT)
    return path


def book_step():
    """Empty _build and return the clean book build's ``(step, command)``."""
    shutil.rmtree(BUILD, ignore_errors=True)
    config = write_config(BUILD / "_config_full.yml")
    return ("book: jupyter-book build (executes every chapter once, -W, stderr is an error)",
            [BIN / "jupyter-book", "build", ".", "--all", "-W", "--keep-going",
             "--config", config])


def build_book(results):
    """Clean build with every chapter executed; warnings are errors."""
    return run(*book_step(), results)


def build_student_edition(results):
    """The same book with every exercise's solution cut out (book/_ext/course.py).

    Its chapters are not executed again: their outputs come from the full build's cache.
    """
    config = write_config(BUILD / "_config_student.yml", student=True)
    return run("student edition: jupyter-book build, solutions cut out (outputs from the cache)",
               [BIN / "jupyter-book", "build", ".", "--all", "-W", "--keep-going",
                "--config", config, "--path-output", BUILD / "student"], results)


def lab_command(*options):
    """The command ``dev.py lab`` runs: JupyterLab with the labs folder as its root."""
    root = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []  # containers
    return [BIN / "jupyter-lab", f"--ServerApp.root_dir={ROOT / 'labs'}", *root, *options]


def guarded_env(env, folder=None):
    """``env`` with an IPython start-up file that installs tests/rng_guard.py in every kernel.

    The book build and nbval then fail any cell that draws from a global random generator
    (torch's, NumPy's, Python's) before anything seeded it. The IPython folder is made in
    ``folder`` (default: the reports' temporary folder).
    """
    ipython = Path(folder or reports()) / "ipython"
    startup = ipython / "profile_default" / "startup"
    startup.mkdir(parents=True, exist_ok=True)
    guard = ROOT / "tests" / "rng_guard.py"
    (startup / "00-rng-guard.py").write_text(
        f"__import__('runpy').run_path({str(guard)!r})['install'](get_ipython())\n")
    return dict(env, IPYTHONDIR=str(ipython))


def test(results):
    """Every check, each chapter executed once; the summary gives each step's wall-clock time.

    The two steps run in parallel overlap in time: the total is what ``dev.py test`` takes.
    """
    pytest = [PY, "-m", "pytest", "-p", "no:cacheprovider", "-rs"]
    env = dict(os.environ, PYTHONHASHSEED="0", MPLBACKEND="Agg")

    def report(name):
        path = junit(name)
        return path, [f"--junitxml={path}"]

    run("lint: ruff", [BIN / "ruff", "check", "."], results)
    xml, opt = report("unit")
    run("unit tests, gradient checks, torch parity, lab pipeline, course pages",
        pytest + ["-n", "2", "tests", "--ignore=tests/e2e", "--ignore=tests/test_site.py"] + opt,
        results, env, xml)
    # Every chapter executes once, in the book build (allow_errors: false, -W, stderr_output:
    # error); tests/test_site.py then checks that execution cell by cell as nbval would. The lab
    # solutions go through nbval meanwhile, on the other core. Both run with the seed guard.
    xml, opt = report("solutions")
    book = book_step()
    run_parallel([(*book, None),
                  ("notebooks: every lab solution through nbval",
                   pytest + ["--nbval-lax", "--nbval-current-env", "--nbval-cell-timeout", "300",
                             "solutions"] + opt, xml)], results, guarded_env(env))
    book_ok = all(status != "FAILED" for step, status, *_ in results if step == book[0])
    if book_ok:
        build_student_edition(results)
    if (BUILD / "html" / "index.html").exists():  # even after a failed build: it says which cell
        xml, opt = report("site")
        run("built book: every chapter cell as executed, no solution text in the student edition",
            pytest + ["tests/test_site.py"] + opt, results, env, xml)
    if not book_ok:
        return
    xml, opt = report("browser")
    run("book in a browser: every page, MathJax, links, search, numbering, launch buttons",
        pytest + ["tests/e2e"] + opt, results, env, xml)


def main():
    what = sys.argv[1] if len(sys.argv) > 1 else ""
    student = sys.argv[2:] == ["--student"]
    if what not in ("book", "test", "lab") or sys.argv[2:] not in ([], ["--student"]) or (
            student and what != "book"):
        sys.exit(__doc__)
    t0 = time.time()
    ensure_env()
    if what == "lab":
        print(f"$ {' '.join(map(str, lab_command()))}\n(stop JupyterLab with Ctrl-C)", flush=True)
        try:
            sys.exit(subprocess.call([str(c) for c in lab_command()], cwd=ROOT))
        except KeyboardInterrupt:
            sys.exit(0)
    results = []
    if what == "book":
        if build_book(results) and student:
            build_student_edition(results)
    else:
        test(results)
    print(f"\n=== summary ({time.time() - t0:.0f} s in all)")
    for step, status, secs, note in results:
        print(f"{status:7s} {secs:6.0f} s  {step}{f' ({note})' if note else ''}")
    failed = any(status == "FAILED" for _, status, _, _ in results)
    if what == "book" and not failed:
        print(f"\nThe book is in {BUILD / 'html'}; open {BUILD / 'html' / 'index.html'}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
