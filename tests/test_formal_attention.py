"""Formal proofs of the attention head's multiply-accumulate paths (``hwsim prove attention``).

The head is proven by sub-block, like the softmax: its Q.K^T path (one MAC step
``acc + mult(q, k)`` into the score accumulator's width, and the scaled, saturated score of
the accumulator) and its P.V path (one MAC step ``acc + mult(p, v)``, and the rescaled,
saturated output), each as ``hwsim.hdl.attention.AttentionMac``, which elaborates the very
functions ``Attention`` uses, against ``spec_attention.attention_score_spec`` /
``attention_value_spec`` (written from docs/units/attention.md), for every input: every
accumulator value (reachable or not) and every operand pair, exact and Mitchell products.
The sequencing (d / L steps, clears, rotation, valid/ready) and the softmax between the two
paths (proven by ``hwsim prove softmax``) stay in simulation (tests/test_attention_hdl.py,
tests/test_attention_rtl.py). Every proof here takes about a second.
"""

import re

import numpy as np
import pytest

from hwsim.attention import AttentionParams, Multiplier, scale_saturate
from hwsim.fixed import FixedFormat
from hwsim.mitchell import mitchell_mul
from hwsim.units import get_unit
from rtl import require_prover

ATT = get_unit("attention")
EXACT, MITCHELL = Multiplier.EXACT, Multiplier.MITCHELL


@pytest.fixture
def formal():
    """hwsim.sim.formal with z3 and yosys present (else skip with the install hint; CI fails)."""
    require_prover()
    from hwsim.sim import formal
    return formal


# -- the numpy model's view of one MAC step (hwsim.attention), for counterexamples -----------

def _wrap(v: int, width: int) -> int:
    """``v`` in a signed register of ``width`` bits (its low bits)."""
    v &= (1 << width) - 1
    return v - (1 << width) if v >> (width - 1) else v


def _model_product(params, a: int, b: int, mp) -> int:
    if params.multiplier is EXACT:
        return a * b
    return int(mitchell_mul(np.array([a]), np.array([b]), mp)[0])


def _model_score(params, acc: int, q: int, k: int) -> dict:
    shift = params.scale_bits + 2 * params.in_fmt.frac_bits - params.softmax_in_fmt.frac_bits
    s = scale_saturate(np.array([acc * params.scale_const]), shift, params.softmax_in_fmt)
    return {"acc_next": _wrap(acc + _model_product(params, q, k, params.score_mult),
                              params.score_acc_width),
            "s": int(s[0])}


def _model_value(params, acc: int, p: int, v: int) -> dict:
    shift = params.softmax_out_fmt.frac_bits + params.in_fmt.frac_bits - params.out_fmt.frac_bits
    o = scale_saturate(np.array([acc]), shift, params.out_fmt)
    return {"acc_next": _wrap(acc + _model_product(params, p, v, params.value_mult),
                              params.value_acc_width),
            "o": int(o[0])}


def _model(label, params, cex: dict) -> dict:
    if label == "score":
        return _model_score(params, cex["acc"], cex["q"], cex["k"])
    return _model_value(params, cex["acc"], cex["p"], cex["v"])


# -- positive proofs ------------------------------------------------------------------------

@pytest.mark.parametrize("params", [
    AttentionParams(),                                        # the defaults: exact products
    AttentionParams(multiplier=MITCHELL),
    AttentionParams(multiplier=MITCHELL, keep_bits=3),
    AttentionParams(length=1, dim=1),
    # a negative score shift (C + 2F - F_s = -2: a left shift) and a 16-bit score
    AttentionParams(length=4, dim=4, scale_bits=2, softmax_in_fmt=FixedFormat(-2, 16)),
    # a negative output shift (F_p + F - F_out = -3), d not a power of 4 (S inexact)
    AttentionParams(length=2, dim=3, out_fmt=FixedFormat(2, 20), multiplier=MITCHELL),
], ids=lambda p: p.top_name)
def test_both_mac_paths_are_proved(formal, params):
    results = formal.prove_subblocks(ATT, params)
    assert [r.unit for r in results] == ["attention score", "attention value"]
    assert [r.top for r in results] == [f"{params.top_name}_score_mac",
                                        f"{params.top_name}_value_mac"]
    for r in results:
        assert r.proved and r.status == "proved", formal.format_result(r)
        assert r.assuming is None  # every accumulator value, every operand pair
        assert "== specification for all inputs (" in formal.format_result(r)
        assert r.seconds < 30, formal.format_result(r)


