"""Fixed-point softmax units: bit-accurate numpy models.

``softmax_fixed(x, params)`` maps raw logits ``x`` of shape ``(..., L)`` (signed
``params.in_fmt``) to raw probabilities of the same shape (unsigned ``params.out_fmt``).
The HDL (``hwsim.hdl.softmax``) streams L logits in and L probabilities out and computes
exactly this. Exp values carry ``E = out_fmt.frac_bits + 3`` fraction bits
(``params.exp_params`` is the embedded :class:`~hwsim.exp.ExpParams` unit).

Forms (:class:`SoftmaxForm`):

* ``TWO_PASS`` (classic): ``M = max_i x_i``; ``e_i = exp(x_i - M)`` (exp unit over the
  differences, format ``Q(I+1).F`` so no difference overflows, results in ``UQ1.E``);
  ``S = sum_i e_i`` (exact, ``sum_width`` bits, never overflows).
* ``ONLINE`` (running max with rescaling, Milakov & Gimelshein / Softermax): starting from
  ``m = in_fmt.min_raw, s = 0``, for each ``x_j`` in order: if ``x_j > m``:
  ``s = ((s * exp(m - x_j)) >> E) + exp(0)`` and ``m = x_j`` (floor; the rescale only happens
  when the max changes), else ``s = s + exp(x_j - m)``; ``s`` saturates at
  ``2**sum_width - 1`` (``Overflow.SATURATE``; unreachable for the exact-at-0 methods).
  Then ``e_i = exp(x_i - m)``, ``S = s``.
* ``TAYLOR``: ``e_i = f_n(x_i)`` (the even-order Taylor polynomial of the TAYLOR exp unit on
  the logit itself, no max subtraction, format ``UQ<I_f>.E`` wide enough for ``f_n(max)``),
  ``S = sum_i e_i``. Not shift-invariant: adding a constant to the logits changes the output.

Normalisers (:class:`Normalizer`), all rounding toward minus infinity and saturating to
``out_fmt`` (``Overflow.SATURATE``):

* ``EXACT_DIV``: ``p_i = (e_i << F_out) // S``;
* ``MITCHELL_DIV``: ``p_i = mitchell_div(e_i, S)`` with ``MitchellDivParams(width=sum_width,
  frac_bits=F_out)``;
* ``RECIPROCAL_LUT``: ``S = 2**k (1 + x)``; ``R = T[top recip_bits bits of x]`` with the
  midpoint table ``T[i] = round(2**G / (1 + (i + 1/2) / 2**recip_bits))``, ``G = F_out + 2``;
  ``p_i = (e_i * R) >> (k + G - F_out)``.

``S > 0`` always: the largest logit contributes ``exp(0) >= 1`` (or ``f_n >= t*``'s value,
at least 2**-4 * 2**E >= 1 LSB), so no division by zero is reachable.

Widths (:meth:`SoftmaxParams.intermediate_bits`, ``docs/units/softmax.md``): with W_e the exp
output width, the ONLINE rescale ``s * exp`` has at most ``sum_width + W_e`` bits, the
exact dividend ``e << F_out`` ``W_e + F_out``, the reciprocal product ``W_e + G``; all fit
int64 for every out_fmt with int_bits >= 0 (the largest, 63 bits, is the ONLINE rescale at
UQ0.24 and L = 64), and a configuration where one would pass 63 bits is refused.

Sum of the probabilities (proved in ``docs/units/softmax.md``): with EXACT_DIV
``1 - L * 2**-F_out < sum p_i <= 1``; MITCHELL_DIV multiplies each quotient by [1, 9/8];
RECIPROCAL_LUT by ``1 / (1 + x)`` errors within ``2**+-(2**-(recip_bits+1))``.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

import numpy as np

from hwsim._check import check_bool, check_instance, check_int
from hwsim.exp import ExpBase, ExpMethod, ExpParams, exp_fixed, taylor_minimizer, taylor_poly
from hwsim.fixed import FixedFormat
from hwsim.mitchell import MitchellDivParams, log_fraction, mitchell_div
from hwsim.params import UnitParams

__all__ = ["SoftmaxForm", "Normalizer", "SoftmaxParams", "softmax_fixed", "softmax_real",
           "softmax_reference",
           "EXP_GUARD_BITS", "RECIP_GUARD_BITS"]

#: fraction bits of the exp values beyond the output's
EXP_GUARD_BITS = 3
#: fraction bits of the reciprocal table beyond the output's
RECIP_GUARD_BITS = 2
MAX_LENGTH = 64
MAX_IN_WIDTH = 16
MAX_OUT_WIDTH = 24
#: an int64 holds every integer of magnitude below 2**63
INT64_BITS = 63
#: exp unit register stages of the streaming HDL (``SoftmaxParams.stream_exp_stages``)
STREAM_EXP_STAGES = 2


class SoftmaxForm(enum.Enum):
    TWO_PASS = "two_pass"
    ONLINE = "online"
    TAYLOR = "taylor"


class Normalizer(enum.Enum):
    EXACT_DIV = "exact_div"
    MITCHELL_DIV = "mitchell_div"
    RECIPROCAL_LUT = "reciprocal_lut"


def _clog2(n: int) -> int:
    return max(0, (n - 1).bit_length())


@dataclass(frozen=True)
class SoftmaxParams(UnitParams):
    """Fixed-point softmax unit over vectors of ``length`` logits.

    Parameters
    ----------
    length:
        L, logits per vector, 1..64.
    in_fmt:
        Signed logit format (width <= 16, frac_bits >= 0). Default Q4.4: [-8, 8).
    out_fmt:
        Unsigned probability format (width <= 24); needs ``frac_bits >= log2(L) + 1`` so a
        uniform distribution is at least two LSBs. Default UQ1.15.
    form:
        :class:`SoftmaxForm`: TWO_PASS (default), ONLINE or TAYLOR.
    method:
        The exp unit's method (:class:`hwsim.exp.ExpParams`); the Taylor form needs the
        Taylor method, the other forms take any method.
    base:
        The exp unit's base: e (the softmax of x) or 2 (of x ln 2).
    lut_bits:
        The exp unit's table index bits (lut method), 1..12.
    segments:
        The exp unit's segments (pwl method), a power of two in 1..256.
    order:
        The exp unit's Taylor order (taylor method and form), even, 2..8.
    normalizer:
        :class:`Normalizer`: EXACT_DIV (default), MITCHELL_DIV or RECIPROCAL_LUT.
    recip_bits:
        RECIPROCAL_LUT: index bits of the reciprocal table, 1..12.
    stages:
        Pipeline registers on the output path (HDL only; the values are the same). 0: exp and
        normaliser form one combinational path. K >= 1: the exp value and the sum are
        registered before the normaliser; EXACT_DIV then splits its restoring division into K
        groups of quotient bits with a register after each group but the last (at most one
        group per quotient bit). MITCHELL_DIV and RECIPROCAL_LUT take 0 or 1. Each stage adds
        a cycle of latency; throughput is unchanged. With ``streaming`` it is the depth of
        the normaliser pipeline (the same values; 0 leaves the normaliser combinational).
    streaming:
        Full-throughput HDL (TWO_PASS only, the values are the same): the vectors of
        three phases are in flight at once (logits loading, exp values summing, probabilities
        leaving) through FIFOs, the exp unit pipelined over ``stream_exp_stages`` registers;
        with a ready sink and a continuous source one logit in and one probability out per
        cycle, L cycles per vector. ``latency`` is then ``L + stream_exp_stages + stages + 3``.
    """

    length: int = 8
    in_fmt: FixedFormat = FixedFormat(4, 4)
    out_fmt: FixedFormat = FixedFormat(1, 15, signed=False)
    form: SoftmaxForm = SoftmaxForm.TWO_PASS
    method: ExpMethod = ExpMethod.LUT
    base: ExpBase = ExpBase.E
    lut_bits: int = 6
    segments: int = 8
    order: int = 4
    normalizer: Normalizer = Normalizer.EXACT_DIV
    recip_bits: int = 8
    stages: int = 0
    streaming: bool = False

    stem = "softmax"

    def __post_init__(self):
        o = "SoftmaxParams"
        from hwsim.exp import _check_format, _owner_check_enum
        check_int(o, "length", self.length, 1, MAX_LENGTH)
        _check_format(o, "in_fmt", self.in_fmt, True, MAX_IN_WIDTH)
        _check_format(o, "out_fmt", self.out_fmt, False, MAX_OUT_WIDTH)
        need = _clog2(self.length) + 1
        if self.out_fmt.frac_bits < need:
            raise ValueError(f"{o}.out_fmt {self.out_fmt} is too narrow for length {self.length}: "
                             f"1/{self.length} needs frac_bits >= {need} to be at least 2 LSBs")
        _owner_check_enum(o, "form", self.form, SoftmaxForm)
        _owner_check_enum(o, "normalizer", self.normalizer, Normalizer)
        check_int(o, "recip_bits", self.recip_bits, 1, 12)
        check_bool(o, "streaming", self.streaming)
        if self.streaming and self.form is not SoftmaxForm.TWO_PASS:
            raise ValueError(f"{o}.form must be two_pass when streaming, not {self.form.value}")
        if self.form is SoftmaxForm.TAYLOR and self.method is not ExpMethod.TAYLOR:
            raise ValueError(f"{o}: form taylor evaluates the Taylor polynomial, so method must "
                             f"be taylor, not {self.method.value}")
        try:
            self.exp_params
        except (TypeError, ValueError) as e:
            raise type(e)(f"{o}: the exp unit is invalid: {e}") from None
        if self.normalizer is Normalizer.MITCHELL_DIV and self.sum_width > 32:
            raise ValueError(f"{o}: MITCHELL_DIV needs a sum of at most 32 bits, and "
                             f"{self.sum_width} are needed; use a narrower out_fmt or length")
        if self.normalizer is Normalizer.EXACT_DIV:
            check_int(o, "stages", self.stages, 0, self.quotient_bits)
        else:
            check_int(o, "stages", self.stages, 0, 1)
        if self.normalizer is Normalizer.RECIPROCAL_LUT and self.recip_bits > self.sum_width - 1:
            raise ValueError(f"{o}.recip_bits must be at most {self.sum_width - 1} (the sum's "
                             f"fraction bits), not {self.recip_bits}")
        if self.normalizer is Normalizer.MITCHELL_DIV:
            try:
                self.div_params
            except ValueError as e:
                raise ValueError(f"{o}: the Mitchell divider is invalid: {e}") from None
        # Only an out_fmt with more fraction bits than 24 (negative int_bits) gets here.
        for what, bits in self.intermediate_bits().items():
            limit = 53 if what.startswith("S (") else INT64_BITS
            if bits > limit:
                raise ValueError(f"{o}.out_fmt must keep the {what} within {limit} bits "
                                 f"(here {bits}), not {self.out_fmt}")

    # -- derived -------------------------------------------------------------------------
    @property
    def exp_frac_bits(self) -> int:
        """E: fraction bits of every exp value."""
        return self.out_fmt.frac_bits + EXP_GUARD_BITS

    @property
    def exp_params(self) -> ExpParams:
        """The embedded exp unit: differences ``x - max`` (or ``x`` for TAYLOR) to ``UQ<I>.E``."""
        f = self.in_fmt
        if self.form is SoftmaxForm.TAYLOR:
            t_max = f.max_raw * f.lsb * (math.log(2) if self.base is ExpBase.TWO else 1.0)
            int_bits = max(1, math.ceil(math.log2(float(taylor_poly(t_max, self.order)) + 1)))
            in_fmt = f
        else:
            int_bits, in_fmt = 1, FixedFormat(f.int_bits + 1, f.frac_bits)
        return ExpParams(in_fmt=in_fmt, out_fmt=FixedFormat(int_bits, self.exp_frac_bits, False),
                         method=self.method, base=self.base, lut_bits=self.lut_bits,
                         segments=self.segments, order=self.order)

    @property
    def sum_width(self) -> int:
        """Bits of the exp sum S: L values below ``2**exp_width`` plus one bit of headroom."""
        return self.exp_params.out_fmt.width + _clog2(self.length) + 1

    def intermediate_bits(self) -> dict[str, int]:
        """Largest magnitude of every model intermediate outside the exp unit (which sizes its
        own, :meth:`hwsim.exp.ExpParams.intermediate_bits`), as bits ``b``: ``|value| < 2**b``.
        Exp values are below ``2**W_e`` (``W_e`` = the exp unit's output width), the sum S
        below ``2**sum_width``. ``__post_init__`` refuses a configuration where one passes 63
        bits (53 for the reciprocal normaliser's leading-one search on S, done in float64);
        see ``docs/units/softmax.md``."""
        we, sw = self.exp_params.out_fmt.width, self.sum_width
        b = {"exp value": we, "sum S": sw}
        if self.form is SoftmaxForm.ONLINE:
            b["online rescale s * e"] = sw + we
        if self.normalizer is Normalizer.EXACT_DIV:
            b["dividend e << F_out"] = self.quotient_bits
        elif self.normalizer is Normalizer.RECIPROCAL_LUT:
            b["S (leading one)"] = sw
            b["product e * T[i]"] = we + max(self.recip_table()).bit_length()
        return b

    @property
    def quotient_bits(self) -> int:
        """Bits of the exact divider's quotient ``(e << F_out) // S``: the dividend's width."""
        return self.exp_params.out_fmt.width + self.out_fmt.frac_bits

    @property
    def div_params(self) -> MitchellDivParams:
        return MitchellDivParams(width=self.sum_width, frac_bits=self.out_fmt.frac_bits)

    @property
    def recip_frac_bits(self) -> int:
        """G: fraction bits of the reciprocal table entries."""
        return self.out_fmt.frac_bits + RECIP_GUARD_BITS

    def recip_table(self) -> list[int]:
        rb, g = self.recip_bits, self.recip_frac_bits
        return [int(math.floor(2 ** g / (1 + (i + 0.5) / 2 ** rb) + 0.5)) for i in range(2 ** rb)]

    @property
    def input_bits(self) -> int:
        return self.length * self.in_fmt.width

    @property
    def in_range(self) -> tuple[int, int]:
        return self.in_fmt.min_raw, self.in_fmt.max_raw + 1

    @property
    def stream_exp_stages(self) -> int:
        """``streaming``: register stages of the exp unit (``ExpParams.stages`` semantics:
        the cut points ``hwsim.hdl.exp.cut_points`` fill in their order, the rest go to the
        output); 0 when not streaming."""
        return STREAM_EXP_STAGES if self.streaming else 0

    @property
    def latency(self) -> int:
        """Cycles from accepting the last logit to the first probability being valid.

        Streaming: M is known one cycle after the last logit, the difference ``x_0 - M`` is
        registered, the exp pipeline adds ``stream_exp_stages``, the last exp value of the
        vector arrives L - 1 cycles after the first, its sum is registered, the normaliser
        adds ``stages`` and the output FIFO one: ``L + stream_exp_stages + stages + 3``."""
        if self.streaming:
            return self.length + self.stream_exp_stages + self.stages + 3
        return (self.length if self.form is SoftmaxForm.TWO_PASS else 0) + 1 + self.stages

    @property
    def top_name(self) -> str:
        f, o = self.in_fmt, self.out_fmt
        exp = f"{'exp2' if self.base is ExpBase.TWO else 'exp'}_{self.method.value}"
        exp += self.exp_params._method_tag
        norm = {Normalizer.EXACT_DIV: "div", Normalizer.MITCHELL_DIV: "mdiv",
                Normalizer.RECIPROCAL_LUT: f"rlut{self.recip_bits}"}[self.normalizer]
        return (f"softmax_{self.form.value}_l{self.length}_{exp}_{norm}_q{f.int_bits}_{f.frac_bits}"
                f"_uq{o.int_bits}_{o.frac_bits}").replace("-", "m") + (
                    f"_p{self.stages}" if self.stages else "") + ("_stream" if self.streaming else "")


# -- model ------------------------------------------------------------------------------

def check_logits(x, params: SoftmaxParams, owner: str = "softmax_fixed") -> np.ndarray:
    check_instance(owner, "params", params, SoftmaxParams)
    x = params.in_fmt.check_raw(owner, "x", x)
    if x.ndim == 0 or x.shape[-1] != params.length:
        raise ValueError(f"{owner}: x must have shape (..., {params.length}) for length "
                         f"{params.length}, not {x.shape}")
    return x


def exp_values(x: np.ndarray, params: SoftmaxParams) -> tuple[np.ndarray, np.ndarray]:
    """``(e, S)``: the exp values of every logit and their sum, per the form."""
    ep = params.exp_params
    if params.form is SoftmaxForm.TAYLOR:
        e = exp_fixed(x, ep)
        return e, e.sum(axis=-1)
    if params.form is SoftmaxForm.TWO_PASS:
        mx = x.max(axis=-1, keepdims=True)
        e = exp_fixed(x - mx, ep)
        return e, e.sum(axis=-1)
    # ONLINE: a sequential scan over the L positions, vectorised over the batch
    ef = params.exp_frac_bits
    top = (1 << params.sum_width) - 1
    one = exp_fixed(np.zeros(1, np.int64), ep)[0]
    m = np.full(x.shape[:-1], params.in_fmt.min_raw, dtype=np.int64)
    s = np.zeros(x.shape[:-1], dtype=np.int64)
    for j in range(params.length):
        xj = x[..., j]
        new = xj > m
        rescaled = ((s * exp_fixed(np.where(new, m - xj, 0), ep)) >> ef) + one
        added = s + exp_fixed(np.where(new, 0, xj - m), ep)
        s = np.minimum(np.where(new, rescaled, added), top)
        m = np.maximum(m, xj)
    return exp_fixed(x - m[..., None], ep), s


def normalize(e: np.ndarray, s: np.ndarray, params: SoftmaxParams) -> np.ndarray:
    """``p_i ~ e_i / S`` in raw ``out_fmt`` patterns (floor, saturated)."""
    fo, top = params.out_fmt.frac_bits, params.out_fmt.max_raw
    s = np.broadcast_to(s[..., None], e.shape)
    if params.normalizer is Normalizer.EXACT_DIV:
        p = (e << fo) // s
    elif params.normalizer is Normalizer.MITCHELL_DIV:
        q, _ = mitchell_div(e, s, params.div_params)
        p = np.minimum(q, np.uint64(top)).astype(np.int64)
    else:
        sw, rb, g = params.sum_width, params.recip_bits, params.recip_frac_bits
        k, f = log_fraction(s, sw, None)
        r = np.asarray(params.recip_table(), dtype=np.int64)[f >> (sw - 1 - rb)]
        p = (e * r) >> (k + g - fo)
    return np.minimum(p, top)


def softmax_fixed(x, params: SoftmaxParams) -> np.ndarray:
    """Raw ``out_fmt`` probabilities (int64, shape of ``x``) of raw logits ``x[..., L]``."""
    if not isinstance(params, SoftmaxParams):
        raise TypeError(f"softmax_fixed: params must be SoftmaxParams, not "
                        f"{type(params).__name__}")
    x = check_logits(x, params)
    e, s = exp_values(x, params)
    return normalize(e, s, params)


def softmax_real(x, params: SoftmaxParams) -> np.ndarray:
    """The exact softmax of the real logit values in float64 (``2**x`` weights for base 2):
    what a user wants the unit to compute, whatever its form."""
    x = check_logits(x, params, "softmax_real")
    v = params.in_fmt.to_float(x)
    if params.base is ExpBase.TWO:
        v = v * math.log(2)
    f = np.exp(v - v.max(axis=-1, keepdims=True))
    return f / f.sum(axis=-1, keepdims=True)


def softmax_reference(x, params: SoftmaxParams) -> np.ndarray:
    """The real-valued function the unit's form computes, without its quantisation: the exact
    softmax for TWO_PASS / ONLINE; for TAYLOR ``g(x_i) / sum_j g(x_j)`` with ``g`` the
    Taylor polynomial clamped at its minimiser (``x ln 2`` for base 2)."""
    check_instance("softmax_reference", "params", params, SoftmaxParams)
    if params.form is not SoftmaxForm.TAYLOR:
        return softmax_real(x, params)
    x = check_logits(x, params, "softmax_reference")
    v = params.in_fmt.to_float(x)
    if params.base is ExpBase.TWO:
        v = v * math.log(2)
    f = taylor_poly(np.maximum(v, taylor_minimizer(params.order)[0]), params.order)
    return f / f.sum(axis=-1, keepdims=True)


# -- vectors ----------------------------------------------------------------------------

#: standard deviations (real logit units) of the seeded Gaussian logit distributions
LOGIT_SCALES = (0.5, 1.0, 2.0, 4.0)


def gaussian_logits(params: SoftmaxParams, n: int, scale: float, rng) -> np.ndarray:
    """``n`` vectors of i.i.d. N(0, scale**2) logits, rounded to nearest and saturated."""
    from hwsim.fixed import Overflow, Rounding
    v = rng.normal(0.0, scale, (n, params.length))
    return params.in_fmt.quantize(v, rounding=Rounding.NEAREST_EVEN, overflow=Overflow.SATURATE)


def corner_logits(params: SoftmaxParams) -> np.ndarray:
    """Vectors hardware softmax breaks on: all equal (min, -1 LSB, 0, max), one dominant
    (max among min / among 0, first, middle and last position), alternating extremes,
    ramps up and down (a new running max at every step), two tied maxima."""
    L, lo, hi = params.length, params.in_fmt.min_raw, params.in_fmt.max_raw
    rows = [[v] * L for v in (lo, -1, 0, hi)]
    for pos in sorted({0, L // 2, L - 1}):
        for rest in (lo, 0):
            r = [rest] * L
            r[pos] = hi
            rows.append(r)
    rows += [[lo if i % 2 == 0 else hi for i in range(L)], [hi if i % 2 == 0 else lo for i in range(L)]]
    ramp = np.linspace(lo, hi, L).round().astype(np.int64).tolist()
    rows += [ramp, ramp[::-1]]
    tied = [lo] * L
    tied[0] = tied[-1] = hi
    rows.append(tied)
    return np.array(rows, dtype=np.int64)


def softmax_vectors(params: SoftmaxParams, count: int | None, seed: int = 0) -> np.ndarray:
    """The corner vectors, then ``count`` seeded random vectors: a quarter uniform over the
    whole input range, the rest Gaussian at the scales of :data:`LOGIT_SCALES`."""
    if count is None:
        raise ValueError(f"softmax has no exhaustive mode ({params.input_bits} input bits per "
                         f"vector); give a vector count")
    rng = np.random.default_rng(seed)
    lo, hi = params.in_range
    parts = [corner_logits(params)]
    n_uniform = count // 4
    parts.append(rng.integers(lo, hi, (n_uniform, params.length), dtype=np.int64))
    rest = count - n_uniform
    for i, scale in enumerate(LOGIT_SCALES):
        n = rest // len(LOGIT_SCALES) + (1 if i < rest % len(LOGIT_SCALES) else 0)
        parts.append(gaussian_logits(params, n, scale, rng))
    return np.concatenate(parts)
