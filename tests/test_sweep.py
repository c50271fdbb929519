"""The sweep engine: configs, resume after SIGKILL, local pool vs Dask, export."""

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from hwsim.cli import main
from hwsim.studies.unit_error import SUPPORTED
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


@pytest.mark.slow  # subprocess sweeps
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


def test_piped_sweep_shows_progress_lines_and_no_terminal_codes(tmp_path):
    """stderr to a file (CI logs, nohup): the stage's lines with counts and elapsed time, no
    carriage return or escape sequence in either stream; a rerun serves every task."""
    cfg = write(tmp_path, SMALL_CONFIG)
    cmd = [sys.executable, "-m", "hwsim.cli", "sweep", str(cfg), "-o", str(tmp_path / "o"),
           "--jobs", "2", "--no-plots"]
    for run, first in ((1, "0/10 tasks (0%), 0:00 elapsed"),
                       (2, "10/10 tasks (100%), 0:00 elapsed, done")):
        with open(tmp_path / "out.txt", "w") as out, open(tmp_path / "err.txt", "w") as err:
            r = subprocess.run(cmd, stdout=out, stderr=err, timeout=300)
        err = (tmp_path / "err.txt").read_text()
        assert r.returncode == 0, err
        lines = [ln for ln in err.splitlines() if ln.startswith("hwsim: sweep unit-error: ")]
        assert lines[0] == f"hwsim: sweep unit-error: {first}", err
        assert re.fullmatch(r"hwsim: sweep unit-error: 10/10 tasks \(100%\), \d+:\d\d "
                            r"elapsed, done", lines[-1]), err
        assert len(lines) >= 2 if run == 1 else len(lines) == 1  # one more per 10 s
        text = err + (tmp_path / "out.txt").read_text()
        assert "\r" not in text and "\x1b" not in text


def strip_time(rows):
    return [{k: v for k, v in r.items() if k != "seconds"} for r in rows]


@pytest.mark.slow  # a Dask cluster
def test_local_pool_and_dask_cluster_give_identical_rows(tmp_path):
    distributed = require_module("dask.distributed", "cluster")
    cfg = load_config(write(tmp_path, SMALL_CONFIG))
    assert len(cfg.tasks()) == 10
    run_sweep(cfg, tmp_path / "pool.sqlite", jobs=2)
    saved = dict(os.environ)   # dask's nanny sets OMP_NUM_THREADS=1 ... in this process
    try:
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                      dashboard_address=None) as cluster:
            r = run_sweep(cfg, tmp_path / "dask.sqlite", scheduler=cluster.scheduler_address)
    finally:   # later tests' subprocesses (docs transcripts) must see the user's threads
        os.environ.clear()
        os.environ.update(saved)
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
    assert lines[0] == ("study,seed,frac_bits,keep_bits,samples,signed,stages,synth,unit,width,"
                        "bias,mae,max_red,mred,wce,seconds")
    assert len(lines) == 11
    assert (out / "mred_vs_width.png").stat().st_size > 5000
    assert main(["sweep", str(cfg), "-o", str(out), "--no-plots"]) == 0
    assert "10 tasks: 10 already stored, 0 computed" in capsys.readouterr().out


