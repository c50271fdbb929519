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
  only a value rounded up to ``2**e`` saturates). Every product is a registered product
  unit's (:class:`hwsim.units.Product`): a signed unit's model (exact, Mitchell with
  ``signed=True``), or an unsigned unit's (``sign_magnitude``) in sign-magnitude form,
  ``sgn(a) sgn(b) U(|a|, |b|)`` with ``U`` at the operand width (a magnitude is at most
  ``2**(width-1)``, so it fits); summed exactly in int64 and scaled back in float64.
* :class:`FloatMatmul` (``attention_products`` / ``linear``): ``a @ b`` in a float format
  (fp32, bf16, fp16, e4m3, e5m2) with every scalar product by the float multiplier unit
  (:func:`hwsim.float_mul.float_mul`: Mitchell, L-Mul or exact), operands scaled by powers of
  two and rounded into the format, products summed in float32 (or float64).
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

from hwsim.eval import capture
from hwsim.exp import ExpMethod, ExpParams, exp_fixed
from hwsim.fixed import FixedFormat, Overflow, Rounding
from hwsim.float_mul import FloatMulParams, float_encode, float_mul, float_values
from hwsim.performer import FeatureKind, draw_omega
from hwsim.softmax import SoftmaxParams, softmax_fixed

__all__ = ["frac_for_peak", "quantize_frac", "quantize_frac_numpy", "block_quantize",
           "FixedMatmul", "StaticMatmul",
           "FloatMatmul", "SoftmaxHook", "ExpSoftmax", "AttentionHeadHook",
           "PerformerAttention", "fixed_matmul", "FLOAT_SCALES",
           "ACCUMULATORS"]

