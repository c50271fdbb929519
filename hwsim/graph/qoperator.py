"""ONNX Runtime's integer operator form (QOperator) on hwsim's product units.

``onnxruntime.quantization.quantize_static(..., quant_format=QuantFormat.QOperator)`` writes
``QLinearMatMul`` and ``QLinearConv``; ``quantize_dynamic`` writes ``MatMulInteger`` and
``ConvInteger``. An assignment rule whose unit is a product unit
(:class:`hwsim.units.Product`) runs these nodes on the unit:

1. **Codes.** Each operand's integer codes minus its zero point, ``q - zp`` (per tensor, or
   as the op allows per row of A and per column of B / per output channel of W), go through
   the unit at the width they need: the smallest signed width holding every
   ``q - zp`` of the integer type (int8 codes with zero point 0: 8 bits; uint8 codes, or any
   zero point computed at run time such as ``DynamicQuantizeLinear``'s: 9 bits). The rule's
   other Params fields are kept; its ``width`` is replaced, as for QDQ nodes.
2. **Exact sums.** The unit's products are summed exactly (int64; ONNX's int32
   accumulator holds every sum of these sizes); ``QLinearConv`` adds its int32 bias.
3. **Scales, as the op defines them.** ``MatMulInteger`` / ``ConvInteger``: the int32 sum
   is the output. ``QLinearMatMul`` / ``QLinearConv``: ``y = saturate(round(acc *
   (a_scale * b_scale / y_scale)) + y_zero_point)``, computed as ONNX Runtime's CPU kernel
   does (its ``MlasRequantizeOutput``): the multiplier ``a_scale * b_scale[j] / y_scale``
   in float32 (one rounding per operation, left to right), ``float32(acc) * multiplier`` in
   float32, clamped to the output type's range less the zero point, rounded to nearest even,
   plus the zero point. With an exact product unit the result therefore equals ONNX
   Runtime's output code for code (tests/test_qoperator.py checks this at 8 bits).

Everything around these nodes (QuantizeLinear, QLinearAdd, pooling, ...) runs in ONNX
Runtime. Padding of ``*Conv`` uses code 0, i.e. the zero point, as ONNX specifies.
"""

from __future__ import annotations

import numpy as np

from hwsim.graph import ops
from hwsim.graph.model import ModelError

__all__ = ["QOPS", "qop_width", "qop_impl", "requantize"]

#: the QOperator ops and where their operands are: (A codes, A zero point, B codes,
#: B zero point, A scale, B scale, Y scale, Y zero point, bias) input indices (None: absent)
_LAYOUT = {
    "MatMulInteger": dict(a=0, azp=2, b=1, bzp=3),
    "ConvInteger": dict(a=0, azp=2, b=1, bzp=3),
    "QLinearMatMul": dict(a=0, as_=1, azp=2, b=3, bs=4, bzp=5, ys=6, yzp=7),
    "QLinearConv": dict(a=0, as_=1, azp=2, b=3, bs=4, bzp=5, ys=6, yzp=7, bias=8),
}
QOPS = tuple(_LAYOUT)


def _input(node, env, key):
    i = _LAYOUT[node.op_type].get(key)
    if i is None or i >= len(node.inputs) or not node.inputs[i]:
        return None
    return env[node.inputs[i]]


def _code_range(dtype, zp) -> tuple[int, int]:
    info = np.iinfo(dtype)
    z = np.asarray(0 if zp is None else zp, dtype=np.int64)
    return info.min - int(z.max()), info.max - int(z.min())


def _signed_bits(lo: int, hi: int) -> int:
    n = 2
    while not (-(1 << (n - 1)) <= lo and hi <= (1 << (n - 1)) - 1):
        n += 1
    return n


def _operand_dtype(graph, node, code_key, zp_key):
    """The integer type of an operand: the initializer's, else its zero point's, else the
    type ONNX Runtime's shape inference gives; uint8 when none says (ONNX's default)."""
    lay = _LAYOUT[node.op_type]
    for key in (code_key, zp_key):
        i = lay.get(key)
        if i is not None and i < len(node.inputs) and node.inputs[i] in graph.initializers:
            return graph.initializers[node.inputs[i]].dtype
    i = lay[code_key]
    p = graph.producer.get(node.inputs[i])
    if p is not None and p.op_type == "QuantizeLinear" and len(p.inputs) > 2 and \
            p.inputs[2] in graph.initializers:
        return graph.initializers[p.inputs[2]].dtype
    return np.dtype(np.uint8)


def qop_width(graph, node) -> int:
    """The signed unit width that holds every code ``q - zero_point`` of both operands: from
    the integer type and the zero point when it is a constant, over the type's whole range
    when it is computed at run time."""
    bits = []
    for code, zp in (("a", "azp"), ("b", "bzp")):
        dtype = _operand_dtype(graph, node, code, zp)
        i = _LAYOUT[node.op_type].get(zp)
        name = node.inputs[i] if i is not None and i < len(node.inputs) else ""
        if not name:
            z = None
        elif name in graph.initializers:
            z = graph.initializers[name]
        else:   # a zero point computed at run time: any value of the type
            info = np.iinfo(dtype)
            z = np.array([info.min, info.max])
        bits.append(_signed_bits(*_code_range(dtype, z)))
    return max(bits)


