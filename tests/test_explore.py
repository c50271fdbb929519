"""hwsim explore: configuration errors, the searches, resume after SIGKILL, pool vs Dask, and
the best design reproduced by hwsim run."""

import json
import math
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from hwsim.cli import main
from hwsim.explore.config import parse_config
from hwsim.explore.search import Outcome, greedy, random_search, sampling
from hwsim.graph.assign import units_by_op
from hwsim.progress import is_progress_line
from rtl import require_module, skip_unless_ci

pytestmark = pytest.mark.xdist_group("explore")

GROUPS = """
[[group]]
name = "hidden"
node = "MatMul"
instances = 32
units = ["exact-mul", "mitchell-mul"]
width = [3, 4, 6]

[[group]]
name = "output"
node = "MatMul1"
instances = 10
units = ["exact-mul", "mitchell-mul"]
width = [3, 4, 6]
"""


SEARCH = 'methods = ["sampling", "random", "greedy"]\nbudget = 6\nseeds = [0, 1]'


def config(workload: str, constraint: str = "max_drop = 1.0", search: str = SEARCH) -> str:
    return (f"[workload]\n{workload}\n{GROUPS}\n[constraint]\nmetric = \"accuracy\"\n"
            f"{constraint}\n[cost]\nobjective = \"area\"\nfmax = false\n[search]\n"
            f"{search}\n")


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    """The built-in digits workload's files, written once."""
    require_module("skl2onnx", "ml")
    from hwsim.explore.workloads import write_digits
    d = tmp_path_factory.mktemp("workload")
    model, data = write_digits(d)
    return f'model = "{model}"\ndata = "{data}"'


@pytest.fixture(scope="module")
def synth_db(tmp_path_factory):
    from hwsim.eval.synth import SynthToolNotFound, find_tool
    try:
        find_tool("yosys")
    except SynthToolNotFound as e:
        skip_unless_ci(str(e))
    return tmp_path_factory.mktemp("synth") / "synth.sqlite"


def run_cli(tmp_path, text, *extra, name="e.toml"):
    p = tmp_path / name
    p.write_text(text)
    return main(["explore", str(p), *extra])


# -- configuration errors: one line, exit 2, before any work ------------------------------------