def test_the_head_is_refused_as_a_whole(formal):
    assert "attention" in formal.subblock_units() and "attention" in formal.proved_units()
    with pytest.raises(ValueError, match=r"^hwsim prove proves unit attention by its sub-blocks"):
        formal.prove(ATT, AttentionParams())
    with pytest.raises(ValueError, match=r"^prove: attention has no sub-block softmax "
                                         r"\(sub-blocks: score, value\)$"):
        formal.prove_subblocks(ATT, AttentionParams(), only=["softmax"])


# -- a proof that cannot fail proves nothing -----------------------------------------------

def _dropped_carry(params):
    """The score accumulator's top bit without the carry into it: ``acc_next[W-1] =
    acc[W-1] ^ prod[W-1]`` (the product sign-extended) instead of the full sum's bit."""
    wa, pw = params.score_acc_width, 2 * params.in_fmt.width

    def mutate(label, text):
        assert label == "score"
        m = re.search(r"assign (\\\$\d+)  = \$signed\(acc\) \+ \$signed\((.+?)\);", text)
        assert m, "no accumulator adder in the export"
        total, prod = m.groups()
        old = f"assign acc_next = {total} [{wa - 1}:0];"
        new = (f"assign acc_next = {{ acc[{wa - 1}] ^ {prod}[{min(wa, pw) - 1}], "
               f"{total} [{wa - 2}:0] }};")
        assert text.count(old) == 1, old
        return text.replace(old, new)
    return mutate


def _round_half_up(params):
    """The output rescale rounds half up instead of truncating: the first dropped bit of the
    accumulator is added to the non-saturated value (an off-by-one in the rounding)."""
    shift = params.softmax_out_fmt.frac_bits + params.in_fmt.frac_bits - params.out_fmt.frac_bits
    wa = params.value_acc_width
    limit = f"{wa}'h{(1 << wa) + params.out_fmt.min_raw:x}"  # the lower saturation value

    def mutate(label, text):
        assert label == "value"
        text, n = re.subn(rf"(\? {limit} : )(\\\$\d+ );", rf"\g<1>\g<2> + acc[{shift - 1}];",
                          text)
        assert n == 1, f"mutation matched {n} times"
        return text
    return mutate


@pytest.mark.parametrize("multiplier", [EXACT, MITCHELL], ids=lambda m: m.value)
@pytest.mark.parametrize("label, mutant", [("score", _dropped_carry),
                                           ("value", _round_half_up)],
                         ids=["score-dropped-carry", "value-round-half-up"])
def test_a_mutated_mac_path_gives_a_counterexample(formal, multiplier, label, mutant):
    params = AttentionParams(multiplier=multiplier)
    [r] = formal.prove_subblocks(ATT, params, only=[label], mutate=mutant(params))
    assert r.status == "counterexample", formal.format_result(r)
    outs = ("acc_next", "s") if label == "score" else ("acc_next", "o")
    assert any(r.values[f"rtl_{k}"] != r.values[f"spec_{k}"] for k in outs)
    # the numpy model agrees with the specification on the counterexample
    assert _model(label, params, r.counterexample) == {k: r.values[f"spec_{k}"] for k in outs}
    text = formal.format_result(r)
    assert text.startswith(f"counterexample: attention {label} ") and "acc=" in text


# -- the specification against the model, without the RTL ----------------------------------

def _spec_values(params, label, points):
    import z3

    from hwsim.sim.spec_attention import attention_score_spec, attention_value_spec
    w = params.in_fmt.width
    if label == "score":
        names = {"acc": params.score_acc_width, "q": w, "k": w}
        fn, outs = attention_score_spec, ("acc_next", "s")
    else:
        names = {"acc": params.value_acc_width, "p": params.softmax_out_fmt.width, "v": w}
        fn, outs = attention_value_spec, ("acc_next", "o")
    vars_ = {k: z3.BitVec(k, n) for k, n in names.items()}
    exprs = fn(z3, params, vars_)
    got = []
    for pt in points:
        subs = [(vars_[k], z3.BitVecVal(pt[k] % (1 << names[k]), names[k])) for k in names]
        row = {}
        for k in outs:
            e = z3.simplify(z3.substitute(exprs[k], *subs))
            row[k] = e.as_signed_long()
        got.append(row)
    return got