#: operand widths up to this use a table of the unsigned unit's products (2**(2w - 2) entries)
_TABLE_WIDTH = 12
#: FloatMatmul's operand scaling: one power of two per matrix, per vector, or none
FLOAT_SCALES = ("tensor", "vector", "none")
#: FloatMatmul's accumulator types
ACCUMULATORS = ("float32", "float64")


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
    even, saturating); ``frac`` broadcasts against ``x``. One ``frac`` for a float array
    takes the compiled path (:func:`hwsim.quant_kernels.quantize_scaled`, the same numbers);
    anything else the numpy steps (:func:`quantize_frac_numpy`)."""
    x = np.asarray(x)
    if (np.ndim(frac) == 0 and x.dtype in (np.float32, np.float64) and x.size
            and -1000 <= int(frac) <= 1000):
        from hwsim.quant_kernels import quantize_scaled
        q = quantize_scaled(x, width, int(frac))
        if q is not None:
            return q
    return quantize_frac_numpy(x, width, frac)


def quantize_frac_numpy(x, width: int, frac) -> np.ndarray:
    """:func:`quantize_frac` in numpy steps (the reference of the compiled path)."""
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
        if x.ndim >= 2 and axis % x.ndim == x.ndim - 2:   # columns (weights): no transposes
            from hwsim.quant_kernels import block_quantize_cols
            return block_quantize_cols(x, width)
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
    # owned and read-only: the Mitchell kernel remembers what it derives from read-only codes
    q, f = (v if v.base is None else v.copy() for v in (q, f))
    q.setflags(write=False)
    f.setflags(write=False)
    if len(_COLUMNS) >= _COLUMNS_MAX:
        _COLUMNS.pop(next(iter(_COLUMNS)))
    _COLUMNS[key] = (weakref.ref(b), q, f)
    return q, f


@dataclass(frozen=True)
class FixedMatmul:
    """``a @ b`` with block-floating-point operands, every product by a product unit.

    ``params``: the Params of a registered unit whose ``graph`` role is
    :class:`hwsim.units.Product` (``hwsim units`` lists them), its ``width`` the
    operand width, 2..24 (the int64 sum holds ``k * 2**(2 width - 2)`` for any k below
    2**15); :func:`fixed_matmul` builds it from a unit name. ``a`` is ``(..., n, k)``, ``b``
    is ``(..., k, m)`` (leading axes broadcast); the result is float64 ``(..., n, m)``.
    """

    params: object

    def __post_init__(self):
        from hwsim._check import check_int
        from hwsim.units import Product, spec_of
        try:
            spec = spec_of(self.params)
        except TypeError:
            spec = None
        if spec is None or not isinstance(spec.graph, Product):
            from hwsim.units import units_with
            raise TypeError(f"FixedMatmul.params must be the Params of a product unit "
                            f"({', '.join(s.name for s in units_with(Product))}), not "
                            f"{self.params!r}")
        check_int("FixedMatmul", "width", self.params.width, 2, 24)
        for k, v in spec.fixed.items():
            if getattr(self.params, k) != v:
                raise ValueError(f"FixedMatmul.params.{k} must be {v!r} for {spec.name} "
                                 f"products, not {getattr(self.params, k)!r}")

    @property
    def width(self) -> int:
        return self.params.width

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
        """``qa @ qb`` of raw signed ``width``-bit operands (leading axes broadcast), every
        product the unit's, summed exactly; as float64 (exact: the sums stay below 2**53
        for the widths and depths :meth:`__call__` accepts)."""
        from hwsim.units import spec_of
        spec = spec_of(self.params)
        # leading axes broadcast here: a kernel sees equal stacks (Conv's one weight matrix
        # against every image; a stack of 1 against G read as garbage by some kernels)
        lead = np.broadcast_shapes(qa.shape[:-2], qb.shape[:-2])
        qa = np.broadcast_to(qa, lead + qa.shape[-2:])
        qb = np.broadcast_to(qb, lead + qb.shape[-2:])
        (n, k), m = qa.shape[-2:], qb.shape[-1]
        qa, qb = qa.reshape((-1, n, k)), qb.reshape((-1, k, m))
        capture.record(self.params, qa, qb)    # hwsim run --capture (no-op otherwise)
        kernel = spec.product_kernel()
        if kernel is not None:
            acc = kernel(self.params, qa, qb)
        else:
            acc = _model_products(qa, qb, self.params, spec)
        return np.asarray(acc).reshape(lead + (n, m)).astype(np.float64)


def fixed_matmul(unit: str, width: int, **fields) -> FixedMatmul:
    """:class:`FixedMatmul` on the registered product unit ``unit`` at operand width
    ``width``, its other Params fields from ``fields`` and the graph's (``signed``)."""
    from hwsim.units import get_unit
    spec = get_unit(unit)
    return FixedMatmul(spec.params_cls.from_dict({"width": width, **fields, **spec.fixed}))


@lru_cache(maxsize=4)
def _product_table(params, signed: bool) -> np.ndarray:
    """``T[i, j]``: the unit's product of magnitudes (unsigned unit, ``signed`` False) or of
    signed values ``i, j`` (offset by ``2**(width-1)``) at ``width`` (read-only)."""
    from hwsim.units import spec_of
    h = 1 << (params.width - 1)
    x = np.arange(-h, h, dtype=np.int64) if signed else np.arange(h + 1, dtype=np.int64)
    p = spec_of(params).model(params, {"a": x[:, None], "b": x[None, :]})
    t = np.asarray(next(iter(p.values())), dtype=np.int64)
    t.setflags(write=False)
    return t


