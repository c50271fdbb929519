"""Regenerate hwsim's built-in English corpus (``hwsim/data/corpus.txt``).

The sentences are the first lines of the docstrings of public functions, classes and methods
of the Python standard library and numpy: real English that nobody on this project wrote,
available offline. Kept: one sentence per docstring that starts with a capital letter, ends
with a full stop, has 6..24 words and no code-like characters; deduplicated
case-insensitively. The file is committed so that every machine (and Python / numpy
version) studies the same text; this script records how it was made.

    python scripts/make_corpus.py [-n 600] [-o hwsim/data/corpus.txt]
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import re
import sys
import warnings
from pathlib import Path

MODULES = [
    "abc", "argparse", "array", "ast", "asyncio", "base64", "bisect", "bz2", "calendar", "cmath",
    "codecs", "collections", "colorsys", "concurrent.futures", "configparser", "contextlib",
    "copy", "csv", "ctypes", "datetime", "decimal", "difflib", "email", "enum", "filecmp",
    "fnmatch", "fractions", "ftplib", "functools", "getopt", "gettext", "glob", "gzip",
    "hashlib", "heapq", "hmac", "html", "http.client", "imaplib", "inspect", "io",
    "ipaddress", "itertools", "json", "locale", "logging", "lzma", "mailbox", "math",
    "mimetypes", "multiprocessing", "netrc", "numbers", "operator", "optparse", "os",
    "pathlib", "pickle", "pkgutil", "platform", "plistlib", "poplib", "pprint", "queue",
    "random", "re", "sched", "secrets", "select", "selectors", "shelve", "shlex", "shutil",
    "signal", "smtplib", "socket", "sqlite3", "ssl", "statistics", "string", "struct",
    "subprocess", "tarfile", "tempfile", "textwrap", "threading", "time", "timeit", "tokenize",
    "trace", "traceback", "turtle", "typing", "unittest", "urllib.parse", "urllib.request",
    "uuid", "warnings", "wave", "weakref", "xml.dom.minidom", "xml.etree.ElementTree",
    "zipfile", "zlib", "numpy", "numpy.linalg", "numpy.fft", "numpy.random", "numpy.ma",
    "numpy.polynomial.polynomial",
]

_BAD = re.compile(r"[<>()\[\]{}=*`_|\\#@~^$%:;]|\.\.|\be\.g\b|\bi\.e\b|https?|\s[a-z]\.\s")


def first_sentence(doc: str | None) -> str | None:
    if not doc:
        return None
    para = doc.strip().split("\n\n")[0]
    text = " ".join(line.strip() for line in para.splitlines())
    m = re.match(r"(.+?\.)(\s|$)", text)
    if not m:
        return None
    s = m.group(1)
    words = s.split()
    if not (6 <= len(words) <= 24) or not s[0].isupper() or _BAD.search(s):
        return None
    return s


def harvest(per_module: int):
    seen = set()
    for name in MODULES:
        kept = 0
        try:
            mod = importlib.import_module(name)
        except Exception:  # a module missing on this platform
            continue
        for attr in sorted(dir(mod)):
            if attr.startswith("_"):
                continue
            obj = getattr(mod, attr, None)
            objs = [obj]
            if inspect.isclass(obj):
                objs += [getattr(obj, a, None) for a in sorted(vars(obj)) if not a.startswith("_")]
            for o in objs:
                if not (inspect.isroutine(o) or inspect.isclass(o)):
                    continue
                s = first_sentence(inspect.getdoc(o))
                if s and s.lower() not in seen and kept < per_module:
                    seen.add(s.lower())
                    kept += 1
                    yield s


def main() -> int:
    warnings.simplefilter("ignore")
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=600, help="sentences to keep (default 600)")
    ap.add_argument("--per-module", type=int, default=8,
                    help="at most this many sentences from one module (default 8)")
    ap.add_argument("-o", default="hwsim/data/corpus.txt", help="output file")
    args = ap.parse_args()
    import numpy
    sentences = list(harvest(args.per_module))[: args.n]
    header = (f"# hwsim built-in corpus: first sentences of docstrings of the Python "
              f"{sys.version.split()[0]} standard library and numpy {numpy.__version__} "
              f"(PSF and BSD licensed text). Made by scripts/make_corpus.py; one sentence a line.\n")
    Path(args.o).parent.mkdir(parents=True, exist_ok=True)
    Path(args.o).write_text(header + "\n".join(sentences) + "\n")
    print(f"{len(sentences)} sentences -> {args.o}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
