"""Formal proofs (hwsim.sim.formal): RTL == bit-vector specification for all inputs.

Positive proofs at widths that finish in about a second; mutants of the exported Verilog
(or of the Amaranth datapath) that the proof must reject with a counterexample, which the
replay then confirms in the model and in Icarus / Verilator. The 32-bit proofs run in
``make prove`` (scripts/prove_all.py), never here.
"""

import subprocess
import sys

import pytest

from hwsim.hdl.mitchell import normalize as _real_normalize  # the mutant below patches it
from hwsim.mitchell import MitchellDivParams, MitchellMulParams
from hwsim.units import get_unit
from rtl import export_verilog, require_prover, require_sim

MUL, DIV = get_unit("mitchell-mul"), get_unit("mitchell-div")


@pytest.fixture
def formal():
    """hwsim.sim.formal with z3 and yosys present (else skip with the install hint; CI fails)."""
    require_prover()
    from hwsim.sim import formal
    return formal


_export = export_verilog


# -- positive proofs ------------------------------------------------------------------------

@pytest.mark.parametrize("params", [
    MitchellMulParams(width=8), MitchellMulParams(width=8, signed=True),
    pytest.param(MitchellMulParams(width=12, signed=True), marks=pytest.mark.slow), MitchellMulParams(width=12, keep_bits=4),
    MitchellMulParams(width=2), MitchellMulParams(width=2, signed=True),
    MitchellDivParams(width=8, frac_bits=0), MitchellDivParams(width=12, frac_bits=8),
    MitchellDivParams(width=6, frac_bits=32), MitchellDivParams(width=10, frac_bits=6, keep_bits=2),
], ids=lambda p: p.top_name)
def test_combinational_units_are_proved(formal, params):
    spec = MUL if isinstance(params, MitchellMulParams) else DIV
    r = formal.prove(spec, params)
    assert r.proved and r.status == "proved" and r.counterexample is None, formal.format_result(r)
    assert r.solver.startswith("z3 ") and r.seconds > 0
    assert f"{params.input_bits} input bits" in r.size
    assert formal.format_result(r).startswith(f"proved: {spec.name} {params.top_name} == ")


@pytest.mark.parametrize("signed", [False, True], ids=["unsigned", "signed"])
def test_every_keep_bits_is_proved(formal, signed):
    for keep in [None, *range(0, 5)]:
        r = formal.prove(MUL, MitchellMulParams(width=6, signed=signed, keep_bits=keep))
        assert r.proved, formal.format_result(r)
    for keep in [None, *range(0, 5)]:
        r = formal.prove(DIV, MitchellDivParams(width=6, frac_bits=3, keep_bits=keep))
        assert r.proved, formal.format_result(r)


@pytest.mark.parametrize("params", [
    MitchellMulParams(width=8, signed=True, stages=1), MitchellMulParams(width=8, stages=3),
    MitchellMulParams(width=8, keep_bits=2, stages=5),
    MitchellDivParams(width=8, frac_bits=8, stages=2), MitchellDivParams(width=8, stages=4),
], ids=lambda p: p.top_name)
def test_pipelines_are_proved_by_bmc(formal, params):
    spec = MUL if isinstance(params, MitchellMulParams) else DIV
    r = formal.prove(spec, params)
    assert r.proved, formal.format_result(r)
    assert f"{params.latency}-cycle BMC" in r.size


def test_error_bounds_are_proved(formal):
    for spec, params in [(MUL, MitchellMulParams(width=6)),
                         (MUL, MitchellMulParams(width=6, signed=True)),
                         (MUL, MitchellMulParams(width=6, keep_bits=2)),
                         (DIV, MitchellDivParams(width=6, frac_bits=4))]:
        r = formal.prove(spec, params, property="bounds")
        assert r.proved, formal.format_result(r)
        assert formal.format_result(r).startswith("proved [bounds]: ")


def test_a_wrong_bound_is_refuted(formal, monkeypatch):
    """The bound query can fail: the 8/9 bound tightened to 9/10 (false: 3 x 3 -> 8)."""

    def too_tight(z3, params, inputs, outputs):
        n = params.width
        a, b, p = (z3.ZeroExt(n + 6, inputs["a"]), z3.ZeroExt(n + 6, inputs["b"]),
                   z3.ZeroExt(6, outputs["p"]))
        return z3.UGE(10 * p, 9 * a * b)

    import dataclasses
    mul = dataclasses.replace(MUL, formal=dataclasses.replace(MUL.formal, bounds=too_tight))
    r = formal.prove(mul, MitchellMulParams(width=6), property="bounds")
    assert r.status == "counterexample"
    a, b, p = r.counterexample["a"], r.counterexample["b"], r.values["rtl_p"]
    assert 10 * p < 9 * a * b  # the counterexample really violates the tightened bound


# -- mutants: the proof must fail, and the replay must show why ----------------------------

