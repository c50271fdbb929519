import os
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

_BENCH_ROWS: list[tuple] = []


def pytest_runtest_logreport(report):
    # cocotb bench results travel as user_properties, which pytest-xdist sends to the controller
    if report.when == "call":
        for name, value in report.user_properties:
            if name == "bench":
                _BENCH_ROWS.append(value)


def pytest_terminal_summary(terminalreporter):
    if not _BENCH_ROWS:
        return
    tr = terminalreporter
    tr.section("RTL benches: Verilog vs model (exact equality)")
    tr.write_line(f"{'module':34} {'sim':17} {'vectors':>9} {'mismatches':>10} {'vectors/s':>10}")
    total = bad = 0
    for top, sim, vectors, mismatches, rate in sorted(_BENCH_ROWS):
        tr.write_line(f"{top:34} {sim:17} {vectors:9d} {mismatches:10d} {rate:10.0f}")
        total += vectors
        bad += mismatches
    tr.write_line(f"{len(_BENCH_ROWS)} benches, {total} vectors, {bad} mismatches")


@pytest.fixture
def record_bench(record_property):
    def record(result):
        record_property("bench", (result.top, result.sim, result.vectors, result.mismatches,
                                  result.rate))
    return record
