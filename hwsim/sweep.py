"""The sweep engine: run a study over a grid of parameters and seeds, resumably.

A sweep is a TOML file::

    study = "digits-mlp"          # a name from hwsim.studies.STUDIES
    seeds = [0, 1, 2]             # optional, default [0]
    metrics = ["accuracy"]        # optional: plot only these (default: all the study reports)
    skip_invalid = true           # optional: drop points the study rejects (else an error)

    [fixed]                       # optional: parameters shared by every point
    multiplier = "mitchell"

    [grid]                        # the cartesian product of these lists ...
    width = [4, 6, 8, 12, 16]
    keep_bits = ["none", 3]       # TOML has no null: "none" means None

    [[points]]                    # ... and/or explicit points (each merged over [fixed])
    multiplier = "exact"
    width = 16

Every task is (study, params, seed); ``params`` is the point's full parameter dict (for
``unit-error``: ``unit``, ``samples``, ``synth`` and the unit's ``Params.to_dict()``). Its
row is stored in an SQLite results file (WAL mode, one transaction per row) under a key
hashing (study, params, seed, code fingerprint), where the fingerprint
(:func:`code_fingerprint`) hashes the sources of hwsim, hwsim.hdl and hwsim.sim: a killed
sweep restarts where it stopped and never recomputes a stored row, and a row computed by
other code (a model edited since) is never served. Tasks run in a local process pool
(``jobs``; the workers die with the sweep, SIGKILL included) or on a Dask distributed
cluster (``scheduler``); each task's randomness comes only from its seed, so both give
identical rows. Only the parent process writes to the database, holding an exclusive lock
(``results.sqlite.lock``) for the run, so two sweeps never write the same results.

Every user error (the file, its keys, a point the study refuses, an output path) is a
:class:`SweepError`: one line naming the file or option, the key, the rule and the value.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import itertools
import json
import math
import os
import signal
import sqlite3
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import hwsim
from hwsim._check import short_repr
from hwsim.eval.resultdb import ResultDB, canonical
from hwsim.schema import Schema

__all__ = ["SweepConfig", "SweepError", "load_config", "parse_config", "run_sweep",
           "sweep_rows", "export_csv", "plot_sweep", "check_output_dir", "check_output_file",
           "code_fingerprint", "SweepRunner"]


class SweepError(ValueError):
    """A bad sweep configuration or output path (reported as one line naming the file or
    option, the key, the rule and the value; the CLI exits 2)."""


class TaskError(SweepError):
    """A task that raised: one line naming the study, the task's parameters and seed, and
    the error (the CLI exits 1: the configuration passed its checks, the run failed)."""


#: seeds are those the CLI accepts (numpy seeds each task's generator with it)
MAX_SEED = 2 ** 32 - 1
#: tasks of one sweep (points, the grid's product plus the listed ones, times seeds): each
#: is a row in memory and in the database; a larger sweep is refused before it is built
MAX_TASKS = 100_000
#: the lock file next to the results file, held while a sweep writes it
LOCK_SUFFIX = ".lock"


@dataclass(frozen=True)
class SweepConfig:
    study: str
    points: tuple  # each point's full parameter dict, as a tuple of sorted (name, value) items
    seeds: tuple[int, ...]
    metrics: tuple[str, ...] | None
    source: str = ""
    #: the parameters the configuration's [grid] and [[points]] name (the others are
    #: [fixed] or derived by the study, such as a circuit file's SHA-256)
    given: tuple[str, ...] = ()

    def tasks(self) -> list[tuple[dict, int]]:
        return [(dict(p), s) for p in self.points for s in self.seeds]

    def swept(self) -> list[str]:
        """Parameters that take more than one value across the points."""
        names = sorted({k for p in self.points for k, _ in p})
        return [k for k in names if len({canonical({"v": dict(p).get(k)}) for p in self.points}) > 1]

    def plotted(self) -> list[str]:
        """The swept parameters the configuration names (a parameter the study derives from
        them, such as a circuit's ``sha256`` from its ``verilog``, varies with them and gets
        no plot of its own); all swept ones when it names none of them."""
        swept = self.swept()
        return [k for k in swept if k in self.given] or swept


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def parse_config(data: dict, source: str = "<config>") -> SweepConfig:
    """Check a sweep description (the TOML's tables) and build every point's full parameter
    dict (``Study.normalize``: for ``unit-error`` the unit's ``Params.to_dict()``), so every
    error appears before any work. Raises :class:`SweepError`, one line starting with
    ``source``."""
    from hwsim.studies import STUDIES, get_study

    sc = Schema(source, SweepError)
    bad = sc.bad
    sc.keys(data, ("study", "seeds", "metrics", "fixed", "grid", "points", "skip_invalid"))
    if "study" not in data:
        raise bad(f"missing key 'study' (studies: {', '.join(STUDIES)})")
    if not isinstance(data["study"], str):
        raise bad(f"study must be a study name (a string; studies: {', '.join(STUDIES)}), "
                  f"not {short_repr(data['study'])}")
    try:
        study = get_study(data["study"])
    except ValueError as e:
        raise bad(f"study: {e}") from None
    seeds = data.get("seeds", [0])
    if (not isinstance(seeds, list) or not seeds
            or not all(_is_int(s) and 0 <= s <= MAX_SEED for s in seeds)):
        raise bad(f"seeds must be a non-empty list of integers in 0..{MAX_SEED}, "
                  f"not {short_repr(seeds)}")
    if len(set(seeds)) != len(seeds):
        raise bad(f"seeds must not repeat, not {short_repr(seeds)}")
    metrics = data.get("metrics")
    if metrics is not None and (not isinstance(metrics, list)
                                or not all(isinstance(m, str) for m in metrics)):
        raise bad(f"metrics must be a list of metric names (strings), not {short_repr(metrics)}")
    skip = data.get("skip_invalid", False)
    if not isinstance(skip, bool):
        raise bad(f"skip_invalid must be true or false, not {short_repr(skip)}")
    fixed, grid = sc.table(data, "fixed"), sc.table(data, "grid")
    listed = sc.tables(data, "points")
    for k, v in grid.items():
        if not isinstance(v, list) or not v:
            raise bad(f"grid.{k} must be a non-empty list, not {short_repr(v)}")
        if k in fixed:
            raise bad(f"grid.{k} must not also be in [fixed] (fixed.{k} = {short_repr(fixed[k])})")
    try:
        names = study.param_names()
    except RuntimeError as e:  # the study's module needs an extra
        raise bad(str(e)) from None
    for where, keys in (("fixed", fixed), ("grid", grid),
                        *((f"points[{i}]", p) for i, p in enumerate(listed))):
        for k in keys:
            if k not in names:
                raise bad(f"{where}: study {study.name!r} has no parameter {k!r} "
                          f"(parameters: {', '.join(names)})")
    size = (math.prod(len(v) for v in grid.values()) if grid else 0) + len(listed) or 1
    if size * len(seeds) > MAX_TASKS:
        grid_text = (" x ".join(f"{len(v)} {k}" for k, v in grid.items())
                     or ("listed" if listed else "fixed"))
        raise bad(f"the sweep has {size:,} points ({grid_text}) x {len(seeds):,} seeds, more "
                  f"than {MAX_TASKS:,} tasks: split it into several sweeps")
    points = []
    if grid:
        keys = list(grid)
        for combo in itertools.product(*(grid[k] for k in keys)):
            points.append({**fixed, **dict(zip(keys, combo))})
    for p in listed:
        points.append({**fixed, **p})
    if not points:
        if fixed:
            points = [dict(fixed)]
        else:
            raise bad("the sweep is empty: give [grid] lists, [[points]] or [fixed]")
    full, first = {}, None
    for p in points:
        try:
            params = study.normalize(p)
        except RuntimeError as e:  # the study's module needs an extra
            raise bad(str(e)) from None
        except (TypeError, ValueError) as e:
            where = ", ".join(f"{k}={short_repr(v)}" for k, v in p.items() if k not in fixed)
            first = first or f"{e} (at {where or 'the fixed point'})"
            if skip:
                continue
            raise bad(f"{e} (at {where or 'the fixed point'}; "
                      f"skip_invalid = true drops such points)") from None
        full.setdefault(canonical(params), tuple(sorted(params.items())))  # keep order, drop repeats
    if not full:
        raise bad(f"every point is invalid for study {study.name!r}; the first: {first}")
    return SweepConfig(study=study.name, points=tuple(full.values()), seeds=tuple(seeds),
                       metrics=tuple(metrics) if metrics else None, source=source,
                       given=tuple(sorted({*grid, *(k for q in listed for k in q)})))


def load_config(path) -> SweepConfig:
    """Read and check a sweep's TOML file (:func:`parse_config`); every problem with the
    file (missing, a directory, unreadable, not UTF-8, not TOML) is a :class:`SweepError`."""
    import stat
    path = Path(path)
    try:
        if stat.S_ISCHR(path.stat().st_mode) or stat.S_ISBLK(path.stat().st_mode):
            raise SweepError(f"{path}: is a device, not a sweep file (TOML)")  # read for ever
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SweepError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise SweepError(f"{path}: is a directory, not a sweep file (TOML)") from None
    except PermissionError:
        raise SweepError(f"{path}: is not readable (permission denied)") from None
    except OSError as e:
        raise SweepError(f"{path}: cannot be read ({e.strerror or e})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise SweepError(f"{path}: is not UTF-8 text (byte {e.start})") from None
    from hwsim.paths import parse_toml
    try:
        data = parse_toml(text, str(path))
    except ValueError as e:
        raise SweepError(str(e)) from None
    return parse_config(data, str(path))


# -- output paths -------------------------------------------------------------------------------

def check_output_dir(path, option: str = "-o/--output") -> Path:
    """The sweep's output directory ``path`` exists as a writable directory or can be
    created, and any ``results.sqlite`` in it is a file. Raises :class:`SweepError`."""
    from hwsim import paths
    try:
        p = paths.check_output_dir(path, option)
    except ValueError as e:
        raise SweepError(str(e)) from None
    db = p / "results.sqlite"
    if db.exists() and not db.is_file():
        raise SweepError(f"{option} {str(p)!r}: {str(db)!r} is not a results file")
    return p


def check_output_file(path, option: str = "--export") -> Path:
    """``path`` can be written as a file (absent or a writable file in an existing, writable
    directory). Raises :class:`SweepError`."""
    from hwsim import paths
    try:
        return paths.check_output_file(path, option)
    except ValueError as e:
        raise SweepError(str(e)) from None


# -- the code fingerprint -----------------------------------------------------------------------

def _source_roots() -> list[tuple[str, Path]]:
    """(package, directory) of the packages whose code computes rows: hwsim (with its
    studies and data), hwsim.hdl and hwsim.sim (found without importing them)."""
    import importlib.util
    roots = [("hwsim", Path(hwsim.__file__).parent)]
    for name in ("hwsim.hdl", "hwsim.sim"):
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations:
            roots.append((name, Path(list(spec.submodule_search_locations)[0])))
    return roots


def _source_files(root: Path) -> list[Path]:
    files = [f for f in root.rglob("*.py") if "__pycache__" not in f.parts]
    files += [f for f in (root / "data").glob("*") if f.is_file()] if (root / "data").is_dir() else []
    return sorted(set(files), key=lambda f: f.relative_to(root).as_posix())


def code_fingerprint() -> str:
    """SHA-256 over the code that computes sweep rows: every ``.py`` file of the hwsim,
    hwsim.hdl and hwsim.sim packages and hwsim's data files, each as its package-relative
    path and its bytes, in sorted order. Documentation, tests and examples are not part of
    it (a docs change keeps every stored row); any byte changed in a source file changes it
    (a comment too: comparing behaviour instead would mean running the code)."""
    h = hashlib.sha256()
    for package, root in _source_roots():
        for f in _source_files(root):
            h.update(f"{package}:{f.relative_to(root).as_posix()}\0".encode())
            h.update(hashlib.sha256(f.read_bytes()).digest())
    return h.hexdigest()


_PROCESS_FINGERPRINT: list[str] = []


def _process_fingerprint() -> str:
    """:func:`code_fingerprint` as this worker process first saw it (its modules were
    imported then; files edited later do not change the code it runs)."""
    if not _PROCESS_FINGERPRINT:
        _PROCESS_FINGERPRINT.append(code_fingerprint())
    return _PROCESS_FINGERPRINT[0]


# -- tasks --------------------------------------------------------------------------------------

def task_spec(study: str, params: dict, seed: int, code: str) -> dict:
    """What a row's key hashes: the study, the task's full parameters (for unit-error the
    unit's ``Params.to_dict()``), the seed and the code fingerprint."""
    return {"kind": "sweep", "study": study, "params": params, "seed": seed, "code": code}


def run_task(study: str, params: dict, seed: int, code: str | None = None) -> dict:
    """Run one (study, params, seed) task; returns its row, with the fingerprint of the code
    that computed it (``code``, else this process's). Runs in a worker process."""
    from hwsim.studies import get_study
    code = code or _process_fingerprint()
    t0 = time.perf_counter()
    try:
        metrics = get_study(study).run(dict(params), seed)
    except Exception as e:  # one picklable line, not a worker's traceback
        where = ", ".join(f"{k}={short_repr(v)}" for k, v in params.items())
        first = (str(e).strip().splitlines() or [""])[0]
        raise TaskError(f"{study} task ({where}; seed {seed}) failed: "
                        f"{type(e).__name__}{': ' + first if first else ''}") from None
    return {"study": study, "params": params, "seed": seed, "metrics": metrics,
            "seconds": round(time.perf_counter() - t0, 3), "code": code}


def _open_db(db_path) -> ResultDB:
    try:
        return ResultDB(db_path)
    except sqlite3.DatabaseError as e:
        raise SweepError(f"{db_path}: not a hwsim results database ({e}); give another "
                         f"output directory") from None
    except OSError as e:
        raise SweepError(f"{db_path}: cannot be opened ({e.strerror or e})") from None


@contextlib.contextmanager
def _exclusive(db_path: Path):
    """Hold an exclusive ``flock`` on ``<db_path>.lock`` (holding this process's pid) for
    the run: a second sweep on the same results fails at once instead of writing beside
    this one. The kernel drops the lock when this process dies, however it dies."""
    try:
        import fcntl
    except ImportError:  # no flock (Windows): no lock
        yield
        return
    lock = db_path.with_name(db_path.name + LOCK_SUFFIX)
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        raise SweepError(f"{lock}: cannot create the sweep's lock file ({e.strerror or e})") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip()
            raise SweepError(f"{db_path}: another sweep (pid {holder or '?'}) is writing "
                             f"these results; wait for it to finish or give another output "
                             f"directory") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)


def run_sweep(cfg: SweepConfig, db_path, *, jobs: int = 1, scheduler: str | None = None,
              progress: bool = False, desc: str | None = None) -> dict:
    """Run every task of ``cfg`` not yet in ``db_path`` for the current code; returns counts
    ``{"tasks", "cached", "computed", "seconds", "fingerprint"}``.

    The code fingerprint (:func:`code_fingerprint`) is computed once per run; rows stored
    by other code are kept in the file but never served. The run holds ``<db_path>.lock``
    (:class:`SweepError` if another sweep holds it). Local workers die with this process
    (even on SIGKILL: Linux parent-death signal, else a watchdog thread), and on any error
    or interrupt they are killed before this returns."""
    t0 = time.perf_counter()
    with SweepRunner(db_path, jobs=jobs, scheduler=scheduler) as runner:
        _, computed = runner.run(cfg.study, cfg.tasks(), progress=progress, desc=desc)
        total = len(cfg.tasks())
    return {"tasks": total, "cached": total - computed, "computed": computed,
            "seconds": time.perf_counter() - t0, "fingerprint": runner.code}


class SweepRunner:
    """An open results file: locked, its code fingerprint computed, the local pool (or the
    Dask client) started at the first task and kept until the ``with`` block ends, so a
    search can run batch after batch (:meth:`run`) without starting workers again.

    ``with SweepRunner(db_path, jobs=2) as r: rows, computed = r.run(study, tasks)``. The
    guarantees are :func:`run_sweep`'s: stored rows of the current code are served, never
    recomputed; workers die with this process; an error or interrupt kills them."""

    def __init__(self, db_path, *, jobs: int = 1, scheduler: str | None = None):
        self.db_path, self.jobs, self.scheduler = Path(db_path), jobs, scheduler
        self.code: str | None = None
        self._stack = contextlib.ExitStack()
        self._pool = self._client = None
        self.db: ResultDB | None = None

    def __enter__(self) -> "SweepRunner":
        try:
            self.db_path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise SweepError(f"{self.db_path.parent}: cannot create the output directory "
                             f"({e.strerror or e})") from None
        self.code = code_fingerprint()
        with contextlib.ExitStack() as stack:
            stack.enter_context(_exclusive(self.db_path))
            self.db = _open_db(self.db_path)
            stack.callback(self._close)
            self._stack = stack.pop_all()
        return self

    def __exit__(self, *exc) -> None:
        self._stack.close()

    def _close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        if self._client is not None:
            self._client.close()
            self._client = None
        self.db.close()

    def stored(self, study: str, params: dict, seed: int) -> dict | None:
        """The stored row of a task for the current code, or None."""
        return self.db.get(task_spec(study, params, seed, self.code))

    def run(self, study: str, tasks, *, progress: bool = False, desc: str | None = None
            ) -> tuple[list[dict], int]:
        """The rows of ``tasks`` (``(params, seed)`` pairs), in their order, each stored
        before this returns; and how many were computed (the rest were stored). With
        ``progress``, a bar (:func:`hwsim.progress.bar`) named ``desc`` (default the study)."""
        from hwsim.progress import bar as progress_bar
        tasks = list(tasks)
        rows = [self.stored(study, p, s) for p, s in tasks]
        todo = [(p, s) for (p, s), r in zip(tasks, rows) if r is None]
        bar = progress_bar(len(tasks), initial=len(tasks) - len(todo), unit="task",
                           desc=desc or study, show=progress)
        code, fresh = self.code, {}

        def store(row):
            if row["code"] != code:
                raise SweepError(f"a worker runs other hwsim code (fingerprint "
                                 f"{row['code'][:12]}) than this sweep ({code[:12]}): "
                                 f"give every worker the same hwsim sources")
            spec = task_spec(study, row["params"], row["seed"], code)
            self.db.put(spec, row)
            fresh[canonical(spec)] = row
            bar.update(1)

        if todo:
            if self.scheduler:
                self._run_dask(study, todo, store)
            elif self.jobs <= 1:
                for p, s in todo:
                    store(run_task(study, p, s, code))
            else:
                self._run_pool(study, todo, store)
        bar.close()
        rows = [r if r is not None else fresh[canonical(task_spec(study, p, s, code))]
                for (p, s), r in zip(tasks, rows)]
        return rows, len(todo)

    def _run_pool(self, study, todo, store):
        import multiprocessing as mp
        from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
        # "spawn": workers start clean (no inherited threads or open database handles); they
        # read the thread variables when they import numpy / numba, i.e. at spawn. Workers
        # are spawned by this thread (submit), which outlives them: the parent-death signal
        # is tied to the spawning thread.
        with _worker_threads(self.jobs):
            if self._pool is None:
                self._pool = ProcessPoolExecutor(self.jobs, mp_context=mp.get_context("spawn"),
                                                 initializer=_worker_init,
                                                 initargs=(os.getpid(),))
            try:
                pending = {self._pool.submit(run_task, study, p, s) for p, s in todo}
                while pending:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for f in done:
                        store(f.result())
            except BaseException:  # a failed task, a bad row, Ctrl-C: no worker outlives this
                _kill_workers(self._pool)
                self._pool = None
                raise

    def _run_dask(self, study, todo, store):
        try:
            from dask.distributed import Client, as_completed
        except ImportError:
            raise SweepError("--scheduler needs dask.distributed: pip install 'hwsim[cluster]'") from None
        if self._client is None:
            self._client = Client(self.scheduler)
        futures = [self._client.submit(run_task, study, p, s, pure=False) for p, s in todo]
        try:
            for f in as_completed(futures):
                store(f.result())
        except BaseException:
            self._client.cancel(futures)
            raise


#: thread-pool sizes a worker inherits; each defaults to every core, so ``jobs`` workers
#: would oversubscribe the machine ``jobs`` times (measured: a 7-task MiniLM sweep on 2 cores
#: took 51 s with 2 workers x 2 BLAS threads, 11 s with 1 thread each)
THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")


@contextlib.contextmanager
def _worker_threads(jobs: int):
    """Give spawned workers ``cores // jobs`` threads each (unless the user set the
    variables), restoring the parent's environment afterwards."""
    n = str(max(1, (os.cpu_count() or 1) // jobs))
    saved = {k: os.environ.get(k) for k in THREAD_ENV}
    for k in THREAD_ENV:
        os.environ.setdefault(k, n)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


#: Linux prctl(2) option: the signal a process gets when its parent dies
PR_SET_PDEATHSIG = 1
#: seconds between the watchdog's checks of the parent (where prctl is missing)
WATCHDOG_PERIOD = 0.5


def _worker_init(parent: int) -> None:
    """Initializer of every local worker: die with the sweep process ``parent``.

    On Linux ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` makes the kernel kill the worker when its
    parent dies (SIGKILL included); a parent that died before that call is caught by
    comparing ``getppid()`` afterwards. Elsewhere (or if prctl fails) a daemon thread polls
    ``getppid()`` every WATCHDOG_PERIOD seconds and exits when the worker was reparented.
    SIGINT is ignored: on Ctrl-C the parent stops the workers itself."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    armed = False
    if sys.platform.startswith("linux"):
        try:
            import ctypes
            libc = ctypes.CDLL(None, use_errno=True)
            armed = libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
        except (OSError, AttributeError):
            armed = False
    if os.getppid() != parent:
        os._exit(1)
    if not armed:
        def watch():
            while os.getppid() == parent:
                time.sleep(WATCHDOG_PERIOD)
            os._exit(1)
        threading.Thread(target=watch, name="hwsim-sweep-watchdog", daemon=True).start()


def _kill_workers(pool) -> None:
    """Stop a process pool now: drop queued tasks, kill the workers, reap them."""
    pool.shutdown(wait=False, cancel_futures=True)
    procs = list((getattr(pool, "_processes", None) or {}).values())
    for p in procs:
        with contextlib.suppress(Exception):
            p.kill()
    for p in procs:
        with contextlib.suppress(Exception):
            p.join(5)


def check_scheduler(address: str) -> None:
    """Connect to the Dask scheduler once, so a bad ``--scheduler`` address is one line
    (:class:`SweepError`) before any output is made or work is done."""
    try:
        from dask.distributed import Client
    except ImportError:
        raise SweepError("--scheduler needs dask.distributed: pip install 'hwsim[cluster]'") from None
    try:
        with Client(address, timeout="10s"):
            pass
    except (OSError, ValueError, TypeError) as e:
        msg = (str(e).splitlines() or [type(e).__name__])[0]
        raise SweepError(f"--scheduler must be a reachable Dask scheduler address, not "
                         f"{address!r} ({msg})") from None


def sweep_rows(cfg: SweepConfig, db_path, *, fingerprint: str | None = None) -> list[dict]:
    """The stored rows of ``cfg``'s tasks computed by the current code (``fingerprint``,
    default :func:`code_fingerprint`; pass ``run_sweep(...)["fingerprint"]`` to read what
    that run stored), in task order; missing ones skipped."""
    code = fingerprint or code_fingerprint()
    db = _open_db(db_path)
    try:
        rows = [db.get(task_spec(cfg.study, p, s, code)) for p, s in cfg.tasks()]
    finally:
        db.close()
    return [r for r in rows if r is not None]


def export_csv(rows: list[dict], path, option: str = "the CSV file") -> Path:
    """One line per row: study, seed, every parameter, every metric, seconds (written
    atomically). ``none`` is a ``None`` value, an empty cell a parameter the row's point
    does not have (e.g. ``frac_bits`` in a mitchell-mul row); formats are JSON objects."""
    from hwsim.paths import write_text_atomic
    path = Path(path)
    params = sorted({k for r in rows for k in r["params"]})
    metrics = sorted({k for r in rows for k in r["metrics"]})
    fh = io.StringIO()
    w = csv.writer(fh)
    w.writerow(["study", "seed", *params, *metrics, "seconds"])
    for r in rows:
        w.writerow([r["study"], r["seed"], *[_cell(r["params"], k) for k in params],
                    *[_cell(r["metrics"], k) for k in metrics], r["seconds"]])
    try:
        write_text_atomic(path, fh.getvalue(), option)
    except ValueError as e:
        raise SweepError(str(e)) from None
    return path


def _cell(d: dict, k: str):
    if k not in d:
        return ""
    v = d[k]
    if v is None:
        return "none"
    return json.dumps(v, sort_keys=True) if isinstance(v, (dict, list)) else v


def _label(v):
    """A parameter value as a hashable plot coordinate (formats as their JSON)."""
    return canonical(v) if isinstance(v, (dict, list)) else v


def plot_sweep(cfg: SweepConfig, rows: list[dict], out_dir) -> list[Path]:
    """Metric against each swept parameter (mean over seeds, one line per combination of the
    other swept parameters), and accuracy against cost where a cost column exists."""
    from hwsim.render import plots
    out_dir = Path(out_dir)
    swept = cfg.plotted()
    metrics = list(cfg.metrics or sorted({k for r in rows for k, v in r["metrics"].items()
                                          if isinstance(v, (int, float)) and not isinstance(v, bool)}))
    paths = []
    for param in swept:
        numeric = all(isinstance(r["params"].get(param), (int, float))
                      and not isinstance(r["params"].get(param), bool) for r in rows)
        for metric in metrics:
            series: dict[str, dict] = {}
            for r in rows:
                if metric not in r["metrics"] or r["metrics"][metric] is None:
                    continue
                if param not in r["params"]:
                    continue
                others = ", ".join(f"{k}={_label(r['params'][k])}" for k in swept
                                   if k != param and k in r["params"]) or cfg.study
                x = _label(r["params"][param])
                series.setdefault(others, {}).setdefault(x, []).append(r["metrics"][metric])
            if not series:
                continue
            p = out_dir / f"{metric}_vs_{param}.png"
            plots.sweep_lines(p, param, metric, {k: {x: sum(v) / len(v) for x, v in d.items()}
                                                 for k, d in series.items()}, numeric)
            paths.append(p)
    cost = next((c for c in ("lut4", "cost") if any(c in r["metrics"] for r in rows)), None)
    if cost:
        for metric in (m for m in metrics if m != cost):
            pts = [(r["metrics"][cost], r["metrics"][metric], canonical(r["params"])) for r in rows
                   if r["metrics"].get(cost) is not None and r["metrics"].get(metric) is not None
                   and not math.isnan(r["metrics"][metric])]
            if pts:
                p = out_dir / f"{metric}_vs_{cost}.png"
                plots.sweep_pareto(p, cost, metric, pts)
                paths.append(p)
    return paths
