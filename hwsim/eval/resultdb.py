"""The results database: one SQLite file (stdlib ``sqlite3``, WAL mode) of computed results
keyed by a hash of what produced them.

Synthesis results are cached here (``hwsim synth``), and the sweep engine stores its rows in
the same kind of file. A result is written in one transaction (``INSERT OR REPLACE`` inside
``with connection``), so a crash never leaves half a row; WAL mode lets readers (a progress
display, a second sweep) read while one process writes.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    key TEXT PRIMARY KEY,      -- sha256 of the canonical JSON of what produced the value
    kind TEXT NOT NULL,        -- e.g. "synth"
    spec TEXT NOT NULL,        -- that canonical JSON, for humans and exports
    value TEXT NOT NULL,       -- the result, JSON
    created REAL NOT NULL      -- unix time
)
"""


#: the columns of SCHEMA's table, in order
RESULT_COLUMNS = ("key", "kind", "spec", "value", "created")


def default_path() -> Path:
    from hwsim.paths import cache_dir
    return cache_dir() / "results.sqlite"


def canonical(spec: dict) -> str:
    return json.dumps(spec, sort_keys=True, separators=(",", ":"))


def result_key(spec: dict) -> str:
    """Hash of the canonical JSON of ``spec`` (kind, unit, params, tool versions, ...)."""
    return hashlib.sha256(canonical(spec).encode()).hexdigest()


class ResultDB:
    """A results file; ``get`` / ``put`` by spec dict. Safe to open from several processes."""

    def __init__(self, path: Path | str | None = None):
        self.path = Path(path) if path is not None else default_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._con = sqlite3.connect(self.path, timeout=60)
        try:
            self._check_foreign()
        except sqlite3.DatabaseError:
            self._con.close()
            raise
        self._con.execute("PRAGMA journal_mode=WAL")
        self._con.execute("PRAGMA synchronous=NORMAL")
        with self._con:
            self._con.execute(SCHEMA)

    def _check_foreign(self) -> None:
        """``sqlite3.DatabaseError`` for an SQLite file that holds anything but a results
        table of this schema: it is someone else's database, not to be changed."""
        tables = {name for (name,) in self._con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not tables:
            return
        columns = [row[1] for row in self._con.execute("PRAGMA table_info(results)")]
        if tables != {"results"} or columns != list(RESULT_COLUMNS):
            raise sqlite3.DatabaseError(f"it holds other tables ({', '.join(sorted(tables))})"
                                        if tables != {"results"} else
                                        f"its results table has the columns "
                                        f"{', '.join(columns)}")

    def get(self, spec: dict) -> dict | None:
        row = self._con.execute("SELECT value FROM results WHERE key = ?",
                                (result_key(spec),)).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, spec: dict, value: dict) -> None:
        with self._con:  # one transaction: the row is there completely or not at all
            self._con.execute(
                "INSERT OR REPLACE INTO results (key, kind, spec, value, created) "
                "VALUES (?, ?, ?, ?, ?)",
                (result_key(spec), spec.get("kind", ""), canonical(spec), json.dumps(value),
                 time.time()))

    def count(self, kind: str | None = None) -> int:
        if kind is None:
            return self._con.execute("SELECT COUNT(*) FROM results").fetchone()[0]
        return self._con.execute("SELECT COUNT(*) FROM results WHERE kind = ?",
                                 (kind,)).fetchone()[0]

    def close(self):
        self._con.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
