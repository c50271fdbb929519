"""The sweep engine: run a study over a grid of parameters and seeds, resumably.

A sweep is a TOML file::

    study = "digits-mlp"          # a name from hwsim.studies.STUDIES
    seeds = [0, 1, 2]             # optional, default [0]
    metrics = ["accuracy"]        # optional: plot only these (default: all the study reports)

    [fixed]                       # optional: parameters shared by every point
    multiplier = "mitchell"

    [grid]                        # the cartesian product of these lists ...
    width = [4, 6, 8, 12, 16]
    keep_bits = ["none", 3]       # TOML has no null: "none" means None

    [[points]]                    # ... and/or explicit points (each merged over [fixed])
    multiplier = "exact"
    width = 16

    skip_invalid = true           # optional: drop points the study rejects (else an error)

Every task is (study, params, seed). Its row is stored in an SQLite results file (WAL mode,
one transaction per row) under a key hashing (study, params, seed, hwsim version), so a
killed sweep restarts where it stopped and never recomputes a stored row. Tasks run in a
local process pool (``jobs``) or on a Dask distributed cluster (``scheduler``); each task's
randomness comes only from its seed, so both give identical rows. Only the parent process
writes to the database.
"""

from __future__ import annotations

import contextlib
import csv
import itertools
import json
import math
import os
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

import hwsim
from hwsim.resultdb import ResultDB, canonical

__all__ = ["SweepConfig", "SweepError", "load_config", "run_sweep", "sweep_rows", "export_csv"]


class SweepError(ValueError):
    """A bad sweep configuration (reported as one line naming the key)."""


@dataclass(frozen=True)
class SweepConfig:
    study: str
    points: tuple  # tuple of frozen-ish param dicts (as sorted item tuples)
    seeds: tuple[int, ...]
    metrics: tuple[str, ...] | None
    source: str = ""

    def tasks(self) -> list[tuple[dict, int]]:
        return [(dict(p), s) for p in self.points for s in self.seeds]

    def swept(self) -> list[str]:
        """Parameters that take more than one value across the points."""
        names = sorted({k for p in self.points for k, _ in p})
        return [k for k in names if len({canonical({"v": dict(p).get(k)}) for p in self.points}) > 1]


def _none(v):
    return None if isinstance(v, str) and v.lower() == "none" else v


def parse_config(data: dict, source: str = "<config>") -> SweepConfig:
    from hwsim.studies import STUDIES, get_study
    known_keys = {"study", "seeds", "metrics", "fixed", "grid", "points", "skip_invalid"}
    extra = sorted(set(data) - known_keys)
    if extra:
        raise SweepError(f"{source}: unknown key {extra[0]!r} (keys: {', '.join(sorted(known_keys))})")
    if "study" not in data:
        raise SweepError(f"{source}: missing key 'study' (studies: {', '.join(STUDIES)})")
    try:
        study = get_study(data["study"])
    except ValueError as e:
        raise SweepError(f"{source}: study: {e}") from None
    seeds = data.get("seeds", [0])
    if not isinstance(seeds, list) or not seeds or not all(isinstance(s, int) and s >= 0 for s in seeds):
        raise SweepError(f"{source}: seeds must be a non-empty list of integers >= 0, not {seeds!r}")
    fixed = data.get("fixed", {})
    grid = data.get("grid", {})
    listed = data.get("points", [])
    for name, table in (("fixed", fixed), ("grid", grid)):
        if not isinstance(table, dict):
            raise SweepError(f"{source}: [{name}] must be a table, not {table!r}")
    if not isinstance(listed, list):
        raise SweepError(f"{source}: points must be an array of tables ([[points]])")
    for k, v in grid.items():
        if not isinstance(v, list) or not v:
            raise SweepError(f"{source}: grid.{k} must be a non-empty list, not {v!r}")
    names = list(fixed) + list(grid) + [k for p in listed for k in p]
    for k in names:
        if k not in study.params:
            raise SweepError(f"{source}: study {study.name!r} has no parameter {k!r} "
                             f"(parameters: {', '.join(study.params)})")
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
            raise SweepError(f"{source}: the sweep is empty: give [grid] lists, [[points]] or [fixed]")
    skip = data.get("skip_invalid", False)
    if not isinstance(skip, bool):
        raise SweepError(f"{source}: skip_invalid must be true or false, not {skip!r}")
    full = []
    for p in points:
        params = {**study.params, **{k: _none(v) for k, v in p.items()}}
        try:
            study.check(params)
        except (TypeError, ValueError) as e:
            if skip:
                continue
            where = ", ".join(f"{k}={v}" for k, v in p.items() if k not in fixed)
            raise SweepError(f"{source}: {e} (at {where or 'the fixed point'}; "
                             f"skip_invalid = true drops such points)") from None
        full.append(tuple(sorted(params.items(), key=lambda kv: kv[0])))
    if not full:
        raise SweepError(f"{source}: every point is invalid for study {study.name!r}")
    unique = tuple(dict.fromkeys(full))  # keep order, drop repeats
    metrics = data.get("metrics")
    if metrics is not None and (not isinstance(metrics, list) or not all(isinstance(m, str) for m in metrics)):
        raise SweepError(f"{source}: metrics must be a list of names, not {metrics!r}")
    return SweepConfig(study=study.name, points=unique, seeds=tuple(seeds),
                       metrics=tuple(metrics) if metrics else None, source=source)


