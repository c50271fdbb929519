"""An ONNX model as hwsim runs it: loaded, checked, and interpreted node by node in numpy.

Why an interpreter of our own rather than ``onnx.reference.ReferenceEvaluator`` with
overridden ops: the evaluator re-dispatches every node through Python classes with
per-call attribute handling and converts types defensively, which is several times slower
than a plain loop over a topologically sorted node list with numpy kernels
(:mod:`hwsim.graph.ops`); and overriding one *node* (not one op type) on a unit, which the
per-node attribution needs, is a dict lookup here. The float path is checked against ONNX
Runtime, an independent implementation (``tests/test_graph_ops.py``).

:class:`Graph` holds the nodes in execution order, the initializers as numpy arrays and the
graph's real inputs (those without an initializer). :meth:`Graph.run` takes the feeds and an
optional ``impl`` dict ``node name -> callable(inputs, attrs, env) -> outputs`` that replaces
the float kernel of those nodes (a callable that reads other tensors from ``env`` lists them
in its ``reads`` attribute, so they are kept alive until it runs); every other node runs in
float.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hwsim.graph.ops import OPS

__all__ = ["Graph", "Node", "load", "ModelError"]


class ModelError(ValueError):
    """A model file that cannot be run (corrupt, unsupported ops, bad inputs): one line."""


@dataclass
class Node:
    """One ONNX node: unique ``name`` (``<op_type>_<index>`` when the file has none)."""

    name: str
    op_type: str
    domain: str
    inputs: list[str]
    outputs: list[str]
    attrs: dict = field(default_factory=dict)

    @property
    def key(self) -> str:
        return self.op_type if self.domain in ("", "ai.onnx") else f"{self.domain}:{self.op_type}"


def _attr_value(a):
    from onnx import helper, numpy_helper
    v = helper.get_attribute_value(a)
    if hasattr(v, "dims") and hasattr(v, "data_type"):      # TensorProto
        return numpy_helper.to_array(v)
    if isinstance(v, bytes):
        return v.decode()
    if isinstance(v, list) and v and isinstance(v[0], bytes):
        return [s.decode() for s in v]
    return v


_ELEM = {1: "float32", 2: "uint8", 3: "int8", 5: "int16", 6: "int32", 7: "int64",
         9: "bool", 10: "float16", 11: "float64"}


class Graph:
    """A loaded ONNX model (see the module docstring)."""

    def __init__(self, model, source: str = "model"):
        from onnx import numpy_helper
        self.model, self.source = model, source
        g = model.graph
        self.opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 13)
        self.initializers = {}
        for t in g.initializer:
            a = np.array(numpy_helper.to_array(t))
            a.setflags(write=False)       # constant: hooks may quantise a weight once
            self.initializers[t.name] = a
        self.inputs = {}
        for i in g.input:
            if i.name in self.initializers:
                continue
            tt = i.type.tensor_type
            dims = tuple(d.dim_value if d.HasField("dim_value") else None for d in tt.shape.dim)
            self.inputs[i.name] = (_ELEM.get(tt.elem_type, f"type {tt.elem_type}"), dims)
        self.outputs = [o.name for o in g.output]
        self.nodes: list[Node] = []
        seen = set()
        for idx, n in enumerate(g.node):
            name = n.name or f"{n.op_type}_{idx}"
            while name in seen:
                name = f"{name}_{idx}"
            seen.add(name)
            self.nodes.append(Node(name, n.op_type, n.domain, list(n.input), list(n.output),
                                   {a.name: _attr_value(a) for a in n.attribute}))
        unsupported = sorted({n.key for n in self.nodes if n.key not in OPS})
        if unsupported:
            first = next(n.name for n in self.nodes if n.key in unsupported)
            raise ModelError(f"{source}: unsupported ONNX op type(s) {', '.join(unsupported)} "
                             f"(first node: {first}); hwsim runs: "
                             f"{', '.join(sorted(k for k in OPS if ':' not in k))}")
        self.nodes = self._sorted()
        self.producer = {o: n for n in self.nodes for o in n.outputs}

    def _sorted(self) -> list[Node]:
        """The nodes in an order where every input is computed before use (files are
        usually sorted already; a file that is not, or has a cycle, is caught here)."""
        ready = set(self.initializers) | set(self.inputs) | {""}
        todo, order = list(self.nodes), []
        while todo:
            rest = [n for n in todo if not all(i in ready for i in n.inputs)]
            done = [n for n in todo if all(i in ready for i in n.inputs)]
            if not done:
                missing = sorted({i for n in rest for i in n.inputs if i not in ready
                                  and all(i not in m.outputs for m in rest)})
                raise ModelError(f"{self.source}: node {rest[0].name} needs tensor(s) no node "
                                 f"or input provides: {', '.join(missing) or 'a cycle'}")
            for n in done:
                ready.update(n.outputs)
            order += done
            todo = rest
        return order

    def node(self, name: str) -> Node:
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(name)

    def check_feeds(self, feeds: dict, what: str = "--data") -> dict:
        """The feeds as arrays of the inputs' dtypes and ranks; one-line errors naming the
        input for a missing, extra, wrongly typed or wrongly shaped array."""
        names = set(self.inputs)
        missing = sorted(names - set(feeds))
        extra = sorted(set(feeds) - names)
        if missing or extra:
            parts = []
            if missing:
                parts.append(f"missing input(s) {', '.join(missing)}")
            if extra:
                parts.append(f"unknown array(s) {', '.join(extra)}")
            raise ModelError(f"{what}: {'; '.join(parts)} (the model's inputs: "
                             f"{', '.join(f'{k} {v[0]}{list(v[1])}' for k, v in self.inputs.items())})")
        out = {}
        for k, (dtype, dims) in self.inputs.items():
            a = np.asarray(feeds[k])
            if a.dtype.kind not in "biuf":
                raise ModelError(f"{what}: input {k} must be a numeric array, not dtype {a.dtype}")
            if dtype in ("float32", "float64", "float16"):
                if a.dtype.kind not in "iuf":
                    raise ModelError(f"{what}: input {k} must be {dtype}, not {a.dtype}")
                a = a.astype(dtype)
            elif a.dtype.kind != np.dtype(dtype).kind:
                raise ModelError(f"{what}: input {k} must be {dtype}, not {a.dtype}")
            else:
                a = a.astype(dtype)
            if dims and len(dims) != a.ndim:
                raise ModelError(f"{what}: input {k} must have {len(dims)} axes "
                                 f"{list(dims)}, not shape {list(a.shape)}")
            for axis, (want, have) in enumerate(zip(dims, a.shape)):
                if want not in (None, 0) and want != have:
                    raise ModelError(f"{what}: input {k} must have {want} on axis {axis} "
                                     f"{list(dims)}, not shape {list(a.shape)}")
            out[k] = a
        return out

    def run(self, feeds: dict, impl: dict | None = None, keep: bool = False) -> dict:
        """Outputs by name (all tensors with ``keep=True``); ``impl`` overrides nodes."""
        env = dict(self.initializers)
        env.update(feeds)
        env[""] = None
        impl = impl or {}
        last_use = {}
        if not keep:
            for i, n in enumerate(self.nodes):
                # an override may read more tensors than the node's inputs (``reads``)
                for t in [*n.inputs, *getattr(impl.get(n.name), "reads", ())]:
                    last_use[t] = i
        for i, n in enumerate(self.nodes):
            args = [env[t] for t in n.inputs]
            f = impl.get(n.name)
            try:
                if f is not None:
                    outs = f(args, n.attrs, env)
                else:
                    op = OPS[n.key]
                    outs = (op(args, n.attrs, opset=self.opset) if getattr(op, "wants_opset", False)
                            else op(args, n.attrs))
            except (ValueError, TypeError, IndexError, KeyError) as e:
                if isinstance(e, ModelError):
                    raise
                raise ModelError(f"{self.source}: node {n.name} ({n.op_type}) failed: "
                                 f"{str(e).splitlines()[0] if str(e) else type(e).__name__}") from None
            for name, v in zip(n.outputs, outs):
                env[name] = v
            if not keep:
                for t in [*n.inputs, *getattr(f, "reads", ())]:
                    if last_use.get(t) == i and t not in self.outputs and t not in self.initializers:
                        env.pop(t, None)
        return env if keep else {k: env[k] for k in self.outputs}


def load(path, what: str = "MODEL") -> Graph:
    """Read and check an ONNX file; one-line :class:`ModelError` for anything wrong."""
    import onnx
    from google.protobuf.message import DecodeError
    p = Path(path)
    if not p.is_file():
        raise ModelError(f"{what}: {path} is not an existing file")
    try:
        model = onnx.load(str(p))
    # ValidationError: external weights (model.onnx.data) missing or not a regular file
    except (DecodeError, ValueError, OSError, RuntimeError, onnx.checker.ValidationError) as e:
        raise ModelError(f"{what}: {path} is not a readable ONNX model "
                         f"({type(e).__name__}: {str(e).splitlines()[0] if str(e) else 'decode error'})") from None
    if not model.graph.node:
        raise ModelError(f"{what}: {path} is not an ONNX model with a graph (no nodes)")
    try:
        onnx.checker.check_model(model)
    except Exception as e:  # onnx.checker.ValidationError and friends
        raise ModelError(f"{what}: {path} is not a valid ONNX model "
                         f"({str(e).strip().splitlines()[0]})") from None
    try:
        graph = Graph(model, source=str(path))
    except ValueError as e:  # external weights of the wrong size
        raise ModelError(f"{what}: {path} has unreadable weights ({str(e).splitlines()[0]})") from None
    for name, a in graph.initializers.items():  # NaN weights make every metric NaN
        if a.dtype.kind == "f" and not np.isfinite(a).all():
            raise ModelError(f"{what}: {path} must hold finite weights, not "
                             f"{int((~np.isfinite(a)).sum())} NaN / inf in {name}")
    return graph
