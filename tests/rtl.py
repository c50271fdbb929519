"""Shared helpers for the cocotb (Icarus / Verilator) tests of every unit."""

import pytest

from hwsim.sim.runner import SIMULATORS, SimulatorNotFound, run_bench, simulator_env


def sim_params():
    """``sim`` parameters, each skipping (with an install hint) when its simulator is missing."""
    out = []
    for sim in SIMULATORS:
        try:
            simulator_env(sim)
            marks = [pytest.mark.hdl]
        except SimulatorNotFound as e:
            marks = [pytest.mark.hdl, pytest.mark.skip(reason=str(e))]
        out.append(pytest.param(sim, marks=marks, id=sim))
    return out


def sim_matrix(configs, only: set[str], sim_limited: str = "verilator"):
    """(params, sim) pytest params: every configuration on every simulator, except that
    ``sim_limited`` (slow to build) runs only the configurations whose top name is in ``only``."""
    out = []
    for p in configs:
        for sim in sim_params():
            name = sim.values[0]
            if name == sim_limited and p.top_name not in only:
                continue
            out.append(pytest.param(p, name, marks=sim.marks, id=f"{p.top_name}-{name}"))
    return out


def require_sim(sim: str) -> dict:
    """The environment for ``sim``, or skip the test with its install hint (CI has both)."""
    try:
        return simulator_env(sim)
    except SimulatorNotFound as e:
        pytest.skip(str(e))


def run_and_check(spec, params, sim, vectors, seed, tmp_path, record_bench):
    result = run_bench(spec, params, sim=sim, vectors=vectors, seed=seed, build_root=tmp_path)
    record_bench(result)
    print(f"{result.top} on {sim}: {result.vectors} vectors, {result.mismatches} mismatches")
    assert result.vectors > 0
    assert result.mismatches == 0, f"first mismatches: {result.examples}"
    return result
