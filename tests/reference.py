"""Independent scalar reference implementations of DESIGN.md section 3, in Python integers.

Written straight from the specification text, one element at a time, so the vectorised
models in ``hwsim`` are checked against something that shares none of their code.
"""

from __future__ import annotations


def _log(x: int, n: int, keep_bits):
    k = x.bit_length() - 1
    f = (x - (1 << k)) << (n - 1 - k)
    if keep_bits is not None:
        f &= ~((1 << (n - 1 - keep_bits)) - 1)
    return k, f


def _shift(m: int, s: int) -> int:
    return m << s if s >= 0 else m >> -s


def mul(a: int, b: int, n: int, signed: bool = False, keep_bits=None) -> int:
    if signed:
        neg = (a < 0) != (b < 0)
        p = mul(abs(a), abs(b), n, False, keep_bits)
        return -p if neg else p
    if a == 0 or b == 0:
        return 0
    ka, fa = _log(a, n, keep_bits)
    kb, fb = _log(b, n, keep_bits)
    s = fa + fb
    if s < (1 << (n - 1)):
        m, e = (1 << (n - 1)) + s, ka + kb
    else:
        m, e = s, ka + kb + 1
    return _shift(m, e - (n - 1))


def div(a: int, b: int, n: int, frac_bits: int, keep_bits=None) -> tuple[int, int]:
    q_max = (1 << (n + frac_bits)) - 1
    if b == 0:
        return q_max, 1
    if a == 0:
        return 0, 0
    ka, fa = _log(a, n, keep_bits)
    kb, fb = _log(b, n, keep_bits)
    d = fa - fb
    if d >= 0:
        m, e = (1 << (n - 1)) + d, ka - kb
    else:
        m, e = (1 << n) + d, ka - kb - 1
    return min(_shift(m, e + frac_bits - (n - 1)), q_max), 0
