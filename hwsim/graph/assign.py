"""Which nodes of an ONNX model run on which hwsim unit: the assignment and its formats.

An assignment is a list of rules (the ``[[assign]]`` tables of the TOML file ``hwsim run
--assign`` reads; the first matching rule wins, unmatched nodes run in float)::

    [[assign]]
    op = "MatMul"          # ONNX op type or a list of them (optional)
    node = "*attn*"        # fnmatch pattern on the node name (optional)
    unit = "mitchell-mul"  # the unit
    width = 8              # any Params field of that unit

    [calibration]          # optional: how the multiplier units' operand formats are chosen
    mode = "static"        # "static" (default) or "block"
    method = "maxabs"      # static: "maxabs" (default) or "percentile"
    percentile = 99.99     # of |x|, for method = "percentile"
    weights = "per-channel"  # or "per-tensor"
    rows = 64              # calibrate on the first rows of the data (default: all)

    [formats]              # optional: fixed formats for named tensors (fraction bits)
    "hidden" = 5

Units by op type: every registered unit whose ``graph`` role names the op
(:func:`hwsim.units.units_by_op`; ``hwsim units`` lists them).

* ``MatMul``, ``Gemm``, ``Conv`` (Conv through im2col, one matrix product per group): the
  product units (:class:`hwsim.units.Product`; ``hwsim units`` lists them), any
  Params field of the unit (``width`` at most 24). Operands are signed ``width``-bit fixed
  point: a unit with a ``signed`` field runs signed (the field must stay true); an unsigned
  unit runs in sign-magnitude form, ``sgn(a) sgn(b) U(|a|, |b|)`` with ``U`` at the
  operand width; products are summed exactly and scaled back to float
  (:class:`hwsim.eval.hooks.FixedMatmul` / :class:`hwsim.eval.hooks.StaticMatmul`). QDQ nodes run the
  unit at the width their integer codes need (the rule's other fields kept).
* ``LinearClassifier``, ``LinearRegressor`` (ai.onnx.ml, skl2onnx's linear models): the
  same product units on ``X W^T`` (``W`` the node's coefficients, a weight like an
  initializer's), intercepts, post_transform and labels by ONNX Runtime
  (:mod:`hwsim.graph.linear_ml`).
* ``QLinearMatMul``, ``QLinearConv``, ``MatMulInteger``, ``ConvInteger`` (ONNX Runtime's
  QOperator form): the same product units on the integer codes, the model's scales and zero
  points applied as the op defines (:mod:`hwsim.graph.qoperator`).

  *static* mode (default): every activation operand gets one power-of-two format for the
  whole tensor, chosen on the calibration rows: ``frac = width - 1 - e`` with ``2**e`` the
  smallest power of two above the tensor's max |x| (or its ``percentile`` of |x|), i.e.
  just enough integer bits, round to nearest even, saturate. Weights (initializers) get one
  format per output channel (``per-channel``: each column of the product's right operand,
  Conv's output channels) or one for the tensor, from their own max |w|. A ``[formats]``
  entry fixes a tensor's fraction bits instead. *block* mode: block floating point, one
  exponent per row of the left and per column of the right operand, at run time.
* ``Softmax``: the row units (:class:`hwsim.units.RowOp`): ``softmax`` (``SoftmaxParams``
  fields; ``length`` comes from each call) or ``exp`` (the exp unit's exponentials,
  normalised in float) — :mod:`hwsim.eval.hooks`.

Deterministic: calibration reads the first ``rows`` rows, no random draw.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import json
from dataclasses import dataclass, field

import numpy as np

from hwsim._check import is_int, short_repr
from hwsim.graph.model import Graph, ModelError
from hwsim.graph import ops
from hwsim.schema import Schema
from hwsim.units import Product, get_unit, units_by_op

__all__ = ["Rule", "Assignment", "parse_assignment", "units_by_op", "build_impl",
           "calibrate", "MATMUL_OPS"]

#: the float product ops (calibrated formats); Product.quantized_ops carry their own codes
MATMUL_OPS = tuple(o for o in Product.ops if o not in Product.quantized_ops)
MODES, METHODS, WEIGHTS = ("static", "block"), ("maxabs", "percentile"), ("per-channel", "per-tensor")


@dataclass(frozen=True)
class Rule:
    """One ``[[assign]]`` rule: ``op`` and ``node`` select, ``unit`` and ``params`` (the
    unit's Params) say what runs there."""

    unit: str
    params: object
    op: tuple | None = None
    node: str | None = None

    def matches(self, n) -> bool:
        return ((self.op is None or n.op_type in self.op)
                and (self.node is None or fnmatch.fnmatchcase(n.name, self.node)))

    def to_dict(self) -> dict:
        op = None if self.op is None else (self.op[0] if len(self.op) == 1 else list(self.op))
        d = {k: v for k, v in (("op", op), ("node", self.node)) if v is not None}
        d["unit"] = self.unit
        p = self.params.to_dict()
        length = getattr(get_unit(self.unit).graph, "length", None)
        if length is not None:
            p.pop(length)   # each call's row length
        return d | p


@dataclass(frozen=True)
class Assignment:
    rules: tuple = ()
    mode: str = "static"
    method: str = "maxabs"
    percentile: float = 99.99
    weights: str = "per-channel"
    rows: int | None = None
    formats: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        cal = {"mode": self.mode, "method": self.method, "percentile": self.percentile,
               "weights": self.weights}
        if self.rows is not None:
            cal["rows"] = self.rows
        out = {"assign": [r.to_dict() for r in self.rules], "calibration": cal}
        if self.formats:
            out["formats"] = dict(self.formats)
        return out

    def only(self, node_name: str, unit_rule: Rule) -> "Assignment":
        """This assignment with one rule: ``unit_rule`` on exactly ``node_name``."""
        return dataclasses.replace(self, rules=(dataclasses.replace(unit_rule, op=None,
                                                                    node=node_name),))


def _rule_params(where: str, unit: str, fields: dict, base=None):
    spec = get_unit(unit)
    if base is not None:
        fields = spec.params_cls.relative_to(fields, base)
    for k, v in spec.fixed.items():
        if k in fields and fields[k] != v:
            raise ValueError(f"{where}: ONNX operands are signed; {k} must be "
                             f"{json.dumps(v)}, not {short_repr(fields[k])}")
    length = getattr(spec.graph, "length", None)
    if length is not None and length in fields:
        raise ValueError(f"{where}: {unit} {length} comes from the model's rows; remove it")
    if getattr(spec.graph, "sign_magnitude", False) and "signed" in fields:
        raise ValueError(f"{where}: {unit} has no parameter 'signed' (it is unsigned and runs "
                         f"in sign-magnitude form on the signed operands)")
    p = spec.params_cls.from_dict({**fields, **spec.fixed})
    if isinstance(spec.graph, Product) and p.width > 24:
        raise ValueError(f"{where}: width must be at most 24 for ONNX products (the int64 "
                         f"sums), not {p.width}")
    return p


def parse_assignment(doc: dict, where: str = "--assign", base=None) -> Assignment:
    """An :class:`Assignment` from the parsed TOML (``doc``); one-line errors naming the
    table and key. ``base``: the directory relative file paths of unit fields (a circuit's
    ``verilog``) are taken from, the TOML file's (default: the current directory)."""
    from hwsim.units import REGISTRY
    if not isinstance(doc, dict):
        raise TypeError(f"{where}: must be a TOML table, not {short_repr(doc)}")
    sc = Schema(where, ValueError, TypeError)
    sc.keys(doc, ("assign", "calibration", "formats"))
    rules = []
    raw = sc.tables(doc, "assign")
    by_op = units_by_op()
    units = sorted({u for us in by_op.values() for u in us})
    for i, r in enumerate(raw):
        at = f"{where}: assign[{i}]"
        if "unit" not in r:
            raise ValueError(f"{at} needs a unit (one of {', '.join(units)})")
        unit, op, node = r["unit"], r.get("op"), r.get("node")
        if unit not in units:
            hint = (f"; {unit} has no ONNX op to run"
                    if isinstance(unit, str) and unit in REGISTRY else "")
            raise ValueError(f"{at}.unit must be one of {', '.join(units)}, not "
                             f"{short_repr(unit)}{hint}")
        if node is not None and (not isinstance(node, str) or not node):
            raise TypeError(f"{at}.node must be a non-empty string, not {short_repr(node)}")
        if op is not None:
            ops_ = [op] if isinstance(op, str) else op
            if (not isinstance(ops_, list) or not ops_
                    or not all(isinstance(o, str) and o for o in ops_)):
                raise TypeError(f"{at}.op must be an op type or a list of op types, not "
                                f"{short_repr(op)}")
            for o in ops_:
                if o not in by_op:
                    raise ValueError(f"{at}.op: hwsim units implement "
                                     f"{', '.join(by_op)}, not {o!r}")
                if unit not in by_op[o]:
                    raise ValueError(f"{at}: unit {unit} cannot run {o} (units for {o}: "
                                     f"{', '.join(by_op[o])})")
            op = tuple(ops_)
        # "none" stands for TOML's missing null, as in sweeps and explore (keep_bits = "none")
        fields = {k: None if isinstance(v, str) and v.lower() == "none" else v
                  for k, v in r.items() if k not in ("unit", "op", "node")}
        try:
            params = _rule_params(at, unit, fields, base)
        except (TypeError, ValueError) as e:
            msg = str(e)
            raise type(e)(msg if msg.startswith(at) else f"{at}: {msg}") from None
        rules.append(Rule(unit=unit, params=params, op=op, node=node))
    cal = sc.table(doc, "calibration")
    sc.keys(cal, ("mode", "method", "percentile", "weights", "rows"), "calibration")
    kw = {key: sc.choice(cal, key, "calibration", choices)
          for key, choices in (("mode", MODES), ("method", METHODS), ("weights", WEIGHTS))
          if key in cal}
    if "percentile" in cal:
        kw["percentile"] = float(sc.number(cal, "percentile", "calibration", None, 50, 100))
    if "rows" in cal:
        kw["rows"] = int(sc.number(cal, "rows", "calibration", None, 1, None, integer=True))
    formats = doc.get("formats", {})
    if not isinstance(formats, dict) or not all(is_int(v) and -64 <= v <= 64
                                                for v in formats.values()):
        raise ValueError(f"{where}: formats must map tensor names to fraction bits (integers "
                         f"in -64..64), not {short_repr(formats)}")
    return Assignment(rules=tuple(rules), formats=dict(formats), **kw)


def assigned_nodes(graph: Graph, assignment: Assignment) -> dict:
    """``{node name: Rule}`` of the nodes some rule matches (op types a unit can run)."""
    out = {}
    by_op = units_by_op()
    for n in graph.nodes:
        if n.key not in by_op:
            continue
        for r in assignment.rules:
            if r.matches(n) and r.unit in by_op[n.key]:
                out[n.name] = r
                break
    return out


def _engine(rule: Rule, width: int | None = None, where: str = ""):
    """The rule's :class:`hwsim.eval.hooks.FixedMatmul`; ``width`` (QDQ codes) replaces the
    rule's operand width."""
    from hwsim.eval.hooks import FixedMatmul
    p = rule.params
    if width is not None and width != p.width:
        try:
            p = dataclasses.replace(p, width=width)
        except (TypeError, ValueError) as e:
            raise ModelError(f"{where}: the unit runs at the QDQ codes' {width} bits, and "
                             f"then {e}") from None
    return FixedMatmul(p)


def _operands(node) -> tuple[str, str | None]:
    """Names of the tensors that are the left and right operand of the node's product
    (``None``: a weight held in the node's attributes, LinearClassifier's coefficients)."""
    if node.op_type in Product.ml_ops:
        return node.inputs[0], None
    if node.op_type == "Conv":
        return node.inputs[0], node.inputs[1]      # im2col(x) @ W^T
    return node.inputs[0], node.inputs[1]      # MatMul a @ b, Gemm a' @ b' (transposed)


def calibrate(graph: Graph, assignment: Assignment, feeds: dict, nodes: dict) -> dict:
    """``{tensor name: frac}`` for every activation operand of the assigned product nodes
    (static mode) and per-tensor weights; ``[formats]`` entries win."""
    matmuls = {k: r for k, r in nodes.items() if graph.node(k).op_type in MATMUL_OPS
               and qdq_operands(graph, graph.node(k)) is None}
    if assignment.mode != "static" or not matmuls:
        return dict(assignment.formats)
    rows = assignment.rows
    cal_feeds = {k: v[:rows] for k, v in feeds.items()} if rows else feeds
    # only the activation operands the loop below reads (not every tensor of the model)
    env = graph.tensors(cal_feeds, [t for name in matmuls for t in _operands(graph.node(name))
                                    if t is not None and t not in assignment.formats
                                    and t not in graph.initializers])
    fracs = {}
    for name, rule in matmuls.items():
        width = rule.params.width
        node = graph.node(name)
        for t in _operands(node):
            if t is None:      # attribute weights: per channel, or per tensor at build time
                continue
            if t in assignment.formats:
                fracs[t] = assignment.formats[t]
                continue
            if t in graph.initializers:
                if assignment.weights == "per-tensor":
                    fracs[t] = int(_frac(np.abs(graph.initializers[t]).max(), width))
                continue
            x = np.abs(np.asarray(env[t], dtype=np.float64))
            peak = (x.max() if assignment.method == "maxabs"
                    else np.percentile(x, assignment.percentile)) if x.size else 0.0
            fracs[t] = int(_frac(peak, width))
    return fracs


def _frac(peak, width):
    from hwsim.eval.hooks import frac_for_peak
    return frac_for_peak(peak, width)


def qdq_operands(graph: Graph, node):
    """The DequantizeLinear nodes feeding both operands of a product node, or ``None`` (the
    node is not in QDQ form)."""
    if node.op_type in Product.ml_ops:
        return None
    deq = [graph.producer.get(t) for t in _operands(node)]
    if all(d is not None and d.op_type == "DequantizeLinear" for d in deq):
        return deq
    return None


def _code_bits(dtype, zero_point) -> int:
    """Signed width that holds every code ``q - zero_point`` of the integer type."""
    info = np.iinfo(dtype)
    z = np.asarray(zero_point if zero_point is not None else 0, dtype=np.int64)
    lo, hi = info.min - int(z.max()), info.max - int(z.min())
    n = 2
    while not (-(1 << (n - 1)) <= lo and hi <= (1 << (n - 1)) - 1):
        n += 1
    return n


def qdq_width(graph: Graph, node, deq) -> int:
    """The unit width a QDQ product node needs: its integer codes minus zero points."""
    bits = []
    for d in deq:
        q = graph.initializers.get(d.inputs[0])
        dtype = q.dtype if q is not None else _qdtype(graph, d)
        zp = graph.initializers.get(d.inputs[2]) if len(d.inputs) > 2 and d.inputs[2] else None
        bits.append(_code_bits(dtype, zp))
    return max(bits)


def _qdtype(graph: Graph, deq):
    """The integer type of a DequantizeLinear's input: its zero point's (ONNX: the same)."""
    if len(deq.inputs) > 2 and deq.inputs[2] in graph.initializers:
        return graph.initializers[deq.inputs[2]].dtype
    return np.uint8     # ONNX: no zero point means uint8


def _qdq_impl(graph: Graph, node, rule: Rule, deq):
    """A product node in QDQ form on the unit: the integer codes ``q - zero_point`` of both
    operands go through the unit (exact int sums), then the scales are applied as the model's
    DequantizeLinear nodes say (the left operand's per tensor, the right's per tensor or per
    output channel), then Gemm's alpha / beta C or Conv's bias in float."""
    width = qdq_width(graph, node, deq)
    engine = _engine(rule, width, f"node {node.name}")

    def codes(d, env):
        q = env[d.inputs[0]]
        scale = np.asarray(env[d.inputs[1]], dtype=np.float64)
        zp = env[d.inputs[2]] if len(d.inputs) > 2 and d.inputs[2] else None
        axis = d.attrs.get("axis", 1) % max(q.ndim, 1)
        c = q.astype(np.int64)
        if zp is not None:
            c = c - ops.qshape(zp, q, axis).astype(np.int64)
        return c, scale

    def out_scale(sa, sb, m: int):
        if sa.size != 1:
            raise ModelError(f"node {node.name}: the left operand's DequantizeLinear scale "
                             f"must be per tensor to run on a unit, not {sa.size} values")
        if sb.size not in (1, m):
            raise ModelError(f"node {node.name}: the right operand's scale must be per tensor "
                             f"or per output channel ({m}), not {sb.size} values")
        return float(sa.reshape(-1)[0]) * sb.reshape(-1)

    def f(inputs, attrs, env):
        (ca, sa), (cb, sb) = codes(deq[0], env), codes(deq[1], env)
        if node.op_type == "Conv":
            acc = ops.conv([ca, cb], attrs, product=engine.products)[0].astype(np.float64)
            m = acc.shape[1]
            y = acc * out_scale(sa, sb, m).reshape((1, -1) + (1,) * (acc.ndim - 2))
            if len(inputs) > 2 and inputs[2] is not None:
                y = y + inputs[2].reshape((1, -1) + (1,) * (acc.ndim - 2))
            return [y.astype(inputs[0].dtype)]
        if node.op_type == "Gemm":
            acc = ops.gemm([ca, cb], {k: v for k, v in attrs.items() if k in ("transA", "transB")},
                           product=engine.products)[0].astype(np.float64)
            y = acc * out_scale(sa, sb, acc.shape[-1]) * attrs.get("alpha", 1.0)
            if len(inputs) > 2 and inputs[2] is not None:
                y = y + attrs.get("beta", 1.0) * inputs[2]
            return [y.astype(inputs[0].dtype)]
        a2 = ca[None, :] if ca.ndim == 1 else ca
        b2 = cb[:, None] if cb.ndim == 1 else cb
        lead = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
        acc = engine.products(np.broadcast_to(a2, lead + a2.shape[-2:]),
                              np.broadcast_to(b2, lead + b2.shape[-2:]))
        y = acc * out_scale(sa, sb, acc.shape[-1])
        if ca.ndim == 1:
            y = y[..., 0, :]
        if cb.ndim == 1:
            y = y[..., 0]
        return [y.astype(inputs[0].dtype)]
    f.reads = [t for d in deq for t in d.inputs if t]
    f.qdq_width = width
    return f


def _matmul_impl(graph: Graph, node, rule: Rule, assignment: Assignment, fracs: dict):
    from hwsim.eval.hooks import StaticMatmul
    engine = _engine(rule)
    a_name, b_name = _operands(node)
    if assignment.mode == "block":
        product = engine
    else:
        fa = fracs[a_name]
        fb = fracs.get(b_name)     # None: per-channel weights from their own columns
        if b_name is None and assignment.weights == "per-tensor":   # attribute weights
            from hwsim.graph.linear_ml import weights
            w = np.abs(weights(node)[0])
            fb = int(_frac(w.max() if w.size else 0.0, rule.params.width))
        product = StaticMatmul(engine, fa, fb)
    if node.op_type in Product.ml_ops:
        from hwsim.graph.linear_ml import linear_ml_impl
        return linear_ml_impl(graph, node, product)
    if node.op_type == "MatMul":
        def f(inputs, attrs, env):
            a, b = inputs
            squeeze_a, squeeze_b = a.ndim == 1, b.ndim == 1
            a2 = a[None, :] if squeeze_a else a
            b2 = b[:, None] if squeeze_b else b
            y = product(a2, b2)
            if squeeze_a:
                y = y[..., 0, :]
            if squeeze_b:
                y = y[..., 0]
            return [np.asarray(y).astype(np.result_type(a, b))]
    elif node.op_type == "Gemm":
        def f(inputs, attrs, env):
            return ops.gemm(inputs, attrs, product=product)
    else:
        def f(inputs, attrs, env):
            return ops.conv(inputs, attrs, product=product)
    return f


def _softmax_impl(node, rule: Rule, opset: int):
    hook = get_unit(rule.unit).row_hook(rule.params)

    def f(inputs, attrs, env):
        x = inputs[0]
        axis = attrs.get("axis", -1 if opset >= 13 else 1) % x.ndim
        if opset < 13:
            flat = x.reshape(int(np.prod(x.shape[:axis])), -1)
            return [np.asarray(hook(flat)).reshape(x.shape).astype(x.dtype)]
        y = hook(np.moveaxis(x, axis, -1))
        return [np.moveaxis(np.asarray(y), -1, axis).astype(x.dtype)]
    return f


def build_impl(graph: Graph, assignment: Assignment, feeds: dict, fracs: dict | None = None):
    """``(impl, nodes, fracs)``: the per-node implementations for :meth:`Graph.run`, the
    assigned nodes and the operand formats (calibrated on ``feeds`` unless given)."""
    nodes = assigned_nodes(graph, assignment)
    if fracs is None:
        fracs = calibrate(graph, assignment, feeds, nodes)
    impl = {}
    for name, rule in nodes.items():
        node = graph.node(name)
        if node.op_type in Product.quantized_ops:
            from hwsim.graph.qoperator import qop_impl, qop_width
            impl[name] = qop_impl(graph, node, _engine(rule, qop_width(graph, node),
                                                       f"node {node.name}"))
        elif node.op_type in MATMUL_OPS:
            deq = qdq_operands(graph, node)
            impl[name] = (_qdq_impl(graph, node, rule, deq) if deq is not None
                          else _matmul_impl(graph, node, rule, assignment, fracs))
        else:
            impl[name] = _softmax_impl(node, rule, graph.opset)
    return impl, nodes, fracs


def unmatched_rules(graph: Graph, assignment: Assignment) -> list[str]:
    """One line per rule that matches no node of the model (a typo, or a generic file with
    rules for ops this model does not have): ``hwsim run`` prints them as warnings."""
    out = []
    by_op = units_by_op()
    ops_here = sorted({n.op_type for n in graph.nodes if n.key in by_op})
    for i, r in enumerate(assignment.rules):
        if not any(r.matches(n) and n.key in by_op and r.unit in by_op[n.key]
                   for n in graph.nodes):
            op = None if r.op is None else "/".join(r.op)
            out.append(f"assign[{i}] (op={op}, node={r.node}, unit={r.unit}) matches no node "
                       f"of the model (ops a unit can run here: {', '.join(ops_here) or 'none'})")
    return out
