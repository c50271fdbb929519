"""The paths a user points at: checked before any work starts, written safely after it.

Each check raises ``ValueError`` with one line naming the option, the rule and the path, so
the CLI can report it (exit 2) before minutes of simulation or synthesis are spent; an
output is also checked against the command's inputs (:func:`check_not_input`); a command's
declared outputs against all its inputs and each other at once (:func:`check_outputs`).
Outputs are written whole or not at all (:func:`atomic_writer`, :func:`replace_text`), and
TOML is parsed in one place (:func:`parse_toml`).
"""

from __future__ import annotations

import contextlib
import fnmatch
import functools
import os
from dataclasses import dataclass
from pathlib import Path


def cache_dir() -> Path:
    """hwsim's per-user cache (the results database, simulator builds): platformdirs' user
    cache directory, ``$XDG_CACHE_HOME/hwsim`` or ``~/.cache/hwsim`` on Linux."""
    import platformdirs
    return Path(platformdirs.user_cache_dir("hwsim", appauthor=False))


def _os_errors_refused(check):
    """An ``OSError`` while looking at the path (a name over the system's limit, a directory
    that may not be entered, a link loop) becomes the check's one-line ``ValueError``."""
    @functools.wraps(check)
    def wrapped(path, option: str, *args, **kwargs):
        try:
            return check(path, option, *args, **kwargs)
        except OSError as e:
            raise ValueError(f"{option} {str(path)!r}: {e.strerror or e}") from None
    return wrapped


def _nearest_existing(p: Path) -> Path:
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


@_os_errors_refused
def check_output_dir(path, option: str) -> Path:
    """``path`` is a directory or can be created as one, and is writable."""
    p = Path(path)
    if p.is_symlink() and not p.exists():
        raise ValueError(f"{option} {str(p)!r} is a link to nothing ({os.readlink(p)!r}); give "
                         f"a directory")
    if p.exists() and not p.is_dir():
        raise ValueError(f"{option} {str(p)!r} exists and is not a directory; give a directory")
    base = _nearest_existing(p.absolute())
    if not base.is_dir():
        raise ValueError(f"{option} {str(p)!r} cannot be created: {str(base)!r} is not a "
                         f"directory")
    if not os.access(base, os.W_OK | os.X_OK):
        raise ValueError(f"{option} {str(p)!r} is not writable (no write permission on "
                         f"{str(base)!r})")
    return p


@_os_errors_refused
def check_output_file(path, option: str) -> Path:
    """``path`` is a file (or absent) in an existing, writable directory."""
    p = Path(path)
    if p.is_dir():
        raise ValueError(f"{option} {str(p)!r} is a directory; give a file name")
    parent = p.absolute().parent
    if not parent.is_dir():
        what = "is not a directory" if parent.exists() else "does not exist"
        raise ValueError(f"{option} {str(p)!r}: directory {str(parent)!r} {what}")
    if not os.access(parent, os.W_OK | os.X_OK) or (p.exists() and not os.access(p, os.W_OK)):
        raise ValueError(f"{option} {str(p)!r} is not writable")
    return p


@_os_errors_refused
def check_input_file(path, option: str) -> Path:
    """``path`` is an existing, readable file: a regular file or a pipe, never a directory,
    a device (``/dev/zero`` would be read for ever) or a socket."""
    import stat
    p = Path(path)
    if not p.exists():
        raise ValueError(f"{option} {str(p)!r} does not exist")
    if p.is_dir():
        raise ValueError(f"{option} {str(p)!r} is a directory; give a file")
    mode = p.stat().st_mode
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISSOCK(mode):
        raise ValueError(f"{option} {str(p)!r} must be a file, not a device")
    if not os.access(p, os.R_OK):
        raise ValueError(f"{option} {str(p)!r} is not readable")
    return p


