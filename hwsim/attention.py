"""One attention head, softmax(Q K^T / sqrt(d)) V, bit-accurate in fixed point.

``attention_fixed(q, k, v, params)`` takes raw ``in_fmt`` tensors of shape ``(..., L, d)``
and returns raw ``out_fmt`` outputs of the same shape. Every step (the HDL in
``hwsim.hdl.attention`` streams query rows against K and V held in memory and computes
exactly these):

1. **scores**: ``acc_ij = sum_k mult(q_ik, k_jk)`` with the chosen multiplier on raw
   ``in_fmt`` values (exact, or the signed Mitchell multiplier of the input width), summed
   exactly (2F fraction bits);
2. **scale**: ``s_ij = (acc_ij * S) >> (C + 2F - F_s)``, ``S = round(2**C / sqrt(d))``,
   ``C = scale_bits`` (for d a power of 4 this is an exact shift; a negative shift count
   shifts left); ``Rounding.TRUNCATE``, ``Overflow.SATURATE`` into ``softmax_in_fmt``;
3. **softmax** over each row of s: :func:`hwsim.softmax.softmax_fixed` with
   ``params.softmax_params`` (probabilities in ``softmax_out_fmt``);
4. **output**: ``o_ik = sum_j mult(p_ij, v_jk)``: the probability (unsigned) as a
   non-negative signed operand; signed multiplier of width ``max(W_p + 1, W)``; exact sum
   (F_p + F fraction bits), then ``Rounding.TRUNCATE`` and ``Overflow.SATURATE`` into
   ``out_fmt``.

Every step is exact in int64 for every accepted configuration:
:meth:`AttentionParams.intermediate_bits` lists the largest magnitude of each intermediate
(at most 50 bits, ``acc * S`` at the limits), and :func:`scale_saturate` saturates a left
shift before forming it.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

import numpy as np

from hwsim._check import check_bool, check_broadcast, check_instance, check_int
from hwsim.exp import ExpMethod
from hwsim.fixed import FixedFormat
from hwsim.mitchell import MitchellMulParams, mitchell_mul
from hwsim.params import UnitParams
from hwsim.softmax import Normalizer, SoftmaxParams, softmax_fixed

__all__ = ["Multiplier", "AttentionParams", "attention_fixed", "attention_real", "attention_scores"]


class Multiplier(enum.Enum):
    EXACT = "exact"
    MITCHELL = "mitchell"


@dataclass(frozen=True)
class AttentionParams(UnitParams):
    """Fixed-point attention head.

    Parameters
    ----------
    length:
        L, query/key rows, 1..32.
    dim:
        d, the head dimension, 1..32.
    in_fmt:
        Signed format of Q, K and V (width 2..16). Default Q2.6.
    out_fmt:
        Signed output format. Default Q2.10.
    multiplier:
        ``Multiplier.EXACT`` or ``MITCHELL``: the products of Q.K^T and P.V.
    keep_bits:
        Mitch-w fraction bits the Mitchell multiplier keeps (none: all).
    scale_bits:
        C, fraction bits of the 1/sqrt(d) constant (2..16).
    softmax_in_fmt:
        The softmax's input (score) format (two-pass form, base e).
    softmax_out_fmt:
        The softmax's output (probability) format.
    softmax_method:
        The softmax's exp method.
    softmax_normalizer:
        The softmax's normaliser.
    softmax_stages:
        The softmax's ``stages`` (HDL pipelining of its output path; same values).
    softmax_streaming:
        The softmax's ``streaming`` (its full-throughput HDL, FIFOs and a pipelined exp;
        same values).
    """

    length: int = 8
    dim: int = 8
    in_fmt: FixedFormat = FixedFormat(2, 6)
    out_fmt: FixedFormat = FixedFormat(2, 10)
    multiplier: Multiplier = Multiplier.EXACT
    keep_bits: int | None = None
    scale_bits: int = 8
    softmax_in_fmt: FixedFormat = FixedFormat(4, 4)
    softmax_out_fmt: FixedFormat = FixedFormat(1, 11, signed=False)
    softmax_method: ExpMethod = ExpMethod.LUT
    softmax_normalizer: Normalizer = Normalizer.EXACT_DIV
    softmax_stages: int = 0
    softmax_streaming: bool = False

    stem = "attention"

    def __post_init__(self):
        o = "AttentionParams"
        from hwsim.exp import _check_format, _owner_check_enum
        check_int(o, "length", self.length, 1, 32)
        check_int(o, "dim", self.dim, 1, 32)
        _check_format(o, "in_fmt", self.in_fmt, True, 16)
        if self.in_fmt.width < 2:
            raise ValueError(f"{o}.in_fmt must be at least 2 bits wide, not {self.in_fmt}")
        _check_format(o, "out_fmt", self.out_fmt, True, 32)
        _owner_check_enum(o, "multiplier", self.multiplier, Multiplier)
        check_int(o, "scale_bits", self.scale_bits, 2, 16)
        check_bool(o, "softmax_streaming", self.softmax_streaming)
        _check_format(o, "softmax_in_fmt", self.softmax_in_fmt, True, 16)
        if self.keep_bits is not None and self.multiplier is not Multiplier.MITCHELL:
            raise ValueError(f"{o}.keep_bits applies to the Mitchell multiplier only; "
                             f"multiplier is {self.multiplier.value}")
        try:
            self.softmax_params
            if self.multiplier is Multiplier.MITCHELL:
                self.score_mult
                self.value_mult
        except (TypeError, ValueError) as e:
            raise type(e)(f"{o}: {e}") from None

    # -- derived -------------------------------------------------------------------------
    @property
    def softmax_params(self) -> SoftmaxParams:
        return SoftmaxParams(length=self.length, in_fmt=self.softmax_in_fmt, out_fmt=self.softmax_out_fmt,
                             method=self.softmax_method, normalizer=self.softmax_normalizer,
                             stages=self.softmax_stages, streaming=self.softmax_streaming)

    @property
    def scale_const(self) -> int:
        return int(math.floor(2 ** self.scale_bits / math.sqrt(self.dim) + 0.5))

    @property
    def value_width(self) -> int:
        """Signed operand width of the P.V multiplier: the probability plus a sign bit."""
        return max(self.softmax_out_fmt.width + 1, self.in_fmt.width)

    @property
    def score_acc_width(self) -> int:
        """Signed bits of the Q.K^T accumulator: ``|sum of d products| <= d * 2**(2w-2)`` (the
        largest product magnitude, ``(-2**(w-1))**2``; a Mitchell product's magnitude is never
        above the exact one's), plus the sign bit."""
        w = self.in_fmt.width
        return (self.dim << (2 * w - 2)).bit_length() + 1

    @property
    def value_acc_width(self) -> int:
        """Signed bits of a P.V accumulator: ``|sum of L products| <= L * max_p * 2**(w-1)``
        with ``max_p`` the largest probability pattern, plus the sign bit."""
        return (self.length * self.softmax_out_fmt.max_raw << (self.in_fmt.width - 1)).bit_length() + 1

    def intermediate_bits(self) -> dict[str, int]:
        """Largest magnitude of every model intermediate outside the softmax (which sizes its
        own, :meth:`hwsim.softmax.SoftmaxParams.intermediate_bits`), as bits ``b``:
        ``|value| < 2**b`` (the signed widths above less their sign bit; the scale constant
        itself for ``acc * S``). The two rescalings (``scale_saturate``) never leave their
        operand's width or the target format's. Every accepted configuration fits 63 bits
        (``docs/units/attention.md``): at the limits (w = 16, d = L = 32, C = 16, a 24-bit
        probability) the largest is ``acc * S``, 36 + 14 = 50 bits (S = 2**16 / sqrt(32))."""
        return {"Q.K^T product": 2 * self.in_fmt.width - 2,
                "Q.K^T accumulator": self.score_acc_width - 1,
                "acc * S": self.score_acc_width - 1 + self.scale_const.bit_length(),
                "P.V product": self.softmax_out_fmt.max_raw.bit_length() + self.in_fmt.width - 1,
                "P.V accumulator": self.value_acc_width - 1}

    @property
    def score_mult(self) -> MitchellMulParams:
        return MitchellMulParams(width=self.in_fmt.width, signed=True, keep_bits=self.keep_bits)

    @property
    def value_mult(self) -> MitchellMulParams:
        return MitchellMulParams(width=self.value_width, signed=True, keep_bits=self.keep_bits)

    @property
    def input_bits(self) -> int:
        return 3 * self.length * self.dim * self.in_fmt.width

    @property
    def in_range(self) -> tuple[int, int]:
        return self.in_fmt.min_raw, self.in_fmt.max_raw + 1

    @property
    def latency(self) -> int:
        """Cycles from accepting the last element of the first query row (after K and V) to
        that row's first output, without stalls: L keys of d + 1 score cycles, the softmax's
        latency (two-pass: L + 1 + ``softmax_stages``; streaming: see
        ``SoftmaxParams.latency``), L·d P·V cycles, and the output register."""
        L, d = self.length, self.dim
        return L * (d + 1) + self.softmax_params.latency + L * d

    @property
    def top_name(self) -> str:
        m = "mitch" + ("" if self.keep_bits is None else f"k{self.keep_bits}") \
            if self.multiplier is Multiplier.MITCHELL else "exact"
        return (f"attention_l{self.length}_d{self.dim}_{m}_q{self.in_fmt.int_bits}_"
                f"{self.in_fmt.frac_bits}" + self.nondefault_tag(
                    {"out_fmt": "o", "scale_bits": "c", "softmax_in_fmt": "s", "softmax_out_fmt": "p",
                     "softmax_method": "", "softmax_normalizer": "", "softmax_stages": "sp"})
                + ("_sstream" if self.softmax_streaming else ""))


def _mult(a: np.ndarray, b: np.ndarray, kind: Multiplier, mp: MitchellMulParams) -> np.ndarray:
    if kind is Multiplier.EXACT:
        return a * b
    a, b = np.broadcast_arrays(a, b)
    return mitchell_mul(np.ascontiguousarray(a), np.ascontiguousarray(b), mp)


def _saturate(x: np.ndarray, fmt: FixedFormat) -> np.ndarray:
    return np.clip(x, fmt.min_raw, fmt.max_raw)


def scale_saturate(x: np.ndarray, shift: int, fmt: FixedFormat) -> np.ndarray:
    """``floor(x * 2**-shift)`` saturated into ``fmt`` (``Rounding.TRUNCATE``,
    ``Overflow.SATURATE``), exact for int64 ``x`` and every ``shift``: a right shift is
    capped at 63 (where floor is already 0 or -1), and a left shift is formed only where its
    result lies inside ``fmt`` (``x << L <= max_raw`` exactly when ``x <= max_raw >> L``), so
    nothing is shifted out of 64 bits."""
    if shift >= 0:
        return _saturate(x >> min(shift, 63), fmt)
    left = -shift
    hi, lo = fmt.max_raw >> left, -((-fmt.min_raw) >> left)  # lo = ceil(min_raw / 2**L)
    inside = np.clip(x, lo, hi) << left
    return np.where(x > hi, fmt.max_raw, np.where(x < lo, fmt.min_raw, inside))


def _problem(func: str, params, **arrays) -> list[np.ndarray]:
    """The raw ``in_fmt`` arrays, each of shape ``(..., L, d)``, broadcasting together."""
    check_instance(func, "params", params, AttentionParams)
    shape = (params.length, params.dim)
    arrs = []
    for name, t in arrays.items():
        t = params.in_fmt.check_raw(func, name, t)
        if t.shape[-2:] != shape:
            raise ValueError(f"{func}: {name} must have shape (..., {shape[0]}, "
                             f"{shape[1]}) for length {shape[0]} and dim {shape[1]}, not {t.shape}")
        arrs.append(t)
    check_broadcast(func, {n: t.shape for n, t in zip(arrays, arrs)}, core=2)
    return arrs


def attention_scores(q: np.ndarray, k: np.ndarray, p: AttentionParams) -> np.ndarray:
    """Steps 1-2: raw ``softmax_in_fmt`` scores, shape ``(..., L, L)``."""
    q, k = _problem("attention_scores", p, q=q, k=k)
    acc = _mult(q[..., :, None, :], k[..., None, :, :], p.multiplier, p.score_mult).sum(-1)
    shift = p.scale_bits + 2 * p.in_fmt.frac_bits - p.softmax_in_fmt.frac_bits
    return scale_saturate(acc * p.scale_const, shift, p.softmax_in_fmt)


def attention_fixed(q, k, v, params: AttentionParams) -> np.ndarray:
    """Raw ``out_fmt`` outputs ``(..., L, d)`` of raw ``in_fmt`` Q, K, V of that shape."""
    q, k, v = _problem("attention_fixed", params, q=q, k=k, v=v)
    s = attention_scores(q, k, params)
    prob = softmax_fixed(s, params.softmax_params)                      # (..., L, L)
    acc = _mult(prob[..., :, :, None], v[..., None, :, :], params.multiplier,
                params.value_mult).sum(-2)                            # (..., L, d)
    shift = params.softmax_out_fmt.frac_bits + params.in_fmt.frac_bits - params.out_fmt.frac_bits
    return scale_saturate(acc, shift, params.out_fmt)


def attention_real(q, k, v, params: AttentionParams) -> np.ndarray:
    """The float64 attention of the real values of raw Q, K, V."""
    q, k, v = _problem("attention_real", params, q=q, k=k, v=v)
    f = params.in_fmt
    q, k, v = (f.to_float(t) for t in (q, k, v))
    s = q @ np.swapaxes(k, -1, -2) / math.sqrt(params.dim)
    e = np.exp(s - s.max(-1, keepdims=True))
    return (e / e.sum(-1, keepdims=True)) @ v


# -- stream vectors: one problem = K, V, Q flattened (the HDL's input order) -----------------

def split_problem(x: np.ndarray, p: AttentionParams):
    """``(n, 3 L d)`` stream rows -> raw ``q, k, v`` of shape ``(n, L, d)``."""
    n = x.shape[0]
    k, v, q = (t.reshape(n, p.length, p.dim) for t in np.split(x, 3, axis=1))
    return q, k, v


def corner_problems(p: AttentionParams) -> np.ndarray:
    """Zeros; identical keys; one-hot queries and keys; every input at max, at min;
    alternating extremes; large equal scores (saturating softmax inputs)."""
    L, d, lo, hi = p.length, p.dim, p.in_fmt.min_raw, p.in_fmt.max_raw
    rows = []
    shape = (3, L, d)
    rows.append(np.zeros(shape, np.int64))
    rng = np.random.default_rng(12345)
    same_k = rng.integers(lo, hi + 1, (3, L, d))
    same_k[0] = same_k[0, :1]
    rows.append(same_k)
    eye = np.zeros(shape, np.int64)
    for i in range(L):
        eye[0, i, i % d] = hi
        eye[2, i, i % d] = hi
        eye[1, i, :] = i % (hi + 1)
    rows.append(eye)
    rows.append(np.full(shape, hi, np.int64))
    rows.append(np.full(shape, lo, np.int64))
    alt = np.where(np.indices(shape).sum(0) % 2 == 0, lo, hi)
    rows.append(alt)
    return np.stack(rows).reshape(len(rows), -1)


def attention_vectors(p: AttentionParams, count: int | None, seed: int = 0) -> np.ndarray:
    """Corner problems, then ``count`` seeded random ones: half uniform over the input range,
    half N(0, 0.5**2) in real units (rounded, saturated)."""
    if count is None:
        raise ValueError(f"attention has no exhaustive mode ({p.input_bits} input bits per "
                         f"problem); give a vector count")
    from hwsim.fixed import Overflow, Rounding
    rng = np.random.default_rng(seed)
    lo, hi = p.in_range
    n_u = count // 2
    uni = rng.integers(lo, hi, (n_u, 3 * p.length * p.dim), dtype=np.int64)
    gauss = p.in_fmt.quantize(rng.normal(0, 0.5, (count - n_u, 3 * p.length * p.dim)),
                              rounding=Rounding.NEAREST_EVEN, overflow=Overflow.SATURATE)
    return np.concatenate([corner_problems(p), uni, gauss])
