"""Formal specification of the softmax's normaliser, and the softmax's sub-blocks
(``hwsim.softmax``).

**softmax** is proven by sub-block (:class:`~hwsim.sim.spec_common.SubBlock`; the stream level stays in
simulation): its exp datapath with :func:`exp_spec`, its normaliser with
:func:`softmax_normalizer_spec` (written from ``docs/units/softmax.md``, the Mitchell
divider through :func:`mitchell_div`), the exact divider and the reciprocal table under the
documented precondition ``S > 0`` (:func:`softmax_normalizer_precondition`).
"""

from __future__ import annotations

from hwsim.sim.spec_common import SubBlock, log_fields, mux
from hwsim.sim.spec_exp import exp_spec
from hwsim.sim.spec_mitchell import mitchell_div

__all__ = ["recip_table", "softmax_normalizer_precondition", "softmax_normalizer_spec",
           "softmax_subblocks"]


def recip_table(recip_bits: int, g_bits: int) -> list[int]:
    """``T[i] = round(2**G / (1 + (i + 1/2) / 2**recip_bits))`` in exact integers:
    ``2**(G + rb + 1) / (2**(rb + 1) + 2i + 1)`` rounded half up (the denominator is odd and
    above 1, so no entry is a tie)."""
    out = []
    for i in range(1 << recip_bits):
        num, den = 1 << (g_bits + recip_bits + 1), (1 << (recip_bits + 1)) + 2 * i + 1
        out.append((2 * num + den) // (2 * den))
    return out


def softmax_normalizer_spec(z3, params, inputs: dict) -> dict:
    """``{"p": ...}``: the softmax's normaliser of ``SoftmaxParams`` on ``e`` and ``s``.

    From docs/units/softmax.md (Normalisers; all floor, then saturate to ``out_fmt``):

    * EXACT_DIV: ``p = min((e << F_out) // S, top)``;
    * MITCHELL_DIV: ``p = min(mitchell_div(e, S), top)`` with
      ``MitchellDivParams(width=sum_width, frac_bits=F_out)`` (:func:`mitchell_div`);
    * RECIPROCAL_LUT: ``S = 2**k (1 + x)`` (``k`` the leading one, ``x`` the ``sum_width - 1``
      bits below it: :func:`~hwsim.sim.spec_common.log_fields`), ``R = T[top recip_bits bits of x]``
      (:func:`recip_table`), ``p = min((e R) >> (k + G - F_out), top)``, ``G = F_out + 2``.

    The doc defines EXACT_DIV and RECIPROCAL_LUT only for ``S > 0`` ("division by zero is
    unreachable"): their proofs carry that precondition
    (:func:`softmax_normalizer_precondition`). The Mitchell divider defines ``S = 0`` and is
    proved for every input. The widths are the RTL's (the dividend ``W_e + F_out`` bits, the
    product ``W_e + G``), so that z3 builds the RTL's own division and product terms.
    """
    e, s = inputs["e"], inputs["s"]
    fo, top, out_w = params.out_fmt.frac_bits, params.out_fmt.max_raw, params.out_fmt.width
    we, sw = e.size(), params.sum_width
    norm = params.normalizer.value
    if norm == "exact_div":
        w = max(we + fo, sw)
        num = z3.ZeroExt(w - we - fo, z3.Concat(e, z3.BitVecVal(0, fo))) if fo else z3.ZeroExt(w - we, e)
        q = z3.UDiv(num, z3.ZeroExt(w - sw, s))
    elif norm == "mitchell_div":
        dp = params.div_params
        q = mitchell_div(z3, dp, {"a": z3.ZeroExt(sw - we, e), "b": s})["q"]
        w = q.size()
    elif norm == "reciprocal_lut":
        rb, g = params.recip_bits, params.out_fmt.frac_bits + 2
        table = recip_table(rb, g)
        r_bits = max(table).bit_length()
        kw = max(sw, 2).bit_length() + 1  # k <= sw - 1 and the shift k + G - F_out
        k, x = log_fields(z3, s, sw, None, sw + kw)
        idx = z3.Extract(sw - 2, sw - 1 - rb, x)
        r = mux(z3, idx, rb, table, r_bits)
        w = we + r_bits
        prod = z3.ZeroExt(w - we, e) * z3.ZeroExt(w - r_bits, r)
        shift = z3.Extract(kw - 1, 0, k) + (g - fo)
        q = z3.LShR(prod, z3.ZeroExt(w - kw, shift)) if w >= kw else z3.LShR(
            z3.ZeroExt(kw - w, prod), shift)
        w = q.size()
    else:
        raise ValueError(f"softmax_normalizer_spec: unknown normalizer {norm!r}")
    wt = max(w, out_w)
    qw = z3.ZeroExt(wt - w, q)
    p = z3.If(z3.UGT(qw, z3.BitVecVal(top, wt)), z3.BitVecVal(top, wt), qw)
    return {"p": z3.Extract(out_w - 1, 0, p)}


def softmax_normalizer_precondition(z3, params, inputs: dict):
    """The documented invariant the proof of the normaliser assumes, or None: ``S > 0``
    (docs/units/softmax.md: the largest logit contributes exp(0) >= 1, or f_n(t*) 2**E >= 1
    LSB, so division by zero is unreachable) for EXACT_DIV and RECIPROCAL_LUT, whose
    documented formulas have no value at ``S = 0``."""
    if params.normalizer.value == "mitchell_div":
        return None
    return inputs["s"] != 0


def softmax_subblocks(params) -> list:
    """The softmax's sub-blocks proven by ``hwsim prove softmax``; see :class:`~hwsim.sim.spec_common.SubBlock`."""
    ep = params.exp_params
    return [
        # the Softmax calls exp_datapath, the very function ExpUnit wraps (stages=0)
        SubBlock("exp", "hwsim.hdl.exp:ExpUnit", ep, ep.top_name, exp_spec),
        SubBlock("normalizer", "hwsim.hdl.softmax:SoftmaxNormalizer", params,
                 f"{params.top_name}_norm", softmax_normalizer_spec,
                 softmax_normalizer_precondition, "s > 0 (documented: S > 0 always)"),
    ]
