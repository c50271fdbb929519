"""Formal specification of the REALM-style multiplier (``hwsim.realm``).

**REALM** (:func:`realm_mul`): the numbered steps of ``hwsim/realm.py``'s docstring, on
wide vectors, the leading one by the same priority chain, the correction table the
documented constant ``params.table`` (the HDL reads it as a ROM ``Array``).
"""

from __future__ import annotations

from hwsim.sim.spec_common import leading_one

__all__ = ["realm_mul"]


def realm_mul(z3, params, inputs: dict) -> dict:
    """``{"p": ...}`` for ``RealmMulParams``, steps 1-5 literally on ``2N + t + 2``-bit
    vectors (nothing is lost before the final cut to 2N bits). The correction table is the
    documented constant ``params.table`` (checked against an exact-rational recomputation in
    tests/test_realm_model.py), looked up by a chain of comparisons with every index."""
    n, t, m = params.width, params.keep_bits, params.m
    w = 2 * n + t + 2
    a, b = inputs["a"], inputs["b"]

    def log(x):  # step 2: k and the top t bits of the F-bit fraction
        k = leading_one(z3, x, n, w)
        f = ((z3.ZeroExt(w - n, x) - (z3.BitVecVal(1, w) << k))
             << (z3.BitVecVal(n - 1, w) - k))
        return k, z3.LShR(f, n - 1 - t)

    (ka, fa), (kb, fb) = log(a), log(b)
    index = (z3.LShR(fa, t - m) << m) + z3.LShR(fb, t - m)  # step 3: i * 2**M + j
    c = z3.BitVecVal(0, w)
    for v, entry in enumerate(params.table):
        c = z3.If(index == v, z3.BitVecVal(entry, w), c)
    s = fa + fb + c  # step 4
    carry = z3.UGE(s, z3.BitVecVal(1 << t, w))
    mant = z3.BitVecVal(1 << t, w) + z3.URem(s, z3.BitVecVal(1 << t, w))
    e = ka + kb + z3.If(carry, z3.BitVecVal(1, w), z3.BitVecVal(0, w))
    p = z3.LShR(mant << e, t)  # step 5: floor(m * 2**(e - t))
    zero = z3.Or(a == 0, b == 0)  # step 1
    return {"p": z3.If(zero, z3.BitVecVal(0, 2 * n), z3.Extract(2 * n - 1, 0, p))}
