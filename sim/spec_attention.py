"""Formal specification of the attention head's multiply-accumulate paths, and its sub-blocks
(``hwsim.attention``).

**attention** is proven by sub-block too (:class:`~hwsim.sim.spec_common.SubBlock`): its two multiply-accumulate
paths (:func:`attention_score_spec`, :func:`attention_value_spec`, written from the
numbered steps of ``docs/units/attention.md`` and of ``hwsim.attention``'s docstring, without
calling the model or the HDL: the Mitchell product
through :func:`mitchell_mul`, the exact one a bit-vector product, the sum exact into the
accumulator register's documented width, the rescaling a shift of a wide vector, floor, and
a saturating comparison). Its softmax is the softmax unit, proven as above.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from hwsim.sim.spec_common import SubBlock
from hwsim.sim.spec_mitchell import mitchell_mul

__all__ = ["attention_scale_const", "attention_score_acc_width", "attention_score_spec",
           "attention_subblocks", "attention_value_acc_width", "attention_value_spec"]


def attention_scale_const(scale_bits: int, dim: int) -> int:
    """``S = round(2**C / sqrt(d))`` in exact integers. No tie occurs (``2**C / sqrt(d) + 1/2``
    is an integer only for ``d = 4**(C+1)``), so ``S = floor(2**C / sqrt(d) + 1/2) =
    floor((floor(2**(C+1) / sqrt(d)) + 1) / 2)``, and ``floor(2**(C+1) / sqrt(d)) =
    isqrt(4**(C+1) // d)``."""
    return (math.isqrt((1 << (2 * scale_bits + 2)) // dim) + 1) // 2


def _bits(v: int) -> int:
    """Bits of a value ``>= 0`` (``int.bit_length``)."""
    return v.bit_length()


@dataclass(frozen=True)
class _SignedMul:
    """The documented multiplier of a MAC path, as :func:`mitchell_mul` reads it."""

    width: int
    keep_bits: int | None
    signed: bool = True


def _product(z3, params, a, b, n: int):
    """``mult(a, b)`` of two n-bit signed operands as a 2n-bit signed vector: the exact
    product (a bit-vector product of the operands sign-extended to 2n bits, which holds every
    product, ``(-2**(n-1))**2`` included) or the signed Mitchell multiplier of width n."""
    if params.multiplier.value == "exact":
        return z3.SignExt(n, a) * z3.SignExt(n, b)
    return mitchell_mul(z3, _SignedMul(n, params.keep_bits), {"a": a, "b": b})["p"]


def _accumulate(z3, acc, prod):
    """``acc + prod``, summed exactly (a vector one bit wider than both) and written to the
    accumulator register, which keeps its own width: its low bits, for every ``acc``. A
    reachable ``acc`` is a sum of fewer than n products (n = d for Q.K^T, L for P.V), each
    at most ``P = 2**(2w-2)`` (Q.K^T) or ``max_p 2**(w-1)`` (P.V) in magnitude (a Mitchell
    product is never above the exact one: :func:`mul_bounds`); the documented widths
    ``bits(n P) + 1`` hold ``|acc + prod| <= n P``, so there the low bits are the exact
    sum."""
    wa, wp = acc.size(), prod.size()
    w = max(wa, wp) + 1
    return z3.Extract(wa - 1, 0, z3.SignExt(w - wa, acc) + z3.SignExt(w - wp, prod))


def _rescale(z3, x, shift: int, fmt):
    """``floor(x 2**-shift)`` (``Rounding.TRUNCATE``; a negative count shifts left, exactly)
    saturated into the signed ``fmt`` (``Overflow.SATURATE``), as ``fmt.width`` bits."""
    n = x.size()
    w = max(n + max(0, -shift), fmt.width) + 1  # the left shift and the bounds fit
    xw = z3.SignExt(w - n, x)
    y = xw >> shift if shift >= 0 else xw << -shift  # >> on a BitVec: arithmetic (floor)
    hi, lo = z3.BitVecVal(fmt.max_raw, w), z3.BitVecVal(fmt.min_raw, w)
    return z3.Extract(fmt.width - 1, 0, z3.If(y > hi, hi, z3.If(y < lo, lo, y)))


def attention_score_acc_width(params) -> int:
    """The Q.K^T accumulator's documented width: ``bits(d 2**(2w-2)) + 1``."""
    return _bits(params.dim << (2 * params.in_fmt.width - 2)) + 1


def attention_value_acc_width(params) -> int:
    """A P.V accumulator's documented width: ``bits(L max_p 2**(w-1)) + 1``, ``max_p`` the
    largest probability pattern (``2**W_p - 1``, every pattern of the unsigned format)."""
    max_p = (1 << params.softmax_out_fmt.width) - 1
    return _bits(params.length * max_p << (params.in_fmt.width - 1)) + 1


def _check_width(what: str, vec, want: int):
    if vec.size() != want:
        raise ValueError(f"attention: the RTL's {what} has {vec.size()} bits, the documented "
                         f"width is {want}")


def attention_score_spec(z3, params, inputs: dict) -> dict:
    """``{"acc_next": ..., "s": ...}`` of the Q.K^T path of ``AttentionParams``.

    From docs/units/attention.md (steps 1 and 2): ``acc' = acc + mult(q, k)`` (exact sum,
    into the ``bits(d 2**(2w-2)) + 1``-bit accumulator) and the score of ``acc``,
    ``s = sat(floor(acc S 2**-(C + 2F - F_s)))`` into ``softmax_in_fmt``, ``S =
    round(2**C / sqrt(d))`` (:func:`attention_scale_const`). ``acc S`` is formed exactly on
    ``bits(acc) + bits(S) + 1`` bits (the RTL's product width, so z3 builds the same term).
    """
    acc, q, k = inputs["acc"], inputs["q"], inputs["k"]
    w = params.in_fmt.width
    _check_width("Q.K^T accumulator", acc, attention_score_acc_width(params))
    acc_next = _accumulate(z3, acc, _product(z3, params, q, k, w))
    s_const = attention_scale_const(params.scale_bits, params.dim)
    wa = acc.size()
    ws = wa + _bits(s_const) + 1  # |acc S| < 2**(wa - 1) 2**bits(S): fits with its sign
    scaled = z3.SignExt(ws - wa, acc) * z3.BitVecVal(s_const, ws)
    shift = params.scale_bits + 2 * params.in_fmt.frac_bits - params.softmax_in_fmt.frac_bits
    return {"acc_next": acc_next, "s": _rescale(z3, scaled, shift, params.softmax_in_fmt)}


def attention_value_spec(z3, params, inputs: dict) -> dict:
    """``{"acc_next": ..., "o": ...}`` of the P.V path of ``AttentionParams``.

    From docs/units/attention.md (step 4): the probability ``p`` (unsigned ``W_p`` bits) as a
    non-negative signed operand and ``v`` sign-extended, both ``n = max(W_p + 1, w)`` bits;
    ``acc' = acc + mult(p, v)`` (signed multiplier of width n; exact sum into the
    ``bits(L max_p 2**(w-1)) + 1``-bit accumulator) and the output of ``acc``,
    ``o = sat(floor(acc 2**-(F_p + F - F_out)))`` into ``out_fmt``.
    """
    acc, p, v = inputs["acc"], inputs["p"], inputs["v"]
    wp, w = params.softmax_out_fmt.width, params.in_fmt.width
    _check_width("P.V accumulator", acc, attention_value_acc_width(params))
    n = max(wp + 1, w)
    pn, vn = z3.ZeroExt(n - wp, p), z3.SignExt(n - w, v)
    acc_next = _accumulate(z3, acc, _product(z3, params, pn, vn, n))
    shift = params.softmax_out_fmt.frac_bits + params.in_fmt.frac_bits - params.out_fmt.frac_bits
    return {"acc_next": acc_next, "o": _rescale(z3, acc, shift, params.out_fmt)}


def attention_subblocks(params) -> list:
    """The attention head's sub-blocks proven by ``hwsim prove attention``: the Q.K^T MAC path
    with its scale (``AttentionScoreMac``) and the P.V MAC path with its output scale
    (``AttentionValueMac``). The head's softmax is the ``Softmax`` component with
    ``params.softmax_params``, proven by its own sub-blocks (``hwsim prove softmax``)."""
    top = params.top_name
    return [
        SubBlock("score", "hwsim.hdl.attention:AttentionScoreMac", params, f"{top}_score_mac",
                 attention_score_spec),
        SubBlock("value", "hwsim.hdl.attention:AttentionValueMac", params, f"{top}_value_mac",
                 attention_value_spec),
    ]