@pytest.mark.parametrize("text, message", [
    ("[workload]\nbuiltin = 'digits'\n[constraint]\nmax_drop = 1", "needs at least one [[group]]"),
    ("[workload]\nbuiltin = 'digits'\n[[group]]\nunits = []\n[constraint]\nmax_drop = 1",
     "units must be a non-empty list"),
    ("[workload]\nbuiltin = 'digits'\n[[group]]\nname = 'a'\n[constraint]\nmax_drop = 1",
     "empty search space"),
    ("[workload]\nbuiltin = 'digits'\n[[group]]\nunits = ['booth-mul']\n[constraint]\nmax_drop = 1",
     "unknown unit 'booth-mul'"),
    ("[workload]\nbuiltin = 'digits'\n[[group]]\nunits = ['realm-mul']\n[constraint]\nmax_drop = 1",
     "group[0].units: explore cannot price realm-mul (only its unsigned RTL exists"),
    ("[workload]\nbuiltin = 'digits'\n[[group]]\n[[group.choice]]\nunit = 'drum-mul'\n"
     "[constraint]\nmax_drop = 1", "group[0]: explore cannot price drum-mul"),
    ("[workload]\nbuiltin = 'digits'\n[[group]]\n[[group.choice]]\nunit = {a = 1}\n"
     "[constraint]\nmax_drop = 1", f"assign[0].unit must be one of {', '.join(sorted({u for us in units_by_op().values() for u in us}))}, "
                                   "not {'a': 1}"),
    ("[workload]\nbuiltin = 'digits'\n[[group]]\nunits = ['exact-mul']\nwidth = []\n"
     "[constraint]\nmax_drop = 1", "width is an empty list"),
    ("[workload]\nbuiltin = 'digits'\n[[group]]\nunits = ['exact-mul']\nkeep_bits = [2]\n"
     "[constraint]\nmax_drop = 1", "has a field 'keep_bits'"),
    ("[workload]\nbuiltin = 'digits'\n[[group]]\n[[group.choice]]\nunit = 'mitchell-mul'\n"
     "width = 4\nkeep_bits = 3\n[constraint]\nmax_drop = 1", "keep_bits"),
    ("[workload]\nbuiltin = 'digits'\n[[group]]\nunits = ['exact-mul']\n[constraint]\n"
     "max_drop = 1\nmin = 0.9", "exactly one of min"),
    ("[workload]\nbuiltin = 'digits'\n[[group]]\nunits = ['exact-mul']\n[constraint]\n"
     "metric = 'mse'\nmax_drop = 1", "constraint.metric must be one of"),
    ("[workload]\nbuiltin = 'cifar'\n[[group]]\nunits = ['exact-mul']\n[constraint]\nmax_drop = 1",
     "workload.builtin must be one of"),
    ("[workload]\nmodel = 'nope.onnx'\ndata = 'x.npz'\n[[group]]\nunits = ['exact-mul']\n"
     "[constraint]\nmax_drop = 1", "is not an existing file"),
    ("[workload]\nbuiltin = 'digits'\n[[group]]\nunits = ['exact-mul']\n[constraint]\n"
     "max_drop = 1\n[search]\nbudget = 0", "search.budget must be an integer in 1.."),
    ("[workload]\nbuiltin = 'digits'\n[[group]]\nunits = ['exact-mul']\n[constraint]\n"
     "max_drop = 1\n[search]\nmethods = ['annealing']", "search.methods must be"),
    ("[workload]\nbuiltin = 'digits'\n[[group]]\nunits = ['exact-mul']\n[constraint]\n"
     "max_drop = 1\n[cost]\nobjective = 'power'", "cost.objective must be one of"),
    ("[workload]\nbuiltin = 'digits'\n[[group]]\nunits = ['exact-mul']\n[constraint]\n"
     "max_drop = 1\n[tuning]\nx = 1", "the file has no key 'tuning'"),
    # a value of a type no TOML table key takes, or one the file system refuses
    ("[workload]\nbuiltin = ['digits']\n[[group]]\nunits = ['exact-mul']\n[constraint]\nmax_drop = 1",
     "workload.builtin must be one of digits, minilm, not ['digits']"),
    ("[workload]\nmodel = '" + "a" * 5000 + "'\ndata = 'x.npz'\n[[group]]\n"
     "units = ['exact-mul']\n[constraint]\nmax_drop = 1", "'aaaaaaaaaaaaaaaaa...aaaaaaaaaaaaaaaaaa' is not an existing file"),
    # a grid value of the wrong kind is an error, not a combination the unit refuses
    ("[workload]\nbuiltin = 'digits'\n[[group]]\nunits = ['exact-mul', 'mitchell-mul']\nwidth = ['4']\n[constraint]\nmax_drop = 1",
     "group[0]: ExactMulParams.width must be an integer in 2..32, not '4'"),
    ("[workload]\nbuiltin = 'digits'\n[[group]]\nunits = ['exact-mul', 'mitchell-mul']\nwidth = [4, nan]\n[constraint]\nmax_drop = 1",
     "group[0]: ExactMulParams.width must be an integer in 2..32, not nan"),
    ("[workload]\nbuiltin = 'digits'\n[[group]]\nunits = ['mitchell-mul']\nwidth = [4]\nkeep_bits = ['two']\n[constraint]\nmax_drop = 1",
     "group[0]: MitchellMulParams.keep_bits must be None or an integer in 0..2, not 'two'"),
    ("[workload]\nbuiltin = 'digits'\n[[group]]\nunits = ['exact-mul']\nwidth = [25]\n[constraint]\nmax_drop = 1",
     "group[0]: every combination of the grid is refused by its unit, e.g. width must be at "
     "most 24 for ONNX products (the int64 sums), not 25"),
    ("[workload]\nbuiltin = 'digits'\n[[group]]\nunits = ['softmax']\nout_fmt = 'Q1.7'\n[constraint]\nmax_drop = 1",
     "group[0]: SoftmaxParams.out_fmt must be a FixedFormat, not 'Q1.7'"),
    # a choice's own selector would override the group's
    ("[workload]\nbuiltin = 'digits'\n[[group]]\n[[group.choice]]\nunit = 'exact-mul'\nwidth = 4\nop = 'Gemm'\n[constraint]\nmax_drop = 1",
     "group[0].choice[0] must hold a unit and its fields, not op = 'Gemm'"),
    ("[workload]\nbuiltin = 'digits'\n[[group]]\nop = 'Frobnicate'\nunits = ['exact-mul']\n[constraint]\nmax_drop = 1",
     f"group[0].op must be an op type hwsim units implement ({', '.join(units_by_op())}), not "
     "'Frobnicate'"),
    ("[workload]\nbuiltin = 'digits'\n[[group]]\nop = ''\nunits = ['exact-mul']\n[constraint]\nmax_drop = 1", "group[0].op must be an op type or a list of them"),
    ("[workload]\nbuiltin = 'digits'\n[[group]]\nop = 'Softmax'\nunits = ['mitchell-mul']\n[constraint]\nmax_drop = 1",
     "group[0].op 'Softmax': unit mitchell-mul cannot run it"),
    ("[workload]\nbuiltin = 'digits'\n[[group]]\nunits = ['exact-mul', 'softmax']\n[constraint]\nmax_drop = 1",
     "group[0]: the units of a group must run one op type, not exact-mul, softmax"),
    ("[workload]\nbuiltin = 'digits'\n[[group]]\nunits = ['exact-mul']\n[constraint]\nmin = -0.5",
     "constraint.min must be a number in 0..1, not -0.5"),
    ("[workload]\nbuiltin = 'digits'\n[[group]]\nunits = ['exact-mul']\n[constraint]\nmetric = 'cosine'\nmin = 0.9\noutput = ''",
     "constraint.output names a model output for cosine / spearman / argmax_agreement, not ''"),
])
def test_bad_configuration_is_one_line_exit_2(tmp_path, capsys, text, message):
    assert run_cli(tmp_path, text, "-o", str(tmp_path / "out")) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "out").exists()  # refused before any work


