"""Shared helpers for the cocotb (Icarus / Verilator) tests of every unit."""

import importlib
import os

import pytest

from hwsim.sim.runner import SIMULATORS, SimulatorNotFound, run_bench, simulator_env

#: CI installs every tool and extra: there a missing one is a failure, never a skip
IN_CI = os.environ.get("CI", "").lower() == "true"


def skip_unless_ci(reason: str):
    """Skip (a user's machine without the tool) or fail (CI, which must have it)."""
    if IN_CI:
        pytest.fail(f"CI must provide this: {reason}")
    else:  # only on a machine without the tool: the reason says how to install it
        pytest.skip(reason, allow_module_level=True)


def require_module(name: str, extra: str):
    """Import ``name`` or skip / fail with the pip extra that provides it."""
    try:
        return importlib.import_module(name)
    except ImportError:
        skip_unless_ci(f"{name} is missing: pip install 'hwsim[{extra}]'")


def require_prover():
    """z3 and yosys for ``hwsim.sim.formal`` (else skip with the install hint; CI fails)."""
    require_module("z3", "proof")
    from hwsim.eval.synth import SynthToolNotFound, find_tool
    try:
        find_tool("yosys")
    except SynthToolNotFound as e:
        skip_unless_ci(str(e))


def export_verilog(spec, params, tmp_path, mutate=None, name="dut.v"):
    """The unit's exported Verilog as a file in ``tmp_path``, optionally mutated by one regex
    substitution ``(pattern, replacement)`` that must match exactly once (a mutant for a
    proof to refute)."""
    import re

    from hwsim.hdl.export import to_verilog
    text = to_verilog(spec, params)
    if mutate is not None:
        pattern, repl = mutate
        text, n = re.subn(pattern, repl, text)
        assert n == 1, f"mutation {pattern!r} matched {n} times"
    path = tmp_path / name
    path.write_text(text)
    return path


def sim_params():
    """``sim`` parameters, each skipping (with an install hint) when its simulator is missing."""
    out = []
    for sim in SIMULATORS:
        try:
            simulator_env(sim)
            marks = [pytest.mark.sim]
        except SimulatorNotFound as e:  # in CI the test runs and fails on the missing tool
            marks = [pytest.mark.sim] + ([] if IN_CI else [pytest.mark.skip(reason=str(e))])
        out.append(pytest.param(sim, marks=marks, id=sim))
    return out


def sim_matrix(configs, only: set[str], sim_limited: str = "verilator", skip: set[str] = frozenset(),
               cocotb: set[str] | None = None, batched_limited: set[str] = frozenset()):
    """(params, sim) pytest params: every configuration on every simulator, except that
    ``sim_limited`` (slow to build) runs only the configurations whose top name is in ``only``,
    and the other simulator skips the top names in ``skip`` (configurations a formal test
    proves from the same Verilog text: simulating them again only re-checks the proof).

    ``cocotb``: the top names the other simulator runs through the unit's cocotb bench (the
    bench itself, its handshake checks); the rest run the same vectors and stall pattern
    through the batched testbench (hwsim.sim.batched, a fifth of the CPU time), with the id
    ``<sim>-batched``. None: every configuration through cocotb. ``batched_limited``: the top
    names ``sim_limited`` runs through the batched testbench (bulk random vectors whose
    handshake another configuration's cocotb bench checks)."""
    out = []
    for p in configs:
        for sim in sim_params():
            name = sim.values[0]
            if name == sim_limited and p.top_name not in only:
                continue
            if name != sim_limited and p.top_name in skip:
                continue
            if name != sim_limited and cocotb is not None and p.top_name not in cocotb:
                name += BATCHED
            if name == sim_limited and p.top_name in batched_limited:
                name += BATCHED
            out.append(pytest.param(p, name, marks=sim.marks, id=f"{p.top_name}-{name}"))
    return out


#: the suffix of a ``sim`` that runs the batched testbench instead of the cocotb bench
BATCHED = "-batched"


def base_sim(sim: str) -> str:
    """The simulator of a ``sim_matrix`` value ("icarus-batched" -> "icarus")."""
    return sim.removesuffix(BATCHED)


def require_sim(sim: str) -> dict:
    """The environment for ``sim``, or skip the test with its install hint (CI has both)."""
    try:
        return simulator_env(sim)
    except SimulatorNotFound as e:
        skip_unless_ci(str(e))


def run_and_check(spec, params, sim, vectors, seed, tmp_path, record_bench):
    if sim.endswith(BATCHED):
        from hwsim.sim.batched import run_batched
        result = run_batched(spec, params, sim=base_sim(sim), vectors=vectors, seed=seed,
                             build_root=tmp_path)
    else:
        result = run_bench(spec, params, sim=sim, vectors=vectors, seed=seed,
                           build_root=tmp_path)
    record_bench(result)
    print(f"{result.top} on {sim}: {result.vectors} vectors, {result.mismatches} mismatches")
    assert result.vectors > 0
    assert result.mismatches == 0, f"first mismatches: {result.examples}"
    return result
