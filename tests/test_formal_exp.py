"""Formal proofs of the exp unit: RTL == ``hwsim.sim.spec_exp.exp_spec`` for all inputs.

The specification is written from docs/units/exp.md ("Bit semantics"); here it is checked
three ways: its constants against the documented formulas (and ``ExpParams``), its values
against the numpy model on every input of small formats (no RTL involved), and the RTL
against it by proof, for every method and both bases, plus mutants of the exported Verilog
that the proof must reject with a counterexample the model confirms.

The LUT and PWL units hold their tables in a ROM: yosys ``prep`` turns the constant case
statement into a ``$mem_v2`` cell, which ``write_smt2`` would model as *free* state (a
spurious counterexample: model, Icarus and Verilator agreed with the specification there);
``hwsim.sim.formal`` maps memories to logic first, and a test here keeps it so.
Every proof here takes about a second or less (0.1-1.5 s measured, 20-30 s for the file).
"""

from decimal import Decimal, getcontext

import numpy as np
import pytest

from hwsim.exp import ExpBase, ExpMethod, ExpParams, exp_fixed
from hwsim.fixed import FixedFormat
from hwsim.units import get_unit
from rtl import export_verilog, require_module, require_prover

EXP = get_unit("exp")
ROM_METHODS = (ExpMethod.LUT, ExpMethod.PWL)


def Q(i, f):
    return FixedFormat(i, f)


def UQ(i, f):
    return FixedFormat(i, f, signed=False)


@pytest.fixture
def formal():
    """hwsim.sim.formal with z3 and yosys present (else skip with the install hint; CI fails)."""
    require_prover()
    from hwsim.sim import formal
    return formal


def _export(params, tmp_path, mutate=None, name="dut.v"):
    return export_verilog(EXP, params, tmp_path, mutate, name)


def _prove(formal, params, tmp_path, **kw):
    path = _export(params, tmp_path, **kw)
    return formal.prove(EXP, params, verilog=path)


def _model(params, x: int) -> int:
    return int(np.asarray(EXP.model(params, {"x": np.array([x])})["y"]).reshape(-1)[0])


# -- the specification's constants and values, without the RTL ------------------------------

CONSTANT_CASES = [
    ExpParams(),
    ExpParams(method=ExpMethod.LUT, lut_bits=12, in_fmt=Q(8, 16), out_fmt=UQ(16, 16)),
    ExpParams(method=ExpMethod.PWL, segments=1),
    ExpParams(method=ExpMethod.PWL, segments=256, in_fmt=Q(2, 10), out_fmt=UQ(4, 20)),
    ExpParams(method=ExpMethod.IBERT, base=ExpBase.TWO),
    ExpParams(method=ExpMethod.IBERT, in_fmt=Q(4, 20), out_fmt=UQ(4, 28)),
    *(ExpParams(method=ExpMethod.TAYLOR, order=n, in_fmt=Q(3, 3), out_fmt=UQ(4, 4))
      for n in (2, 4, 6, 8)),
    ExpParams(method=ExpMethod.TAYLOR, order=8, in_fmt=Q(2, 12), out_fmt=UQ(4, 20)),
]


@pytest.mark.parametrize("params", CONSTANT_CASES, ids=lambda p: p.top_name)
def test_constants_follow_the_documented_formulas(params):
    """exp_constants (the spec's own) == ExpParams' tables, and both are the round to
    nearest of the real constants (computed in 60-digit decimal arithmetic)."""
    from hwsim.sim.spec_exp import exp_constants
    k = exp_constants(params)
    r, c = params.internal_bits, params.const_bits
    assert (k["R"], k["C"]) == (r, c) == (max(params.in_fmt.frac_bits,
                                              params.out_fmt.frac_bits) + 4, r + 2)
    assert (k["LOG2E"], k["LN2"]) == (params.log2e, params.ln2)
    getcontext().prec = 60
    ln2 = Decimal(2).ln()

    def nearest(v: Decimal, bits: int) -> int:  # round(v 2**bits), ties cannot occur here
        return int((v * 2 ** bits + Decimal("0.5")).to_integral_value(rounding="ROUND_FLOOR"))

    def pow2(e: Decimal) -> Decimal:
        return (e * ln2).exp()

    assert k["LOG2E"] == nearest(1 / ln2, c) and k["LN2"] == nearest(ln2, c)
    if params.method is ExpMethod.LUT:
        t = params.lut_bits
        assert k["T"] == params.lut_table()
        assert k["T"] == [nearest(pow2((i + Decimal("0.5")) / 2 ** t), r) for i in range(2 ** t)]
    elif params.method is ExpMethod.PWL:
        s = params.segments
        assert [k["A"], k["B"]] == list(params.pwl_tables())
        assert k["A"] == [nearest(pow2(Decimal(j) / s), r) for j in range(s)]
        assert k["B"] == [nearest(s * (pow2(Decimal(j + 1) / s) - pow2(Decimal(j) / s)), r)
                          for j in range(s)]
    elif params.method is ExpMethod.IBERT:
        assert (k["IA"], k["IB"], k["IC"]) == params.ibert_constants()
        assert (k["IA"], k["IB"], k["IC"]) == (nearest(Decimal("0.717"), c),
                                               nearest(Decimal("1.353"), r),
                                               nearest(Decimal("0.688"), r))
    elif params.method is ExpMethod.TAYLOR:
        assert k["INV"] == params.taylor_inverses()
        assert k["INV"][1:] == [nearest(Decimal(1) / n, c) for n in range(1, params.order + 1)]
        # ceil(t* 2**R) in exact rationals == ExpParams' float64 bisection
        assert k["CLAMP"] == params.taylor_clamp


