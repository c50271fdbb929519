"""Every configuration a Params class accepts is computed exactly (issue 12 item 1).

Hypothesis draws *valid* Params at the extremes of each field (the endpoints of every range,
plus values inside), skips the ones the constructor refuses (with a message), and compares the
vectorised model with the independent Python-integer references of ``tests/reference.py`` on a
few corner and seeded random inputs. Python integers have no width, so a model intermediate
that leaves int64 shows up as a mismatch. The derived width bounds are checked against the
HDL's register widths and 63 bits, and the issue's failing configurations are pinned against
the RTL (Amaranth's simulator).
"""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import reference as ref
from hwsim.attention import AttentionParams, Multiplier, attention_fixed
from hwsim.exp import ExpBase, ExpMethod, ExpParams, exp_fixed
from hwsim.fixed import FixedFormat as F
from hwsim.drum import DrumMulParams, drum_mul
from hwsim.mitchell import MitchellDivParams, MitchellMulParams, mitchell_div, mitchell_mul
from hwsim.performer import FeatureKind, PerformerParams, phi_fixed
from hwsim.softmax import Normalizer, SoftmaxForm, SoftmaxParams, corner_logits, softmax_fixed


def extreme(lo: int, hi: int):
    """An integer in lo..hi, the endpoints (and their neighbours) drawn often."""
    ends = sorted({lo, hi, min(lo + 1, hi), max(hi - 1, lo)})
    return st.one_of(st.sampled_from(ends), st.integers(lo, hi))


@st.composite
def fmt(draw, max_width: int, signed: bool, min_width: int = 1, extra_frac: int = 12):
    """A format of width min_width..max_width with 0..width + extra_frac fraction bits (more
    fraction bits than width: a negative int_bits, values all below one)."""
    w = draw(extreme(min_width, max_width))
    frac = draw(extreme(0, w + extra_frac))
    return F(w - frac, frac, signed)


def build(cls, **kw):
    try:
        return cls(**kw)
    except ValueError:  # refused with a message: not a configuration the model must compute
        assume(False)


def raw_inputs(fmt_, seed: int, n: int = 8) -> np.ndarray:
    """The format's extremes, 0 and +-1 LSB where they exist, then n seeded random patterns."""
    lo, hi = fmt_.min_raw, fmt_.max_raw
    corners = [v for v in (lo, lo + 1, -1, 0, 1, hi - 1, hi) if lo <= v <= hi]
    rng = np.random.default_rng(seed)
    return np.array(corners + rng.integers(lo, hi + 1, n).tolist(), dtype=np.int64)


SEED = st.integers(0, 2 ** 32 - 1)

# -- exp ------------------------------------------------------------------------------------


@st.composite
def exp_params(draw):
    return build(ExpParams, in_fmt=draw(fmt(24, True)), out_fmt=draw(fmt(32, False)),
                 method=draw(st.sampled_from(list(ExpMethod))),
                 base=draw(st.sampled_from(list(ExpBase))), lut_bits=draw(extreme(1, 12)),
                 segments=2 ** draw(extreme(0, 8)), order=draw(st.sampled_from([2, 4, 6, 8])),
                 stages=draw(extreme(0, 4)))


@settings(max_examples=300, deadline=None)
@given(exp_params(), SEED)
def test_exp_model_is_exact_at_the_extremes(p, seed):
    x = raw_inputs(p.in_fmt, seed)
    got = exp_fixed(x, p)
    assert got.dtype == np.int64
    assert got.tolist() == [ref.exp(int(v), p) for v in x]


@settings(max_examples=300, deadline=None)
@given(exp_params())
def test_exp_width_bounds_fit_the_hdl_and_pick_the_path(p):
    bits = p.intermediate_bits()
    assert p.wide == (max(bits.values()) > 63)
    assert bits["out"] == p.out_fmt.width
    if p.method is ExpMethod.TAYLOR:
        assert bits["t * acc"] <= 62  # refused above: every Horner product stays int64
    else:
        assert bits["m"] <= p.internal_bits + 2          # the HDL's mantissa register
        assert bits["y"] <= p.in_fmt.width + p.const_bits  # the HDL's y register, less its sign