def test_parse_config_expands_the_grid_per_unit():
    cfg = parse_config({"workload": {"builtin": "digits"}, "constraint": {"max_drop": 0.5},
                        "group": [{"units": ["exact-mul", "mitchell-mul"], "width": [4, 6],
                                   "keep_bits": ["none", 2, 4]}]})
    labels = [c.label for c in cfg.groups[0].choices]
    # keep_bits applies to Mitchell only; keep_bits 4 at width 4 is refused by the unit
    assert labels == ["exact4", "exact6", "mitchell4", "mitchell4 keep_bits=2", "mitchell6",
                      "mitchell6 keep_bits=2", "mitchell6 keep_bits=4"]
    assert len(cfg.warnings) == 1 and "1 grid combination(s)" in cfg.warnings[0]
    assert "keep_bits" in cfg.warnings[0]
    # a grid axis of formats (TOML tables); UQ1.3 is refused (1/8 needs 2 LSBs)
    fmt = [{"int_bits": 1, "frac_bits": f, "signed": False} for f in (3, 5, 7)]
    cfg = parse_config({"workload": {"builtin": "digits"}, "constraint": {"max_drop": 0.5},
                        "group": [{"units": ["softmax"], "out_fmt": fmt}]})
    assert [c.label for c in cfg.groups[0].choices] == ["softmax out_fmt=UQ1.5",
                                                        "softmax out_fmt=UQ1.7"]
    assert "too narrow" in cfg.warnings[0]


# -- the searches, on a problem whose answer is known --------------------------------------------

@dataclass
class Toy:
    """``n`` groups of ``k`` choices; choice i of group g costs ``w[g] * (k - i)`` and loses
    ``s[g] * i**2`` of the metric: cheap choices are harmful, more so in sensitive groups."""

    n: int = 6
    k: int = 8
    floor: float = 0.9

    def __post_init__(self):
        rng = np.random.default_rng(123)
        self.w = rng.uniform(1, 10, self.n)
        self.s = rng.uniform(0.0005, 0.004, self.n)
        self.sizes = (self.k,) * self.n
        self.order = tuple(tuple(range(self.k)) for _ in range(self.n))
        self.calls = []
        self.cmax = float(sum(self.w * self.k))

    def evaluate(self, designs):
        self.calls.append(list(designs))
        out = []
        for d in designs:
            cost = float(sum(self.w[g] * (self.k - i) for g, i in enumerate(d)))
            m = 1 - float(sum(self.s[g] * i * i for g, i in enumerate(d)))
            ok = m >= self.floor
            out.append(Outcome(m, cost, ok, cost / self.cmax if ok else 1 + (self.floor - m) / 0.1))
        return out

    def optimum(self):
        import itertools
        best = math.inf
        for d in itertools.product(range(self.k), repeat=self.n):
            (o,) = self.evaluate([d])
            if o.feasible:
                best = min(best, o.cost)
        return best


OK = "[workload]\nbuiltin = 'digits'\n[[group]]\nunits = ['exact-mul']\n[constraint]\nmax_drop = 1"


