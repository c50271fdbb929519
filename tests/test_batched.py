"""Batched RTL verification (generated Verilog testbench + memory files) against the models."""

import pytest

from hwsim import MitchellDivParams, MitchellMulParams
from hwsim.hdl.export import ports
from hwsim.sim.batched import run_batched
from hwsim.sim.compare import compare_outputs
from hwsim.units import get_unit
from rtl import sim_params

#: (unit, params, Icarus vectors, Verilator vectors or None: not built on Verilator). Verilator
#: runs the batched testbench at ~0.3-0.8 M vectors/s, so the bulk random vectors of the
#: Mitchell units go here, on one pipelined and one combinational build (the exhaustive s8
#: is proved, tests/test_formal.py; the u16 divider is simulated by test_mitchell_rtl.py).
CASES = [("mitchell-mul", MitchellMulParams(width=8, signed=True), None, None),
         ("mitchell-mul", MitchellMulParams(width=16, signed=True, keep_bits=5, stages=2), 20_000,
          400_000),
         ("mitchell-div", MitchellDivParams(width=16, frac_bits=8, stages=1), 20_000, None),
         ("mitchell-div", MitchellDivParams(width=32, frac_bits=32), 20_000, 400_000)]


def _cases():
    out = []
    for unit, params, count, vl_count in CASES:
        for sim in sim_params():
            name = sim.values[0]
            if name == "verilator" and vl_count is None:
                continue
            out.append(pytest.param(unit, params, count if name == "icarus" else vl_count, name,
                                    marks=sim.marks, id=f"{params.top_name}-{name}"))
    return out


@pytest.mark.parametrize("unit,params,count,sim", _cases())
def test_batched_matches_model(unit, params, count, sim, tmp_path, record_bench):
    spec = get_unit(unit)
    r = run_batched(spec, params, sim=sim, vectors=count, seed=5, build_root=tmp_path)
    record_bench(r)
    expected = len(spec.vectors(params, count, 5)["a"])
    assert r.vectors == expected
    assert r.mismatches == 0, r.examples


def test_compare_reports_every_mismatch():
    spec, params = get_unit("mitchell-mul"), MitchellMulParams(width=6, signed=True)
    vec = spec.vectors(params, None, 0)
    want = spec.model(params, vec)
    port_map = ports(spec.component(params))
    mask = (1 << params.out_width) - 1
    # the RTL reports unsigned patterns; the clean copy compares equal, then corrupt two
    rtl = {"p": [int(x) & mask for x in want["p"].tolist()]}
    assert compare_outputs(rtl, want, port_map, vec) == (0, [])
    rtl["p"][7] ^= 1
    rtl["p"][4000] ^= 1 << (params.out_width - 1)  # the sign bit
    n, examples = compare_outputs(rtl, want, port_map, vec)
    assert n == 2
    assert [e["a"] for e in examples] == [int(vec["a"][7]), int(vec["a"][4000])]
    assert examples[1]["rtl_p"] != examples[1]["model_p"]
