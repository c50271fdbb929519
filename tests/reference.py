"""Independent scalar reference implementations of DESIGN.md section 3 and of the exp,
softmax, attention and Performer model docstrings, in Python integers (no width limit).

Written straight from the specification text, one element at a time, so the vectorised
models in ``hwsim`` are checked against something that shares none of their code.
"""

from __future__ import annotations

import math


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


def drum_mul(a: int, b: int, n: int, k: int) -> int:
    """DRUM (Hashemi, Bahar, Reda 2015) on unsigned N-bit operands, from the paper's text:
    an operand below 2**k is used as it is; otherwise keep k bits from its leading one down,
    set the last of them to 1, multiply the two segments and shift back."""
    assert 0 <= a < 1 << n and 0 <= b < 1 << n

    def segment(x: int) -> tuple[int, int]:
        if x < 1 << k:
            return x, 0
        bits = bin(x)[2:]  # the leading one first
        kept = bits[:k - 1] + "1"
        return int(kept, 2), len(bits) - k

    (sa, ea), (sb, eb) = segment(a), segment(b)
    return sa * sb * 2 ** (ea + eb)


# -- exp, softmax, attention, Performer: straight from the docstrings, one value at a time -----
#
# Constants are recomputed here from their definitions (round to nearest of the real value
# times a power of two, in float64 as the units define them); only derived *formats* (the
# Params' own exp_params / softmax_params / sum_width / omega ROM) are taken from the Params.


def _rnd(v: float) -> int:
    return math.floor(v + 0.5)


def _taylor_min(order: int) -> float:
    """The real root of f_{n-1} (the minimiser of the even-order f_n), Newton-polished."""
    import numpy as np
    coeffs = [1 / math.factorial(k) for k in range(order - 1, -1, -1)]
    t = min(r.real for r in np.roots(coeffs) if abs(r.imag) < 1e-9)
    for _ in range(5):
        f = sum(t ** k / math.factorial(k) for k in range(order))
        df = sum(t ** (k - 1) / math.factorial(k - 1) for k in range(1, order))
        t -= f / df
    return t


def exp(x: int, p) -> int:
    """``hwsim.exp.exp_fixed`` of one raw input, for ``p`` an ExpParams."""
    fin, fout = p.in_fmt.frac_bits, p.out_fmt.frac_bits
    R = max(fin, fout) + 4
    C = R + 2
    top = (1 << p.out_fmt.width) - 1
    ln2 = _rnd(math.log(2) * 2 ** C)
    two = p.base.value == "2"
    method = p.method.value
    if method == "taylor":
        t = (x * ln2) >> (fin + C - R) if two else x << (R - fin)
        t = max(t, math.ceil(_taylor_min(p.order) * 2 ** R))
        r = 1 << R
        for k in range(p.order, 0, -1):
            prod = (t * r) >> R
            if k > 1:
                prod = (prod * _rnd(2 ** C / k)) >> C
            r = (1 << R) + prod
        return min(max(r >> (R - fout), 0), top)
    y = x << (R - fin) if two else (x * _rnd(math.log2(math.e) * 2 ** C)) >> (fin + C - R)
    n = y >> R
    f = y - (n << R)
    if method == "lut":
        t = p.lut_bits
        m = _rnd(2 ** (((f >> (R - t)) + 0.5) / 2 ** t) * 2 ** R)
    elif method == "pwl":
        s = p.segments
        sb = s.bit_length() - 1
        j = f >> (R - sb)
        u = f - (j << (R - sb))
        a = _rnd(2 ** (j / s) * 2 ** R)
        b = _rnd(s * (2 ** ((j + 1) / s) - 2 ** (j / s)) * 2 ** R)
        m = a + ((b * u) >> R)
    elif method == "mitchell":
        m = (1 << R) + f
    else:  # ibert
        A, B, Cc = _rnd(2 * 0.3585 * 2 ** C), _rnd(1.353 * 2 ** R), _rnd(2 * 0.344 * 2 ** R)
        q = (((f - (1 << R)) * ln2) >> C) + B
        m = ((A * ((q * q) >> R)) >> C) + Cc
    return min(_shift(m, n + fout - R), top)


