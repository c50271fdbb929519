"""Progress on stderr, one mechanism for every command: a tqdm bar on a terminal, plain lines
elsewhere (CI logs, ``nohup``, pipes), so a long run never looks dead and a log holds no
carriage returns or terminal codes.

:func:`bar` gives an object with tqdm's ``update`` / ``set_postfix_str`` / ``close``: tqdm
itself when the stream is a terminal, else :class:`Lines`, which writes
``hwsim: sweep: 40/120 tasks (33%), 1:02 elapsed`` when a stage starts, then at most one such
line per :data:`INTERVAL` seconds as work completes, and one line when it ends (``done``).
:func:`track` wraps an iterable the same way. ``show=False`` shows nothing (the library
default: a command asks for progress, a test or a caller embedding hwsim does not).
"""

from __future__ import annotations

import re
import sys
import time

#: the shortest time between two plain progress lines of one stage, in seconds
INTERVAL = 10.0

#: a plain progress line (:meth:`Lines.line`): what a test filters out of stderr
LINE = re.compile(r"^hwsim: .+: .*\b\d+:\d\d elapsed\b")


def is_progress_line(line: str) -> bool:
    return bool(LINE.match(line))


def elapsed(seconds: float) -> str:
    """``m:ss`` (``h:mm:ss`` from an hour)."""
    s = max(0, int(seconds))
    h, m, s = s // 3600, s // 60 % 60, s % 60
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _plural(unit: str) -> str:
    return unit + ("es" if unit.endswith(("s", "sh", "ch", "x")) else "s")


def _isatty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


class Silent:
    """No progress (``show=False``): tqdm's calls, doing nothing."""

    n = 0

    def update(self, n: int = 1) -> None:
        self.n += n

    def set_postfix_str(self, s: str = "", refresh: bool = True) -> None:
        pass

    def close(self, done: bool = True) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *exc) -> None:
        self.close(done=exc_type is None)


class Lines(Silent):
    """Plain progress lines on ``stream``: one when the stage starts (unless it has nothing
    to do), at most one per ``interval`` seconds of ``clock`` as :meth:`update` counts work,
    and one at :meth:`close`. Each line is written whole, newline-terminated and flushed."""

    def __init__(self, total: int | None, *, desc: str, unit: str = "task", initial: int = 0,
                 stream=None, clock=time.monotonic, interval: float | None = None):
        self.total, self.desc, self.unit, self.n = total, desc, unit, initial
        self.stream = sys.stderr if stream is None else stream
        self.clock = clock
        self.interval = INTERVAL if interval is None else interval
        self.postfix = ""
        self.closed = False
        self.t0 = self.last = clock()
        if total is None or initial < total:
            self._write()

    def line(self, done: bool = False) -> str:
        units = self.unit if (self.total or self.n) == 1 else _plural(self.unit)
        count = f"{self.n}/{self.total} {units}" if self.total is not None else f"{self.n} {units}"
        if self.total:
            count += f" ({100 * self.n // self.total}%)"
        text = f"hwsim: {self.desc}: {count}, {elapsed(self.clock() - self.t0)} elapsed"
        if done:
            text += ", done"
        if self.postfix:
            text += f"; {self.postfix}"
        return text

    def _write(self, done: bool = False) -> None:
        try:
            self.stream.write(self.line(done) + "\n")
            self.stream.flush()
        except (OSError, ValueError):  # a closed pipe or stream: progress is not worth an error
            pass
        self.last = self.clock()

    def update(self, n: int = 1) -> None:
        self.n += n
        if not self.closed and self.clock() - self.last >= self.interval:
            self._write()

    def set_postfix_str(self, s: str = "", refresh: bool = True) -> None:
        self.postfix = s

    def close(self, done: bool = True) -> None:
        """The stage's last line: ``done`` unless it ended early (an error)."""
        if not self.closed:
            self.closed = True
            self._write(done=done)


def bar(total: int | None = None, *, desc: str, unit: str = "task", initial: int = 0,
        show: bool = True, leave: bool = True, stream=None, **lines):
    """A progress bar for ``total`` items of ``unit`` (``initial`` already done) on
    ``stream`` (default stderr): tqdm on a terminal, :class:`Lines` elsewhere, nothing without
    ``show``. ``lines`` go to :class:`Lines` (``clock``, ``interval``: for tests)."""
    if not show:
        s = Silent()
        s.n = initial
        return s
    stream = sys.stderr if stream is None else stream
    if _isatty(stream):
        from tqdm.auto import tqdm
        return tqdm(total=total, initial=initial, desc=desc, unit=unit, leave=leave,
                    file=stream)
    return Lines(total, desc=desc, unit=unit, initial=initial, stream=stream, **lines)


def track(items, *, desc: str, unit: str = "task", total: int | None = None,
          show: bool = True, **kwargs):
    """``items``, one by one, counted on a :func:`bar` (``total``: ``len(items)`` when it
    has one); the bar closes when the iteration ends or is abandoned."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)
    b = bar(total, desc=desc, unit=unit, show=show, **kwargs)
    finished = False
    try:
        for x in items:
            yield x
            b.update(1)
        finished = True
    finally:
        if isinstance(b, Silent):
            b.close(done=finished)
        else:
            b.close()