def _points(params, label, count, seed):
    """Corners (every operand at its extremes and 0, the accumulator at its extremes, 0, -1)
    and seeded random points."""
    rng = np.random.default_rng(seed)
    w = params.in_fmt.width
    lo, hi = -(1 << (w - 1)), (1 << (w - 1)) - 1
    if label == "score":
        wa, a_rng = params.score_acc_width, (lo, hi)
        keys = ("acc", "q", "k")
    else:
        wa, a_rng = params.value_acc_width, (0, params.softmax_out_fmt.max_raw)
        keys = ("acc", "p", "v")
    acc_rng = (-(1 << (wa - 1)), (1 << (wa - 1)) - 1)
    corners = [dict(zip(keys, (acc, a, b)))
               for acc in (*acc_rng, 0, -1) for a in (*a_rng, 1) for b in (lo, hi, 0, -1)]
    rand = [dict(zip(keys, (int(rng.integers(*acc_rng, endpoint=True)),
                            int(rng.integers(*a_rng, endpoint=True)),
                            int(rng.integers(lo, hi, endpoint=True)))))
            for _ in range(count)]
    return corners + rand


@pytest.mark.parametrize("params", [
    AttentionParams(),
    AttentionParams(multiplier=MITCHELL),
    AttentionParams(multiplier=MITCHELL, keep_bits=2, dim=3, scale_bits=11),
    AttentionParams(length=4, dim=4, scale_bits=2, softmax_in_fmt=FixedFormat(-2, 16)),
    AttentionParams(length=2, dim=5, out_fmt=FixedFormat(2, 20), in_fmt=FixedFormat(3, 9)),
], ids=lambda p: p.top_name)
@pytest.mark.parametrize("label", ["score", "value"])
def test_the_spec_equals_the_model(formal, params, label):
    points = _points(params, label, 150, seed=7)
    want = [(_model_score if label == "score" else _model_value)(params, *pt.values())
            for pt in points]
    assert _spec_values(params, label, points) == want


def test_the_scale_constant_is_the_documented_one():
    """``S = round(2**C / sqrt(d))`` in exact integers equals ``AttentionParams.scale_const``
    for every accepted d and C."""
    from hwsim.sim.spec_attention import attention_scale_const
    for d in range(1, 33):
        for c in range(2, 17):
            assert attention_scale_const(c, d) == AttentionParams(dim=d, scale_bits=c).scale_const


def test_the_accumulator_widths_are_the_documented_ones():
    """The specification's accumulator widths (docs/units/attention.md) are the RTL's, and
    hold d (L) products of the largest magnitude: the reachable sums never wrap."""
    from hwsim.sim.spec_attention import attention_score_acc_width, attention_value_acc_width
    for d in (1, 2, 3, 8, 32):
        for fmt in (FixedFormat(1, 1), FixedFormat(2, 6), FixedFormat(4, 12)):
            for pfmt in (FixedFormat(1, 11, signed=False), FixedFormat(0, 24, signed=False)):
                p = AttentionParams(length=d, dim=d, in_fmt=fmt, softmax_out_fmt=pfmt)
                w = fmt.width
                assert attention_score_acc_width(p) == p.score_acc_width
                assert attention_value_acc_width(p) == p.value_acc_width
                assert d * (1 << (2 * w - 2)) < 1 << (p.score_acc_width - 1)
                assert d * pfmt.max_raw * (1 << (w - 1)) < 1 << (p.value_acc_width - 1)


def test_the_mac_component_checks_its_arguments():
    from hwsim.hdl.attention import AttentionMac
    with pytest.raises(TypeError, match=r"^AttentionMac needs AttentionParams, not int$"):
        AttentionMac(3, "score")
    with pytest.raises(ValueError, match=r"^AttentionMac path must be one of score, value, "
                                         r"not 'softmax'$"):
        AttentionMac(AttentionParams(), "softmax")


# -- the CLI --------------------------------------------------------------------------------

@pytest.mark.parametrize("argv, tag", [([], "exact"), (["--multiplier", "mitchell"], "mitch")])
def test_the_cli_proves_both_paths(formal, capsys, argv, tag):
    from hwsim.cli import main
    assert main(["prove", "attention", *argv]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 3, out
    top = f"attention_l8_d8_{tag}_q2_6"
    assert out[0].startswith(f"proved: attention score {top}_score_mac == specification for "
                             "all inputs (")
    assert out[1].startswith(f"proved: attention value {top}_value_mac == specification for "
                             "all inputs (")
    assert out[2].startswith("stream level ") and "simulation" in out[2]
