"""An ONNX model as hwsim runs it: loaded, checked, and run with ONNX Runtime between the
nodes that run on hwsim units.

Why ONNX Runtime and not kernels of our own: every op and attribute ONNX Runtime (CPU)
runs, hwsim's float path runs with the same outputs, without hand-writing ~180 op types and
their opset variants (an earlier interpreter of our own ran 60 and got some attribute
combinations silently wrong). hwsim computes only what it models: the nodes an assignment
puts on a unit (:mod:`hwsim.graph.assign`); everything else is ONNX Runtime's.

How: :meth:`Graph.run` takes the feeds and an optional ``impl`` dict ``node name ->
callable(inputs, attrs, env) -> outputs`` of the nodes that run on units (a callable that
reads other tensors from ``env`` lists them in its ``reads`` attribute). Without ``impl``
the whole model is one ONNX Runtime session, the very session the reference run uses
(:meth:`Graph.session`), so hwsim's float path *is* ONNX Runtime's run. With ``impl`` the
graph is cut at those nodes: each node gets a level, the number of assigned nodes on the
longest path before it (an assigned node's own level counts the ones before it), and the
unassigned nodes of one level form one *segment*, an in-memory sub-model (the model's
opset imports and local functions, small initializers embedded, large ones fed as inputs
so that no weight is copied per segment) run as one ONNX Runtime session. Steps run level
by level: segment 0, the assigned nodes of level 0, segment 1, ... — the fewest segments any
cut at the assigned nodes allows (MiniLM with its 54 products and softmaxes assigned: 37
sessions for its 281 other nodes, not one per op). Sessions are cached per segment, the types and
shapes of its inputs and whether all tensors are kept (``keep=True``); calibration reads
just the operands it needs (:meth:`Graph.tensors`). No session keeps a memory arena: a cached
session holds no tensors between runs.
Graph optimisations are off in every session: the graph is computed as written.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["Graph", "Node", "load", "ModelError", "type_name"]

#: initializers up to this many elements are embedded in a segment's sub-model (shapes,
#: scales, zero points: values some kernels want constant); larger ones are fed as inputs
EMBED_MAX_ELEMENTS = 4096
#: segment sessions kept (least recently used dropped first)
MAX_SESSIONS = 256


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
    index: int = 0                       # position in the file's node list
    needs: tuple = ()                    # inputs plus outer-scope names its subgraphs read

    @property
    def key(self) -> str:
        """The op as the unit registry names it: ``op_type`` in ONNX's standard domains
        (ai.onnx and ai.onnx.ml share no op name), ``domain:op_type`` elsewhere."""
        return (self.op_type if self.domain in ("", "ai.onnx", "ai.onnx.ml")
                else f"{self.domain}:{self.op_type}")


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


def type_name(elem_type: int) -> str:
    """An ONNX tensor element type by name: numpy's where numpy has the type (``float32``,
    ``uint16``), else ONNX's (``bfloat16``, ``float8e4m3fn``, ``string``)."""
    from onnx import TensorProto, helper
    if elem_type == TensorProto.STRING:
        return "string"
    try:
        dt = np.dtype(helper.tensor_dtype_to_np_dtype(elem_type))
        if dt.kind in "biuf" and dt.name != "object" and dt.type.__module__ == "numpy":
            return dt.name
    except (KeyError, TypeError, ValueError):
        pass
    try:
        return TensorProto.DataType.Name(elem_type).lower()
    except ValueError:
        return f"unknown type {elem_type}"


def _value_type(tp) -> tuple[str, tuple | None]:
    """``(type name, dims)`` of a graph input's TypeProto (dims ``None`` for non-tensors)."""
    which = tp.WhichOneof("value")
    if which == "tensor_type":
        tt = tp.tensor_type
        dims = tuple(d.dim_value if d.HasField("dim_value") else None for d in tt.shape.dim)
        return type_name(tt.elem_type), dims
    if which == "sequence_type":
        return f"sequence of {_value_type(tp.sequence_type.elem_type)[0]}", None
    if which == "map_type":
        return f"map of {type_name(tp.map_type.key_type)}", None
    if which == "optional_type":
        return f"optional {_value_type(tp.optional_type.elem_type)[0]}", None
    return str(which or "untyped"), None


def _outer_names(graph_proto, bound: set) -> set:
    """Names a subgraph reads from the scopes around it."""
    bound = bound | {i.name for i in graph_proto.input} | {t.name for t in graph_proto.initializer}
    bound |= {t.values.name for t in graph_proto.sparse_initializer}
    out = set()
    for n in graph_proto.node:
        out |= {i for i in n.input if i and i not in bound}
        for a in n.attribute:
            for g in ([a.g] if a.HasField("g") else []) + list(a.graphs):
                out |= _outer_names(g, bound)
        bound |= set(n.output)
    return out


