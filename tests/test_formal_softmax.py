"""Formal proofs of the softmax's sub-blocks (``hwsim prove softmax``).

The softmax is proven by sub-block: its exp datapath (the very ``exp_datapath`` that
``ExpUnit`` wraps, with the ``ExpParams`` the softmax derives, against the exp
specification) and its normaliser (``hwsim.hdl.softmax.SoftmaxNormalizer``, which calls the
Softmax's own ``_normalize`` / ``_pipelined_exact_div``, against
``spec_softmax.softmax_normalizer_spec``, written from docs/units/softmax.md). The stream
level (control, register file, valid/ready, stalls) stays in simulation
(tests/test_softmax_hdl.py, tests/test_softmax_rtl.py).

The exact divider and the reciprocal table are proven under the documented invariant
``S > 0``. Every proof here takes a few seconds at most (small formats).
"""

import re

import numpy as np
import pytest

from hwsim.exp import ExpMethod
from hwsim.fixed import FixedFormat
from hwsim.softmax import Normalizer, SoftmaxForm, SoftmaxParams, normalize
from hwsim.units import get_unit
from rtl import require_prover

SOFTMAX = get_unit("softmax")
EXACT, MITCHELL, RECIP = Normalizer.EXACT_DIV, Normalizer.MITCHELL_DIV, Normalizer.RECIPROCAL_LUT


def UQ(i, f):
    return FixedFormat(i, f, signed=False)


#: a small format: exp values UQ1.8 (9 bits), sums 11 bits
SMALL = dict(length=2, in_fmt=FixedFormat(2, 2), out_fmt=UQ(1, 5))


@pytest.fixture
def formal():
    """hwsim.sim.formal with z3 and yosys present (else skip with the install hint; CI fails)."""
    require_prover()
    from hwsim.sim import formal
    return formal


def _prove_norm(formal, params, mutate=None):
    [r] = formal.prove_subblocks(SOFTMAX, params, only=["normalizer"], mutate=mutate)
    return r


def _model(params, e: int, s: int) -> int:
    """The numpy model's normaliser step (hwsim.softmax.normalize) on one (e, S) pair."""
    return int(normalize(np.array([e], np.int64), np.array(s, np.int64), params)[0])


# -- positive proofs ------------------------------------------------------------------------

@pytest.mark.parametrize("params", [
    SoftmaxParams(),                                          # the defaults: exact divider
    pytest.param(SoftmaxParams(normalizer=MITCHELL), marks=pytest.mark.slow),
    pytest.param(SoftmaxParams(**SMALL), marks=pytest.mark.slow),
    SoftmaxParams(**SMALL, normalizer=MITCHELL),
    SoftmaxParams(**SMALL, normalizer=RECIP, recip_bits=3),
    SoftmaxParams(**SMALL, normalizer=RECIP, recip_bits=1),
    SoftmaxParams(length=2, in_fmt=FixedFormat(2, 2), out_fmt=UQ(1, 3), normalizer=RECIP,
                  recip_bits=2),
    SoftmaxParams(**SMALL, form=SoftmaxForm.ONLINE, normalizer=RECIP, recip_bits=2, stages=1),
    SoftmaxParams(**SMALL, form=SoftmaxForm.TAYLOR, method=ExpMethod.TAYLOR, normalizer=MITCHELL,
                  stages=1),
], ids=lambda p: p.top_name)
def test_the_normalizer_is_proved(formal, params):
    r = _prove_norm(formal, params)
    assert r.proved and r.status == "proved", formal.format_result(r)
    assert r.unit == "softmax normalizer" and r.top == f"{params.top_name}_norm"
    text = formal.format_result(r)
    if params.normalizer is MITCHELL:  # defined at S = 0 as well: no precondition
        assert r.assuming is None and "for all inputs (" in text
    else:
        assert "for all inputs with s > 0 (documented: S > 0 always)" in text


@pytest.mark.parametrize("stages", [1, 2, 3, SoftmaxParams(length=2, out_fmt=UQ(1, 3)).quotient_bits])
def test_the_pipelined_exact_divider_is_proved_by_bmc(formal, stages):
    """stages >= 1: the Softmax's restoring divider (``_pipelined_exact_div``), a different
    circuit from the combinational ``//``, with its ``stages - 1`` group registers always
    advancing (a stall is the stream level)."""
    params = SoftmaxParams(length=2, in_fmt=FixedFormat(2, 2), out_fmt=UQ(1, 3), stages=stages)
    r = _prove_norm(formal, params)
    assert r.proved, formal.format_result(r)
    if stages > 1:
        assert f"{stages - 1}-cycle BMC" in r.size
    else:
        assert "BMC" not in r.size


def test_the_softmax_exp_is_the_exp_unit_with_the_derived_params(formal):
    for params in [SoftmaxParams(), SoftmaxParams(**SMALL, form=SoftmaxForm.TAYLOR,
                                                  method=ExpMethod.TAYLOR)]:
        [r] = formal.prove_subblocks(SOFTMAX, params, only=["exp"])
        assert r.proved, formal.format_result(r)
        assert r.unit == "softmax exp" and r.top == params.exp_params.top_name


def test_the_softmax_itself_is_refused_as_a_whole(formal):
    with pytest.raises(ValueError, match=r"^hwsim prove proves unit softmax by its sub-blocks"):
        formal.prove(SOFTMAX, SoftmaxParams())
    with pytest.raises(ValueError, match=r"^prove: softmax has no sub-block stream "):
        formal.prove_subblocks(SOFTMAX, SoftmaxParams(), only=["stream"])
    assert "softmax" in formal.proved_units()
    assert formal.subblock_units() == ["softmax", "attention"]


# -- a proof that cannot fail proves nothing -----------------------------------------------