@pytest.mark.parametrize("text,msg", [
    ('study = "mnist"', "s.toml: study: unknown study 'mnist' (studies: unit-error"),
    ('study = "unit-error"\n[grid]\nwidht = [8]',
     "s.toml: grid: study 'unit-error' has no parameter 'widht' (parameters: unit, samples, synth, "
     "width, signed, keep_bits, stages, verilog, top, ports, sha256, frac_bits, k, m, q, fmt, method, in_fmt, out_fmt, base, "
     "lut_bits, segments, order)"),
    ('study = "unit-error"\n[grid]\nwidth = []', "s.toml: grid.width must be a non-empty list, not []"),
    ('study = "unit-error"', "s.toml: the sweep is empty: give [grid] lists, [[points]] or [fixed]"),
    ('study = "unit-error"\nseeds = []\n[grid]\nwidth = [8]',
     "s.toml: seeds must be a non-empty list of integers in 0..4294967295, not []"),
    ('study = "unit-error"\nseeds = [true]\n[grid]\nwidth = [8]',
     "s.toml: seeds must be a non-empty list of integers in 0..4294967295, not [True]"),
    ('study = "unit-error"\npoints = [1, 2]',
     "s.toml: points must be an array of tables ([[points]]), not [1, 2]"),
    ('study = "unit-error"\n[fixed]\nsynth = "no"',
     "s.toml: unit-error: synth must be true or false, not 'no'"),
    ('study = "unit-error"\n[fixed]\nunit = "softmax"',
     f"s.toml: unit-error: unit must be one of {', '.join(SUPPORTED)}, not 'softmax'"),
    ('study = "unit-error"\n[grid]\nwidth = ["8"]',
     "s.toml: MitchellMulParams.width must be an integer in 2..32, not '8'"),
    ('study = "unit-error"\nrepeat = 3', "s.toml: the file has no key 'repeat' (keys: study, "
                                         "seeds, metrics, fixed, grid, points, skip_invalid)"),
    ('study = "unit-error"\n[grid]\nwidth = [4]\nkeep_bits = [3]',
     "s.toml: MitchellMulParams.keep_bits must be None or an integer in 0..2, not 3 (at width=4, "
     "keep_bits=3; skip_invalid = true drops such points)"),
    ('study = "unit-error\n', "s.toml: not valid TOML"),
    ("a = " + "[" * 5000 + "]" * 5000, "s.toml: not valid TOML: nested too deeply"),
    ('study = "unit-error"\n[fixed]\nsamples = 1_000_000_000_000_000_000',
     "s.toml: unit-error: samples must be an integer in 1..10000000000, not "
     "1000000000000000000"),
    ('study = "unit-error"\n[grid]\n' + "\n".join(f"{k} = {list(range(1, 101))}" for k in
                                                 ("width", "samples", "stages")),
     "s.toml: the sweep has 1,000,000 points (100 width x 100 samples x 100 stages) x 1 "
     "seeds, more than 100,000 tasks: split it into several sweeps"),
    ('study = "unit-error"\nseeds = ' + str(list(range(100_001))) + '\n[fixed]\nwidth = 4',
     "s.toml: the sweep has 1 points (fixed) x 100,001 seeds, more than 100,000 tasks"),
    ('study = "mitchell-training"\n[fixed]\nhidden = "abc"',
     "s.toml: mitchell-training: hidden must be an integer in 1..4096, not 'abc'"),
    ('study = "digits-mlp"\n[fixed]\nhidden = 1_000_000_000',
     "s.toml: digits-mlp: hidden must be an integer in 1..4096, not 1000000000"),
    ('study = "taylor-softmax"\n[fixed]\norder = 4.0',
     "s.toml: taylor-softmax: order must be 2, 4, 6 or 8 (even: odd orders go negative), "
     "not 4.0"),
    ('study = "zo-training"\n[fixed]\nwidth = 1',
     "s.toml: zo-training: width must be an integer in 2..32, not 1"),
    ('study = "zo-training"\n[fixed]\nepsilon = inf',
     "s.toml: zo-training: epsilon must be a number in (0, 1.0], not inf"),
])
def test_bad_configs_are_one_line_usage_errors(tmp_path, capsys, text, msg):
    cfg = write(tmp_path, text)
    assert main(["sweep", str(cfg), "-o", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"hwsim: error: {cfg.parent}/{msg}") and err.count("\n") == 1


def test_config_file_problems_are_sweep_errors(tmp_path):
    from hwsim.sweep import SweepError
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b'study = "unit-error\xff"\n')
    for path, msg in [(tmp_path, "is a directory"), (tmp_path / "nope.toml", "no such file"),
                      (bad, r"is not UTF-8 text \(byte 19\)")]:
        with pytest.raises(SweepError, match=rf"^{path}: {msg}"):
            load_config(path)


def test_stages_is_sweepable_and_changing_the_code_recomputes(tmp_path, monkeypatch):
    import shutil
    from pathlib import Path

    import hwsim.sweep as sweep
    cfg = load_config(write(tmp_path, 'study = "unit-error"\n[fixed]\nsamples = 2000\n'
                                      '[grid]\nstages = [0, 1]\n'))
    assert [dict(p)["stages"] for p in cfg.points] == [0, 1]
    src = tmp_path / "src"
    roots = []
    for pkg, root in sweep._source_roots():
        shutil.copytree(root, src / Path(root).name, ignore=shutil.ignore_patterns("__pycache__"))
        roots.append((pkg, src / Path(root).name))
    (src / "docs").mkdir()
    (src / "docs" / "x.md").write_text("a")
    monkeypatch.setattr(sweep, "_source_roots", lambda: roots)
    db = tmp_path / "r.sqlite"
    assert run_sweep(cfg, db)["computed"] == 2
    (src / "docs" / "x.md").write_text("b")  # docs are not code
    assert run_sweep(cfg, db)["cached"] == 2
    model = src / "hwsim" / "mitchell.py"
    model.write_text(model.read_text() + "\n# edited\n")
    r = run_sweep(cfg, db)
    assert r["computed"] == 2 and r["cached"] == 0
    assert len(sweep_rows(cfg, db)) == 2
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT COUNT(*) FROM results").fetchone()[0] == 4


def test_a_second_sweep_on_the_same_results_fails(tmp_path):
    import hwsim.sweep as sweep
    cfg = load_config(write(tmp_path, 'study = "unit-error"\n[fixed]\nsamples = 100\n'))
    db = tmp_path / "r.sqlite"
    with sweep._exclusive(db):
        with pytest.raises(sweep.SweepError, match=r"another sweep \(pid \d+\) is writing"):
            run_sweep(cfg, db)
    assert run_sweep(cfg, db)["computed"] == 1