@pytest.mark.parametrize("args, message", [
    (["-o", ""], "-o/--output must be a directory, not ''"),
    (["--emit", ""], "--emit must be a directory, not ''"),
    (["--json", ""], "--json must be a file name, not ''"),
    (["--scheduler", ""], "--scheduler must be an address (tcp://host:port), not ''"),
    (["--json", "{out}"], "--json must be a file outside what explore writes in"),
    (["--json", "{out}/results.sqlite"], "results.sqlite' is the results database file; give"),
    (["--json", "{tmp}/cfg-link.json"], "is the CONFIG file"),
    (["--db", "/dev/null"], "--db must be a regular file, not '/dev/null'"),
    (["--config", "/dev/zero"], "CONFIG '/dev/zero' must be a file, not a device"),
])
def test_bad_option_is_one_line_exit_2_before_any_work(tmp_path, capsys, args, message):
    out = tmp_path / "out"
    if any("{out}/" in a for a in args):
        out.mkdir()
    (tmp_path / "link.json").symlink_to(tmp_path / "target.json")
    args = [a.format(out=out, tmp=tmp_path) for a in args]
    config = tmp_path / "e.toml"
    config.write_text(OK)
    (tmp_path / "cfg-link.json").symlink_to(config)   # a link to an input is refused
    if args[0] == "--config":
        config, args = args[1], []
    assert main(["explore", str(config), "-o", str(out), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert not (out.exists() and list(out.iterdir())) and not (tmp_path / "target.json").exists()
    assert (tmp_path / "e.toml").read_text() == OK


def test_unreachable_scheduler_is_one_line_exit_2(tmp_path, capsys):
    require_module("dask.distributed", "cluster")
    assert run_cli(tmp_path, OK, "-o", str(tmp_path / "out"), "--scheduler", "nonsense") == 2
    err = capsys.readouterr().err
    assert "--scheduler must be a reachable Dask scheduler address, not 'nonsense'" in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "out").exists()


@pytest.mark.parametrize("search", [sampling, random_search, greedy])
def test_search_spends_exactly_its_budget_on_distinct_designs_and_repeats_with_its_seed(search):
    a, b = Toy(), Toy()
    ta, tb = search(a, 25, seed=7), search(b, 25, seed=7)
    assert ta.designs == tb.designs and a.calls == b.calls
    assert len(ta.designs) == len(set(ta.designs)) <= 25
    if search is not greedy:  # greedy may stop early: no cheaper feasible step left
        assert len(ta.designs) == 25
    assert all(len(d) == 6 and all(0 <= i < 8 for i in d) for d in ta.designs)
    assert sum(len(c) for c in a.calls) == len(ta.designs)  # no design evaluated twice


def test_sampling_finds_cheaper_designs_than_random_at_equal_budget():
    seeds = range(5)
    cs = [sampling(Toy(), 60, s) for s in seeds]
    rs = [random_search(Toy(), 60, s) for s in seeds]
    assert all(t.best() is not None for t in cs)
    sc = [t.outcomes[t.best()].cost for t in cs]
    rc = [t.outcomes[t.best()].cost if t.best() is not None else math.inf for t in rs]
    assert np.mean(sc) < np.mean(rc)
    # and it gets near the true optimum of the 8**6 designs from 60 evaluations
    assert min(sc) <= 1.25 * Toy().optimum()


def test_sampling_survives_a_temperature_cooled_to_nothing():
    # 1e-6 x 0.01**k underflows to 0 after ~160 steps: the weights must not become 0 / 0
    t = sampling(Toy(), 1000, 0, batch=1, temperature=1e-6, cooling=0.01)
    assert len(t.designs) > 200 and t.best() is not None


def test_greedy_cheapens_the_least_sensitive_group_first():
    toy = Toy()
    t = greedy(toy, 200, 0)
    assert t.designs[0] == (0,) * 6  # the dearest design
    # each group alone on its cheapest choice: its attribution
    assert sorted(t.designs[1:7]) == sorted(tuple(7 * (j == g) for j in range(6)) for g in range(6))
    g = int(np.argmin(toy.s))
    assert t.designs[7] == tuple(int(j == g) for j in range(6))
    # a step is kept only while feasible: the walk ends on its best design
    steps = [d for d, o in zip(t.designs[7:], t.outcomes[7:]) if o.feasible]
    assert steps and t.designs[t.best()] == steps[-1]


# -- end to end on the digits MLP ---------------------------------------------------------------

def test_explore_digits_best_design_reproduces_with_hwsim_run_and_resumes(tmp_path, capsys,
                                                                      digits, synth_db):
    out = tmp_path / "out"
    js = tmp_path / "r.json"
    text = config(digits)
    assert run_cli(tmp_path, text, "-o", str(out), "--jobs", "1", "--db", str(synth_db),
                   "--json", str(js), "--emit", str(tmp_path / "rtl")) == 0
    text_out = capsys.readouterr().out
    r = json.loads(js.read_text())
    for key in ("best", "uniform_best", "evaluations", "front"):
        assert key in r
    best = r["best"]
    assert best["feasible"] and best["metric"] >= r["floor"]
    assert r["evaluations"] == len(r["designs"]) == r["computed"] > 6
    assert all(e["cost"] >= best["cost"] for e in r["designs"] if e["feasible"])
    # the front is non-dominated and holds the best design
    f = r["front"]
    assert all(a["cost"] < b["cost"] and a["metric"] < b["metric"] for a, b in zip(f, f[1:]))
    assert any(e["cost"] == best["cost"] and e["metric"] == best["metric"] for e in f)
    # uniform baselines: every choice the two groups share, costed as the sum of instances
    assert len(r["uniform"]) == 6
    if r["uniform_best"] is not None:
        assert best["cost"] <= r["uniform_best"]["cost"]
    for m, runs in (("sampling", 2), ("random", 2), ("greedy", 1)):  # greedy is seedless
        assert len(r["searches"][m]) == runs
        assert all(run["evaluations"] <= 6 for run in r["searches"][m])
    # area = sum of LUT4 x instances, from the units' synthesis
    costs = {g["name"]: {c["unit"]: c["lut4"] for c in g["choices"]} for g in r["groups"]}
    assert best["area"] == (32 * costs["hidden"][best["design"]["hidden"]]
                            + 10 * costs["output"][best["design"]["output"]])
    assert "best / uniform" in text_out or "no uniform assignment" in text_out
    for name in ("designs.csv", "best.toml", "report.md", "front.png", "search.png"):
        assert (out / name).stat().st_size > 0
    assert list((tmp_path / "rtl").glob("*.v")) and (tmp_path / "rtl" / "cost.md").exists()

    # best.toml through hwsim run gives the accuracy explore reported
    assert main(["run", r["workload"]["model"], "--data", r["workload"]["data"], "--assign",
                 str(out / "best.toml"), "--json", str(tmp_path / "run.json"),
                 "--no-attribution"]) == 0
    assert json.loads((tmp_path / "run.json").read_text())["accuracy"] == best["metric"]

    # a second run serves every design from results.sqlite and finds the same; --json
    # through a link (as /dev/stdout is one) writes the link's target, the link stays
    (tmp_path / "r2.json").symlink_to(tmp_path / "r2-target.json")
    assert run_cli(tmp_path, text, "-o", str(out), "--jobs", "1", "--db", str(synth_db),
                   "--json", str(tmp_path / "r2.json")) == 0
    assert (tmp_path / "r2.json").is_symlink()
    r2 = json.loads((tmp_path / "r2-target.json").read_text())
    assert r2["computed"] == 0 and r2["best"] == r["best"] and r2["front"] == r["front"]


@pytest.mark.slow  # a subprocess explore run
def test_piped_explore_shows_progress_lines_and_no_terminal_codes(tmp_path, digits, synth_db):
    """stderr to a file (CI logs, nohup): one plain line per stage and per interval, with
    counts and elapsed time; no carriage return or escape sequence in either stream."""
    cfg = tmp_path / "e.toml"
    cfg.write_text(config(digits, search='methods = ["random", "greedy"]\nbudget = 3\n'
                                         'seeds = [0]'))
    with open(tmp_path / "out.txt", "w") as out, open(tmp_path / "err.txt", "w") as err:
        r = subprocess.run([sys.executable, "-m", "hwsim.cli", "explore", str(cfg), "-o",
                            str(tmp_path / "o"), "--jobs", "1", "--db", str(synth_db)],
                           stdout=out, stderr=err, timeout=600)
    err = (tmp_path / "err.txt").read_text()
    assert r.returncode == 0, err
    for stage in ("the widest design: 1/1 task", "uniform designs: 5/5 tasks",
                  r"synthesis: (\d)/\1 units?", "random seed 0: 3/3 designs",
                  "greedy seed 0: 3/3 designs"):
        assert any(re.match(rf"hwsim: explore: {stage} \(100%\), \d+:\d\d elapsed, done", ln)
                   for ln in err.splitlines()), (stage, err)
    # the first feasible design, as soon as its units are priced (before the searches)
    lines = err.splitlines()
    first = [i for i, ln in enumerate(lines) if re.match(
        r"hwsim: explore: first feasible design, \d+:\d\d elapsed \(\d of 6 units priced\): "
        r"area \d+ LUT4, accuracy \d+\.\d{3} %: hidden: \w+, output: \w+$", ln)]
    assert len(first) == 1 and all(is_progress_line(ln) for ln in lines if
                                   not ln.startswith("hwsim: warning")), err
    assert first[0] < next(i for i, ln in enumerate(lines) if "random seed 0" in ln)
    text = err + (tmp_path / "out.txt").read_text()
    assert "\r" not in text and "\x1b" not in text


@pytest.mark.slow  # 12 s of CPU
def test_infeasible_floor_says_so_and_exits_1(tmp_path, capsys, digits, synth_db):
    text = config(digits, "min = 1.0", 'methods = ["random"]\nbudget = 3')
    assert run_cli(tmp_path, text, "-o", str(tmp_path / "out"), "--jobs", "1", "--db",
                   str(synth_db)) == 1
    out = capsys.readouterr().out
    assert re.search(r"no feasible design; best accuracy reached was 9\d\.\d{3} % ", out), out


def test_group_matching_no_node_is_one_line_exit_2(tmp_path, capsys, digits, synth_db):
    text = config(digits).replace('node = "MatMul1"', 'node = "fc2"')
    assert run_cli(tmp_path, text, "-o", str(tmp_path / "out"), "--db", str(synth_db)) == 2
    err = capsys.readouterr().err
    assert "group 'output'" in err and "matches no node" in err and len(err.splitlines()) == 1


@pytest.mark.parametrize("case, message", [
    ("no rows", "d.npz has 0 rows; give at least one row per input"),
    ("nan", "must hold finite inputs, not 1 NaN / inf in input X"),
    # every row alike: the rows' pairwise cosines are all 1, their Spearman rho undefined
    ("alike rows", "constraint.metric spearman needs a 2-D float output of 3..2000 rows and 2 "
                   "or more columns, not all rows alike (else its Spearman rho is undefined); "
                   "no output is (outputs: label, probabilities)"),
    ("narrow softmax", "group 'softmax': softmax out_fmt=UQ1.4 must suit the model's softmax "
                       "rows (length 10)"),
    ("argmax of labels", "constraint.metric argmax_agreement needs a float output of 2 or more "
                         "classes (last axis); output 'label' is not one"),
])
def test_bad_data_or_metric_for_the_model_is_one_line_exit_2(tmp_path, capsys, digits, synth_db,
                                                            case, message):
    import tomllib
    paths = tomllib.loads(digits)
    d = np.load(paths["data"])
    x, y = d["X"], d["labels"]
    data = tmp_path / "d.npz"
    if case == "no rows":
        np.savez(data, X=x[:0], labels=y[:0])
    elif case == "nan":
        x = x.copy()
        x[3, 5] = np.nan
        np.savez(data, X=x, labels=y)
    else:  # every row alike: the pairwise cosines are all 1, their Spearman undefined
        np.savez(data, X=np.repeat(x[:1], 10, 0), labels=np.repeat(y[:1], 10))
    workload = f'model = "{paths["model"]}"\ndata = "{data}"'
    text = config(workload, search='methods = ["random"]\nbudget = 2')
    if case == "alike rows":
        text = text.replace('metric = "accuracy"', 'metric = "spearman"')
    elif case == "narrow softmax":
        text = text.replace("[constraint]", "[[group]]\nname = 'softmax'\nop = 'Softmax'\n"
                            "units = ['softmax']\nout_fmt = { int_bits = 1, frac_bits = 4, "
                            "signed = false }\n[constraint]")
    elif case == "argmax of labels":
        text = text.replace('metric = "accuracy"\nmax_drop = 1.0',
                            'metric = "argmax_agreement"\noutput = "label"\nmin = 0.5')
    assert run_cli(tmp_path, text, "-o", str(tmp_path / "out"), "--jobs", "1", "--db",
                   str(synth_db)) == 2
    err = capsys.readouterr().err  # found after pricing: the progress lines come first
    lines = [ln for ln in err.strip().splitlines() if not is_progress_line(ln)]
    assert message in err and len(lines) == 1, err


def rows(db):
    try:
        with sqlite3.connect(db) as con:
            return dict(con.execute("SELECT key, created FROM results WHERE kind = 'sweep'"))
    except sqlite3.OperationalError:
        return {}


def test_sigkill_then_resume_reevaluates_nothing_stored(tmp_path, digits, synth_db):
    cfg = tmp_path / "e.toml"
    cfg.write_text(config(digits, search='methods = ["random", "sampling"]\nbudget = 16\n'
                                         'seeds = [0, 1]'))
    out = tmp_path / "out"
    db = out / "results.sqlite"
    cmd = [sys.executable, "-m", "hwsim.cli", "explore", str(cfg), "-o", str(out), "--jobs",
           "2", "--db", str(synth_db), "--json", str(tmp_path / "r.json")]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    deadline = time.time() + 180
    while time.time() < deadline and len(rows(db)) < 5 and proc.poll() is None:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = rows(db)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    res = json.loads((tmp_path / "r.json").read_text())
    assert 5 <= len(before) < res["evaluations"], "the kill came too late to test resuming"
    assert res["computed"] == res["evaluations"] - len(before)
    after = rows(db)
    assert all(after[k] == t for k, t in before.items())  # stored rows never recomputed


def test_dask_cluster_gives_the_front_of_the_local_pool(tmp_path, digits, synth_db):
    distributed = require_module("dask.distributed", "cluster")
    from hwsim.explore.config import load_config
    from hwsim.explore.run import explore
    from hwsim.eval.resultdb import ResultDB
    p = tmp_path / "e.toml"
    p.write_text(config(digits, search='methods = ["sampling"]\nbudget = 8\nseeds = [3]'))
    cfg = load_config(p)
    with ResultDB(synth_db) as db:
        pool, _ = explore(cfg, tmp_path / "pool", jobs=2, db=db)
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                      dashboard_address=None) as cluster:
            dask, _ = explore(cfg, tmp_path / "dask", scheduler=cluster.scheduler_address, db=db)
    assert dask["computed"] == dask["evaluations"] > 1
    strip = lambda r: [{k: v for k, v in e.items() if k != "assignment"} for e in r["front"]]  # noqa: E731
    assert strip(dask) == strip(pool) and dask["best"]["design"] == pool["best"]["design"]
    assert Path(tmp_path / "dask" / "results.sqlite").exists()