def _small_configs():
    fmts = [(Q(3, 3), UQ(4, 4)), (Q(2, 4), UQ(3, 5)), (Q(4, 2), UQ(8, 0))]
    extra = {ExpMethod.LUT: [{"lut_bits": 1}, {"lut_bits": 3}, {"lut_bits": 7}],
             ExpMethod.PWL: [{"segments": 1}, {"segments": 4}, {"segments": 128}],
             ExpMethod.TAYLOR: [{"order": n} for n in (2, 4, 6, 8)]}
    out = []
    for fi, fo in fmts:
        for method in ExpMethod:
            for base in ExpBase:
                for kw in extra.get(method, [{}]):
                    try:
                        out.append(ExpParams(in_fmt=fi, out_fmt=fo, method=method, base=base,
                                             **kw))
                    except ValueError:  # e.g. 128 segments > 2**R
                        pass
    return out


def test_spec_equals_the_model_on_every_input_of_small_formats():
    """The z3 specification, evaluated on each input (substitute and simplify), equals
    hwsim.exp.exp_fixed: every method, base and table size, no RTL involved."""
    z3 = require_module("z3", "proof")
    from hwsim.sim.spec_exp import exp_spec
    configs = _small_configs()
    assert len(configs) >= 60
    for params in configs:
        w = params.in_fmt.width
        x = z3.BitVec("x", w)
        y = exp_spec(z3, params, {"x": x})["y"]
        assert y.size() == params.out_fmt.width
        xs = np.arange(params.in_fmt.min_raw, params.in_fmt.max_raw + 1)
        want = exp_fixed(xs, params)
        got = [z3.simplify(z3.substitute(y, (x, z3.BitVecVal(int(v) % (1 << w), w)))).as_long()
               for v in xs]
        assert got == [int(v) for v in want], params.top_name


# -- positive proofs --------------------------------------------------------------------------

def _proof_cases():
    cases = []
    for method in ExpMethod:
        for base in ExpBase:
            cases += [ExpParams(method=method, base=base),
                      ExpParams(method=method, base=base, in_fmt=Q(3, 3), out_fmt=UQ(4, 4)),
                      ExpParams(method=method, base=base, in_fmt=Q(2, 6), out_fmt=UQ(3, 9))]
    return cases + [ExpParams(method=ExpMethod.LUT, lut_bits=8),
                    ExpParams(method=ExpMethod.PWL, segments=1),
                    ExpParams(method=ExpMethod.PWL, segments=32, base=ExpBase.TWO),
                    ExpParams(method=ExpMethod.TAYLOR, order=8),
                    ExpParams(method=ExpMethod.TAYLOR, order=2, base=ExpBase.TWO),
                    ExpParams(method=ExpMethod.TAYLOR, order=6, in_fmt=Q(1, 10), out_fmt=UQ(3, 9)),
                    ExpParams(method=ExpMethod.IBERT, in_fmt=Q(5, 2), out_fmt=UQ(16, 0))]


@pytest.mark.parametrize("params", _proof_cases(), ids=lambda p: p.top_name)
def test_every_method_and_base_is_proved(formal, params, tmp_path):
    r = _prove(formal, params, tmp_path)
    assert r.proved and r.status == "proved", formal.format_result(r)
    assert f"{params.in_fmt.width} input bits" in r.size
    assert r.seconds < 10, formal.format_result(r)  # about a second each; slow = lost sharing