def _model_products(qa: np.ndarray, qb: np.ndarray, params, spec) -> np.ndarray:
    """``(G, n, m)`` int64 sums over k of the unit's products of raw signed
    ``params.width``-bit operand stacks ``qa`` ``(G, n, k)``, ``qb`` ``(G, k, m)``: the
    model's products (a table up to ``_TABLE_WIDTH`` bits); an unsigned unit
    (``sign_magnitude``) as ``sgn(a) sgn(b) U(|a|, |b|)``. Exact: each product is below
    ``2**(2 width)`` and k below ``2**15``, so the sums fit int64."""
    sm = spec.graph.sign_magnitude
    h = 1 << (params.width - 1)
    # a signed table has 4x the entries of a magnitude table: one bit narrower
    table = (_product_table(params, not sm) if params.width <= _TABLE_WIDTH - (not sm)
             else None)
    out = np.zeros((qa.shape[0], qa.shape[1], qb.shape[2]), dtype=np.int64)

    def unit(x, y):
        if table is not None:
            return table[x, y] if sm else table[x + h, y + h]
        p = spec.model(params, {"a": x, "b": y})
        return np.asarray(next(iter(p.values())), dtype=np.int64)

    for kk in range(qa.shape[2]):
        a, b = qa[:, :, kk, None], qb[:, None, kk, :]
        if sm:
            mag = unit(np.abs(a), np.abs(b))
            out += np.where((a < 0) != (b < 0), -mag, mag)
        else:
            out += unit(*np.broadcast_arrays(a, b))
    return out


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


@lru_cache(maxsize=8)
def _value_table(fmt, dtype: str) -> np.ndarray:
    """Values of every bit pattern of a format of at most 16 bits (``float_values``), as
    ``dtype``: decoding by lookup. Exact: every value of these formats is a float32."""
    t = float_values(np.arange(1 << fmt.bits), fmt).astype(dtype)
    t.setflags(write=False)
    return t