@_os_errors_refused
def read_text_file(path, option: str) -> str:
    """The UTF-8 text of ``path`` (checked as by :func:`check_input_file`); binary files
    (not UTF-8, or holding NUL bytes) are refused."""
    p = check_input_file(path, option)
    data = p.read_bytes()
    if b"\0" in data:
        raise ValueError(f"{option} {str(p)!r} is a binary file, not text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"{option} {str(p)!r} is not UTF-8 text (byte {e.start})") from None


@_os_errors_refused
def check_not_input(path, option: str, inputs: dict) -> Path:
    """``path`` (an output) is none of ``inputs`` (``{option: path or None}``): writing it
    must not destroy what the command reads (or its own results database)."""
    p = Path(path)
    for name, other in inputs.items():
        if other is not None and same_file(p, other):
            raise ValueError(f"{option} {str(p)!r} is the {name} file ({str(other)!r}); "
                             f"give another file name")
    return p


#: the files SQLite and hwsim's lock keep beside a database
DATABASE_SIDECARS = ("-wal", "-shm", "-journal", ".lock")


@dataclass(frozen=True)
class Output:
    """One file (or set of files) a command writes.

    ``path``: the file; with ``pattern`` the directory holding the files whose names are
    known only after the work (a glob, ``"*_vs_*.png"``): the entries already there that
    match are checked; ``tree=True``: a directory the command fills, inside which no input
    may lie. ``option`` names it in a refusal (``-o/--output``), ``label`` when another
    output is this one (``results database``; default the option), ``noun`` what to give
    instead (``file name`` or ``directory``)."""

    option: str
    path: Path
    pattern: str | None = None
    tree: bool = False
    label: str | None = None
    noun: str = "file name"


def output_files(option: str, path, label: str | None = None, database: bool = False,
                 noun: str = "file name") -> list[Output]:
    """``path`` as an :class:`Output` (none for ``None``); ``database=True`` adds the files
    SQLite and hwsim keep beside it (:data:`DATABASE_SIDECARS`)."""
    if path is None:
        return []
    path, label = Path(path), label or option
    return [Output(option, path, label=label, noun=noun)] + (
        [Output(option, Path(f"{path}{s}"), label=f"{label}'s {s}", noun=noun)
         for s in DATABASE_SIDECARS] if database else [])


def check_new_files(owner: str, directory, names) -> None:
    """``ValueError`` (one line) unless none of ``names`` exists in ``directory`` (a link
    counts, even one to nothing): for scripts that write a fixed set of files there and must
    replace nothing a user has."""
    d = Path(directory)
    taken = [n for n in names if os.path.lexists(d / n)]
    if taken:
        raise ValueError(f"{owner}: {d / taken[0]} exists; give a directory without "
                         f"{', '.join(names)}")


def check_outputs(outputs: list[Output], inputs: dict) -> None:
    """No output of ``outputs`` is one of ``inputs`` (``{label: path or None}``) or another
    output: each is resolved (links followed, hard links by inode) and compared with every
    input and every other output; an output directory's existing entries matching a
    ``pattern``, and a ``tree``'s contents, too. A link in an output directory passes
    (it is written through) only when its target is no input. ``ValueError``, one line,
    naming the output's option, the path and the file it would replace (or the
    ``OSError`` met looking at it: a name too long, a link loop)."""
    where = outputs[0] if outputs else None
    try:
        for where in outputs:
            os.path.realpath(where.path)
            where.path.is_dir()
        _check_outputs(outputs, {k: Path(v) for k, v in inputs.items() if v is not None})
    except OSError as e:
        name = e.filename or (where.path if where else "")
        raise ValueError(f"{where.option if where else 'output'} {str(name)!r}: "
                         f"{e.strerror or e}") from None


def _check_outputs(outputs: list[Output], files: dict) -> None:
    concrete: list[tuple[Output, Path]] = []
    for o in outputs:
        if o.pattern is None:
            concrete.append((o, o.path))
        elif o.path.is_dir():
            concrete += [(o, p) for p in sorted(o.path.glob(o.pattern))]
    for o in (o for o in outputs if o.tree):
        root = os.path.realpath(o.path)
        inside = [(label, p) for label, p in files.items()
                  if os.path.commonpath([root, os.path.realpath(p)]) == root]
        inside += [(f"{x.label} ({x.option})", p) for x, p in concrete
                   if not x.tree and os.path.commonpath([root, os.path.realpath(p)]) == root]
        if inside:
            label, p = inside[0]
            raise ValueError(f"{o.option} {str(o.path)!r} holds the {label} file "
                             f"({str(p)!r}), and hwsim fills that directory; give another "
                             f"directory")
    for o in (o for o in outputs if o.pattern is not None):  # a name it may write later
        d = os.path.realpath(o.path)
        for x, p in concrete:
            if (x.option != o.option and not x.tree and fnmatch.fnmatch(p.name, o.pattern)
                    and os.path.realpath(p.parent) == d):
                raise ValueError(f"{x.option} {str(p)!r} is named like the {o.option} files "
                                 f"({o.pattern}) hwsim writes in {str(o.path)!r}; give another "
                                 f"{x.noun}")
    for i, (o, p) in enumerate(concrete):
        if o.tree:
            continue
        for label, q in files.items():
            if same_file(p, q):
                raise ValueError(_same(o, p, label, q))
        for x, q in concrete[:i]:
            if not x.tree and not (x.option == o.option and str(q) == str(p)) and same_file(p, q):
                if q.is_symlink() and not p.is_symlink():  # the refusal names the link
                    raise ValueError(_same(x, q, o.label or o.option, p))
                raise ValueError(_same(o, p, x.label or x.option, q))


def _same(o: Output, p: Path, label: str, q: Path) -> str:
    how = ", through a link" if p.is_symlink() else ""
    fix = "remove the link or give another" if how else "give another"
    which = f" ({str(q)!r}{how})" if how or str(q) != str(p) else ""
    return f"{o.option} {str(p)!r} is the {label} file{which}; {fix} {o.noun}"


def same_file(a, b) -> bool:
    """``a`` and ``b`` name one file: the same inode when both exist (hard links too), else
    the same path once links and ``..`` are resolved (an output not written yet)."""
    if os.path.exists(a) and os.path.exists(b):
        return os.path.samefile(a, b)
    return os.path.realpath(a) == os.path.realpath(b)


def write_text_atomic(path, text: str, option: str) -> Path:
    """:func:`replace_text` with an ``OSError`` (a full disk) as a one-line ``ValueError``
    naming ``option``."""
    try:
        return replace_text(path, text)
    except OSError as e:
        raise ValueError(f"{option} {str(path)!r} cannot be written ({e.strerror or e})") from None


def replace_text(path, text: str) -> Path:
    """Write ``text`` to ``path`` whole or not at all (:func:`atomic_writer`)."""
    with atomic_writer(path) as f:
        f.write(text)
    return Path(path)


@contextlib.contextmanager
def atomic_writer(path, binary: bool = False):
    """A file object whose contents replace ``path`` whole or not at all, when the ``with``
    block ends without an exception: written beside it under a fresh name of its own (never
    an existing file or a link planted there), then moved over it. A link or a device
    (``/dev/stdout``) is written through instead, never replaced (the command's output
    checks, :func:`check_outputs`, have refused a link to one of its inputs)."""
    import tempfile
    p = Path(path)
    mode = "wb" if binary else "w"
    kw = {} if binary else {"newline": ""}
    if p.is_symlink() or (p.exists() and not p.is_file()):
        with open(p, mode, **kw) as f:
            yield f
        return
    fd, tmp = tempfile.mkstemp(dir=p.absolute().parent, prefix=f".{p.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode, **kw) as f:
            yield f
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes it 0600; a plain open would not
        os.replace(tmp, p)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _read_umask() -> int:
    mask = os.umask(0)  # the only way to read it; done once, at import, before any thread
    os.umask(mask)
    return mask


_UMASK = _read_umask()


def parse_toml(text: str, what: str) -> dict:
    """The TOML document ``text``; a one-line ``ValueError`` ``"{what}: not valid TOML: ..."``
    for a syntax error or nesting too deep for the parser."""
    import tomllib
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"{what}: not valid TOML: {' '.join(str(e).split())}") from None
    except RecursionError:
        raise ValueError(f"{what}: not valid TOML: nested too deeply") from None