# The issue's failing configurations: the model was wrong (int64 overflow), the RTL right.
ISSUE_CONFIGS = [ExpParams(out_fmt=F(4, 28, False), method=ExpMethod.IBERT)] + [
    ExpParams(in_fmt=F(6, 2), out_fmt=F(1, 30, False), method=m)
    for m in (ExpMethod.LUT, ExpMethod.PWL, ExpMethod.MITCHELL, ExpMethod.IBERT)]


def test_issue_12_exp_regressions():
    p = ISSUE_CONFIGS[0]
    assert exp_fixed([0], p).tolist() == [ref.exp(0, p)] == [268485362]  # e**0 = 1.0002 (I-BERT)
    top = ISSUE_CONFIGS[1].out_fmt.max_raw
    for p in ISSUE_CONFIGS[1:]:
        assert exp_fixed([92], p).tolist() == [top]  # e**23 saturates, not -8e18


# A few more wide / extreme configurations for the RTL (exhaustive where the input is small).
RTL_CONFIGS = ISSUE_CONFIGS + [
    ExpParams(in_fmt=F(8, 0), out_fmt=F(0, 32, False), method=ExpMethod.PWL, segments=1),
    ExpParams(in_fmt=F(-2, 10), out_fmt=F(-6, 38, False), method=ExpMethod.IBERT,
              base=ExpBase.TWO),
    ExpParams(in_fmt=F(1, 9), out_fmt=F(-8, 40, False), method=ExpMethod.LUT, lut_bits=12,
              stages=2),
    ExpParams(in_fmt=F(2, 8), out_fmt=F(4, 18, False), method=ExpMethod.TAYLOR, order=8),
]


@pytest.mark.parametrize("params", RTL_CONFIGS, ids=lambda p: p.top_name)
def test_extreme_exp_configs_match_the_rtl(params):
    from hwsim.sim.amaranth_sim import simulate
    from hwsim.units import get_unit
    unit = get_unit("exp")
    vec = unit.vectors(params, None, 0)
    got = simulate(unit.component(params), vec, stall_seed=1 if params.stages else None)
    g = np.array([int(v) for v in got["y"]], dtype=np.int64)
    want = exp_fixed(vec["x"], params)
    bad = np.flatnonzero(g != want)
    assert g.size == 2 ** params.in_fmt.width
    assert bad.size == 0, f"x={vec['x'][bad[0]]}: rtl {g[bad[0]]} model {want[bad[0]]}"


# -- softmax --------------------------------------------------------------------------------

@st.composite
def softmax_params(draw):
    form = draw(st.sampled_from(list(SoftmaxForm)))
    method = (ExpMethod.TAYLOR if form is SoftmaxForm.TAYLOR
              else draw(st.sampled_from(list(ExpMethod))))
    return build(SoftmaxParams, length=draw(extreme(1, 64)), in_fmt=draw(fmt(16, True)),
                 out_fmt=draw(fmt(24, False, extra_frac=8)), form=form, method=method,
                 base=draw(st.sampled_from(list(ExpBase))), lut_bits=draw(extreme(1, 12)),
                 segments=2 ** draw(extreme(0, 8)), order=draw(st.sampled_from([2, 4, 6, 8])),
                 normalizer=draw(st.sampled_from(list(Normalizer))),
                 recip_bits=draw(extreme(1, 12)))


@settings(max_examples=150, deadline=None)
@given(softmax_params(), SEED)
@pytest.mark.slow  # 6 s of CPU
def test_softmax_model_is_exact_at_the_extremes(p, seed):
    assert max(p.intermediate_bits().values()) <= 63
    rng = np.random.default_rng(seed)
    x = np.concatenate([corner_logits(p),
                        rng.integers(p.in_fmt.min_raw, p.in_fmt.max_raw + 1, (2, p.length))])
    got = softmax_fixed(x, p)
    assert got.tolist() == [ref.softmax(row, p) for row in x.tolist()]