def softmax(xs: list[int], p) -> list[int]:
    """``hwsim.softmax.softmax_fixed`` of one vector of raw logits, for ``p`` a SoftmaxParams."""
    ep = p.exp_params
    E, fo = p.out_fmt.frac_bits + 3, p.out_fmt.frac_bits
    sw = p.sum_width
    form = p.form.value
    if form == "taylor":
        e = [exp(x, ep) for x in xs]
        S = sum(e)
    elif form == "two_pass":
        M = max(xs)
        e = [exp(x - M, ep) for x in xs]
        S = sum(e)
    else:
        m, S = p.in_fmt.min_raw, 0
        for x in xs:
            if x > m:
                S = ((S * exp(m - x, ep)) >> E) + exp(0, ep)
                m = x
            else:
                S = S + exp(x - m, ep)
            S = min(S, (1 << sw) - 1)
        e = [exp(x - m, ep) for x in xs]
    top = (1 << p.out_fmt.width) - 1
    norm = p.normalizer.value
    out = []
    for ei in e:
        if norm == "exact_div":
            q = (ei << fo) // S
        elif norm == "mitchell_div":
            q = div(ei, S, sw, fo)[0]
        else:
            rb, G = p.recip_bits, fo + 2
            k = S.bit_length() - 1
            frac = (S - (1 << k)) << (sw - 1 - k)
            i = frac >> (sw - 1 - rb)
            T = math.floor(2 ** G / (1 + (i + 0.5) / 2 ** rb) + 0.5)
            q = (ei * T) >> (k + G - fo)
        out.append(min(q, top))
    return out


def _clip(v: int, fmt) -> int:
    return min(max(v, fmt.min_raw), fmt.max_raw)


def attention(q, k, v, p):
    """``hwsim.attention.attention_fixed`` of one problem (nested lists L x d of raw ints)."""
    L, d = p.length, p.dim
    F, C = p.in_fmt.frac_bits, p.scale_bits
    mitchell = p.multiplier.value == "mitchell"
    vw = max(p.softmax_out_fmt.width + 1, p.in_fmt.width)

    def mult(a, b, width):
        return mul(a, b, width, True, p.keep_bits) if mitchell else a * b

    S = math.floor(2 ** C / math.sqrt(d) + 0.5)
    out = []
    for i in range(L):
        row = []
        for j in range(L):
            acc = sum(mult(q[i][t], k[j][t], p.in_fmt.width) for t in range(d))
            row.append(_clip(_shift(acc * S, p.softmax_in_fmt.frac_bits - C - 2 * F), p.softmax_in_fmt))
        prob = softmax(row, p.softmax_params)
        o = []
        for t in range(d):
            acc = sum(mult(prob[j], v[j][t], vw) for j in range(L))
            o.append(_clip(_shift(acc, p.out_fmt.frac_bits - p.softmax_out_fmt.frac_bits - F), p.out_fmt))
        out.append(o)
    return out


def phi(x: list[int], p) -> list[int]:
    """``hwsim.performer.phi_fixed`` of one raw row, for ``p`` a PerformerParams (the omega
    ROM and the exp unit's formats come from the Params)."""
    w = p.omega_raw().tolist()
    fx, fw = p.in_fmt.frac_bits, p.omega_fmt.frac_bits
    ep = p.exp_params
    half_sq = (sum(a * a for a in x) << (fw - fx)) >> 1
    ln_m = math.floor(math.log(p.features) / 2 * 2 ** (fx + fw))
    out = []
    for row in w:
        e = sum(a * b for a, b in zip(x, row)) - half_sq - ln_m
        e = _clip(e >> (fx + fw - ep.in_fmt.frac_bits), ep.in_fmt)
        out.append(exp(e, ep))
    return out
