"""Formal proofs of the DRUM multiplier (hwsim.sim.formal, ``spec_drum.drum_mul``).

Positive proofs at widths that finish in about a second, one pipeline by BMC, the documented
error bound, and a mutant of the exported Verilog (the forced 1 of operand a's segment
dropped) that the proof must reject with a counterexample on which the numpy model
(``hwsim.drum.drum_mul``) and the mutated RTL differ as the solver reports. The 16- and
24-bit proofs run in ``make prove`` (scripts/prove_all.py), never here.
"""

import pytest

from hwsim.drum import DrumMulParams, drum_mul
from hwsim.units import get_unit
from rtl import export_verilog, require_prover, require_sim

DRUM = get_unit("drum-mul")

#: drop the forced 1 of operand a's segment: ``seg_a[0] = y[N-k] | x[k:].any()`` becomes
#: ``y[N-k]`` (Amaranth's export: ``$m = | a[N-1:k]; $n = $y [N-k] | $m ;``)
DROP_FORCED_ONE = (r"(assign (\\\$\d+) += \| a\[\d+:\d+\];\n +assign \\\$\d+ += \\\$\d+ \[\d+\])"
                   r" \| \2 ;", r"\1;")


@pytest.fixture
def formal():
    """hwsim.sim.formal with z3 and yosys present (else skip with the install hint; CI fails)."""
    require_prover()
    from hwsim.sim import formal
    return formal


@pytest.mark.parametrize("params", [
    DrumMulParams(width=8, k=3), DrumMulParams(width=8, k=4), DrumMulParams(width=8, k=6),
    DrumMulParams(width=8, k=8), pytest.param(DrumMulParams(width=12, k=6), marks=pytest.mark.slow), DrumMulParams(width=4, k=2),
], ids=lambda p: p.top_name)
def test_drum_is_proved(formal, params):
    r = formal.prove(DRUM, params)
    assert r.proved and r.status == "proved" and r.counterexample is None, formal.format_result(r)
    assert f"{params.input_bits} input bits" in r.size
    assert formal.format_result(r).startswith(f"proved: drum-mul {params.top_name} == ")


def test_a_drum_pipeline_is_proved_by_bmc(formal):
    params = DrumMulParams(width=8, k=4, stages=2)
    r = formal.prove(DRUM, params)
    assert r.proved, formal.format_result(r)
    assert "2-cycle BMC" in r.size and f"{params.input_bits + 1} input bits" in r.size


def test_drum_error_bound_is_proved(formal):
    for params in (DrumMulParams(width=6, k=4), DrumMulParams(width=8, k=4),
                   DrumMulParams(width=6, k=2), DrumMulParams(width=6, k=6)):
        r = formal.prove(DRUM, params, property="bounds")
        assert r.proved, formal.format_result(r)
        assert formal.format_result(r).startswith("proved [bounds]: drum-mul ")


def test_drum_is_a_proved_unit(formal):
    assert "drum-mul" in formal.proved_units()
    assert "drum-mul" not in formal.subblock_units()


def _without_forced_one(x: int, k: int) -> tuple[int, int]:
    """(seg, s) of the mutant: step 2 without the ``| 1``."""
    if x < 1 << k:
        return x, 0
    s = x.bit_length() - k
    return x >> s, s


@pytest.mark.parametrize("params", [DrumMulParams(width=8, k=4), pytest.param(DrumMulParams(width=12, k=6), marks=pytest.mark.slow)],
                         ids=lambda p: p.top_name)
def test_a_dropped_forced_one_is_refuted(formal, params, tmp_path):
    path = export_verilog(DRUM, params, tmp_path, DROP_FORCED_ONE)
    r = formal.prove(DRUM, params, verilog=path)
    assert r.status == "counterexample" and not r.proved, formal.format_result(r)
    a, b = r.counterexample["a"], r.counterexample["b"]
    assert set(r.counterexample) == {"a", "b"} and 0 <= a < 1 << params.width and 0 <= b < 1 << params.width
    # the numpy model gives the specification's value, the mutated RTL another one
    model = int(drum_mul(a, b, params))
    assert model == r.values["spec_p"] != r.values["rtl_p"], (r.counterexample, r.values)
    # and the RTL's value is exactly the mutant's: a large a whose kept segment is even
    seg_a, s_a = _without_forced_one(a, params.k)
    assert a >= 1 << params.k and seg_a % 2 == 0 and b != 0
    b_value = int(drum_mul(b, 1, params))  # seg_b << s_b (the operand 1 is kept exactly)
    assert r.values["rtl_p"] == (seg_a << s_a) * b_value
    text = formal.format_result(r)
    assert text.startswith("counterexample: ") and f"a={a}" in text
    # the unmutated export is proved
    assert formal.prove(DRUM, params, verilog=export_verilog(DRUM, params, tmp_path, name="ok.v")).proved


@pytest.mark.hdl
def test_the_dropped_forced_one_replays_in_icarus(formal, tmp_path):
    require_sim("icarus")
    params = DrumMulParams(width=8, k=4)
    path = export_verilog(DRUM, params, tmp_path, DROP_FORCED_ONE)
    r = formal.prove(DRUM, params, verilog=path)
    assert r.status == "counterexample", formal.format_result(r)
    rows = formal.replay(DRUM, params, r.counterexample, sims=("icarus",), verilog=path,
                         build_root=tmp_path / "replay")
    assert rows == [{"port": "p", "model": r.values["spec_p"], "icarus": r.values["rtl_p"]}]
    assert "!=" in formal.format_replay(rows)
