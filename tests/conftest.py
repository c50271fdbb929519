import json
import os
import re
import sys

# Let tests import the scalar reference implementations beside them.
sys.path.insert(0, os.path.dirname(__file__))

import pytest
from hypothesis import settings

# Reproducible property tests: the same examples on every run and machine (set
# HYPOTHESIS_PROFILE=explore for fresh random examples while developing).
settings.register_profile("ci", derandomize=True, deadline=None)
settings.register_profile("explore", deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_configure(config):
    """With ``-n N`` workers, each worker's thread pools (numpy's BLAS, numba's OpenMP, ...)
    get ``cores // N`` threads, as hwsim's own sweeps give their workers
    (:data:`hwsim.sweep.THREAD_ENV`): a pool per core in each of N workers oversubscribes
    the cores, and the idle threads spin. Measured on 2 cores, 2 workers: the MiniLM study
    tests took 107 s of CPU with 2 BLAS threads each, 18 s with one. Set here, in the
    controller, before the workers start; a variable the user set is kept. The docs
    transcripts run their commands with the user's own values (scripts/gen_docs.py)."""
    n = getattr(config.option, "numprocesses", None)
    if isinstance(n, int) and n > 1 and "PYTEST_XDIST_WORKER" not in os.environ:
        from hwsim.sweep import THREAD_ENV
        threads = str(max(1, (os.cpu_count() or 1) // n))
        saved = {k: os.environ.get(k) for k in THREAD_ENV}
        os.environ["HWSIM_USER_THREAD_ENV"] = json.dumps(saved)
        for k in THREAD_ENV:
            os.environ.setdefault(k, threads)


# -- tiers: markers by tool and cost (pyproject.toml declares them) ------------------------
#
# Applied here, at collection, so a new test file is tiered by its name alone:
#
# * ``sim``: every test of a ``test_*_rtl.py`` module, and any test marked ``hdl`` outside
#   ``test_synth.py`` (the odd simulator test elsewhere: CLI verify, demo, replays, lint);
# * ``formal``: every test of ``test_formal*.py`` / ``test_prove_all.py`` (a formal test that
#   also replays in a simulator is marked ``hdl`` and so gets ``sim`` as well);
# * ``synth``: the ``hdl`` tests of ``test_synth.py`` (yosys / nextpnr runs);
# * ``hdl``: added to every ``sim`` and ``synth`` test (an external EDA tool runs);
# * ``slow``: the tests listed in ``SLOW`` (measured at >= ~25 s on two cores), and any marked so.
#
# ``make test-fast`` runs ``-m "not sim and not synth and not slow"``: models, Params, CLI,
# fuzz, the Amaranth simulations and the quick proofs. ``make test`` runs everything.

TOOL_BY_MODULE = [(re.compile(r"test_.*_rtl$"), "sim"),
                  (re.compile(r"test_formal(_.*)?$|test_prove_all$"), "formal")]
#: the modules whose ``hdl`` tests run yosys / nextpnr rather than a simulator
SYNTH_MODULES = {"test_synth"}
#: (module, test-name regex): long-running tests outside the sim / synth tiers (20-45 s each
#: measured on two busy cores; the explore tests share one xdist group, so one worker)
SLOW = [
    ("test_explore", r"test_dask_cluster_gives_the_front_of_the_local_pool$"),
    ("test_explore", r"test_softmax_group_is_searched_and_priced_with_its_row_length$"),
    ("test_explore", r"test_sigkill_then_resume_reevaluates_nothing_stored$"),
    ("test_explore", r"test_explore_digits_best_design_reproduces_with_hwsim_run_and_resumes$"),
    ("test_explore", r"test_bad_data_or_metric_for_the_model_is_one_line_exit_2\["),
    ("test_docs", r"test_fast_transcripts$"),
]


def _tier(item) -> set[str]:
    module = item.module.__name__.rpartition(".")[2] if item.module else ""
    marks = {m.name for m in item.iter_markers()}
    out = {tool for pattern, tool in TOOL_BY_MODULE if pattern.match(module)}
    if "hdl" in marks:
        out.add("synth" if module in SYNTH_MODULES else "sim")
    if {"sim", "synth"} & (out | marks):
        out.add("hdl")
    if any(module == m and re.match(name, item.name) for m, name in SLOW):
        out.add("slow")
    return out - marks


# -- which registered unit (and simulator) each test checks, for test_coverage_guard.py ----

def _units_of(item) -> set[str]:
    """Units an item checks: its ``unit`` markers, else any registered Params (or UnitSpec)
    among its parameters."""
    from hwsim.units import REGISTRY, UnitSpec
    names = {n for m in item.iter_markers("unit") for n in m.args}
    if names:
        return names
    by_cls = {spec.params_cls: name for name, spec in REGISTRY.items()}
    for value in getattr(getattr(item, "callspec", None), "params", {}).values():
        if isinstance(value, UnitSpec):
            names.add(value.name)
        elif type(value) in by_cls:
            names.add(by_cls[type(value)])
    return names


def _sim_of(item) -> str | None:
    for m in item.iter_markers("unit"):
        if "sim" in m.kwargs:
            return m.kwargs["sim"]
    sim = getattr(getattr(item, "callspec", None), "params", {}).get("sim")
    # the batched testbench in a simulator (tests/rtl.py: "icarus-batched") is that simulator
    return sim.removesuffix("-batched") if isinstance(sim, str) else sim


def coverage_rows(items) -> list[dict]:
    """(nodeid, tiers, units, simulator) of every item."""
    return [{"nodeid": it.nodeid, "marks": sorted({m.name for m in it.iter_markers()}),
             "units": sorted(_units_of(it)), "sim": _sim_of(it)} for it in items]


#: the order modules run in (pytest-xdist hands tests out in collection order): the modules
#: with a slow test first, then those running simulators or synthesis, then proofs, then the
#: rest, so the two workers finish together instead of one waiting on a late long test.
#: A module keeps its own order and stays in one piece (its module fixtures are built once).
_MODULE_RANK = ("slow", "sim", "synth", "formal")


def _module_rank(items) -> dict:
    rank: dict = {}
    for item in items:
        tiers = {m.name for m in item.iter_markers()}
        r = min((i for i, t in enumerate(_MODULE_RANK) if t in tiers), default=len(_MODULE_RANK))
        rank[item.module] = min(rank.get(item.module, r), r)
    return rank


@pytest.hookimpl(tryfirst=True)  # before -m deselects
def pytest_collection_modifyitems(config, items):
    for item in items:
        for name in sorted(_tier(item)):
            item.add_marker(name)
    rank = _module_rank(items)
    items.sort(key=lambda item: rank[item.module])  # stable: each module in its own order
    dump = os.environ.get("HWSIM_COLLECT_DUMP")  # set by test_coverage_guard.py
    if dump:
        with open(dump, "w") as f:
            json.dump(coverage_rows(items), f)


# -- the RTL bench table -------------------------------------------------------------------

_BENCH_ROWS: list[tuple] = []


def pytest_runtest_logreport(report):
    # cocotb bench results travel as user_properties, which pytest-xdist sends to the controller
    if report.when == "call":
        for name, value in report.user_properties:
            if name == "bench":
                _BENCH_ROWS.append(tuple(value))
            elif name == "float_rtl":  # one build per simulator runs every float design
                _BENCH_ROWS.extend((unit, top, f"{sim}-float-tb", n, bad, 0.0)
                                   for sim, top, n, bad, unit in value)


def pytest_terminal_summary(terminalreporter):
    if not _BENCH_ROWS:
        return
    tr = terminalreporter
    tr.section("RTL benches: Verilog vs model (exact equality)")
    tr.write_line(f"{'unit':13} {'module':44} {'sim':20} {'vectors':>9} {'mismatches':>10} "
                  f"{'vectors/s':>10}")
    total = bad = 0
    per_unit: dict[str, list[int]] = {}
    for unit, top, sim, vectors, mismatches, rate in sorted(_BENCH_ROWS):
        tr.write_line(f"{unit:13} {top:44} {sim:20} {vectors:9d} {mismatches:10d} {rate:10.0f}")
        total += vectors
        bad += mismatches
        u = per_unit.setdefault(unit, [0, 0, 0])
        u[0] += 1
        u[1] += vectors
        u[2] += "verilator" in sim
    tr.write_line(f"{len(_BENCH_ROWS)} benches, {total} vectors, {bad} mismatches")
    tr.write_line("per unit: benches (Verilator builds), vectors")
    for unit, (n, vectors, vl) in sorted(per_unit.items()):
        tr.write_line(f"  {unit:13} {n:3d} ({vl:2d}) {vectors:10d}")


@pytest.fixture
def record_bench(record_property):
    def record(result):
        record_property("bench", (result.unit, result.top, result.sim, result.vectors,
                                  result.mismatches, result.rate))
    return record


@pytest.fixture
def cell_tools():
    """yosys, OpenSTA and the OSU 0.18 um library (skip with the install hint; fail under CI)."""
    from hwsim.eval import stdcell, synth
    from hwsim.eval.targets import TargetUnavailable, get_target
    from rtl import skip_unless_ci
    try:
        synth.find_tool("yosys")
        stdcell.find_sta()
        get_target("osu018").library_path()
    except (synth.SynthToolNotFound, TargetUnavailable) as e:
        skip_unless_ci(str(e))