def _check_replay(formal, spec, params, result, path, sims, tmp_path):
    rows = formal.replay(spec, params, result.counterexample, sims=sims, verilog=path,
                         build_root=tmp_path / "replay")
    assert [r["port"] for r in rows] == [k[4:] for k in result.values if k.startswith("rtl_")
                                         and k != "rtl_out_valid"]
    wrong = [r for r in rows if len({r["model"], *(r[s] for s in sims)}) > 1]
    assert wrong, f"the replay shows no difference: {rows}"
    for r in rows:
        # both simulators agree with each other and with what the solver said the RTL does
        assert all(r[s] == result.values[f"rtl_{r['port']}"] for s in sims), rows
    table = formal.format_replay(rows)
    assert table.splitlines()[0].split() == ["port", "model", *sims] and "!=" in table
    return rows


def _normalize_off_by_one(x, fill=None, count=None):
    """hwsim.hdl.mitchell.normalize with an off-by-one in the zero test of each shift
    stage: it tests the top s+1 bits instead of s, so some leading-zero counts are missed.
    A given ``count`` (no zero tests to get wrong) goes to the real normaliser."""
    from amaranth.hdl import Cat, Const, Mux
    if count is not None:
        return _real_normalize(x, fill, count)
    n = len(x)
    v, bits = x, []
    for j in reversed(range(max(1, (n - 1).bit_length()))):
        s = 1 << j
        z = ~v[max(n - s - 1, 0):].any()
        v = Mux(z, Cat(Const(0, s) if fill is None else fill.replicate(s), v)[:n], v)
        bits.append(z)
    return Cat(*reversed(bits)), v


@pytest.mark.hdl
def test_shifter_off_by_one_fails_and_replays_in_both_simulators(formal, tmp_path, monkeypatch):
    for sim in ("icarus", "verilator"):
        require_sim(sim)
    import hwsim.hdl.mitchell as hdl_mitchell
    params = MitchellMulParams(width=8, signed=True)
    monkeypatch.setattr(hdl_mitchell, "normalize", _normalize_off_by_one)
    path = _export(MUL, params, tmp_path)
    monkeypatch.undo()
    r = formal.prove(MUL, params, verilog=path)
    assert not r.proved and r.status == "counterexample", formal.format_result(r)
    assert set(r.counterexample) == {"a", "b"}
    assert r.values["rtl_p"] != r.values["spec_p"]
    lo, hi = params.in_range
    assert all(lo <= v < hi for v in r.counterexample.values())
    text = formal.format_result(r)
    assert text.startswith("counterexample: ") and f"a={r.counterexample['a']}" in text
    rows = _check_replay(formal, MUL, params, r, path, ("icarus", "verilator"), tmp_path)
    assert rows[0]["model"] == r.values["spec_p"]  # the numpy model agrees with the spec
    # and the unmutated export is proved
    assert formal.prove(MUL, params, verilog=_export(MUL, params, tmp_path, name="ok.v")).proved


@pytest.mark.hdl
def test_dropped_borrow_fails_and_replays(formal, tmp_path):
    # replayed in Icarus (the shifter mutant above replays in both simulators: one Verilator
    # build of a replay is enough)
    require_sim("icarus")
    params = MitchellDivParams(width=8, frac_bits=4)
    path = _export(DIV, params, tmp_path, (r" - \$signed\(\{ 1'h0, frac_diff\[\d+\] \}\)", ""))
    r = formal.prove(DIV, params, verilog=path)
    assert r.status == "counterexample", formal.format_result(r)
    assert r.values["rtl_q"] != r.values["spec_q"]
    _check_replay(formal, DIV, params, r, path, ("icarus",), tmp_path)


@pytest.mark.hdl
def test_dropped_carry_fails_and_replays(formal, tmp_path):
    require_sim("icarus")
    params = MitchellMulParams(width=8)
    path = _export(MUL, params, tmp_path, (r" \+ frac_sum\[\d+\];", ";"))
    r = formal.prove(MUL, params, verilog=path)
    assert r.status == "counterexample", formal.format_result(r)
    a, b = r.counterexample["a"], r.counterexample["b"]
    # the dropped carry is the case f_a + f_b >= 2**(N-1): the product is then halved
    assert r.values["rtl_p"] * 2 == r.values["spec_p"] and a and b
    _check_replay(formal, MUL, params, r, path, ("icarus",), tmp_path)


@pytest.mark.hdl
def test_a_needle_in_four_billion_inputs_is_found(formal, tmp_path):
    """One wrong 16-bit input pair: 10**5 random vectors miss it with probability
    1 - 2.3e-5; the proof finds exactly that pair."""
    require_sim("icarus")
    params = MitchellMulParams(width=16)
    path = _export(MUL, params, tmp_path,
                   (r"assign p = (.*);", r"assign p = (a == 16'd54321 && b == 16'd12345) ? "
                                         r"32'd0 : (\1);"))
    r = formal.prove(MUL, params, verilog=path)
    assert r.counterexample == {"a": 54321, "b": 12345}, formal.format_result(r)
    rows = _check_replay(formal, MUL, params, r, path, ("icarus",), tmp_path)
    assert rows == [{"port": "p", "model": r.values["spec_p"], "icarus": 0}]


