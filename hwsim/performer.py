"""Performer (FAVOR+) positive random features: float reference and fixed-point feature map.

``phi(x) = exp(omega x - |x|^2 / 2) / sqrt(m)`` with ``m`` random feature vectors ``omega_i``
(rows of ``omega``, shape ``(m, d)``); then ``E[phi(q) . phi(k)] = exp(q . k)`` when each row
is marginally N(0, I_d) (Choromanski et al., "Rethinking Attention with Performers").

Feature kinds (:class:`FeatureKind`), all drawn from one seed:

* ``IID``: i.i.d. Gaussian rows;
* ``ORTHOGONAL``: blocks of d rows made exactly orthogonal (QR of a Gaussian block), each row
  rescaled to the norm of an independent Gaussian vector (chi(d)); still marginally N(0, I);
* ``ORTHOGONAL_QUANTILE``: orthogonal blocks with deterministic norms, the chi(d) quantiles
  at ``(i + 1/2) / m`` (the "uniform-norm" variant): lower variance, a quadrature over the
  norm distribution rather than a sample of it.

Fixed point (:func:`phi_fixed`): omega is rounded to ``omega_fmt`` (a constant ROM in
hardware); ``u = omega x`` and ``|x|^2`` are exact integer dot products; the exponent
``u - |x|^2/2 - ln(m)/2`` (the ``1/sqrt(m)`` folded into the exponent, so no multiplier) is
rounded toward minus infinity into the exp unit's input format (saturating), and the exp unit
(:mod:`hwsim.exp`) gives each feature. Every intermediate fits int64
(:meth:`PerformerParams.intermediate_bits`; configurations where one would not are refused).
This module is the model side of the Performer issue;
the linear-attention output ``phi(Q) (phi(K)^T V) / (phi(Q) phi(K)^T 1)`` is
:func:`linear_attention` (float).
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from hwsim._check import check_instance, check_int, finite_operand
from hwsim.exp import ExpMethod, ExpParams, exp_fixed
from hwsim.fixed import FixedFormat, Overflow, Rounding
from hwsim.params import UnitParams

__all__ = ["FeatureKind", "draw_omega", "phi_float", "linear_attention", "softmax_attention",
           "PerformerParams", "phi_fixed", "performer_vectors"]


class FeatureKind(enum.Enum):
    IID = "iid"
    ORTHOGONAL = "orthogonal"
    ORTHOGONAL_QUANTILE = "orthogonal_quantile"


@lru_cache(maxsize=64)
def _chi_quantiles(d: int, m: int) -> np.ndarray:
    """chi(d) quantiles at (i + 1/2)/m, from the regularised gamma CDF by bisection."""
    from math import lgamma

    def cdf(r):  # P(chi_d <= r) = P(d/2, r^2/2), series for the lower incomplete gamma
        a, x = d / 2.0, r * r / 2.0
        if x <= 0:
            return 0.0
        term = s = 1.0 / a
        for n in range(1, 500):
            term *= x / (a + n)
            s += term
            if term < s * 1e-15:
                break
        return min(1.0, s * math.exp(-x + a * math.log(x) - lgamma(a)))

    out = []
    for i in range(m):
        p, lo, hi = (i + 0.5) / m, 0.0, math.sqrt(d) + 20
        for _ in range(100):
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if cdf(mid) < p else (lo, mid)
        out.append(0.5 * (lo + hi))
    return np.array(out)


def draw_omega(m: int, d: int, kind: FeatureKind, seed: int) -> np.ndarray:
    """``(m, d)`` random feature matrix of the given kind, from ``seed`` alone."""
    check_int("draw_omega", "m", m, 1)
    check_int("draw_omega", "d", d, 1)
    if not isinstance(kind, FeatureKind):
        raise TypeError(f"draw_omega: kind must be a FeatureKind, not {kind!r}")
    check_int("draw_omega", "seed", seed, 0)
    rng = np.random.default_rng(seed)
    if kind is FeatureKind.IID:
        return rng.standard_normal((m, d))
    blocks = []
    for _ in range(-(-m // d)):
        q, r = np.linalg.qr(rng.standard_normal((d, d)))
        blocks.append((q * np.sign(np.diag(r))).T)  # Haar-random orthonormal rows
    dirs = np.concatenate(blocks)[:m]
    if kind is FeatureKind.ORTHOGONAL:
        norms = np.linalg.norm(rng.standard_normal((m, d)), axis=1)
    else:
        norms = rng.permutation(_chi_quantiles(d, m).copy())
    return dirs * norms[:, None]


def _rows(func: str, **arrays) -> list[np.ndarray]:
    """Finite real float64 arrays of at least one axis."""
    out = []
    for name, a in arrays.items():
        a = finite_operand(func, name, a)
        if a.ndim == 0:
            raise ValueError(f"{func}: {name} must have at least one axis, not a scalar")
        out.append(a)
    return out


def _qkv(func: str, q, k, v) -> list[np.ndarray]:
    """``(n, d)``, ``(n, d)``, ``(n, e)`` finite real matrices."""
    q, k, v = _rows(func, q=q, k=k, v=v)
    if q.ndim != 2 or k.shape != q.shape or v.ndim != 2 or len(v) != len(k):
        raise ValueError(f"{func}: q, k, v must be matrices (n, d), (n, d), (n, e), not "
                         f"{q.shape}, {k.shape}, {v.shape}")
    return [q, k, v]


def phi_float(x: np.ndarray, omega: np.ndarray) -> np.ndarray:
    """Positive random features of the rows of ``x`` (shape ``(..., d)`` -> ``(..., m)``)."""
    x, omega = _rows("phi_float", x=x, omega=omega)
    if omega.ndim != 2 or x.shape[-1] != omega.shape[1]:
        raise ValueError(f"phi_float: omega must have shape (m, d) with d = x's last axis, "
                         f"not {omega.shape} for x {x.shape}")
    m = omega.shape[0]
    return np.exp(x @ omega.T - 0.5 * (x * x).sum(-1, keepdims=True)) / math.sqrt(m)


def softmax_attention(q, k, v) -> np.ndarray:
    """Exact ``softmax(q k^T) v`` (no 1/sqrt(d) scaling: fold it into q) in float64."""
    q, k, v = _qkv("softmax_attention", q, k, v)
    s = q @ k.T
    e = np.exp(s - s.max(-1, keepdims=True))
    return (e / e.sum(-1, keepdims=True)) @ v


def linear_attention(q, k, v, omega) -> np.ndarray:
    """FAVOR+ ``phi(Q) (phi(K)^T V) / (phi(Q) phi(K)^T 1)`` in float64."""
    q, k, v = _qkv("linear_attention", q, k, v)
    pq, pk = phi_float(q, omega), phi_float(k, omega)
    return (pq @ (pk.T @ v)) / (pq @ pk.sum(0))[:, None]


@dataclass(frozen=True)
class PerformerParams(UnitParams):
    """Fixed-point Performer feature map.

    Parameters
    ----------
    dim:
        d, the input dimension, 1..64.
    features:
        m, the number of random features, 1..1024.
    kind:
        :class:`FeatureKind`: how omega's rows are drawn.
    omega_seed:
        The seed of the omega ROM (the random features).
    in_fmt:
        Signed input format of x (width <= 16). Default Q1.7 (|x_i| < 1).
    omega_fmt:
        Signed format omega is rounded to (nearest even, saturating). Default Q4.8.
    method:
        The exp unit's method (its input format derived: enough integer bits for the
        exponent's range, the fraction bits of omega x; output UQ<I>.<frac_bits>).
    lut_bits:
        The exp unit's LUT index bits (method LUT).
    frac_bits:
        Fraction bits of each feature (1..24).
    """

    dim: int = 8
    features: int = 32
    kind: FeatureKind = FeatureKind.ORTHOGONAL
    omega_seed: int = 0
    in_fmt: FixedFormat = FixedFormat(1, 7)
    omega_fmt: FixedFormat = FixedFormat(4, 8)
    method: ExpMethod = ExpMethod.LUT
    lut_bits: int = 8
    frac_bits: int = 12

    stem = "performer"

    def __post_init__(self):
        o = "PerformerParams"
        from hwsim.exp import _check_format, _owner_check_enum
        check_int(o, "dim", self.dim, 1, 64)
        check_int(o, "features", self.features, 1, 1024)
        _owner_check_enum(o, "kind", self.kind, FeatureKind)
        check_int(o, "omega_seed", self.omega_seed, 0, 2 ** 32 - 1)  # a numpy seed, in names
        _check_format(o, "in_fmt", self.in_fmt, True, 16)
        _check_format(o, "omega_fmt", self.omega_fmt, True, 16)
        check_int(o, "frac_bits", self.frac_bits, 1, 24)
        if self.omega_fmt.frac_bits < self.in_fmt.frac_bits:
            raise ValueError(f"{o}.omega_fmt needs at least the fraction bits of in_fmt "
                             f"({self.in_fmt}), not {self.omega_fmt}")
        try:
            self.exp_params
        except (TypeError, ValueError) as e:
            raise type(e)(f"{o}: the exp unit is invalid: {e}") from None
        # Only an omega_fmt with far more fraction bits than bits (negative int_bits) gets here.
        for what, bits in self.intermediate_bits().items():
            if bits > 63:
                raise ValueError(f"{o}.omega_fmt must keep the exponent's {what} within 63 bits "
                                 f"(here {bits}), not {self.omega_fmt}")

    def intermediate_bits(self) -> dict[str, int]:
        """Largest magnitude of every :func:`phi_fixed` intermediate before the exp unit
        (which sizes its own, :meth:`hwsim.exp.ExpParams.intermediate_bits`), as bits ``b``:
        ``|value| < 2**b``. With ``w`` the input width, ``F_x``/``F_w`` the fraction bits of x
        and omega: ``|x|^2 <= d * 2**(2w - 2)``, shifted left by ``F_w - F_x``; ``u`` from
        :attr:`u_width`; ``ln_m = floor(ln(m)/2 * 2**(F_x + F_w))``; the exponent
        ``u - |x|^2/2 - ln_m`` is below the sum of their magnitudes. ``__post_init__``
        refuses a configuration where one passes 63 bits (``docs/units/attention.md``)."""
        fx, fw, w = self.in_fmt.frac_bits, self.omega_fmt.frac_bits, self.in_fmt.width
        sq = self.dim << (2 * w - 2)
        u = (1 << (self.u_width - 1)) - 1
        ln_m = math.floor(math.log(self.features) / 2 * 2 ** (fx + fw))
        return {"x * x": 2 * w - 1, "|x|^2 << (F_w - F_x)": (sq << (fw - fx)).bit_length(),
                "u = omega x": u.bit_length(), "ln(m)/2": ln_m.bit_length(),
                "exponent": (u + (sq << (fw - fx)) + ln_m).bit_length()}

    @property
    def exponent_frac(self) -> int:
        return self.in_fmt.frac_bits + self.omega_fmt.frac_bits

    @property
    def exp_params(self) -> ExpParams:
        """The exp unit, sized from the omega ROM: ``w.x - |x|^2/2 <= |w|^2/2`` (complete the
        square) bounds the exponent above; ``-|w|_1 max|x| - d max|x|^2/2`` below."""
        w = self.omega_fmt.to_float(self.omega_raw())
        xm = -self.in_fmt.min_raw * self.in_fmt.lsb
        half_ln_m = math.log(self.features) / 2
        hi = max(float((w * w).sum(1).max()) / 2 - half_ln_m, 0.0)
        lo = -float(np.abs(w).sum(1).max()) * xm - self.dim * xm * xm / 2 - half_ln_m
        int_bits = max(2, math.ceil(math.log2(max(hi, -lo) + 1)) + 1)
        out_int = max(1, math.ceil(hi / math.log(2)) + 1)
        frac = min(self.exponent_frac, 24 - int_bits)
        return ExpParams(in_fmt=FixedFormat(int_bits, frac),
                         out_fmt=FixedFormat(out_int, self.frac_bits, signed=False),
                         method=self.method, lut_bits=self.lut_bits)

    def omega_raw(self) -> np.ndarray:
        """The omega ROM: raw ``omega_fmt`` patterns, shape ``(features, dim)``."""
        w = draw_omega(self.features, self.dim, self.kind, self.omega_seed)
        return self.omega_fmt.quantize(w, rounding=Rounding.NEAREST_EVEN, overflow=Overflow.SATURATE)

    @property
    def u_width(self) -> int:
        """Signed bits of ``u = omega x``: every partial sum is at most
        ``max_f sum_j |omega[f, j]| * 2**(w_in - 1)`` in magnitude (from the ROM itself), plus
        the sign bit."""
        peak = int(np.abs(self.omega_raw()).sum(1).max()) << (self.in_fmt.width - 1)
        return peak.bit_length() + 1

    @property
    def latency(self) -> int:
        """Cycles from accepting the last element of x to the first feature, without stalls:
        d multiply-accumulate cycles of omega_0 . x and the output register."""
        return self.dim + 1

    @property
    def top_name(self) -> str:
        return (f"performer_d{self.dim}_m{self.features}_{self.kind.value}_s{self.omega_seed}"
                + self.nondefault_tag({"in_fmt": "i", "omega_fmt": "w", "method": "",
                                       "lut_bits": "lut", "frac_bits": "f"}))


def phi_fixed(x, params: PerformerParams) -> np.ndarray:
    """Raw features ``(..., m)`` (format ``params.exp_params.out_fmt``) of raw rows ``x``."""
    if not isinstance(params, PerformerParams):
        raise TypeError(f"phi_fixed: params must be a PerformerParams, not {type(params).__name__}")
    x = params.in_fmt.check_raw("phi_fixed", "x", x)
    if x.shape[-1:] != (params.dim,):
        raise ValueError(f"phi_fixed: x must have shape (..., {params.dim}), not {x.shape}")
    w = params.omega_raw()
    fx, fw = params.in_fmt.frac_bits, params.omega_fmt.frac_bits
    u = x @ w.T                                               # frac fx + fw, exact
    sq = (x * x).sum(-1, keepdims=True) << (fw - fx) if fw >= fx else None
    if sq is None:
        raise ValueError("phi_fixed: omega_fmt needs at least as many fraction bits as in_fmt")
    half_sq = sq >> 1                                          # |x|^2 / 2, floor at frac fx + fw
    ln_m = math.floor(math.log(params.features) / 2 * 2 ** (fx + fw))
    e = u - half_sq - ln_m
    ep = params.exp_params
    shift = fx + fw - ep.in_fmt.frac_bits
    e = e >> shift if shift >= 0 else e << -shift             # floor into the exp input format
    e = np.clip(e, ep.in_fmt.min_raw, ep.in_fmt.max_raw)
    return exp_fixed(e, ep)


def performer_vectors(p: PerformerParams, count: int | None, seed: int = 0) -> np.ndarray:
    """Corner inputs (zeros, all max, all min, one-hot max, alternating extremes), then
    ``count`` seeded ones: half N(0, 0.4**2) in real units, half uniform over the range."""
    check_instance("performer_vectors", "p", p, PerformerParams)
    if count is None:
        raise ValueError(f"performer has no exhaustive mode ({p.dim * p.in_fmt.width} input "
                         f"bits per vector); give a vector count")
    check_int("performer_vectors", "count", count, 0)
    check_int("performer_vectors", "seed", seed, 0)
    lo, hi = p.in_fmt.min_raw, p.in_fmt.max_raw
    onehot = np.zeros(p.dim, np.int64)
    onehot[0] = hi
    corners = np.stack([np.zeros(p.dim, np.int64), np.full(p.dim, hi), np.full(p.dim, lo),
                        onehot, np.where(np.arange(p.dim) % 2 == 0, lo, hi)])
    rng = np.random.default_rng(seed)
    gauss = p.in_fmt.quantize(rng.normal(0, 0.4, (count // 2, p.dim)),
                              rounding=Rounding.NEAREST_EVEN, overflow=Overflow.SATURATE)
    uni = rng.integers(lo, hi + 1, (count - count // 2, p.dim))
    return np.concatenate([corners, gauss, uni]).astype(np.int64)