def _one_sub(pattern, repl):
    def mutate(label, text):
        assert label == "normalizer"
        text, n = re.subn(pattern, repl, text)
        assert n == 1, f"mutation {pattern!r} matched {n} times"
        return text
    return mutate


@pytest.mark.parametrize("normalizer, pattern, repl", [
    # the saturated value 63 (UQ1.5's top) lowered to 62
    (EXACT, r"16'h003f", "16'h003e"),
    # the reciprocal shift k + (G - F_out) = k + 2 made k + 1
    (RECIP, r"\+ 2'h2;", "+ 2'h1;"),
], ids=["exact-saturation", "recip-shift"])
def test_a_mutated_normalizer_gives_a_counterexample(formal, normalizer, pattern, repl):
    params = SoftmaxParams(**SMALL, normalizer=normalizer, recip_bits=3)
    r = _prove_norm(formal, params, mutate=_one_sub(pattern, repl))
    assert r.status == "counterexample", formal.format_result(r)
    e, s = r.counterexample["e"], r.counterexample["s"]
    assert r.values["rtl_p"] != r.values["spec_p"]
    assert s > 0  # the precondition holds on the counterexample
    assert _model(params, e, s) == r.values["spec_p"]  # the numpy model agrees with the spec
    text = formal.format_result(r)
    assert text.startswith("counterexample: softmax normalizer ") and f"e={e}" in text


def test_a_mutated_pipelined_divider_gives_a_counterexample(formal):
    """A restoring step that compares with > instead of >=: q is 1 LSB short when the
    partial remainder equals the divisor."""
    params = SoftmaxParams(length=2, in_fmt=FixedFormat(2, 2), out_fmt=UQ(1, 3), stages=2)
    r = _prove_norm(formal, params, mutate=_one_sub(r"(assign div_q3 = [^;]*?)>=", r"\g<1>>"))
    assert r.status == "counterexample", formal.format_result(r)
    e, s = r.counterexample["e"], r.counterexample["s"]
    assert r.values["rtl_p"] != r.values["spec_p"] == _model(params, e, s)


# -- the specification against the model, without the RTL ----------------------------------

def _spec_values(params, pairs):
    import z3

    from hwsim.sim.spec_softmax import softmax_normalizer_spec
    e = z3.BitVec("e", params.exp_params.out_fmt.width)
    s = z3.BitVec("s", params.sum_width)
    p = softmax_normalizer_spec(z3, params, {"e": e, "s": s})["p"]
    out = []
    for ev, sv in pairs:
        v = z3.simplify(z3.substitute(p, (e, z3.BitVecVal(ev, e.size())),
                                      (s, z3.BitVecVal(sv, s.size()))))
        out.append(v.as_long())
    return out


@pytest.mark.parametrize("params", [
    SoftmaxParams(length=1, out_fmt=UQ(1, 1), normalizer=n, recip_bits=rb)
    for n, rb in [(EXACT, 8), (MITCHELL, 8), (RECIP, 1), (RECIP, 3), (RECIP, 5)]
] + [SoftmaxParams(length=2, out_fmt=UQ(0, 2), normalizer=n, recip_bits=2) for n in Normalizer],
    ids=lambda p: p.top_name)
def test_the_spec_equals_the_model_on_every_pair(formal, params):
    """Every (e, S) of a tiny format (S = 0 only for the Mitchell divider, which defines it)."""
    lo = 0 if params.normalizer is MITCHELL else 1
    pairs = [(e, s) for e in range(1 << params.exp_params.out_fmt.width)
             for s in range(lo, 1 << params.sum_width)]
    e, s = (np.array(c, np.int64) for c in zip(*pairs))
    want = [int(v) for v in normalize(e[:, None], s, params)[:, 0]]
    assert _spec_values(params, pairs) == want


def test_the_reciprocal_table_is_the_documented_one():
    from hwsim.sim.spec_softmax import recip_table
    for rb in range(1, 13):
        for f_out in (1, 7, 15, 24):
            p = SoftmaxParams(length=1, out_fmt=UQ(0, f_out), normalizer=RECIP, recip_bits=rb) \
                if rb <= f_out + 4 else None
            if p is not None:
                assert recip_table(rb, p.recip_frac_bits) == p.recip_table(), (rb, f_out)


# -- the CLI --------------------------------------------------------------------------------

def test_the_cli_proves_each_sub_block(formal, capsys):
    from hwsim.cli import main
    assert main(["prove", "softmax", "--length", "2", "--in-fmt", "Q2.2", "--out-fmt", "UQ1.5",
                 "--normalizer", "mitchell_div"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 3, out
    assert out[0].startswith("proved: softmax exp exp_lut6_q3_2_uq1_8 == specification for "
                             "all inputs (")
    assert out[1].startswith("proved: softmax normalizer "
                             "softmax_two_pass_l2_exp_lut6_mdiv_q2_2_uq1_5_norm == "
                             "specification for all inputs (")
    assert out[2].startswith("stream level ") and "simulation" in out[2]


def test_the_cli_proves_the_defaults(formal, capsys):
    from hwsim.cli import main
    assert main(["prove", "softmax"]) == 0
    out = capsys.readouterr().out
    assert out.count("proved: ") == 2 and "with s > 0" in out


def test_the_cli_refuses_what_sub_blocks_do_not_support(formal, capsys, tmp_path):
    from hwsim.cli import main
    assert main(["prove", "softmax", "--property", "bounds"]) == 2
    assert "equivalence only" in capsys.readouterr().err
    v = tmp_path / "x.v"
    v.write_text("module x; endmodule\n")
    assert main(["prove", "softmax", "--verilog", str(v)]) == 2
    assert "proven by its sub-blocks" in capsys.readouterr().err