def _ort():
    import onnxruntime as ort
    return ort


def _session(model_bytes: bytes):
    ort = _ort()
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    opts.log_severity_level = 4  # fatal only: a failure is reported in one line
    # no memory arena, no preallocated memory pattern: a session's tensors are freed after
    # each run. With them every cached session (hwsim run's attribution caches two per
    # node) kept the peak of its largest run, memory growing with the rows: MiniLM with
    # every product on Mitchell-8 peaked at 4.25 GB for 30 sentences, 1.13 GB without
    opts.enable_cpu_mem_arena = False
    opts.enable_mem_pattern = False
    return ort.InferenceSession(model_bytes, opts, providers=["CPUExecutionProvider"])


def _first_line(e: Exception) -> str:
    s = str(e).strip()
    return (s.splitlines()[0] if s else type(e).__name__)[:300]


@dataclass
class _Segment:
    nodes: list            # Node, in execution order
    inputs: list           # tensor names read from env (feeds, initializers, earlier steps)
    outputs: list          # tensor names later steps or the graph's outputs need
    produced: list         # every tensor its nodes produce (keep=True)


class Graph:
    """A loaded ONNX model (see the module docstring)."""

    def __init__(self, model, source: str = "model"):
        from onnx import numpy_helper
        self.model, self.source = model, source
        g = model.graph
        self.opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 13)
        self._init_protos = {t.name: t for t in g.initializer}
        self.initializers = {}
        for t in g.initializer:
            a = np.array(numpy_helper.to_array(t))
            a.setflags(write=False)       # constant: hooks may quantise a weight once
            self.initializers[t.name] = a
        self.inputs = {i.name: _value_type(i.type) for i in g.input
                       if i.name not in self.initializers}
        self.outputs = [o.name for o in g.output]
        # the graph inputs' declared types: a segment reading one declares it the same way
        self._declared = {i.name: i for i in g.input if i.name not in self.initializers}
        self._value_infos = {v.name: v for v in g.value_info}   # the file's own, if any
        self.nodes: list[Node] = []
        seen = set()
        for idx, n in enumerate(g.node):
            name = n.name or f"{n.op_type}_{idx}"
            while name in seen:
                name = f"{name}_{idx}"
            seen.add(name)
            outer = set()
            for a in n.attribute:
                for sub in ([a.g] if a.HasField("g") else []) + list(a.graphs):
                    outer |= _outer_names(sub, set())
            self.nodes.append(Node(name, n.op_type, n.domain, list(n.input), list(n.output),
                                   {a.name: _attr_value(a) for a in n.attribute}, idx,
                                   tuple(dict.fromkeys([*n.input, *sorted(outer)]))))
        self.nodes = self._sorted()
        self.producer = {o: n for n in self.nodes for o in n.outputs if o}
        self._sessions: OrderedDict = OrderedDict()
        self._ort_types: dict = {}
        self._plans: dict = {}

    def _sorted(self) -> list[Node]:
        """The nodes in an order where every input is computed before use (files are
        usually sorted already; a file that is not, or has a cycle, is caught here)."""
        ready = set(self.initializers) | set(self.inputs) | {""}
        todo, order = list(self.nodes), []
        while todo:
            rest = [n for n in todo if not all(i in ready for i in n.needs)]
            done = [n for n in todo if all(i in ready for i in n.needs)]
            if not done:
                missing = sorted({i for n in rest for i in n.needs if i not in ready
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

    # -- ONNX Runtime sessions ---------------------------------------------------------
    def _cached(self, key, build):
        s = self._sessions.get(key)
        if s is None:
            s = build()
            self._sessions[key] = s
            sess = s[0] if isinstance(s, tuple) else s
            # the types onnxruntime gives the tensors: what a later segment declares for an
            # empty sequence or optional it reads
            self._ort_types.update((o.name, o.type) for o in sess.get_outputs())
            while len(self._sessions) > MAX_SESSIONS:
                self._sessions.popitem(last=False)
        else:
            self._sessions.move_to_end(key)
        return s

    def session(self, keep: bool = False):
        """The ONNX Runtime session of the whole model (``keep``: every tensor a node
        produces is an output too); one-line :class:`ModelError` if ONNX Runtime cannot
        run the model."""
        def build():
            from onnx import helper
            m = self.model
            if keep:
                m = type(self.model)()
                m.CopyFrom(self.model)
                have = {o.name for o in m.graph.output}
                m.graph.output.extend(helper.make_empty_tensor_value_info(t)
                                      for n in self.nodes for t in n.outputs
                                      if t and t not in have)
            try:
                return _session(m.SerializeToString())
            except Exception as e:  # onnxruntime's own exception types
                raise ModelError(f"onnxruntime cannot run {self.source}: {_first_line(e)}") from None
        return self._cached(("model", keep), build)

    def tensors(self, feeds: dict, names) -> dict:
        """The float run's tensors ``names`` (graph inputs, initializers or any node's
        outputs) by name: one ONNX Runtime session of the whole model whose outputs are those
        tensors, so that no other intermediate is kept (calibration reads a few operands;
        ``run(keep=True)`` holds every tensor of the model at once)."""
        names = list(dict.fromkeys(names))
        have = {**self.initializers, **feeds}
        want = tuple(t for t in names if t not in have)
        out = {t: have[t] for t in names if t in have}
        if not want:
            return out

        def build():
            from onnx import helper
            m = type(self.model)()
            m.CopyFrom(self.model)
            del m.graph.output[:]
            m.graph.output.extend(helper.make_empty_tensor_value_info(t) for t in want)
            try:
                return _session(m.SerializeToString())
            except Exception as e:  # onnxruntime's own exception types
                raise ModelError(f"onnxruntime cannot run {self.source}: {_first_line(e)}") from None
        sess = self._cached(("tensors", want), build)
        try:
            outs = sess.run(list(want), _ort_feeds(feeds))
        except Exception as e:
            raise ModelError(f"onnxruntime cannot run {self.source}: {_first_line(e)}") from None
        out.update(zip(want, outs))
        return {t: out[t] for t in names}

    def _segment_session(self, seg: _Segment, key, feeds: dict, keep: bool):
        from onnx import helper
        sig = tuple((t, _feed_type(feeds[t])) for t in seg.inputs)

        def build():
            embedded = [t for t in seg.inputs if t in self._init_protos
                        and self.initializers[t].size <= EMBED_MAX_ELEMENTS]
            ins = [self._declared.get(t) or _value_info(t, feeds[t], self._ort_types.get(t))
                   for t in seg.inputs if t not in embedded]
            outs = seg.produced if keep else seg.outputs
            protos = [self.model.graph.node[n.index] for n in seg.nodes]
            g = helper.make_graph(protos, f"segment_{seg.nodes[0].name}", ins,
                                  [helper.make_empty_tensor_value_info(t) for t in outs],
                                  [self._init_protos[t] for t in embedded],
                                  value_info=[self._value_infos[t] for t in seg.produced
                                              if t in self._value_infos])
            m = helper.make_model(g, opset_imports=list(self.model.opset_import),
                                  ir_version=self.model.ir_version,
                                  functions=list(self.model.functions))
            try:
                return _session(m.SerializeToString()), [t for t in seg.inputs
                                                         if t not in embedded]
            except Exception as e:
                raise ModelError(f"onnxruntime cannot run {self.source} around node "
                                 f"{seg.nodes[0].name} ({seg.nodes[0].op_type}): "
                                 f"{_first_line(e)}") from None
        return self._cached(("segment", key, keep, sig), build)

    # -- running -----------------------------------------------------------------------
    def _plan(self, cut: frozenset, extra: frozenset = frozenset()):
        """Steps ``[("segment", _Segment) | ("node", Node)]`` with the nodes in ``cut`` run
        alone (see the module docstring); ``extra``: ``(node name, tensor)`` pairs an
        override reads besides its inputs."""
        plan = self._plans.get((cut, extra))
        if plan is not None:
            return plan
        level = {}
        for n in self.nodes:
            lv = 0
            for t in n.needs:
                p = self.producer.get(t)
                if p is not None:
                    lv = max(lv, level[p.name] + (p.name in cut))
            level[n.name] = lv
        steps = []
        for k in range(max(level.values(), default=0) + 1):
            seg = [n for n in self.nodes if level[n.name] == k and n.name not in cut]
            if seg:
                steps.append(("segment", seg))
            steps += [("node", n) for n in self.nodes if level[n.name] == k and n.name in cut]
        # what each segment reads and must hand on
        later_needs: set = set(self.outputs)
        plan = []
        for kind, item in reversed(steps):
            if kind == "node":
                later_needs |= set(item.needs) | {t for k, t in extra if k == item.name}
                plan.append((kind, item))
                continue
            produced = [t for n in item for t in n.outputs if t]
            mine = set(produced)
            reads = list(dict.fromkeys(t for n in item for t in n.needs if t and t not in mine))
            plan.append((kind, _Segment(item, reads, [t for t in produced if t in later_needs],
                                        produced)))
            later_needs |= set(reads)
        plan.reverse()
        self._plans[(cut, extra)] = plan
        return plan

    def run(self, feeds: dict, impl: dict | None = None, keep: bool = False,
            cut=()) -> dict:
        """Outputs by name (every tensor with ``keep=True``). ``impl`` runs those nodes on
        units; ``cut`` names more nodes that run as one-node ONNX Runtime sessions (the
        node suite's check of the partitioned path); the rest runs in ONNX Runtime
        sessions between them."""
        impl = impl or {}
        cut = frozenset(impl) | frozenset(cut)
        if not cut:
            sess = self.session(keep)
            names = [o.name for o in sess.get_outputs()]
            try:
                outs = sess.run(names, _ort_feeds(feeds))
            except Exception as e:
                raise ModelError(f"onnxruntime cannot run {self.source}: {_first_line(e)}") from None
            env = dict(zip(names, outs))
            if keep:
                return {**self.initializers, **feeds, **env}
            return {k: env[k] for k in self.outputs}
        env = dict(self.initializers)
        env.update(feeds)
        env[""] = None
        extra = frozenset((k, t) for k, f in impl.items() for t in getattr(f, "reads", ()))
        plan = self._plan(cut, extra)
        last_use = {}
        if not keep:
            for i, (kind, item) in enumerate(plan):
                reads = (item.inputs if kind == "segment"
                         else [*item.needs, *getattr(impl.get(item.name), "reads", ())])
                for t in reads:
                    last_use[t] = i
        for i, (kind, item) in enumerate(plan):
            if kind == "segment":
                reads = item.inputs
                ins = {t: env[t] for t in item.inputs}
                sess, fed = self._segment_session(item, (cut, extra, i), ins, keep)
                names = item.produced if keep else item.outputs
                try:
                    outs = sess.run(names, _ort_feeds({t: ins[t] for t in fed}))
                except Exception as e:
                    raise ModelError(f"onnxruntime cannot run {self.source} around node "
                                     f"{item.nodes[0].name} ({item.nodes[0].op_type}): "
                                     f"{_first_line(e)}") from None
                env.update(zip(names, outs))
            elif item.name in impl:
                f = impl[item.name]
                reads = [*item.needs, *getattr(f, "reads", ())]
                try:
                    outs = f([env[t] for t in item.inputs], item.attrs, env)
                except ModelError:
                    raise
                except (ValueError, TypeError, IndexError, KeyError) as e:
                    raise ModelError(f"{self.source}: node {item.name} ({item.op_type}) "
                                     f"failed: {_first_line(e)}") from None
                env.update((k, v) for k, v in zip(item.outputs, outs) if k)
            else:   # a node cut alone: its own segment
                seg = self._plan_single(item)
                reads = seg.inputs
                ins = {t: env[t] for t in seg.inputs}
                sess, fed = self._segment_session(seg, ("node", item.name), ins, keep)
                names = seg.produced
                try:
                    outs = sess.run(names, _ort_feeds({t: ins[t] for t in fed}))
                except Exception as e:
                    raise ModelError(f"onnxruntime cannot run {self.source} node {item.name} "
                                     f"({item.op_type}): {_first_line(e)}") from None
                env.update(zip(names, outs))
            if not keep:
                for t in reads:
                    if last_use.get(t) == i and t not in self.outputs and t not in self.initializers:
                        env.pop(t, None)
        return env if keep else {k: env[k] for k in self.outputs}

    def _plan_single(self, n: Node) -> _Segment:
        produced = [t for t in n.outputs if t]
        return _Segment([n], [t for t in n.needs if t], produced, produced)

    # -- feeds ---------------------------------------------------------------------------
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
                             f"{', '.join(f'{k} {v[0]}{list(v[1] or ())}' for k, v in self.inputs.items())})")
        out = {}
        for k, (dtype, dims) in self.inputs.items():
            a = np.asarray(feeds[k])
            if dims is None:
                raise ModelError(f"{what}: input {k} is a {dtype}; hwsim run feeds tensors "
                                 f"(arrays) only")
            if dtype == "string":
                if a.dtype.kind not in "US":
                    raise ModelError(f"{what}: input {k} must be an array of strings, not "
                                     f"dtype {a.dtype}")
                a = a.astype(str).astype(object)
            else:
                try:
                    want = np.dtype(dtype)
                    if want.type.__module__ != "numpy":   # ml_dtypes' bfloat16, float8 & co.
                        raise TypeError(dtype)
                except TypeError:
                    raise ModelError(f"{what}: input {k} is {dtype}, which an .npz file cannot "
                                     f"hold; hwsim runs inputs numpy has a type for") from None
                from hwsim.graph.finite import cast_feed   # safe casts only (docs/onnx.md)
                a = cast_feed(a, dtype, want, k, what)
            if dims and len(dims) != a.ndim:
                raise ModelError(f"{what}: input {k} must have {len(dims)} axes "
                                 f"{list(dims)}, not shape {list(a.shape)}")
            for axis, (want_n, have) in enumerate(zip(dims, a.shape)):
                if want_n not in (None, 0) and want_n != have:
                    raise ModelError(f"{what}: input {k} must have {want_n} on axis {axis} "
                                     f"{list(dims)}, not shape {list(a.shape)}")
            out[k] = a
        return out


def _feed_type(v):
    if isinstance(v, (np.ndarray, np.generic)):
        return ("tensor", v.dtype.str, np.shape(v))
    if isinstance(v, list):
        return ("sequence", len(v), tuple(_feed_type(x) for x in v[:1]))
    return (type(v).__name__,)


def _elem_of(ort_type: str | None) -> int:
    """TensorProto element type of onnxruntime's ``tensor(float)`` / ``seq(tensor(int64))``."""
    from onnx import TensorProto
    if not ort_type:
        return 0
    inner = ort_type.rsplit("(", 1)[-1].rstrip(")")
    try:
        return TensorProto.DataType.Value(inner.upper())
    except ValueError:
        return 0


def _value_info(name: str, v, ort_type: str | None = None):
    """A segment input's declaration: its type and its actual shape (shape inference in
    subgraphs such as Scan's needs shapes, and a dim with neither value nor name reads as 0
    in some of it); ``ort_type``: the type onnxruntime reported for the tensor, for what
    the value cannot tell (an empty sequence, an empty optional)."""
    from onnx import helper
    if isinstance(v, list):
        elem = (_value_info(name, v[0]).type.tensor_type.elem_type if v
                else _elem_of(ort_type))
        return helper.make_tensor_sequence_value_info(name, elem, None)
    if v is None:
        if ort_type and ort_type.startswith("optional("):
            inner = ort_type[len("optional("):-1]
            elem = _elem_of(inner)
            t = (helper.make_sequence_type_proto(helper.make_tensor_type_proto(elem, None))
                 if inner.startswith("seq(") else helper.make_tensor_type_proto(elem, None))
            return helper.make_value_info(name, helper.make_optional_type_proto(t))
        return helper.make_empty_tensor_value_info(name)
    a = np.asarray(v)
    elem = 8 if a.dtype.kind in "OUS" else helper.np_dtype_to_tensor_dtype(a.dtype)
    return helper.make_tensor_value_info(name, elem, list(a.shape))


def _ort_feeds(feeds: dict) -> dict:
    # np.asarray keeps a 0-d array 0-d (np.ascontiguousarray would make it 1-d)
    return {k: (np.asarray(v, order="C") if isinstance(v, (np.ndarray, np.generic)) else v)
            for k, v in feeds.items()}


def load(path, what: str = "MODEL") -> Graph:
    """Read and check an ONNX file, and build its ONNX Runtime session, so that a model
    hwsim cannot run is refused before any work; one-line :class:`ModelError`."""
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
                         f"({type(e).__name__}: {_first_line(e) if str(e) else 'decode error'})") from None
    if not model.graph.node:
        raise ModelError(f"{what}: {path} is not an ONNX model with a graph (no nodes)")
    try:
        onnx.checker.check_model(model)
    except Exception as e:  # onnx.checker.ValidationError and friends
        raise ModelError(f"{what}: {path} is not a valid ONNX model "
                         f"({str(e).strip().splitlines()[0]})") from None
    try:
        graph = Graph(model, source=str(path))
    except ModelError:
        raise
    except ValueError as e:  # external weights of the wrong size
        raise ModelError(f"{what}: {path} has unreadable weights ({_first_line(e)})") from None
    for name, a in graph.initializers.items():  # NaN weights make every metric NaN
        if a.dtype.kind == "f" and not np.isfinite(a).all():
            raise ModelError(f"{what}: {path} must hold finite weights, not "
                             f"{int((~np.isfinite(a)).sum())} NaN / inf in {name}")
    graph.session()
    return graph
