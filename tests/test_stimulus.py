"""One stall pattern for every bench: a seed gives the same handshakes, cycle for cycle, in
the Amaranth simulator, the cocotb bench and the generated (batched) Verilog testbench."""

import numpy as np
import pytest

from hwsim.sim.stimulus import IDLE, PERIOD, handshake_pattern, pattern_hex
from hwsim.units import get_unit
from rtl import require_sim


def test_pattern_is_seeded_and_stalls_both_sides():
    offer, ready = handshake_pattern(3)
    assert (offer, ready) == handshake_pattern(3) and offer != handshake_pattern(4)[0]
    assert len(offer) == len(ready) == PERIOD
    for side in (offer, ready):
        assert abs((1 - np.mean(side)) - IDLE) < 0.03
    assert handshake_pattern(None) == ([True] * PERIOD, [True] * PERIOD)
    lines = pattern_hex(3).split()
    assert len(lines) == PERIOD and [int(x, 16) & 1 for x in lines] == [int(o) for o in offer]
    assert [int(x, 16) >> 1 for x in lines] == [int(r) for r in ready]


@pytest.mark.hdl
def test_a_seed_replays_cycle_for_cycle_in_every_backend(tmp_path):
    from hwsim.sim.amaranth_sim import simulate_stream
    from hwsim.sim.batched import run_batched
    from hwsim.sim.runner import run_bench
    require_sim("icarus")
    spec = get_unit("softmax")
    params = spec.params_cls(length=4)
    seed, count = 11, 12
    vec = spec.vectors(params, count, seed)["x"]
    got, cycles = simulate_stream(spec.component(params), vec, stall_seed=seed, with_cycles=True)
    assert (got.astype(np.int64) == spec.model(params, {"x": vec})["p"]).all()
    cocotb = run_bench(spec, params, sim="icarus", vectors=count, seed=seed, build_root=tmp_path)
    batched = run_batched(spec, params, sim="icarus", vectors=count, seed=seed,
                          build_root=tmp_path)
    assert cocotb.passed and batched.passed
    assert cycles > len(vec) * 3 * params.length  # the stalls cost cycles
    assert cocotb.cycles == batched.cycles == cycles
    other = run_batched(spec, params, sim="icarus", vectors=count, seed=seed + 1,
                        build_root=tmp_path)
    assert other.cycles != cycles  # the cycle count does depend on the pattern


@pytest.mark.hdl
def test_pipelined_unit_replays_in_cocotb_and_batched(tmp_path):
    from hwsim.sim.batched import run_batched
    from hwsim.sim.runner import run_bench
    require_sim("icarus")
    spec = get_unit("mitchell-mul")
    params = spec.params_cls(width=6, stages=2)
    a = run_bench(spec, params, sim="icarus", vectors=200, seed=5, build_root=tmp_path)
    b = run_batched(spec, params, sim="icarus", vectors=200, seed=5, build_root=tmp_path)
    assert a.passed and b.passed and a.vectors == b.vectors
    assert a.cycles == b.cycles > a.vectors