def test_softmax_group_is_searched_and_priced_with_its_row_length(tmp_path, digits, synth_db):
    from hwsim.explore.config import load_config
    from hwsim.explore.run import explore
    from hwsim.eval.resultdb import ResultDB
    p = tmp_path / "e.toml"
    p.write_text(f"""[workload]
{digits}
[[group]]
name = "products"
op = "MatMul"
units = ["exact-mul"]
width = [5, 6]

[[group]]
name = "softmax"
op = "Softmax"
units = ["softmax"]
out_fmt = {{ int_bits = 1, frac_bits = 7, signed = false }}
normalizer = "mitchell_div"     # synthesised in a fifth of the exact divider's time

[[group.choice]]
unit = "exp"

[constraint]
metric = "argmax_agreement"
output = "probabilities"
min = 0.5

[cost]
objective = "lut-ops"
fmax = false

[search]
methods = ["random"]
budget = 4
""")
    with ResultDB(synth_db) as db:
        r, space = explore(load_config(p), tmp_path / "out", db=db)
    assert r["evaluations"] == 4 and r["metric_key"] == "probabilities.argmax_agreement"
    sm = r["groups"][1]
    assert sm["nodes"] == ["Relu1"] and sm["ops_per_row"] == 10  # one exp per class
    assert space.lengths[1] == 10  # the softmax unit is priced at the model's row length
    assert [c["unit"] for c in sm["choices"]] == ["softmax normalizer=mitchell_div out_fmt=UQ1.7",
                                                 "exp"]
    assert "_l10_" in sm["choices"][0]["top"]
    by = {tuple(e["design"].values()): e for e in r["designs"]}
    lut = {c["unit"]: c["lut4"] for c in sm["choices"]}
    e = by[("exact6", "exp")]
    prod = {c["unit"]: c["lut4"] for c in r["groups"][0]["choices"]}
    assert e["lut_ops"] == pytest.approx((64 * 32 + 32 * 10) * prod["exact6"] + 10 * lut["exp"])
    # the exp unit normalised in float is not the softmax unit
    assert e["metric"] != by[("exact6", "softmax normalizer=mitchell_div out_fmt=UQ1.7")]["metric"]


