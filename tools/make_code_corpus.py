"""Rebuild ``rnnkit/data/python_code.tar.xz`` from CPython 3.11.7's standard library.

A build tool of the repository, not part of the installed package. The code corpus of book
chapter 5 is 20 modules of the Python standard library, pinned to one release so that the
chapter's numbers do not change with the Python that runs it. Run it as a script::

    python tools/make_code_corpus.py                       # reads the running Python's stdlib
    python tools/make_code_corpus.py --lib cpython/Lib     # a checkout of tag v3.11.7
    python tools/make_code_corpus.py --out /tmp/python_code.tar.xz

The running Python's own stdlib works only when it is 3.11.7; any other source of the same
files works too (``Lib/`` of the CPython source release ``Python-3.11.7.tgz`` or of git tag
``v3.11.7``). Every file is checked against the sha256 pinned below, so a different release
is refused with the name of the file that differs. The archive is written deterministically
(files in ``CODE_FILES`` order, mtime 0, no owner names) with the licence of the sources,
``LICENSE.txt``, beside them. Provenance and licence: ``rnnkit/data/PYTHON_CODE_LICENSE.md``.
"""

import argparse
import hashlib
import io
import lzma
import sysconfig
import tarfile
from pathlib import Path

RELEASE = "3.11.7"
#: sha256 of each module of CPython 3.11.7's ``Lib/``, in the corpus order (rnnkit.data.CODE_FILES).
FILES = {
    "argparse.py": "dc1eba8adfdf615986421f981337458ba1072d3e718a0f76e3224940fd74118b",
    "textwrap.py": "62867e40cdea6669b361f72af4d7daf0359f207c92cbeddfc7c7506397c1f31c",
    "difflib.py": "0c6afc23568d55b3e9ac914f9c5361e3033e778aa5b58d3cc82835fc5c638679",
    "string.py": "24aeae1f0526250f442022022bf98df9a823b1cb330543ee79e70e44907462e9",
    "csv.py": "6c68a5186e3b85e6e267a7ef96479327a45ae2b40bf5e9f2017e4b2282b3f5b1",
    "fractions.py": "b11e850e354808b882d13a70a911c29accd1dbdd41757566704e3b7206c74edb",
    "heapq.py": "6d43277e5c76fc0f073cd388fcff852d14d068f6bb6d4886c340f8b75a1229a9",
    "bisect.py": "e5b2ff166f48a06e70ae831d8c9b47283fcd0c254306eee12d3dae9c55e11526",
    "shlex.py": "42ab6060f316e121e374e6621d8c1c98b8db323903c3df289a810c45a8ae46a7",
    "pprint.py": "0b67dbc8af449d8ced3acd9df902e98c2dbc56c8f2a7a181c51cc72768db621f",
    "configparser.py": "4a70cecccb55031a413b79e6ced2e63ca031f770cd25a4882980ecdeab67f6ff",
    "calendar.py": "b3b140864fd122a575ffcc9342b824fbe4f8a38fdf3f4fcd964f26e52725358f",
    "dataclasses.py": "4b7e1c99ebea53b546317d218a0261895a1769f83a6b95dc0136f13578066a7f",
    "functools.py": "6d80018a3fa9fed44c5b78f881987ee3ab3fb1238b077b4e6dcb4b76da7db73b",
    "tokenize.py": "79aa94ebe1761811ea9b2da2ada409a8cb9abd7c6eac241d0c181a36684bb609",
    "ast.py": "c513073798bdbf3cdef09327d0d2d381a53213a13a4ba3f02729695327539406",
    "statistics.py": "889a066f1b8063e73387ceb84018efc507a89b365b56c6afb9cc15b2ed25c2d9",
    "random.py": "b931a2d452db89ab9e1f79d59b66ce194dbd6748049cfe44699726da52b9c956",
    "gettext.py": "a5c249a522b6b8e3aa6f1b12a8bcc09508b99ad612b58d2fc973db27ea3b7cc3",
    "inspect.py": "d55ac82f84e5c93953e9f5852ec255957e6c12f47d5cc0ea456447319da0f5af",
}
LICENCE = ("LICENSE.txt", "3b2f81fe21d181c499c59a256c8e1968455d6689d269aa85373bfb6af41da3bf")
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "rnnkit" / "data" / "python_code.tar.xz"


def read_checked(lib, name, expected):
    """Return the bytes of ``lib/name`` after checking their sha256 against ``expected``."""
    path = Path(lib) / name
    if not path.is_file():
        raise SystemExit(f"--lib: {path} is not a file; expected CPython {RELEASE}'s Lib/")
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != expected:
        raise SystemExit(f"--lib: {path} has sha256 {digest}, expected {expected} (the file "
                         f"of CPython {RELEASE}); is this another release?")
    return data


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lib", default=sysconfig.get_paths()["stdlib"],
                        help=f"CPython {RELEASE}'s Lib/ folder (default: %(default)s)")
    parser.add_argument("--licence", help="the release's LICENSE.txt (default: LIB/LICENSE.txt, "
                        "where an installed Python keeps it; in a source tree it is one level up)")
    parser.add_argument("--out", default=str(DEFAULT_OUT),
                        help="where to write the archive (default: %(default)s)")
    args = parser.parse_args(argv)
    members = [(name, read_checked(args.lib, name, digest)) for name, digest in FILES.items()]
    licence = Path(args.licence) if args.licence else Path(args.lib) / LICENCE[0]
    members.append((LICENCE[0], read_checked(licence.parent, licence.name, LICENCE[1])))
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            tar.addfile(info, io.BytesIO(data))
    packed = lzma.compress(buffer.getvalue(), format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC64,
                           preset=9 | lzma.PRESET_EXTREME)
    Path(args.out).write_bytes(packed)
    text = "\n\n".join(data.decode("utf-8") for _, data in members[:-1]) + "\n"
    print(f"{len(FILES)} modules of CPython {RELEASE}, {len(text):,} characters")
    print(f"corpus sha256 {hashlib.sha256(text.encode('utf-8')).hexdigest()}")
    print(f"wrote {args.out}: {len(packed):,} bytes, sha256 {hashlib.sha256(packed).hexdigest()}")


if __name__ == "__main__":
    main()
