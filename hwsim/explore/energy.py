"""The operands explore's energy objective is measured on: each node's captured code pairs.

``cost.objective = "energy"`` prices a group's choice as Σ over the group's nodes of
(operations per row at the node) x (energy per operation of the choice's unit on the
operand codes that node feeds it). The codes a unit sees depend on the unit itself (its
width and quantisation decide them), so they are captured with the choice in place:
:class:`OperandStreams` runs the workload once per distinct choice, with that choice on
the nodes of every group that lists it (the other nodes in float) and an
:class:`hwsim.eval.capture.OperandCapture` active (``hwsim run --capture``'s machinery:
a seeded subsample of ``operations`` pairs per node, kept in order). For a uniform design
these are exactly the operands its own run feeds each node; in a mixed design a node's
operands come from a run in which the layers before it used the same choice (the upstream
layers' approximation moves the codes a little; the unit's own quantisation, which decides
them, is the design's). A choice's capture depends on nothing but the workload files, the
configuration's groups and calibration, ``operations`` and ``seed``: every price made from
it is a function of its key alone, as the lazy pricing needs.

Captures are cached in hwsim's user cache (``streams/explore-*.npz``), keyed by the SHA-256
of the model and data files, the assignment, ``operations``, ``seed`` and :data:`VERSION`
(unless the synthesis cache is off: ``--db none`` caches nothing).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

#: part of the capture cache key: bump when what a capture holds changes
VERSION = 1


def _file_sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class OperandStreams:
    """``streams(choice)`` -> ``{node: (a, b)}``: the captured operand codes of every node
    of every group listing ``choice``, captured once per choice (and cached).

    ``cfg``: the :class:`~hwsim.explore.config.ExploreConfig`; ``model``, ``data``: the
    resolved workload files; ``nodes``: per group, its node names; ``cache``: keep captures
    in the user cache."""

    def __init__(self, cfg, model: str, data: str, nodes: list, cache: bool = True):
        self.cfg, self.model, self.data, self.nodes, self.cache = cfg, model, data, nodes, cache
        self.runs = 0          # model runs made (cache misses)
        self._done: dict = {}
        self._files = None

    def assignment(self, choice) -> dict:
        """The capture run's assignment: ``choice`` on every group that lists it."""
        rules = [{**g.selector(), **choice.rule()} for g in self.cfg.groups
                 if choice in g.choices]
        doc = {"assign": rules}
        if self.cfg.calibration:
            doc["calibration"] = dict(self.cfg.calibration)
        return doc

    def wanted(self, choice) -> list[str]:
        return [n for g, ns in zip(self.cfg.groups, self.nodes) if choice in g.choices
                for n in ns]

    def _path(self, doc: dict) -> Path:
        from hwsim.paths import cache_dir
        if self._files is None:
            self._files = {"model": _file_sha256(self.model), "data": _file_sha256(self.data)}
        key = json.dumps({"files": self._files, "assignment": doc,
                          "operations": self.cfg.operations, "seed": self.cfg.seed,
                          "version": VERSION}, sort_keys=True)
        return cache_dir() / "streams" / f"explore-{hashlib.sha256(key.encode()).hexdigest()[:24]}.npz"

    def __call__(self, choice) -> dict:
        if choice not in self._done:
            self._done[choice] = self._capture(choice)
        return self._done[choice]

    def _capture(self, choice) -> dict:
        from hwsim.explore.config import ExploreError
        doc = self.assignment(choice)
        wanted = self.wanted(choice)
        path = self._path(doc) if self.cache else None
        got = None
        if path is not None and path.is_file():
            try:
                with np.load(path, allow_pickle=False) as z:
                    got = {n: (z[f"a/{n}"], z[f"b/{n}"]) for n in wanted}
            except (OSError, ValueError, KeyError):
                got = None      # a damaged entry is captured again
        if got is None:
            got = self._run(doc, wanted, choice)
            if path is not None:
                from hwsim.paths import atomic_writer
                try:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    with atomic_writer(path, binary=True) as f:
                        np.savez(f, **{f"{k}/{n}": v for n, ab in got.items()
                                       for k, v in zip("ab", ab)})
                except OSError:
                    pass        # no cache: captured again next time
        missing = [n for n in wanted if n not in got]
        if missing:
            raise ExploreError(f"{self.cfg.source}: node {missing[0]} computed no products on "
                               f"{choice.label}: nothing to measure its energy on")
        return got

    def _run(self, doc: dict, wanted: list, choice) -> dict:
        from hwsim.eval.capture import OperandCapture
        from hwsim.graph.assign import parse_assignment
        from hwsim.graph.evaluate import run_model
        cap = OperandCapture(self.cfg.operations, self.cfg.seed)
        with np.errstate(all="ignore"):   # the evaluation runs report these; a capture not
            run_model(self.model, self.data, parse_assignment(doc, "explore capture"),
                      attribution=False, capture=cap)
        self.runs += 1
        out = {}
        for n in wanted:
            if n in cap.nodes:
                z = cap.arrays(n)
                out[n] = (np.asarray(z["a"], dtype=np.int64), np.asarray(z["b"], dtype=np.int64))
        return out