@dataclass(frozen=True)
class FloatMatmul:
    """``a @ b`` in a float format, every scalar product by the float multiplier unit.

    ``a`` is ``(..., m, k)``, ``b`` is ``(..., k, n)`` (leading axes broadcast); the result
    is float64 ``(..., m, n)``. Steps:

    1. **Scale** (``scale``) each operand by a power of two ``2**s`` so that its peak
       magnitude lies in ``[T/2, T)``, ``T = 2**min(floor(log2(largest finite) / 2), 7)``
       (e4m3: 16; e5m2, fp16, bf16, fp32: 128): the product of two peaks, Mitchell's,
       L-Mul's or the exact one, stays below the largest finite value (L-Mul overshoots by
       at most 25 %), so no product overflows, and the operands use the top of the range,
       away from the flush threshold. The cap at 2**7 keeps sums of up to 2**15 products
       (below 2**29) far inside float32 for the wide formats, whose flush threshold is far
       away anyway. ``"tensor"``: one scale per matrix (the last two axes:
       in MiniLM's attention one per sentence and head); ``"vector"``: one per row of ``a``
       and per column of ``b`` (the vectors a dot product pairs); ``"none"``: no scaling. A
       zero or non-finite peak takes no scaling. Scaling by ``2**s`` changes neither the
       rounding nor the approximate products (they scale exactly), only where flush and
       overflow fall.
    2. **Round** the scaled operands into the format with
       :func:`hwsim.float_mul.float_encode`: to nearest even, values below the smallest
       normal flushed to zero, above the largest finite to inf (e4m3: saturated to 448).
    3. **Multiply**: every ``a_ik * b_kj`` is :func:`hwsim.float_mul.float_mul` of the two
       patterns with ``params`` (the model the RTL is verified against), its result pattern
       decoded exactly (:func:`hwsim.float_mul.float_values`); zero, inf and NaN follow the
       unit.
    4. **Accumulate** in ``accumulate`` (``"float32"``, the default, or ``"float64"``): for
       each output ``c = ((p_1 + p_2) + p_3) + ... + p_k`` in k order, each addition rounded
       to nearest even in that type, as a multiply-accumulate unit with a float32 register
       does (every decoded product is exactly a float32, so only the additions round).
    5. **Unscale** in float64 by ``2**-(s_a + s_b)`` (exact).

    Work is chunked over the rows of the output (about 2**20 products per step), so memory
    stays small whatever the shapes.
    """

    params: FloatMulParams
    accumulate: str = "float32"
    scale: str = "tensor"

    def __post_init__(self):
        if not isinstance(self.params, FloatMulParams):
            raise TypeError(f"FloatMatmul.params must be a FloatMulParams, not {self.params!r}")
        if self.accumulate not in ACCUMULATORS:
            raise ValueError(f"FloatMatmul.accumulate must be one of {', '.join(ACCUMULATORS)}, "
                             f"not {self.accumulate!r}")
        if self.scale not in FLOAT_SCALES:
            raise ValueError(f"FloatMatmul.scale must be one of {', '.join(FLOAT_SCALES)}, "
                             f"not {self.scale!r}")

    @property
    def target_exponent(self) -> int:
        """``t``: scaled peaks lie in ``[2**(t-1), 2**t)``; ``2**(2t)`` <= largest finite,
        ``t`` <= 7."""
        fmt = self.params.fmt
        top = float(float_values(fmt.max_finite, fmt))
        return min((int(np.frexp(top)[1]) - 1) // 2, 7)

    def _shift(self, x: np.ndarray, axis) -> np.ndarray:
        """The power-of-two exponent ``s`` per scaling block of ``x`` (int64, keepdims)."""
        if self.scale == "none":
            return np.zeros((1,) * x.ndim, dtype=np.int64)
        peak = np.abs(x).max(axis=axis, keepdims=True)
        _, e = np.frexp(peak)                        # peak < 2**e
        ok = np.isfinite(peak) & (peak > 0)
        return np.where(ok, self.target_exponent - e, 0).astype(np.int64)

    def __call__(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
        if a.ndim < 2 or b.ndim < 2 or a.shape[-1] != b.shape[-2]:
            raise ValueError(f"FloatMatmul: cannot multiply shapes {a.shape} and {b.shape}")
        tensor = self.scale == "tensor"
        sa = self._shift(a, (-2, -1) if tensor else -1)
        sb = self._shift(b, (-2, -1) if tensor else -2)
        fmt = self.params.fmt
        qa, qb = float_encode(np.ldexp(a, sa), fmt), float_encode(np.ldexp(b, sb), fmt)
        lead = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        (m, k), n = a.shape[-2:], b.shape[-1]
        qa = np.broadcast_to(qa, lead + (m, k)).reshape(-1, m, k)
        qb = np.broadcast_to(qb, lead + (k, n)).reshape(-1, k, n)
        acc = self.products(qa, qb).reshape(lead + (m, n))
        return np.ldexp(acc.astype(np.float64), -(sa + sb))

    def products(self, qa: np.ndarray, qb: np.ndarray) -> np.ndarray:
        """``(G, m, n)`` sums (``accumulate`` dtype) of the unit's products of pattern
        stacks ``qa`` ``(G, m, k)`` and ``qb`` ``(G, k, n)`` (steps 3 and 4)."""
        (g, m, k), n = qa.shape, qb.shape[-1]
        capture.record(self.params, qa, qb)    # hwsim run --capture (no-op otherwise)
        fmt, dt = self.params.fmt, np.dtype(self.accumulate)
        table = _value_table(fmt, self.accumulate) if fmt.bits <= 16 else None
        out = np.zeros((g, m, n), dtype=dt)
        budget = 1 << 20
        rows = max(1, budget // max(n, 1))
        if rows >= m:
            step_g, blocks = max(1, rows // max(m, 1)), [(0, m)]
        else:
            step_g, blocks = 1, [(r, min(r + rows, m)) for r in range(0, m, rows)]
        for g0 in range(0, g, step_g):
            gs = slice(g0, g0 + step_g)
            for r0, r1 in blocks:
                acc = out[gs, r0:r1]                 # a view: summed in place
                for kk in range(k):
                    p = float_mul(qa[gs, r0:r1, kk, None], qb[gs, None, kk, :], self.params)
                    acc += table[p] if table is not None else float_values(p, fmt).astype(dt)
        return out


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