@pytest.mark.hdl
def test_a_valid_chain_that_skips_a_register_fails(formal, tmp_path):
    params = MitchellMulParams(width=6, stages=2)
    path = _export(MUL, params, tmp_path, (r"= log0_valid;", "= in_valid;"))
    r = formal.prove(MUL, params, verilog=path)
    assert r.status == "counterexample", formal.format_result(r)
    assert r.values["rtl_out_valid"] != r.counterexample["in_valid"]


# -- API contract ---------------------------------------------------------------------------

def test_units_without_a_specification_are_refused(formal):
    import re

    from hwsim.performer import PerformerParams
    from hwsim.units import REGISTRY
    # the proved units are the registry's formal traits: whole units, then by sub-block
    assert set(formal.proved_units()) == {n for n, s in REGISTRY.items() if s.formal}
    assert formal.subblock_units() == ["softmax", "attention"]
    assert formal.proved_units()[-2:] == ["softmax", "attention"]
    listed = re.escape(", ".join(formal.proved_units()))
    with pytest.raises(ValueError, match=rf"^hwsim prove has no specification for unit performer "
                                         rf"yet \(proved units: {listed}\)$"):
        formal.prove(get_unit("performer"), PerformerParams())


@pytest.mark.parametrize("unit", ["exp", "realm-mul", "float-mul", "float-div"])
def test_a_unit_without_bounds_says_so(unit, capsys):
    """``--property bounds`` on a unit with no documented bounds: one line naming what it
    has (was: 'NoneType' object is not callable), and no 'proving ...' line before it."""
    from hwsim.cli import main
    from hwsim.sim import formal
    spec = get_unit(unit)
    assert formal.unit_properties(spec) == ("equivalence",)
    with pytest.raises(ValueError, match=rf"^prove: unit {unit} has no error bounds to prove "
                                         rf"\(its properties: equivalence\)$"):
        formal.prove(spec, spec.params_cls(), property="bounds")
    capsys.readouterr()
    assert main(["prove", unit, "--property", "bounds"]) == 2
    assert capsys.readouterr().err == (f"hwsim: error: prove: unit {unit} has no error bounds "
                                       f"to prove (its properties: equivalence)\n")


def test_a_verilog_file_without_the_units_ports_is_refused(formal, tmp_path):
    path = tmp_path / "wrong.v"
    path.write_text("module mitchell_mul_u8(input [7:0] a, input [7:0] b, output [7:0] p);\n"
                    "  assign p = a & b;\nendmodule\n")
    with pytest.raises(ValueError, match=r"^prove: .*wrong\.v must have port 'p' of width 16 in "
                                         r"module mitchell_mul_u8 \(ports found: a\[8\], b\[8\], "
                                         r"p\[8\]\)$"):
        formal.prove(MUL, MitchellMulParams(width=8), verilog=path)
    with pytest.raises(ValueError, match=r"^yosys could not read .* with top module mitchell_mul_u8"):
        formal.prove(MUL, MitchellMulParams(width=8),
                     verilog=_export(DIV, MitchellDivParams(width=8), tmp_path))


def test_bad_arguments_are_refused(formal):
    with pytest.raises(ValueError, match=r"^prove: property must be one of equivalence, bounds, "
                                         r"wce, not 'speed'$"):
        formal.prove(MUL, MitchellMulParams(), property="speed")
    with pytest.raises(ValueError, match=r"^prove: timeout_s must be a positive number of "
                                         r"seconds, not 0$"):
        formal.prove(MUL, MitchellMulParams(), timeout_s=0)
    with pytest.raises(ValueError, match=r"^prove: timeout_s must be a positive number of "
                                         r"seconds, not inf$"):
        formal.prove(MUL, MitchellMulParams(), timeout_s=float("inf"))
    with pytest.raises(ValueError, match=r"^prove: mitchell-div has no proven error bound with "
                                         r"keep_bits \(Mitch-w\), not keep_bits=2$"):
        formal.prove(DIV, MitchellDivParams(keep_bits=2), property="bounds")


def test_a_timeout_gives_unknown(formal):
    r = formal.prove(MUL, MitchellMulParams(width=32, signed=True), timeout_s=0.001)
    assert r.status == "unknown" and not r.proved and r.counterexample is None
    assert formal.format_result(r).startswith("unknown: ")


def test_missing_z3_gives_the_install_hint(monkeypatch):
    from hwsim.sim import formal
    monkeypatch.setitem(sys.modules, "z3", None)  # import z3 -> ImportError
    with pytest.raises(formal.ProofToolMissing,
                       match=r"^z3-solver is missing: pip install 'hwsim\[proof\]'$"):
        formal.prove(MUL, MitchellMulParams())


def test_importing_hwsim_and_the_formal_module_loads_no_solver():
    code = ("import sys, hwsim, hwsim.sim.formal, hwsim.sim.spec_softmax, hwsim.sim.spec_attention; "
            "bad = [m for m in ('z3', 'amaranth') if m in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)