def _per_row(p, x):
    """A zero point or scale of A: per tensor, or 1-D per row (axis -2)."""
    p = np.asarray(p)
    if p.size == 1:
        return p.reshape(())
    return p.reshape(p.shape + (1,)) if p.ndim == 1 else p


def _per_col(p, x):
    """A zero point or scale of B: per tensor, or per column (axis -1; shape [..., 1, N])."""
    p = np.asarray(p)
    return p.reshape(()) if p.size == 1 else p


def _per_channel(p, ndim: int):
    """A Conv zero point or scale: per tensor or per output channel (axis 1 of the output)."""
    p = np.asarray(p)
    if p.size == 1:
        return p.reshape(())
    return p.reshape((1, -1) + (1,) * (ndim - 2))


def requantize(acc: np.ndarray, scale: np.ndarray, zero_point, dtype) -> np.ndarray:
    """ONNX Runtime's requantisation of int32 sums ``acc``: ``float32(acc) * scale`` in
    float32, clamped to ``[min - zp, max - zp]`` of the output ``dtype``, rounded to nearest
    even, plus ``zp`` (``scale`` is float32, already the product of the op's scales)."""
    info = np.iinfo(dtype)
    zp = np.asarray(0 if zero_point is None else zero_point).astype(np.int64)
    v = acc.astype(np.float32) * scale.astype(np.float32)
    v = np.clip(v, (info.min - zp).astype(np.float32), (info.max - zp).astype(np.float32))
    return (np.rint(v).astype(np.int64) + zp).astype(dtype)


def _multiplier(sa, sb, sy):
    """``a_scale * b_scale / y_scale`` in float32, one rounding per operation."""
    f = np.float32
    return (np.asarray(sa, dtype=f) * np.asarray(sb, dtype=f)) / np.asarray(sy, dtype=f)


def qop_impl(graph, node, engine):
    """``callable(inputs, attrs, env) -> [output]`` for :meth:`hwsim.graph.model.Graph.run`:
    the QOperator ``node`` with every product on ``engine`` (a
    :class:`hwsim.eval.hooks.FixedMatmul` at :func:`qop_width` bits)."""
    if node.op_type not in _LAYOUT:
        raise ModelError(f"node {node.name}: {node.op_type} is not a QOperator product "
                         f"({', '.join(QOPS)})")
    width = engine.width
    conv = "Conv" in node.op_type
    qlinear = node.op_type.startswith("QLinear")

    def codes(x, zp, shape_zp):
        c = np.asarray(x).astype(np.int64)
        if zp is not None:
            c = c - shape_zp(np.asarray(zp).astype(np.int64), c)
        if c.size and (c.min() < -(1 << (width - 1)) or c.max() >= 1 << (width - 1)):
            raise ModelError(f"node {node.name}: codes {c.min()}..{c.max()} exceed the unit's "
                             f"{width}-bit operands")
        return c

    def f(inputs, attrs, env):
        a, b = _input(node, env, "a"), _input(node, env, "b")
        if conv:
            ca = codes(a, _input(node, env, "azp"), lambda z, c: z.reshape(()))
            cb = codes(b, _input(node, env, "bzp"),      # W's axis 0: its output channels
                       lambda z, c: z.reshape(()) if z.size == 1
                       else z.reshape((-1,) + (1,) * (c.ndim - 1)))
            acc = ops.conv([ca, cb], attrs, product=engine.products)[0]
            bias = _input(node, env, "bias")
            if bias is not None:
                acc = acc + _per_channel(np.asarray(bias).astype(np.int64), acc.ndim)
            if not qlinear:
                return [acc.astype(np.int32)]
            m = _multiplier(_input(node, env, "as_"),
                            _per_channel(_input(node, env, "bs"), acc.ndim),
                            _input(node, env, "ys"))
        else:
            ca = codes(a, _input(node, env, "azp"), _per_row)
            cb = codes(b, _input(node, env, "bzp"), _per_col)
            a2 = ca[None, :] if ca.ndim == 1 else ca
            b2 = cb[:, None] if cb.ndim == 1 else cb
            lead = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
            acc = engine.products(np.broadcast_to(a2, lead + a2.shape[-2:]),
                                  np.broadcast_to(b2, lead + b2.shape[-2:])).astype(np.int64)
            if not qlinear:
                m = None
            else:
                m = _multiplier(_per_row(_input(node, env, "as_"), acc),
                                _per_col(_input(node, env, "bs"), acc),
                                _input(node, env, "ys"))
            if ca.ndim == 1:
                acc = acc[..., 0, :]
            if cb.ndim == 1:
                acc = acc[..., 0]
            if not qlinear:
                return [acc.astype(np.int32)]
        yzp = _input(node, env, "yzp")
        dtype = np.asarray(yzp).dtype if yzp is not None else np.dtype(np.uint8)
        return [requantize(acc, m, yzp, dtype)]

    f.reads = []
    f.qdq_width = width
    return f
