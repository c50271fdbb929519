"""Every registered unit keeps a simulator test on each simulator and, if the formal layer
covers it, a formal test: the tiers (tests/conftest.py) and the pruning of simulator runs
that a proof already covers must never leave a unit unchecked.

The guard collects the whole suite in a fresh pytest process (``--collect-only``, no xdist);
tests/conftest.py writes, for each collected test, its markers, the units it checks (a
parametrized Params / UnitSpec, or a ``unit(...)`` marker) and its simulator (a ``sim``
parameter, or ``unit(sim=...)``) to the file ``HWSIM_COLLECT_DUMP`` names.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hwsim.sim.runner import SIMULATORS
from hwsim.units import REGISTRY

TESTS = Path(__file__).resolve().parent
# one worker runs the module, so the suite is collected once (~11 s), not once per worker
# slow: it collects the whole suite in a subprocess (~10 s of CPU)
pytestmark = [pytest.mark.xdist_group("coverage_guard"), pytest.mark.slow]


def formal_units() -> list[str]:
    """The units the formal layer proves (whole or by sub-block), from the registry."""
    from hwsim.sim import formal
    return list(formal.proved_units())


def coverage_gaps(rows: list[dict], units, proved, sims=SIMULATORS) -> list[str]:
    """What is missing: ``<unit>: no <sim> test`` for each unit and simulator without a
    ``sim`` test of that unit on it, ``<unit>: no formal test`` for each proved unit
    without a ``formal`` test of it."""
    sim_cov = {(u, r["sim"]) for r in rows if "sim" in r["marks"] for u in r["units"]}
    formal_cov = {u for r in rows if "formal" in r["marks"] for u in r["units"]}
    gaps = [f"{u}: no {s} test" for u in units for s in sims if (u, s) not in sim_cov]
    gaps += [f"{u}: no formal test" for u in proved if u not in formal_cov]
    return gaps


@pytest.fixture(scope="session")  # one collection, whatever order the tests run in
def collected(tmp_path_factory) -> list[dict]:
    dump = tmp_path_factory.mktemp("collect") / "items.json"
    env = os.environ | {"HWSIM_COLLECT_DUMP": str(dump)}
    r = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-n", "0",
                        "-p", "no:cacheprovider", str(TESTS)],
                       cwd=TESTS.parent, env=env, capture_output=True, text=True)
    assert dump.exists(), (r.stdout + r.stderr)[-3000:]
    return json.loads(dump.read_text())


def test_every_unit_has_a_simulator_test_per_simulator_and_its_formal_test(collected):
    gaps = coverage_gaps(collected, list(REGISTRY), formal_units())
    assert not gaps, "registered units left unchecked:\n  " + "\n  ".join(gaps)


def test_the_collection_sees_the_tiers(collected):
    by_id = {r["nodeid"]: r for r in collected}
    assert len(by_id) > 500
    sims = [r for r in collected if "sim" in r["marks"]]
    assert sims and all("hdl" in r["marks"] for r in sims)
    assert {r["sim"] for r in sims if r["units"]} == set(SIMULATORS)
    assert any("formal" in r["marks"] for r in collected)
    assert any("synth" in r["marks"] for r in collected)


@pytest.mark.parametrize("unit", sorted(REGISTRY))
def test_the_guard_fails_without_the_units_tests(collected, unit):
    """Drop a unit's simulator tests on one simulator (and its formal tests): the guard
    names exactly what went missing."""
    proved = formal_units()
    # the guard must start from a covered unit (a real gap fails here, not silently skipped)
    assert coverage_gaps(collected, [unit], [unit] if unit in proved else []) == []
    for sim in SIMULATORS:
        rows = [r for r in collected if not ("sim" in r["marks"] and r["sim"] == sim
                                             and unit in r["units"])]
        assert coverage_gaps(rows, [unit], []) == [f"{unit}: no {sim} test"]
    if unit in proved:
        rows = [r for r in collected if not ("formal" in r["marks"] and unit in r["units"])]
        assert coverage_gaps(rows, [unit], [unit]) == [f"{unit}: no formal test"]
