"""Formal specification of the Mitchell multiplier and divider (``hwsim.mitchell``).

**Mitchell** (:func:`mitchell_mul`, :func:`mitchell_div`): written from the bit semantics
in ``docs/units/mitchell.md`` (DESIGN section 3), step by step, and independently of both
the numpy model (``hwsim.mitchell``) and the Amaranth datapath (``hwsim.hdl.mitchell``): no
structure is shared with either. The leading one is "the highest set bit" (a priority
chain from bit 0 up, the last set bit wins), the fraction is literally
``(x - 2**k) << (N-1-k)``, the antilog is ``m << t`` or ``m >> -t`` on a bit vector wide
enough that nothing is lost, and every result is then cut (or saturated) to the port width
exactly as the specification says.

Proven properties beyond equivalence (:func:`mul_bounds`, :func:`div_bounds`) are derived
from Mitchell's real-valued bounds and the truncation of the final shift
(:func:`drum_bounds`: DRUM's documented bound, see its docstring):

* product: the real Mitchell value ``M`` satisfies ``8/9 ab <= M <= ab``; ``p = floor(M)``
  (a left shift is exact, a right shift truncates), so ``floor(8ab/9) <= p <= ab``, i.e.
  ``9p + 9 > 8ab`` and ``p <= ab``; for Mitch-w (truncated fractions) only ``p <= ab``.
  Signed: the same on the magnitudes.
* quotient: ``a/b <= Q <= 9/8 a/b`` and ``q = floor(Q 2**F)``, so
  ``floor(a 2**F / b) <= q <= 9 a 2**F / (8 b)``, i.e. ``(q + 1) b > a 2**F`` and
  ``8 q b <= 9 a 2**F`` (b != 0, full-precision fractions only).

from __future__ import annotations
"""

from __future__ import annotations

from hwsim.sim.spec_common import log_fields, magnitude, scale

__all__ = ["div_bounds", "mitchell_div", "mitchell_mul", "mul_bounds", "mul_unsigned"]


def mul_unsigned(z3, a, b, n: int, keep_bits):
    """Steps 1-5 of the unsigned multiplier: the exact 2N-bit product pattern."""
    w = 3 * n + 2  # m < 2**N, shift <= N: m << N < 2**(2N); room for the signed shift too
    k_a, f_a = log_fields(z3, a, n, keep_bits, w)
    k_b, f_b = log_fields(z3, b, n, keep_bits, w)
    s = f_a + f_b
    half = z3.BitVecVal(1 << (n - 1), w)
    carry = z3.UGE(s, half)
    m = z3.If(carry, s, half + s)
    e = k_a + k_b + z3.If(carry, z3.BitVecVal(1, w), z3.BitVecVal(0, w))
    p = scale(z3, m, e - z3.BitVecVal(n - 1, w), w)
    zero = z3.Or(a == 0, b == 0)
    return z3.If(zero, z3.BitVecVal(0, 2 * n), z3.Extract(2 * n - 1, 0, p))


def mitchell_mul(z3, params, inputs: dict) -> dict:
    """``{"p": ...}`` for ``MitchellMulParams`` (unsigned or signed, any ``keep_bits``)."""
    n, a, b = params.width, inputs["a"], inputs["b"]
    if not params.signed:
        return {"p": mul_unsigned(z3, a, b, n, params.keep_bits)}
    neg_a, neg_b = z3.Extract(n - 1, n - 1, a) == 1, z3.Extract(n - 1, n - 1, b) == 1
    mag = mul_unsigned(z3, magnitude(z3, a, n), magnitude(z3, b, n), n, params.keep_bits)
    return {"p": z3.If(neg_a != neg_b, -mag, mag)}


def mitchell_div(z3, params, inputs: dict) -> dict:
    """``{"q": ..., "div_by_zero": ...}`` for ``MitchellDivParams``."""
    n, f_bits, a, b = params.width, params.frac_bits, inputs["a"], inputs["b"]
    out_w = n + f_bits
    w = 2 * n + f_bits + 8  # m < 2**N, left shifts <= F; signed room for the shift amount
    k_a, fa = log_fields(z3, a, n, params.keep_bits, w)
    k_b, fb = log_fields(z3, b, n, params.keep_bits, w)
    d = fa - fb  # signed in w bits
    nonneg = d >= 0
    m = z3.If(nonneg, z3.BitVecVal(1 << (n - 1), w) + d, z3.BitVecVal(1 << n, w) + d)
    e = k_a - k_b - z3.If(nonneg, z3.BitVecVal(0, w), z3.BitVecVal(1, w))
    wide = scale(z3, m, e + z3.BitVecVal(f_bits - (n - 1), w), w)
    q_max = z3.BitVecVal((1 << out_w) - 1, w)
    sat = z3.If(z3.UGT(wide, q_max), q_max, wide)
    q = z3.If(b == 0, q_max, z3.If(a == 0, z3.BitVecVal(0, w), sat))
    return {"q": z3.Extract(out_w - 1, 0, q),
            "div_by_zero": z3.If(b == 0, z3.BitVecVal(1, 1), z3.BitVecVal(0, 1))}


def mul_bounds(z3, params, inputs: dict, outputs: dict):
    """The proven error bound of the product (see the module docstring) as one formula."""
    n, a, b, p = params.width, inputs["a"], inputs["b"], outputs["p"]
    w = 2 * n + 6
    if params.signed:
        a, b = magnitude(z3, a, n), magnitude(z3, b, n)
        wide = z3.SignExt(w - 2 * n, p)
        p = z3.If(wide < 0, -wide, wide)
    else:
        p = z3.ZeroExt(w - 2 * n, p)
    ab = z3.ZeroExt(w - n, a) * z3.ZeroExt(w - n, b)
    upper = z3.ULE(p, ab)
    if params.keep_bits is not None:
        return upper
    return z3.And(upper, z3.UGT(9 * p + 9, 8 * ab))


def div_bounds(z3, params, inputs: dict, outputs: dict):
    """The proven error bound of the quotient for ``b != 0`` (full-precision fractions)."""
    n, f_bits, a, b, q = params.width, params.frac_bits, inputs["a"], inputs["b"], outputs["q"]
    w = 2 * n + f_bits + 6
    q, a, b = z3.ZeroExt(w - n - f_bits, q), z3.ZeroExt(w - n, a), z3.ZeroExt(w - n, b)
    a_scaled = a << f_bits
    return z3.Implies(b != 0, z3.And(z3.UGT((q + 1) * b, a_scaled),
                                     z3.ULE(8 * q * b, 9 * a_scaled)))