def test_softmax_refuses_only_formats_beyond_64_bits():
    # every probability format with int_bits >= 0 is accepted at the longest length (TAYLOR
    # exp units have their own product limit)...
    for form in (SoftmaxForm.TWO_PASS, SoftmaxForm.ONLINE):
        for norm in (Normalizer.EXACT_DIV, Normalizer.RECIPROCAL_LUT):
            for out in (F(0, 24, False), F(1, 23, False)):
                p = SoftmaxParams(length=64, in_fmt=F(1, 3), out_fmt=out, form=form,
                                  method=ExpMethod.IBERT, normalizer=norm)
                assert max(p.intermediate_bits().values()) <= 63
    # ...and a refusal names the intermediate (here UQ-4.28 gives 31-bit exp values)
    with pytest.raises(ValueError, match=r"^SoftmaxParams.out_fmt must keep the online rescale "
                                         r"s \* e within 63 bits \(here 71\), not UQ-4.28$"):
        SoftmaxParams(length=64, out_fmt=F(-4, 28, False), form=SoftmaxForm.ONLINE)


# -- attention ------------------------------------------------------------------------------

@st.composite
def attention_params(draw):
    in_fmt = draw(fmt(16, True, min_width=2))
    mult = draw(st.sampled_from(list(Multiplier)))
    keep = (draw(st.one_of(st.none(), extreme(0, in_fmt.width - 2)))
            if mult is Multiplier.MITCHELL else None)
    return build(AttentionParams, length=draw(extreme(1, 32)), dim=draw(extreme(1, 32)),
                 in_fmt=in_fmt, out_fmt=draw(fmt(32, True, extra_frac=24)), multiplier=mult,
                 keep_bits=keep, scale_bits=draw(extreme(2, 16)),
                 softmax_in_fmt=draw(fmt(16, True, extra_frac=16)),
                 softmax_out_fmt=draw(fmt(24, False, extra_frac=4)),
                 softmax_method=draw(st.sampled_from(list(ExpMethod))),
                 softmax_normalizer=draw(st.sampled_from(list(Normalizer))))


@settings(max_examples=40, deadline=None)
@given(attention_params(), SEED)
def test_attention_model_is_exact_at_the_extremes(p, seed):
    assert max(p.intermediate_bits().values()) <= 63
    rng = np.random.default_rng(seed)
    lo, hi = p.in_fmt.min_raw, p.in_fmt.max_raw
    shape = (p.length, p.dim)
    problems = [np.full((3,) + shape, lo), rng.integers(lo, hi + 1, (3,) + shape)]
    for q, k, v in problems:
        got = attention_fixed(q, k, v, p)
        assert got.tolist() == ref.attention(q.tolist(), k.tolist(), v.tolist(), p)


def test_attention_largest_intermediate_at_the_limits():
    worst = max(max(AttentionParams(length=32, dim=d, in_fmt=F(16, 0), scale_bits=c,
                                    softmax_out_fmt=F(0, 24, False)).intermediate_bits().values())
                for d in range(1, 33) for c in (2, 8, 15, 16))
    assert worst == 50  # acc * S, docs/units/attention.md


def test_attention_left_shifts_saturate_exactly():
    # softmax_in_fmt / out_fmt with more fraction bits than the products: both rescalings shift
    # left, by 2 + 24 - ... bits; big results must saturate, not wrap out of 64 bits
    p = AttentionParams(length=2, dim=2, in_fmt=F(8, 0), scale_bits=2,
                        softmax_in_fmt=F(-20, 36), out_fmt=F(-30, 62), softmax_out_fmt=F(1, 11, False))
    q = np.array([[127, -128], [0, 1]])
    got = attention_fixed(q, q, q, p)
    assert got.tolist() == ref.attention(q.tolist(), q.tolist(), q.tolist(), p)
    assert {p.out_fmt.max_raw, p.out_fmt.min_raw} <= set(got.ravel().tolist())