@pytest.mark.parametrize("params", [
    ExpParams(method=ExpMethod.IBERT, stages=1),
    ExpParams(method=ExpMethod.TAYLOR, base=ExpBase.TWO, stages=1),
    ExpParams(method=ExpMethod.MITCHELL, stages=2),
    ExpParams(method=ExpMethod.LUT, in_fmt=Q(3, 5), out_fmt=UQ(4, 8), stages=2),
    ExpParams(stages=3),  # the default unit at >= 80 MHz (docs/units/exp.md)
    ExpParams(stages=5),  # every cut point registered, the CSD multiplier split
], ids=lambda p: p.top_name)
def test_pipelines_are_proved_by_bmc(formal, params, tmp_path):
    """With a register after the input conversion (stages >= 2) the state bits break the
    structural sharing beyond it: I-BERT / PWL / TAYLOR at Q4.8 then take 5-60 s, so the
    two-stage cases here are the cheap ones."""
    r = _prove(formal, params, tmp_path)
    assert r.proved, formal.format_result(r)
    assert f"{params.latency}-cycle BMC" in r.size


@pytest.mark.parametrize("method", ROM_METHODS, ids=lambda m: m.value)
def test_a_table_in_a_rom_is_proved_on_the_raw_export(formal, method):
    """yosys makes the LUT / PWL tables a ROM cell; unmapped, write_smt2 leaves its contents
    free and the proof found a spurious counterexample (x=1002: "RTL" 56818, model, Icarus,
    Verilator and specification 205452). hwsim.sim.formal maps memories first."""
    r = formal.prove(EXP, ExpParams(method=method))
    assert r.proved, formal.format_result(r)


# -- mutants: the proof must fail, and the model must side with the specification ------------

def _check_mutant(formal, params, r):
    assert r.status == "counterexample" and not r.proved, formal.format_result(r)
    x = r.counterexample["x"]
    lo, hi = params.in_range
    assert lo <= x < hi
    assert r.values["rtl_y"] != r.values["spec_y"]
    assert _model(params, x) == r.values["spec_y"]  # the numpy model agrees with the spec
    return x


@pytest.mark.slow  # a refuted mutant: 8 s of CPU
def test_a_wrong_ibert_constant_is_found(formal, tmp_path):
    """I-BERT's b (B = round(1.353 2**R)) off by one LSB in the Verilog."""
    params = ExpParams(method=ExpMethod.IBERT)
    r_bits = params.internal_bits
    b = params.ibert_constants()[1]
    path = _export(params, tmp_path, (rf"\+ \$signed\({r_bits + 2}'h{b:x}\)",
                                      f"+ $signed({r_bits + 2}'h{b + 1:x})"))
    r = formal.prove(EXP, params, verilog=path)
    _check_mutant(formal, params, r)
    assert formal.prove(EXP, params).proved  # and the unmutated export is


def test_one_wrong_lut_entry_is_found(formal, tmp_path):
    """Table entry 40 of 64 one LSB high: only inputs whose top six fraction bits of y are
    40 can show it, and the counterexample is one of them."""
    params = ExpParams()
    t, r_bits = params.lut_bits, params.internal_bits
    entry = params.lut_table()[40]
    path = _export(params, tmp_path, (rf"(6'h28:\s+\S+\s+=\s+{r_bits + 1}'h){entry:x};",
                                      rf"\g<1>{entry + 1:x};"))
    r = formal.prove(EXP, params, verilog=path)
    x = _check_mutant(formal, params, r)
    # y = floor(x LOG2E / 2**(F_in + 2)): its fraction's top t bits index the table
    y = (x * params.log2e) >> (params.in_fmt.frac_bits + params.const_bits - r_bits)
    assert (y % (1 << r_bits)) >> (r_bits - t) == 40


@pytest.mark.slow  # a refuted mutant: 11 s of CPU
def test_a_wrong_taylor_inverse_is_found(formal, tmp_path):
    """The Horner step k = 3 of a 2**x unit multiplying by INV[4] instead of INV[3]."""
    params = ExpParams(method=ExpMethod.TAYLOR, base=ExpBase.TWO)
    inv = params.taylor_inverses()
    width = inv[3].bit_length() + 1
    path = _export(params, tmp_path, (rf"\* \$signed\({width}'h{inv[3]:x}\)",
                                      f"* $signed({width}'h{inv[4]:x})"))
    r = formal.prove(EXP, params, verilog=path)
    _check_mutant(formal, params, r)


def test_a_saturation_that_wraps_is_found(formal, tmp_path):
    """The output saturation of a Mitchell unit replaced by a cut (the OR of the shifter's
    bits above the output -> never)."""
    params = ExpParams(method=ExpMethod.MITCHELL, in_fmt=Q(4, 4), out_fmt=UQ(4, 4))
    path = _export(params, tmp_path, (r"= (\| \{ 1'h0, \\\$\d+ \[\d+:\d+\] \});",
                                      r"= 1'h0 && \g<1>;"))
    r = formal.prove(EXP, params, verilog=path)
    x = _check_mutant(formal, params, r)
    assert r.values["spec_y"] == 255 and x > 0  # saturated in the spec, wrapped in the RTL
