"""Exported Performer feature-map Verilog against the model, exact equality (the unit has no
proof): batched stream testbench with corners + 3,000 random vectors on Verilator for both
configurations (150 on Icarus for the orthogonal one: Icarus runs the 64-feature one at
~4 vectors/s), and the cocotb stream bench with corners + 50 vectors on Icarus."""

import pytest

from hwsim.performer import FeatureKind, PerformerParams
from hwsim.sim.batched import run_batched
from hwsim.units import get_unit
from rtl import run_and_check, sim_matrix

PERF = get_unit("performer")
CORNERS = 5
CONFIGS = [PerformerParams(), PerformerParams(dim=16, features=64, kind=FeatureKind.IID, omega_seed=1,
                                          frac_bits=6)]
ALL = {p.top_name for p in CONFIGS}


@pytest.mark.parametrize("params,sim", sim_matrix(CONFIGS, ALL, skip={CONFIGS[1].top_name}))
def test_performer_batched(params, sim, tmp_path, record_bench):
    n = 3_000 if sim == "verilator" else 150
    r = run_batched(PERF, params, sim=sim, vectors=n, seed=6, build_root=tmp_path)
    record_bench(r)
    assert r.vectors == n + CORNERS and r.mismatches == 0, r.examples


@pytest.mark.parametrize("params,sim", sim_matrix(CONFIGS[:1], set()))
def test_performer_cocotb_stream(params, sim, tmp_path, record_bench):
    r = run_and_check(PERF, params, sim, 50, 1, tmp_path, record_bench)
    assert r.vectors == 50 + CORNERS