LONG_CONFIG = """
study = "unit-error"
[fixed]
unit = "mitchell-mul"
width = 16
samples = 30000000
[grid]
keep_bits = ["none", 0, 1, 2, 3, 4, 5, 6]
"""


def _children(pid: int) -> list[int]:
    """Live (non-zombie) processes whose parent is ``pid``, from /proc."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            fields = open(f"/proc/{d}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            out.append(int(d))
    return out


def _alive(pids: list[int]) -> list[int]:
    live = []
    for p in pids:
        try:
            if open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()[0] != "Z":
                live.append(p)
        except OSError:
            pass
    return live


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc (Linux)")
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_killed_sweep_leaves_no_worker_behind(tmp_path, sig):
    """Only the sweep process is signalled (not its group): its pool workers must notice
    their parent died and exit by themselves."""
    cfg = write(tmp_path, LONG_CONFIG)
    cmd = [sys.executable, "-m", "hwsim.cli", "sweep", str(cfg), "-o", str(tmp_path / "o"),
           "--jobs", "2", "--no-plots"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers: list[int] = []
    try:
        deadline = time.time() + 60
        while time.time() < deadline and len(workers) < 2:
            workers = [c for c in _children(proc.pid)
                       if "multiprocessing" in open(f"/proc/{c}/cmdline").read()]
            time.sleep(0.1)
        assert len(workers) >= 2, f"no pool workers appeared: {_children(proc.pid)}"
        time.sleep(0.5)  # let them start computing
        os.kill(proc.pid, sig)
        proc.wait(timeout=30)
        deadline = time.time() + 5
        while _alive(workers) and time.time() < deadline:
            time.sleep(0.1)
        assert _alive(workers) == [], "pool workers outlived the killed sweep"
    finally:
        for p in _alive(workers):
            os.kill(p, signal.SIGKILL)
        if proc.poll() is None:
            proc.kill()


def test_a_failing_task_is_one_line_exit_1(tmp_path, capsys, monkeypatch):
    """A task that raises (the configuration passed its checks) names the study, the task's
    parameters and seed and the error, in one line: exit 1, no worker traceback."""
    import hwsim.studies.unit_error as unit_error

    def broken(params, seed):
        raise ZeroDivisionError("boom\nsecond line")
    monkeypatch.setattr(unit_error, "run", broken)
    cfg = write(tmp_path, 'study = "unit-error"\n[fixed]\nwidth = 4\nsamples = 10\n')
    assert main(["sweep", str(cfg), "-o", str(tmp_path / "o"), "--jobs", "1"]) == 1
    err = capsys.readouterr().err
    assert err.endswith("hwsim: error: unit-error task (keep_bits=None, samples=10, "
                        "signed=False, stages=0, synth=False, unit='mitchell-mul', width=4; "
                        "seed 0) failed: ZeroDivisionError: boom\n"), err
    assert "Traceback" not in err


def test_the_cache_is_under_xdg_cache_home(monkeypatch, tmp_path):
    """The results database and the simulator builds live in the user cache directory
    (platformdirs: $XDG_CACHE_HOME/hwsim on Linux)."""
    from hwsim.eval.resultdb import default_path
    from hwsim.sim.runner import default_build_root
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_path() == tmp_path / "hwsim" / "results.sqlite"
    assert default_build_root() == tmp_path / "hwsim" / "build"


def test_a_derived_parameter_gets_no_plot_of_its_own(tmp_path):
    """Sweeping circuit files: each point's Params carry the file's SHA-256 as well, which
    varies with ``verilog``; the plots are against what the configuration names (was:
    ``*_vs_sha256.png`` beside ``*_vs_verilog.png``)."""
    from hwsim.circuits import Circuit
    from hwsim.sweep import parse_config, plot_sweep
    files = []
    for t in (4, 6):
        f = tmp_path / f"trunc{t}.v"
        f.write_text(Circuit("truncated", 6, t=t).verilog())
        files.append(str(f))
    cfg = parse_config({"study": "unit-error", "seeds": [0],
                        "fixed": {"unit": "circuit-mul", "width": 6, "samples": 5000},
                        "grid": {"verilog": files}}, "s.toml")
    assert {"verilog", "sha256", "top"} <= set(cfg.swept())
    assert cfg.plotted() == ["verilog"]
    db = tmp_path / "s.sqlite"
    run = run_sweep(cfg, db, jobs=1)
    rows = sweep_rows(cfg, db, fingerprint=run["fingerprint"])
    assert len(rows) == 2
    names = sorted(p.name for p in plot_sweep(cfg, rows, tmp_path))
    assert names and all(n.endswith("_vs_verilog.png") for n in names), names