def test_attention_left_shift_config_matches_the_rtl():
    from hwsim.sim.amaranth_sim import simulate_stream
    from hwsim.units import get_unit
    unit = get_unit("attention")
    p = AttentionParams(length=2, dim=2, in_fmt=F(4, 2), scale_bits=2,
                        softmax_in_fmt=F(-4, 16), out_fmt=F(-8, 30), softmax_out_fmt=F(1, 7, False))
    vec = unit.vectors(p, 6, 5)
    got = simulate_stream(unit.component(p), vec["x"], out_len=p.length * p.dim).astype(np.int64)
    want = unit.model(p, vec)["y"]
    assert (got == want).all()
    assert (np.abs(want) == p.out_fmt.max_raw).any()  # the saturating branch is exercised


# -- Performer ------------------------------------------------------------------------------

@st.composite
def performer_params(draw):
    in_fmt = draw(fmt(16, True, extra_frac=8))
    omega = draw(fmt(16, True, extra_frac=40))
    return build(PerformerParams, dim=draw(extreme(1, 64)), features=draw(extreme(1, 1024)),
                 kind=draw(st.sampled_from(list(FeatureKind))),
                 omega_seed=draw(st.integers(0, 3)), in_fmt=in_fmt, omega_fmt=omega,
                 method=draw(st.sampled_from(list(ExpMethod))), lut_bits=draw(extreme(1, 12)),
                 frac_bits=draw(extreme(1, 24)))


@settings(max_examples=30, deadline=None)
@given(performer_params(), SEED)
@pytest.mark.slow  # 5 s of CPU
def test_performer_model_is_exact_at_the_extremes(p, seed):
    assert max(p.intermediate_bits().values()) <= 63
    rng = np.random.default_rng(seed)
    lo, hi = p.in_fmt.min_raw, p.in_fmt.max_raw
    x = np.stack([np.full(p.dim, lo), np.full(p.dim, hi), rng.integers(lo, hi + 1, p.dim)])
    got = phi_fixed(x, p)
    assert got.tolist() == [ref.phi(row, p) for row in x.tolist()]


def test_performer_refuses_an_exponent_beyond_64_bits():
    with pytest.raises(ValueError, match=r"^PerformerParams.omega_fmt must keep the exponent's "
                                         r"\|x\|\^2 << \(F_w - F_x\) within 63 bits \(here 68\), "
                                         r"not Q-30.46$"):
        PerformerParams(dim=64, in_fmt=F(1, 15), omega_fmt=F(-30, 46))


# -- Mitchell -------------------------------------------------------------------------------

def mitchell_operands(width: int, signed: bool, seed: int) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = (-(1 << (width - 1)), (1 << (width - 1)) - 1) if signed else (0, (1 << width) - 1)
    vals = [v for v in (lo, lo + 1, -1, 0, 1, 2, hi - 1, hi) if lo <= v <= hi]
    rng = np.random.default_rng(seed)
    vals += rng.integers(lo, hi + 1, 6).tolist()
    a, b = np.meshgrid(vals, vals)
    return a.ravel(), b.ravel()


@settings(max_examples=100, deadline=None)
@given(extreme(2, 32), st.booleans(), st.data(), SEED)
def test_mitchell_mul_is_exact_at_the_extremes(width, signed, data, seed):
    keep = data.draw(st.one_of(st.none(), extreme(0, width - 2)))
    p = MitchellMulParams(width=width, signed=signed, keep_bits=keep)
    a, b = mitchell_operands(width, signed, seed)
    got = mitchell_mul(a, b, p)
    assert [int(v) for v in got] == [ref.mul(int(x), int(y), width, signed, keep)
                                     for x, y in zip(a, b)]