def load_config(path) -> SweepConfig:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise SweepError(f"{path}: no such file") from None
    except tomllib.TOMLDecodeError as e:
        raise SweepError(f"{path}: not valid TOML: {e}") from None
    return parse_config(data, str(path))


def task_spec(study: str, params: dict, seed: int) -> dict:
    return {"kind": "sweep", "study": study, "params": params, "seed": seed,
            "version": hwsim.__version__}


def run_task(study: str, params: dict, seed: int) -> dict:
    """Run one (study, params, seed) task; returns its row. Runs in a worker process."""
    from hwsim.studies import get_study
    t0 = time.perf_counter()
    metrics = get_study(study).run(dict(params), seed)
    return {"study": study, "params": params, "seed": seed, "metrics": metrics,
            "seconds": round(time.perf_counter() - t0, 3)}


def run_sweep(cfg: SweepConfig, db_path, *, jobs: int = 1, scheduler: str | None = None,
              progress: bool = False) -> dict:
    """Run every task of ``cfg`` not yet in ``db_path``; returns counts
    ``{"tasks", "cached", "computed", "seconds"}``."""
    from tqdm.auto import tqdm
    t0 = time.perf_counter()
    db = ResultDB(db_path)
    try:
        todo = [(p, s) for p, s in cfg.tasks() if db.get(task_spec(cfg.study, p, s)) is None]
        total = len(cfg.tasks())
        bar = tqdm(total=total, initial=total - len(todo), unit="task", desc=cfg.study,
                   disable=not progress)

        def store(row):
            db.put(task_spec(cfg.study, row["params"], row["seed"]), row)
            bar.update(1)

        if scheduler:
            _run_dask(cfg.study, todo, scheduler, store)
        elif jobs <= 1:
            for p, s in todo:
                store(run_task(cfg.study, p, s))
        else:
            _run_pool(cfg.study, todo, jobs, store)
        bar.close()
    finally:
        db.close()
    return {"tasks": total, "cached": total - len(todo), "computed": len(todo),
            "seconds": time.perf_counter() - t0}


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


def _run_pool(study, todo, jobs, store):
    import multiprocessing as mp
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    # "spawn": workers start clean (no inherited threads or open database handles); they
    # read the thread variables when they import numpy / numba, i.e. at spawn
    with _worker_threads(jobs), ProcessPoolExecutor(jobs, mp_context=mp.get_context("spawn")) as pool:
        pending = {pool.submit(run_task, study, p, s) for p, s in todo}
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for f in done:
                store(f.result())


def _run_dask(study, todo, scheduler, store):
    try:
        from dask.distributed import Client, as_completed
    except ImportError:
        raise SweepError("--scheduler needs dask.distributed: pip install 'hwsim[cluster]'") from None
    with Client(scheduler) as client:
        futures = [client.submit(run_task, study, p, s, pure=False) for p, s in todo]
        for f in as_completed(futures):
            store(f.result())


def sweep_rows(cfg: SweepConfig, db_path) -> list[dict]:
    """The stored rows of ``cfg``'s tasks (in task order; missing ones skipped)."""
    with ResultDB(db_path) as db:
        rows = [db.get(task_spec(cfg.study, p, s)) for p, s in cfg.tasks()]
    return [r for r in rows if r is not None]


def export_csv(rows: list[dict], path) -> Path:
    """One line per row: seed, every parameter, every metric (written atomically)."""
    path = Path(path)
    params = sorted({k for r in rows for k in r["params"]})
    metrics = sorted({k for r in rows for k in r["metrics"]})
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["study", "seed", *params, *metrics, "seconds"])
        for r in rows:
            w.writerow([r["study"], r["seed"], *[_cell(r["params"].get(k)) for k in params],
                        *[_cell(r["metrics"].get(k)) for k in metrics], r["seconds"]])
    tmp.replace(path)
    return path


def _cell(v):
    if v is None:
        return "none"
    return json.dumps(v) if isinstance(v, (dict, list)) else v


def plot_sweep(cfg: SweepConfig, rows: list[dict], out_dir) -> list[Path]:
    """Metric against each swept parameter (mean over seeds, one line per combination of the
    other swept parameters), and accuracy against cost where a cost column exists."""
    from hwsim import plots
    out_dir = Path(out_dir)
    swept = cfg.swept()
    metrics = list(cfg.metrics or sorted({k for r in rows for k, v in r["metrics"].items()
                                          if isinstance(v, (int, float)) and not isinstance(v, bool)}))
    paths = []
    for param in swept:
        numeric = all(isinstance(r["params"][param], (int, float)) and r["params"][param] is not None
                      for r in rows)
        for metric in metrics:
            series: dict[str, dict] = {}
            for r in rows:
                if metric not in r["metrics"] or r["metrics"][metric] is None:
                    continue
                others = ", ".join(f"{k}={r['params'][k]}" for k in swept if k != param) or cfg.study
                series.setdefault(others, {}).setdefault(r["params"][param], []).append(r["metrics"][metric])
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