@pytest.mark.parametrize("case, message", [
    ("no labels", "constraint.metric accuracy needs labels in the data file"),
    ("unknown output", "constraint.output 'nope' is not an output of the model (outputs: "),
])
def test_constraint_the_workload_cannot_meet_is_refused_before_pricing(
        tmp_path, capsys, digits, monkeypatch, case, message):
    import tomllib

    import hwsim.explore.run as explore_run

    def price(*args, **kwargs):
        raise AssertionError("priced before the constraint was checked")
    monkeypatch.setattr(explore_run, "price", price)
    paths = tomllib.loads(digits)
    data = tmp_path / "d.npz"
    d = np.load(paths["data"])
    if case == "no labels":
        np.savez(data, X=d["X"])
    else:
        np.savez(data, X=d["X"], labels=d["labels"])
    text = config(f'model = "{paths["model"]}"\ndata = "{data}"',
                  search='methods = ["random"]\nbudget = 2')
    if case == "unknown output":
        text = text.replace('metric = "accuracy"\nmax_drop = 1.0',
                            'metric = "argmax_agreement"\noutput = "nope"\nmin = 0.5')
    out = tmp_path / "out"
    assert run_cli(tmp_path, text, "-o", str(out), "--jobs", "1", "--db", "none") == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert not out.exists()  # no empty output directory left behind