@settings(max_examples=100, deadline=None)
@given(extreme(2, 32), st.data(), SEED)
def test_mitchell_div_is_exact_at_the_extremes(width, data, seed):
    frac = data.draw(extreme(0, min(32, 64 - width)))
    keep = data.draw(st.one_of(st.none(), extreme(0, width - 2)))
    p = MitchellDivParams(width=width, frac_bits=frac, keep_bits=keep)
    a, b = mitchell_operands(width, False, seed)
    q, dz = mitchell_div(a, b, p)
    want = [ref.div(int(x), int(y), width, frac, keep) for x, y in zip(a, b)]
    assert [(int(v), int(z)) for v, z in zip(q, dz)] == want


@settings(max_examples=100, deadline=None)
@given(extreme(4, 24), st.data(), SEED)
def test_drum_mul_is_exact_at_the_extremes(width, data, seed):
    k = data.draw(extreme(2, width))
    p = DrumMulParams(width=width, k=k)
    a, b = mitchell_operands(width, False, seed)
    got = drum_mul(a, b, p)
    assert got.dtype == np.int64
    assert got.tolist() == [ref.drum_mul(int(x), int(y), width, k) for x, y in zip(a, b)]


def test_drum_mul_refuses_widths_beyond_int64():
    with pytest.raises(ValueError, match=r"^DrumMulParams.width must be an integer in 4..24, "
                                         r"not 25$"):
        DrumMulParams(width=25)
    with pytest.raises(ValueError, match=r"^DrumMulParams.k must be an integer in 2..8, not 9$"):
        DrumMulParams(width=8, k=9)


WIDE_SOFTMAX = [SoftmaxParams(length=8, in_fmt=F(3, 3), out_fmt=F(0, 24, False), form=form,
                              method=ExpMethod.IBERT, normalizer=norm)
                for form, norm in ((SoftmaxForm.ONLINE, Normalizer.RECIPROCAL_LUT),
                                   (SoftmaxForm.TWO_PASS, Normalizer.EXACT_DIV))]


@pytest.mark.parametrize("p", WIDE_SOFTMAX, ids=lambda p: p.top_name)
def test_softmax_with_a_wide_exp_unit_matches_reference_and_rtl(p):
    # UQ0.24 probabilities: E = 27, the IBERT exp unit has R = 31 and runs in Python integers
    from hwsim.sim.amaranth_sim import simulate_stream
    from hwsim.units import get_unit
    assert p.exp_params.wide
    x = np.concatenate([corner_logits(p), np.random.default_rng(4).integers(-32, 32, (4, 8))])
    want = softmax_fixed(x, p)
    assert want.tolist() == [ref.softmax(row, p) for row in x.tolist()]
    got = simulate_stream(get_unit("softmax").component(p), x, stall_seed=2).astype(np.int64)
    assert (got == want).all()


# Configurations whose largest int64 intermediate is 62 or 63 bits: one more bit and the model
# would switch to Python integers. Every input of a 12-bit format, against the reference.
BORDERLINE = [ExpParams(in_fmt=F(4, 8), out_fmt=F(0, 26, False), method=ExpMethod.IBERT),
              ExpParams(in_fmt=F(4, 8), out_fmt=F(0, 27, False), method=ExpMethod.PWL,
                        segments=1),
              ExpParams(in_fmt=F(-32, 44), out_fmt=F(0, 32, False), method=ExpMethod.LUT)]


@pytest.mark.parametrize("p", BORDERLINE, ids=lambda p: p.top_name)
def test_exp_borderline_int64_configs_are_exact_exhaustively(p):
    assert not p.wide and max(p.intermediate_bits().values()) >= 62
    x = np.arange(*p.in_range)
    assert exp_fixed(x, p).tolist() == [ref.exp(int(v), p) for v in x]
