"""Operand capture: the integer codes each product node's unit sees in a model run.

``hwsim run MODEL --capture DIR`` runs the assigned model once with an
:class:`OperandCapture` active; every product a unit computes (``FixedMatmul.products``,
``FloatMatmul.products``: the codes after quantisation, what the hardware's ports see) is
recorded under the node being run, and ``DIR/<node>.npz`` gets arrays ``a`` and ``b``: one
entry per scalar product (the format ``hwsim synth --stream FILE.npz`` reads).

A node computes ``G n m k`` scalar products (``qa`` ``(G, n, k)`` against ``qb`` ``(G, k,
m)``). At most ``cap`` of them are kept: a seeded uniform subsample without replacement of
the flat index ``(g, i, j, kk)``, kept in that order (so consecutive entries are, for a large
node, independent draws from the node's operand distribution, like the generated streams,
not the order of a particular dataflow). A unit that runs sign-magnitude (``Product.
sign_magnitude``) sees the magnitudes: those are recorded. Each file also carries ``unit``,
``params`` (JSON), ``operations`` (the node's total product count) and ``seed``.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import json
import re

import numpy as np

#: scalar products kept per node unless told
DEFAULT_CAP = 200_000

_ACTIVE: contextvars.ContextVar = contextvars.ContextVar("hwsim_capture", default=None)


def record(params, qa: np.ndarray, qb: np.ndarray) -> None:
    """Called by the product engines with the codes of one node's products (no-op unless a
    capture is active)."""
    cap = _ACTIVE.get()
    if cap is not None:
        cap._record(params, qa, qb)


class OperandCapture:
    """Collects, per node, a seeded subsample of the operand code pairs its unit sees."""

    def __init__(self, cap: int = DEFAULT_CAP, seed: int = 0):
        from hwsim._check import check_int
        check_int("OperandCapture", "cap", cap, 2)
        check_int("OperandCapture", "seed", seed, 0)
        self.cap, self.seed = cap, seed
        self.nodes: dict[str, dict] = {}
        self._node: str | None = None

    @contextlib.contextmanager
    def under(self, node: str):
        """Products computed inside the ``with`` block are recorded under ``node`` (several
        calls pool: :meth:`arrays` weighs each by its product count)."""
        token = _ACTIVE.set(self)
        outer, self._node = self._node, node
        try:
            yield self
        finally:
            self._node = outer
            _ACTIVE.reset(token)

    def wrap(self, impl: dict) -> dict:
        """``impl`` (node name -> implementation, as :meth:`hwsim.graph.model.Graph.run`
        takes it) with each call recorded under its node."""
        def one(name, f):
            @functools.wraps(f)
            def g(*args, **kwargs):
                with self.under(name):
                    return f(*args, **kwargs)
            return g
        return {k: one(k, f) for k, f in impl.items()}

    def _record(self, params, qa, qb) -> None:
        from hwsim.units import spec_of
        if self._node is None:
            return
        spec = spec_of(params)
        qa, qb = np.asarray(qa), np.asarray(qb)
        lead = np.broadcast_shapes(qa.shape[:-2], qb.shape[:-2])
        qa = np.broadcast_to(qa, lead + qa.shape[-2:]).reshape((-1,) + qa.shape[-2:])
        qb = np.broadcast_to(qb, lead + qb.shape[-2:]).reshape((-1,) + qb.shape[-2:])
        (g, n, k), m = qa.shape, qb.shape[-1]
        total = g * n * m * k
        # one seed per node and call: the same run captures the same pairs
        entry = self.nodes.setdefault(self._node, {"parts": [], "operations": 0})
        rng = np.random.default_rng([self.seed, len(self.nodes), len(entry["parts"])])
        idx = (np.arange(total, dtype=np.int64) if total <= self.cap
               else np.sort(rng.choice(total, self.cap, replace=False)))
        gi, rest = np.divmod(idx, n * m * k)
        i, rest = np.divmod(rest, m * k)
        j, kk = np.divmod(rest, k)
        a = qa[gi, i, kk].astype(np.int64)
        b = qb[gi, kk, j].astype(np.int64)
        graph = getattr(spec, "graph", None)
        if getattr(graph, "sign_magnitude", False):
            a, b = np.abs(a), np.abs(b)
        entry["parts"].append((a, b, total))
        entry["operations"] += int(total)
        entry["unit"], entry["params"] = spec.name, params.to_dict()

    def arrays(self, node: str) -> dict:
        """The node's arrays as written: ``a``, ``b`` (at most ``cap``), ``unit``, ``params``
        (JSON), ``operations``, ``seed``."""
        e = self.nodes[node]
        a = np.concatenate([p[0] for p in e["parts"]])
        b = np.concatenate([p[1] for p in e["parts"]])
        if a.size > self.cap:   # several calls: thin the concatenation, each call's pairs
            # weighed by the products each stands for (a call's share is its product count)
            w = np.concatenate([np.full(p[0].size, p[2] / p[0].size) for p in e["parts"]])
            rng = np.random.default_rng([self.seed, 1 << 20])
            keep = np.sort(rng.choice(a.size, self.cap, replace=False, p=w / w.sum()))
            a, b = a[keep], b[keep]
        return {"a": a, "b": b, "unit": np.array(e["unit"]),
                "params": np.array(json.dumps(e["params"], sort_keys=True)),
                "operations": np.array(e["operations"], dtype=np.int64),
                "seed": np.array(self.seed, dtype=np.int64)}


def node_file(node: str) -> str:
    """The file name of a node's capture: its name with characters outside ``[A-Za-z0-9._-]``
    replaced by ``_``, then ``.npz``."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", node).lstrip(".") + ".npz"


def file_names(nodes) -> dict[str, str]:
    """``{node: file name}`` for the nodes, distinct (a clash after sanitising gets ``-2``,
    ``-3``, ... before ``.npz``)."""
    out, used = {}, set()
    for n in nodes:
        f = node_file(n)
        base, i = f[:-4], 2
        while f in used:
            f, i = f"{base}-{i}.npz", i + 1
        used.add(f)
        out[n] = f
    return out
