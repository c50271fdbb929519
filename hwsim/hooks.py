"""hwsim unit models as drop-in float functions: the op-level hooks every workload shares.

The built-in MiniLM and digits workloads and a user's ONNX model (:mod:`hwsim.graph`) put a
unit in place of a float operation through these classes, one mechanism for all of them.
Each class here is a callable for one :class:`hwsim.studies.minilm.Arithmetic` hook: it takes
float tensors, converts them to the unit's integer interface, runs the bit-accurate model and
converts the result back. Conversions never look across a batch, so a sentence's result does
not depend on the sentences batched with it.

* :class:`FixedMatmul` (``attention_products`` / ``linear``): ``a @ b`` in block floating
  point. Every row of ``a`` and every column of ``b`` (the vectors a dot product pairs) gets
  its own exponent: the signed ``width``-bit format ``Q(e+1).(width-1-e)`` with ``2**e`` the
  smallest power of two above the vector's peak magnitude (round to nearest even, saturate:
  only a value rounded up to ``2**e`` saturates). Products are exact or the signed Mitchell
  multiplier's (:func:`hwsim.mitchell.mitchell_mul`, ``MitchellMulParams(width, signed=True,
  keep_bits)``), summed exactly in int64 and scaled back in float64.
* :class:`SoftmaxHook` (``softmax``): the softmax unit of :mod:`hwsim.softmax` over each row of
  L scores; scores are rounded to nearest (ties even) into ``params.in_fmt``, saturating; the
  probabilities are the unit's raw ``out_fmt`` outputs as reals. ``params.length`` is replaced
  by each call's L.
* :class:`ExpSoftmax` (``softmax``): only the exp is hardware: ``exp_fixed`` of the float
  differences ``x - max`` rounded into the exp unit's input format, normalised in float.
* :class:`AttentionHeadHook` (``attention``): the whole fixed-point attention head of
  :mod:`hwsim.attention` (the model of the verified RTL head) per head: Q, K, V rounded to
  nearest (ties even) into ``params.in_fmt``, saturating; outputs are the head's raw
  ``out_fmt`` values as reals. ``params.length`` is replaced by each call's L (at most 32).
* :class:`PerformerAttention` (``attention``): FAVOR+ linear attention (Choromanski et al.)
  replacing softmax attention, float features or features from an hwsim exp unit.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from hwsim.exp import ExpMethod, ExpParams, exp_fixed
from hwsim.fixed import FixedFormat, Overflow, Rounding
from hwsim.performer import FeatureKind, draw_omega
from hwsim.softmax import SoftmaxParams, softmax_fixed

__all__ = ["frac_for_peak", "quantize_frac", "block_quantize", "FixedMatmul", "StaticMatmul", "SoftmaxHook", "ExpSoftmax", "AttentionHeadHook",
           "PerformerAttention", "MULTIPLIERS"]

MULTIPLIERS = ("exact", "mitchell")


def _round(fmt: FixedFormat, x) -> np.ndarray:
    """Reals into ``fmt``: to nearest, ties even, saturating (every hook's input rounding)."""
    return fmt.quantize(x, rounding=Rounding.NEAREST_EVEN, overflow=Overflow.SATURATE)


@lru_cache(maxsize=256)
def _at_length(params, length: int, what: str, hint: str):
    """``params`` with ``length`` replaced (each call of a hook brings its own row length);
    ``what`` names the rejected input, with ``{n}`` for the length."""
    try:
        return dataclasses.replace(params, length=length)
    except ValueError as e:
        raise ValueError(f"{what.format(n=length)} ({e}); {hint}") from None


def frac_for_peak(peak, width: int):
    """Fraction bits of the signed ``width``-bit format with just enough integer bits for
    ``peak`` (``2**e`` the smallest power of two above it): ``width - 1 - e``. Elementwise on
    arrays; a zero peak counts as e = 0. The format is ``Q(e+1).(width-1-e)``; e may be
    negative (a small tensor gets more fraction bits than bits)."""
    _, e = np.frexp(np.asarray(peak, dtype=np.float64))   # peak < 2**e
    return (width - 1 - e).astype(np.int64)


def quantize_frac(x, width: int, frac) -> np.ndarray:
    """``x`` as raw signed ``width``-bit integers ``round(x 2**frac)`` (to nearest, ties
    even, saturating); ``frac`` broadcasts against ``x``."""
    hi = (1 << (width - 1)) - 1
    return np.clip(np.rint(np.ldexp(np.asarray(x, dtype=np.float64), frac)), -hi - 1,
                   hi).astype(np.int64)


def block_quantize(x: np.ndarray, width: int, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """``(raw, frac)``: ``x ~ raw * 2**-frac`` with one fraction count per vector along
    ``axis`` (kept as a size-1 axis), ``raw`` signed ``width``-bit int64 (see module doc).
    Finite float input takes the compiled path (:mod:`hwsim.quant_kernels`, the same
    numbers); anything else the numpy steps below."""
    x = np.asarray(x)
    if x.dtype in (np.float32, np.float64) and x.ndim >= 1 and x.size and np.isfinite(x).all():
        from hwsim.quant_kernels import block_quantize_rows
        q, f = block_quantize_rows(np.moveaxis(x, axis, -1), width)
        # C order again: np.matmul takes the BLAS path only for such operands
        return np.ascontiguousarray(np.moveaxis(q, -1, axis)), np.moveaxis(f, -1, axis)
    return block_quantize_numpy(x, width, axis)


def block_quantize_numpy(x: np.ndarray, width: int, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`block_quantize` in numpy steps (the reference of the compiled path)."""
    x = np.asarray(x, dtype=np.float64)
    frac = frac_for_peak(np.abs(x).max(axis=axis, keepdims=True), width)
    return quantize_frac(x, width, frac), frac


_COLUMNS: dict = {}
_COLUMNS_MAX = 256


def _constant_columns(b: np.ndarray, width: int):
    """``block_quantize(b, width, axis=-2)``, remembered for read-only arrays (weights: the
    MiniLM encoder and ONNX initializers are read-only), keyed by the array's identity and
    checked by a weak reference, so a weight matrix is quantised once, not once per call. A
    writeable array is quantised every time (it could change in place)."""
    base = b
    while isinstance(base, np.ndarray):       # a read-only view of a writeable array can change
        if base.flags.writeable:
            return block_quantize(b, width, axis=-2)
        base = base.base
    import weakref
    key = (id(b), width)
    hit = _COLUMNS.get(key)
    if hit is not None and hit[0]() is b:
        return hit[1], hit[2]
    q, f = block_quantize(b, width, axis=-2)
    if len(_COLUMNS) >= _COLUMNS_MAX:
        _COLUMNS.pop(next(iter(_COLUMNS)))
    _COLUMNS[key] = (weakref.ref(b), q, f)
    return q, f


@dataclass(frozen=True)
class FixedMatmul:
    """``a @ b`` with block-floating-point operands and exact or Mitchell products.

    ``a`` is ``(..., n, k)``, ``b`` is ``(..., k, m)`` (leading axes broadcast); the result is
    float64 ``(..., n, m)``. ``width`` 2..24 (the int64 sum holds ``k * 2**(2 width - 2)``
    for any k below 2**15).
    """

    multiplier: str = "exact"
    width: int = 8
    keep_bits: int | None = None

    def __post_init__(self):
        from hwsim._check import check_int
        if self.multiplier not in MULTIPLIERS:
            raise ValueError(f"FixedMatmul.multiplier must be one of {', '.join(MULTIPLIERS)}, "
                             f"not {self.multiplier!r}")
        check_int("FixedMatmul", "width", self.width, 2, 24)
        if self.multiplier == "mitchell":
            self.mul_params  # validates keep_bits
        elif self.keep_bits is not None:
            raise ValueError(f"FixedMatmul.keep_bits applies to the mitchell multiplier only, "
                             f"not {self.multiplier!r}")

    @property
    def mul_params(self):
        from hwsim.mitchell import MitchellMulParams
        return MitchellMulParams(width=self.width, signed=True, keep_bits=self.keep_bits)

    def __call__(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        a, b = np.asarray(a), np.asarray(b)
        if a.ndim < 2 or b.ndim < 2 or a.shape[-1] != b.shape[-2]:
            raise ValueError(f"FixedMatmul: cannot multiply shapes {a.shape} and {b.shape}")
        if a.shape[-1] >= 1 << 15:
            raise ValueError(f"FixedMatmul: dot products of {a.shape[-1]} terms may overflow "
                             f"the int64 sum; at most {(1 << 15) - 1}")
        lead = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        qa, fa = block_quantize(a, self.width, axis=-1)
        qb, fb = _constant_columns(b, self.width)
        qa, fa = (np.broadcast_to(v, lead + v.shape[-2:]) for v in (qa, fa))
        qb, fb = (np.broadcast_to(v, lead + v.shape[-2:]) for v in (qb, fb))
        return np.ldexp(self.products(qa, qb), -(fa + fb))

    def products(self, qa: np.ndarray, qb: np.ndarray) -> np.ndarray:
        """``qa @ qb`` of raw signed ``width``-bit operands (same leading axes), every
        product exact or the Mitchell multiplier's, summed exactly; as float64 (exact: the
        sums stay below 2**53 for the widths and depths :meth:`__call__` accepts)."""
        k = qa.shape[-1]
        if self.multiplier == "exact":
            if 2 * (self.width - 1) + max(k - 1, 1).bit_length() <= 53:
                return qa.astype(np.float64) @ qb.astype(np.float64)   # every sum exact in f64
            return np.matmul(qa, qb).astype(np.float64)
        from hwsim.mitchell_kernels import mitchell_matmul
        lead, n, m = qa.shape[:-2], qa.shape[-2], qb.shape[-1]
        acc = mitchell_matmul(qa.reshape(-1, n, k), qb.reshape(-1, k, m), self.mul_params)
        return acc.reshape(lead + (n, m)).astype(np.float64)


@dataclass(frozen=True)
class StaticMatmul:
    """``a @ b`` with fixed (calibrated) power-of-two formats: ``a`` (activations) with
    ``frac_a`` fraction bits for the whole tensor; ``b`` with ``frac_b`` (an int: one format
    for the whole tensor) or, when ``frac_b`` is ``None``, per column (per output channel)
    from the column's own peak (weights). Rounding, saturation and the products are
    :class:`FixedMatmul`'s (``engine``)."""

    engine: FixedMatmul
    frac_a: int
    frac_b: int | None = None

    def __call__(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        a, b = np.asarray(a), np.asarray(b)
        if a.shape[-1] >= 1 << 15:
            raise ValueError(f"StaticMatmul: dot products of {a.shape[-1]} terms may overflow "
                             f"the int64 sum; at most {(1 << 15) - 1}")
        lead = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        w = self.engine.width
        if self.frac_b is None:
            # per column: block_quantize's rule over the column (the weights are 2-D: a column
            # is an output channel), remembered for read-only weights
            if b.ndim == 2:
                qb, fb = _constant_columns(b, w)
            else:   # stacked weights: a column across the stack is one channel
                fb = frac_for_peak(np.abs(b).max(axis=tuple(range(b.ndim - 1)), keepdims=True), w)
                qb = quantize_frac(b, w, fb)
        else:
            fb = np.int64(self.frac_b)
            qb = quantize_frac(b, w, fb)
        qa = quantize_frac(a, w, self.frac_a)
        qa = np.broadcast_to(qa, lead + qa.shape[-2:])
        qb = np.broadcast_to(qb, lead + qb.shape[-2:])
        return np.ldexp(self.engine.products(qa, qb), -(self.frac_a + fb))


class SoftmaxHook:
    """The hwsim softmax unit over the last axis of float scores (see the module doc)."""

    def __init__(self, params: SoftmaxParams):
        if not isinstance(params, SoftmaxParams):
            raise TypeError(f"SoftmaxHook: params must be SoftmaxParams, not {params!r}")
        self.params = params

    def __call__(self, scores: np.ndarray) -> np.ndarray:
        p = _at_length(self.params, scores.shape[-1],
                       "the softmax unit cannot take rows of {n} scores",
                       "use shorter sentences (max_tokens) or a wider out_fmt")
        raw = _round(p.in_fmt, scores)
        return p.out_fmt.to_float(softmax_fixed(raw, p)).astype(np.float32)


class ExpSoftmax:
    """Softmax whose exponentials come from an hwsim exp unit, normalised in float."""

    def __init__(self, params: ExpParams):
        if not isinstance(params, ExpParams):
            raise TypeError(f"ExpSoftmax: params must be ExpParams, not {params!r}")
        self.params = params

    def __call__(self, scores: np.ndarray) -> np.ndarray:
        p = self.params
        d = scores - scores.max(-1, keepdims=True)
        raw = _round(p.in_fmt, d)
        e = p.out_fmt.to_float(exp_fixed(raw, p))
        return (e / e.sum(-1, keepdims=True)).astype(np.float32)


class AttentionHeadHook:
    """The bit-accurate attention head unit in place of each MiniLM head (module doc)."""

    def __init__(self, params):
        from hwsim.attention import AttentionParams
        if not isinstance(params, AttentionParams):
            raise TypeError(f"AttentionHeadHook: params must be AttentionParams, not {params!r}")
        self.params = params

    def __call__(self, q, k, v, layer: int = 0) -> np.ndarray:
        from hwsim.attention import attention_fixed
        p = _at_length(self.params, q.shape[-2], "the attention head cannot take {n} tokens",
                       "use max_tokens <= 32")
        if q.shape[-1] != p.dim:
            raise ValueError(f"AttentionHeadHook: params.dim is {p.dim}, the heads have {q.shape[-1]}")
        raw = [_round(p.in_fmt, t) for t in (q, k, v)]
        return p.out_fmt.to_float(attention_fixed(*raw, p))


@dataclass(frozen=True)
class PerformerAttention:
    """FAVOR+ in place of softmax attention: ``phi(Q) (phi(K)^T V) / (phi(Q) phi(K)^T 1)``.

    ``q`` and ``k`` are scaled by ``d**-1/4`` each (so ``q.k`` carries softmax attention's
    ``1/sqrt(d)``); ``phi(x) = exp(omega x - |x|^2/2)`` with ``features`` rows of omega drawn
    by :func:`hwsim.performer.draw_omega` (``kind``, seed ``seed + layer``: one draw per layer,
    shared by its heads). Per-row constants of ``phi(q)`` and a per-head constant of
    ``phi(k)`` cancel in the ratio, so the exponents are stabilised by subtracting their maxima
    (the same trick as softmax's max) before ``exp``; the maximum exponent is then 0.

    ``feature_frac`` ``None``: float64 features. An integer F: each exponent is rounded to
    nearest into ``Q8.exp_frac`` (saturating; exponents below -128 give features below
    2**-184, far under any LSB) and the features are the LUT exp unit's ``UQ1.F`` outputs
    (``lut_bits`` index bits); products and sums after the features stay float.

    ``layers``: the layers that use FAVOR+ (``None``: all); the others keep exact float
    softmax attention.
    """

    features: int = 64
    kind: FeatureKind = FeatureKind.ORTHOGONAL
    seed: int = 0
    feature_frac: int | None = None
    exp_frac: int = 8
    lut_bits: int = 8
    layers: tuple[int, ...] | None = None

    def __post_init__(self):
        from hwsim._check import check_int
        if self.layers is not None:
            if not isinstance(self.layers, tuple):
                raise TypeError(f"PerformerAttention.layers must be a tuple of layer indices "
                                f"or None, not {self.layers!r}")
            for i in self.layers:
                check_int("PerformerAttention", "layers[]", i, 0)
        check_int("PerformerAttention", "features", self.features, 1, 4096)
        if not isinstance(self.kind, FeatureKind):
            raise TypeError(f"PerformerAttention.kind must be a FeatureKind, not {self.kind!r}")
        check_int("PerformerAttention", "seed", self.seed, 0)
        if self.feature_frac is not None:
            check_int("PerformerAttention", "feature_frac", self.feature_frac, 1, 24)
            self.exp_params  # validates the unit

    @property
    def exp_params(self) -> ExpParams:
        return ExpParams(in_fmt=FixedFormat(8, self.exp_frac),
                         out_fmt=FixedFormat(1, self.feature_frac, signed=False),
                         method=ExpMethod.LUT, lut_bits=self.lut_bits)

    def omega(self, d: int, layer: int) -> np.ndarray:
        return _omega(self.features, d, self.kind, self.seed + layer)

    def _exp(self, u: np.ndarray) -> np.ndarray:
        if self.feature_frac is None:
            return np.exp(u)
        p = self.exp_params
        raw = _round(p.in_fmt, u)
        return p.out_fmt.to_float(exp_fixed(raw, p))

    def __call__(self, q, k, v, layer: int = 0) -> np.ndarray:
        d = q.shape[-1]
        if self.layers is not None and layer not in self.layers:
            s = (q @ k.swapaxes(-1, -2)) * d ** -0.5
            e = np.exp(s - s.max(-1, keepdims=True))
            return (e / e.sum(-1, keepdims=True)) @ v
        w = self.omega(d, layer)
        s = d ** -0.25
        q, k = np.asarray(q, np.float64) * s, np.asarray(k, np.float64) * s
        uq = q @ w.T
        uk = k @ w.T - 0.5 * (k * k).sum(-1, keepdims=True)
        pq = self._exp(uq - uq.max(-1, keepdims=True))
        pk = self._exp(uk - uk.max(axis=(-2, -1), keepdims=True))
        kv = pk.swapaxes(-1, -2) @ np.asarray(v, np.float64)           # (..., m, d)
        den = pq @ pk.sum(-2)[..., None]                                  # (..., L, 1)
        return (pq @ kv) / np.maximum(den, np.finfo(np.float64).tiny)


@lru_cache(maxsize=64)
def _omega(m: int, d: int, kind: FeatureKind, seed: int) -> np.ndarray:
    w = draw_omega(m, d, kind, seed)
    w.setflags(write=False)
    return w


def softmax_params_for(out_bits: int, **fields) -> SoftmaxParams:
    """SoftmaxParams with ``UQ1.(out_bits-1)`` outputs (probability 1 is representable)."""
    return SoftmaxParams(out_fmt=FixedFormat(1, out_bits - 1, signed=False), **fields)
