"""Write a Gradescope autograder bundle for one lab.

Usage::

    python -m labkit.gradescope lab01_rnn_forward            # writes autograder.zip
    python -m labkit.gradescope lab01_rnn_forward --out dist/lab01.zip

The zip holds what Gradescope's autograder harness expects at its root:

- ``setup.sh``: installs Python, pip and ``requirements.txt`` (NumPy, SciPy, matplotlib,
  IPython and, for the labs that need it, the CPU build of torch) into the image;
- ``run_autograder``: grades the one notebook in ``/autograder/submission`` with
  ``python3 -m labkit.grade --lab LAB --hidden`` and writes
  ``/autograder/results/results.json`` (the root folder can be moved with
  ``$AUTOGRADER_ROOT``, the interpreter chosen with ``$PYTHON``, which the tests use);
- ``labkit/`` (the grader, with ``released.json``: the released labs, their checksums, the
  hidden checks and the reference policy), ``rnnkit/`` (the library the checks use) and
  ``released/<lab>.ipynb`` with ``released/SHA256SUMS`` for the teacher to read.

A submission that is not one notebook (none, or several) gets a zero results file saying so.
"""

import argparse
import hashlib
import io
import json
import sys
import zipfile
from pathlib import Path

from labkit.grade import _package_dir
from labkit.release import MANIFEST, load_manifest, render_lab

__all__ = ["bundle", "main"]

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once when it builds the autograder image.
set -euo pipefail
apt-get update -q
apt-get install -y -q python3 python3-pip python3-venv
cd /autograder/source
python3 -m pip install --break-system-packages -q -r requirements.txt || \\
    python3 -m pip install -q -r requirements.txt
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission; it must leave results/results.json behind.
set -uo pipefail
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
PY="${{PYTHON:-python3}}"
mkdir -p "$ROOT/results"
shopt -s nullglob
notebooks=("$ROOT"/submission/*.ipynb)
cd "$ROOT/source"
if [ "${{#notebooks[@]}}" -ne 1 ]; then
    why="expected exactly one .ipynb file in the submission, found ${{#notebooks[@]}}"
    "$PY" -c 'import json, sys; print(json.dumps({{"score": 0, "tests": [],
        "output": sys.argv[1] + ": upload your lab notebook alone"}}))' "$why" \\
        > "$ROOT/results/results.json"
    exit 0
fi
"$PY" -m labkit.grade "${{notebooks[0]}}" --lab {lab} --hidden \\
    --results "$ROOT/results/results.json" \\
    --time-limit {time_limit:g} --cell-timeout {cell_timeout:g}
status=$?
if [ "$status" -gt 2 ]; then
    # The grader itself was stopped (killed by a signal): nothing it wrote can stand.
    "$PY" -c 'import json, sys; print(json.dumps({{"score": 0, "tests": [],
        "output": "grading was stopped (exit status " + sys.argv[1] + "): ask your teacher"}}))' \\
        "$status" > "$ROOT/results/results.json"
fi
exit 0
"""


REQUIREMENTS = """# What the grader and the checks need on Gradescope.
numpy>=1.24
scipy>=1.10
matplotlib>=3.7
ipython>=8
--extra-index-url https://download.pytorch.org/whl/cpu
torch>=2.2
"""


def bundle(lab, out="autograder.zip", manifest=MANIFEST, time_limit=1200.0, cell_timeout=300.0):
    """Write the autograder zip for ``lab`` (its name, with or without ``.ipynb``)."""
    data = load_manifest(manifest)
    key = Path(lab).name if str(lab).endswith(".ipynb") else f"{Path(lab).name}.ipynb"
    if key not in data["labs"]:
        raise ValueError(f"no released lab {lab!r} in {manifest} (the labs are: "
                         f"{', '.join(k[:-6] for k in data['labs'])})")
    entry = data["labs"][key]
    text = render_lab(entry["notebook"])
    if hashlib.sha256(text.encode("utf-8")).hexdigest() != entry["sha256"]:
        raise ValueError(f"{manifest}: the lab {key} does not match its checksum: regenerate "
                         "with python -m labkit.generate")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        def add(name, content, mode=0o644):
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = (mode | 0o100000) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, content)

        add("setup.sh", SETUP_SH, 0o755)
        add("run_autograder", RUN_AUTOGRADER.format(lab=key[:-6], time_limit=time_limit,
                                                    cell_timeout=cell_timeout), 0o755)
        add("requirements.txt", REQUIREMENTS)
        add(f"released/{key}", text)
        add("released/SHA256SUMS", f"{entry['sha256']}  {key}\n")
        for pkg in ("labkit", "rnnkit"):
            root = _package_dir(pkg)
            for path in sorted(root.rglob("*")):
                if path.is_dir() or "__pycache__" in path.parts or path.suffix == ".pyc":
                    continue
                rel = path.relative_to(root.parent).as_posix()
                if rel == "labkit/released.json":
                    continue
                add(rel, path.read_bytes())
        add("labkit/released.json", json.dumps({"labs": {key: entry}}, indent=1,
                                               sort_keys=True, ensure_ascii=False) + "\n")
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_bytes(buf.getvalue())
    return Path(out)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m labkit.gradescope",
                                     description="Write a Gradescope autograder zip for a lab.")
    parser.add_argument("lab", help="the released lab, e.g. lab01_rnn_forward")
    parser.add_argument("--out", default="autograder.zip", help="default: autograder.zip")
    parser.add_argument("--time-limit", type=float, default=1200.0,
                        help="seconds per submission (default 1200)")
    parser.add_argument("--cell-timeout", type=float, default=300.0,
                        help="seconds per cell or check (default 300)")
    parser.add_argument("--manifest", default=str(MANIFEST), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        path = bundle(args.lab, args.out, args.manifest, args.time_limit, args.cell_timeout)
    except (OSError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