def test_a_unit_whose_place_and_route_fails_keeps_its_area(monkeypatch):
    """With fmax = true, a unit whose nextpnr run fails is priced by its yosys counts (Fmax
    unknown) with one warning, instead of ending the search."""
    from hwsim.eval import synth
    from hwsim.explore.config import Choice
    from hwsim.explore.cost import price
    calls = []

    def fake(spec, params, *, fmax, baseline, db):
        calls.append((params.top_name, fmax))
        if fmax and params.width == 5:
            raise synth.SynthError("nextpnr-ice40 of x timed out after 9 s: ...")
        return synth.SynthResult(top=params.top_name, target="ice40", seconds=1.0, yosys="y",
                                 nextpnr="n" if fmax else None, lut4=10 * params.width, carry=0,
                                 dff=0, ram=0, generic_cells=1,
                                 fmax_mhz=100.0 if fmax else None)
    monkeypatch.setattr(synth, "synthesize", fake)
    choices = [Choice.of("mitchell-mul", {"width": w, "signed": True}) for w in (4, 5)]
    warned = []
    got = price([(c, 0) for c in choices], fmax=True, db=None, warn=warned.append)
    assert [(u.lut4, u.fmax_mhz) for u in got.values()] == [(40, 100.0), (50, None)]
    assert calls[-2:] == [("mitchell_mul_s5", True), ("mitchell_mul_s5", False)]
    assert len(warned) == 1 and warned[0].startswith("mitchell5") and "Fmax unknown" in warned[0]
    with pytest.raises(synth.SynthError):      # without place and route there is no fallback
        monkeypatch.setattr(synth, "synthesize", lambda *a, **k: (_ for _ in ()).throw(
            synth.SynthError("yosys failed")))
        price([(choices[0], 0)], fmax=False, db=None)


def test_fmax_is_off_unless_asked(tmp_path):
    """No objective needs Fmax: explore places and routes only with fmax = true."""
    from hwsim.explore.config import parse_config
    doc = {"workload": {"builtin": "digits"}, "group": [{"units": ["exact-mul"]}],
           "constraint": {"max_drop": 1}}
    assert parse_config(doc).fmax is False
    assert parse_config({**doc, "cost": {"fmax": True}}).fmax is True


# -- lazy pricing: the cheapest-looking units first, the result of eager pricing ------------------

def fake_price(calls):
    """A stand-in for :func:`hwsim.explore.cost.price` whose LUT4 is not monotone in the
    estimate (Mitchell dearer than exact, truncation dearer at 4 bits), recording each unit
    priced."""
    from hwsim.explore.cost import UnitCost

    def price(keys, *, fmax, db, progress=False, warn=None):
        out = {}
        for choice, length in keys:
            f = choice.fields
            w, kb = f["width"], f.get("keep_bits")
            lut = 3 * w * w if choice.unit == "exact-mul" else 40 + 5 * w + 7 * (kb or 0)
            calls.append(choice.label)
            out[(choice, length)] = UnitCost(choice.label, lut, 0, None)
        return out
    return price


