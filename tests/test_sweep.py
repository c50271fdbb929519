"""The sweep engine: configs, resume after SIGKILL, local pool vs Dask, export."""

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from hwsim.cli import main
from hwsim.sweep import load_config, run_sweep, sweep_rows
from rtl import require_module

RESUME_CONFIG = """
study = "unit-error"
seeds = [0]
[fixed]
unit = "mitchell-mul"
samples = 400000
[grid]
width = [4, 5, 6, 7, 8, 9, 10, 11, 12, 13]
keep_bits = ["none", 0, 1, 2]
"""

SMALL_CONFIG = """
study = "unit-error"
seeds = [3, 4]
[fixed]
samples = 20000
[grid]
width = [6, 10]
signed = [false, true]
[[points]]
unit = "mitchell-div"
width = 8
frac_bits = 4
"""


def write(tmp_path, text, name="s.toml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def created(db):
    try:
        with sqlite3.connect(db) as con:
            return dict(con.execute("SELECT key, created FROM results"))
    except sqlite3.OperationalError:  # the file exists, the table not yet
        return {}


def test_sigkill_midway_then_resume_computes_each_task_once(tmp_path):
    cfg = write(tmp_path, RESUME_CONFIG)
    out = tmp_path / "out"
    db = out / "results.sqlite"
    cmd = [sys.executable, "-m", "hwsim.cli", "sweep", str(cfg), "-o", str(out), "--jobs", "2",
           "--no-plots"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline:
        if db.exists() and len(created(db)) >= 6:
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the sweep and its workers, mid-write or not
    proc.wait()
    before = created(db)
    assert 6 <= len(before) < 40, f"kill came too late to test resuming ({len(before)} rows)"

    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert f"40 tasks: {len(before)} already stored, {40 - len(before)} computed" in r.stdout
    after = created(db)
    assert len(after) == 40
    assert all(after[k] == t for k, t in before.items())  # finished rows never recomputed
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    rows = sweep_rows(load_config(cfg), db)
    assert len({(r["params"]["width"], r["params"]["keep_bits"]) for r in rows}) == 40


def strip_time(rows):
    return [{k: v for k, v in r.items() if k != "seconds"} for r in rows]


def test_local_pool_and_dask_cluster_give_identical_rows(tmp_path):
    distributed = require_module("dask.distributed", "cluster")
    cfg = load_config(write(tmp_path, SMALL_CONFIG))
    assert len(cfg.tasks()) == 10
    run_sweep(cfg, tmp_path / "pool.sqlite", jobs=2)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        r = run_sweep(cfg, tmp_path / "dask.sqlite", scheduler=cluster.scheduler_address)
    assert r["computed"] == 10
    pool = strip_time(sweep_rows(cfg, tmp_path / "pool.sqlite"))
    dask = strip_time(sweep_rows(cfg, tmp_path / "dask.sqlite"))
    assert pool == dask and len(pool) == 10
    serial = tmp_path / "serial.sqlite"
    run_sweep(cfg, serial, jobs=1)
    assert strip_time(sweep_rows(cfg, serial)) == pool


def test_cli_sweep_writes_csv_and_plots_and_resumes(tmp_path, capsys):
    cfg = write(tmp_path, SMALL_CONFIG)
    out = tmp_path / "o"
    assert main(["sweep", str(cfg), "-o", str(out), "--jobs", "1"]) == 0
    text = capsys.readouterr().out
    assert "10 tasks: 0 already stored, 10 computed" in text
    lines = (out / "results.csv").read_text().splitlines()
    assert lines[0] == ("study,seed,frac_bits,keep_bits,samples,signed,synth,unit,width,"
                        "bias,mae,max_red,mred,wce,seconds")
    assert len(lines) == 11
    assert (out / "mred_vs_width.png").stat().st_size > 5000
    assert main(["sweep", str(cfg), "-o", str(out), "--no-plots"]) == 0
    assert "10 tasks: 10 already stored, 0 computed" in capsys.readouterr().out


@pytest.mark.parametrize("text,msg", [
    ('study = "mnist"', "s.toml: study: unknown study 'mnist' (studies: unit-error"),
    ('study = "unit-error"\n[grid]\nwidht = [8]',
     "s.toml: study 'unit-error' has no parameter 'widht' (parameters: unit, width, signed, "
     "keep_bits, frac_bits, samples, synth)"),
    ('study = "unit-error"\n[grid]\nwidth = []', "s.toml: grid.width must be a non-empty list, not []"),
    ('study = "unit-error"', "s.toml: the sweep is empty: give [grid] lists, [[points]] or [fixed]"),
    ('study = "unit-error"\nseeds = []\n[grid]\nwidth = [8]',
     "s.toml: seeds must be a non-empty list of integers >= 0, not []"),
    ('study = "unit-error"\nrepeat = 3', "s.toml: unknown key 'repeat' (keys: fixed, grid, "
                                         "metrics, points, seeds, skip_invalid, study)"),
    ('study = "unit-error"\n[grid]\nwidth = [4]\nkeep_bits = [3]',
     "s.toml: MitchellMulParams.keep_bits must be None or an integer in 0..2, not 3 (at width=4, "
     "keep_bits=3; skip_invalid = true drops such points)"),
    ('study = "unit-error\n', "s.toml: not valid TOML"),
])
def test_bad_configs_are_one_line_usage_errors(tmp_path, capsys, text, msg):
    cfg = write(tmp_path, text)
    assert main(["sweep", str(cfg), "-o", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"hwsim: error: {cfg.parent}/{msg}") and err.count("\n") == 1