def test_lazy_prices_price_each_unit_once_cheapest_estimate_first():
    from hwsim.explore.config import Choice
    from hwsim.explore.cost import LazyPrices
    calls = []
    keys = [(Choice.of("mitchell-mul", {"width": w, "signed": True}), 0) for w in (8, 3, 6)]
    keys.append((Choice.of("exact-mul", {"width": 3, "signed": True}), 0))
    after = []
    p = LazyPrices(keys, fmax=False, db=None, pricer=fake_price(calls),
                   after=lambda: after.append(len(calls)))
    assert p.get(keys[0]) is None and not p.complete and calls == []
    p.ensure(keys[:3])
    # operand bits decide (3, 6, 8), a tie goes by position among the keys
    assert calls == ["mitchell3", "mitchell6", "mitchell8"] and after == [1, 2, 3]
    assert p[keys[0]].lut4 == 80 and calls == ["mitchell3", "mitchell6", "mitchell8"]
    p.ensure(keys)
    assert calls[3:] == ["exact3"] and p.complete
    calls.clear()  # the caller's order (the designs that use them, cheapest-looking first)
    LazyPrices(keys, fmax=False, db=None, pricer=fake_price(calls)).ensure(
        [keys[0], keys[1], keys[0]], sort=False)
    assert calls == ["mitchell8", "mitchell3"]


def test_warm_up_exports_in_the_background_and_pricing_waits_for_it(monkeypatch):
    """The first Verilog export (a fresh machine compiles Amaranth's yosys) runs beside the
    first evaluations; the first price waits for it instead of compiling a second time."""
    import threading

    from hwsim.explore.config import Choice
    from hwsim.explore.cost import LazyPrices
    from hwsim.hdl import export
    events, release = [], threading.Event()

    def slow_export(spec, params, component, **kw):
        release.wait(10)
        events.append(("export", params.width, threading.current_thread().name))
        return ""
    monkeypatch.setattr(export, "to_verilog", slow_export)
    calls = []
    keys = [(Choice.of("exact-mul", {"width": w, "signed": True}), 0) for w in (6, 4)]
    p = LazyPrices(keys, fmax=False, db=None, pricer=fake_price(calls))
    p.warm_up()
    p.warm_up()  # once
    assert events == [] and calls == []  # warm_up returned at once
    release.set()
    p.ensure(keys[:1])
    assert events == [("export", 4, "hwsim-explore-warm-up")] and calls == ["exact6"]


@pytest.mark.slow
def test_lazy_pricing_finds_a_feasible_design_early_and_the_eager_result(tmp_path, digits,
                                                                      monkeypatch):
    """Units are priced on demand: the first feasible design is known after pricing the units
    of one design; the searches' traces, the best design and the front are those of pricing
    every unit first; a random search prices only the units of the designs it draws."""
    import hwsim.explore.run as explore_run
    from hwsim.explore.config import parse_config
    import tomllib
    calls = []
    monkeypatch.setattr(explore_run, "price", fake_price(calls))
    cfg = parse_config(tomllib.loads(config(digits, search='methods = ["sampling", "random", '
                                                       '"greedy"]\nbudget = 6\nseeds = [0, 1]')))
    lazy, space = explore_run.explore(cfg, tmp_path / "lazy")
    first = lazy["first_feasible"]
    assert first is not None and first["units_priced"] < first["units"] == 6
    # the first feasible design reported is a design that meets the floor, at its cost
    d = next(e for e in lazy["designs"] if e["design"] == first["design"])
    assert d["feasible"] and d["cost"] == first["cost"] and d["metric"] == first["metric"]
    assert len(calls) == len(set(calls)) == 6  # each unit priced once

    resolve = explore_run.resolve_space

    def eager(*a, **k):  # every unit priced before anything else, as before
        s = resolve(*a, **k)
        s.order()
        return s
    monkeypatch.setattr(explore_run, "resolve_space", eager)
    calls.clear()
    ref, _ = explore_run.explore(cfg, tmp_path / "eager")
    assert len(calls) == 6
    for key in ("best", "uniform_best", "front", "searches", "comparison", "groups"):
        assert lazy[key] == ref[key], key
    assert [e["design"] for e in lazy["designs"]] == [e["design"] for e in ref["designs"]]

    # random alone: only the units of the designs it evaluates are priced
    monkeypatch.setattr(explore_run, "resolve_space", resolve)
    calls.clear()
    text = config(digits, search='methods = ["random"]\nbudget = 1').replace(
        'units = ["exact-mul", "mitchell-mul"]\nwidth = [3, 4, 6]\n\n[constraint]',
        'units = ["mitchell-mul"]\nwidth = [5, 7]\n\n[constraint]')  # no uniform design
    cfg = parse_config(tomllib.loads(text))
    r, _ = explore_run.explore(cfg, tmp_path / "random")
    assert r["uniform"] == [] and r["evaluations"] <= 2  # the widest design, one random one
    used = {v for e in r["designs"] for v in e["design"].values()}
    assert set(calls) == used and len(used) <= 4 < 8
    priced = {c["unit"]: c["priced"] for g in r["groups"] for c in g["choices"]}
    assert {u for u, p in priced.items() if p} == used
    assert all(c["lut4"] is None for g in r["groups"] for c in g["choices"] if not c["priced"])
