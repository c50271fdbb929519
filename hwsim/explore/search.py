"""Searches over per-group unit choices at a fixed evaluation budget.

A design is a tuple with one choice index per group. A :class:`Problem` evaluates designs
(a batch at a time, so they run in parallel) and ranks choices by cost; each search gets
the same ``budget`` of **distinct** designs it may evaluate (a design it has seen is free)
and a seeded ``numpy.random.Generator``, so the same seed gives the same designs.

The loss every search minimises: a feasible design (its metric meets the floor) costs
``cost / cost_max`` in (0, 1]; an infeasible one ``1 + violation / span`` (``span``: the
distance from the floor to the float model's value), so every infeasible design ranks
below every feasible one and nearer misses below wider ones.

* :func:`sampling` — the sampling view of optimisation: from the current design θ, propose
  ``batch`` changes Δ (one group, sometimes two, moved to a uniformly drawn cheaper choice,
  a dearer one, or a neighbour in cost order), weight each candidate and θ itself by
  ``exp(-(l(θ+Δ) - l(θ)) / α)``, move to a candidate drawn with those weights; α starts at
  ``temperature`` and is multiplied by ``cooling`` each step. Starts from the problem's
  ``start`` design (hwsim explore: the cheapest uniform assignment that meets the floor),
  else from the dearest design (every group on its most costly choice).
* :func:`random_search` — distinct designs drawn uniformly.
* :func:`greedy` — "cheapen the least sensitive group first": from the same start,
  measure each group alone on its cheapest choice (its attribution), then walk the groups
  from the least to the most damaged, trying each cheaper choice of the group in cost order
  and keeping every one that leaves the design feasible; passes repeat while something
  moved and budget is left.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

__all__ = ["Outcome", "Problem", "Trace", "sampling", "random_search", "greedy", "SEARCHES"]


@dataclass(frozen=True)
class Outcome:
    metric: float
    cost: float
    feasible: bool
    loss: float


class Problem(Protocol):
    #: number of choices of each group
    sizes: tuple
    #: per group, its choice indices from the most to the least costly
    order: tuple

    def evaluate(self, designs: list[tuple]) -> list[Outcome]: ...


@dataclass
class Trace:
    """The designs one search evaluated, in order, with their outcomes."""

    method: str
    seed: int
    designs: list = field(default_factory=list)
    outcomes: list = field(default_factory=list)

    def add(self, designs, outcomes) -> None:
        self.designs += designs
        self.outcomes += outcomes

    def best(self) -> int | None:
        """Index of the cheapest feasible design (the higher metric on a tie), or None."""
        ok = [i for i, o in enumerate(self.outcomes) if o.feasible]
        return min(ok, key=lambda i: (self.outcomes[i].cost, -self.outcomes[i].metric)) if ok else None

    def best_so_far(self) -> list:
        """The best feasible cost after each evaluation (None before the first feasible)."""
        out, best = [], None
        for o in self.outcomes:
            if o.feasible and (best is None or o.cost < best):
                best = o.cost
            out.append(best)
        return out


class _Budget:
    """The distinct designs a search has evaluated, and how many more it may."""

    def __init__(self, problem: Problem, budget: int, trace: Trace):
        self.problem, self.left, self.trace, self.seen = problem, budget, trace, {}

    def run(self, designs) -> list:
        """Outcomes of ``designs`` (new ones spend the budget; cut to what is left)."""
        new = [d for d in dict.fromkeys(designs) if d not in self.seen][:max(self.left, 0)]
        if new:
            outs = self.problem.evaluate(new)
            self.seen.update(zip(new, outs))
            self.trace.add(new, outs)
            self.left -= len(new)
        return [self.seen.get(d) for d in designs]


def _space(problem: Problem) -> int:
    return math.prod(problem.sizes)


def _top(problem: Problem) -> tuple:
    return tuple(o[0] for o in problem.order)


def _start(problem: Problem) -> tuple:
    """The problem's ``start`` design if it has one (hwsim explore: the cheapest uniform
    assignment meeting the floor), else the dearest design."""
    return getattr(problem, "start", None) or _top(problem)


def sampling(problem: Problem, budget: int, seed: int, *, batch: int = 4,
             temperature: float = 0.05, cooling: float = 0.95) -> Trace:
    rng = np.random.default_rng(seed)
    trace = Trace("sampling", seed)
    b = _Budget(problem, budget, trace)
    rank = [{c: r for r, c in enumerate(o)} for o in problem.order]
    theta = _start(problem)
    (cur,) = b.run([theta])
    alpha, idle, n = temperature, 0, len(problem.sizes)
    while b.left > 0 and idle < 50 and len(b.seen) < _space(problem):
        cands = []
        for _ in range(batch):
            for _try in range(20):
                d = list(theta)
                for g in rng.choice(n, size=min(n, 1 + int(rng.random() < 0.3)), replace=False):
                    size, r0 = problem.sizes[g], rank[g][theta[g]]
                    u = rng.random()
                    if u < 0.5 and r0 + 1 < size:  # any cheaper choice
                        r = int(rng.integers(r0 + 1, size))
                    elif u < 0.7 and r0 > 0:  # any dearer choice
                        r = int(rng.integers(0, r0))
                    else:  # a neighbour in cost order
                        r = r0 + (1 if rng.random() < 0.5 else -1)
                    d[g] = problem.order[g][min(max(r, 0), size - 1)]
                d = tuple(d)
                if d != theta and d not in cands and d not in b.seen:
                    break
            if d != theta and d not in cands:
                cands.append(d)
        before = len(b.seen)
        outs = b.run(cands)
        idle = idle + 1 if len(b.seen) == before else 0
        pairs = [(d, o) for d, o in zip(cands, outs) if o is not None] + [(theta, cur)]
        losses = np.array([o.loss for _, o in pairs])
        w = np.exp(-(losses - losses.min()) / alpha)
        theta, cur = pairs[int(rng.choice(len(pairs), p=w / w.sum()))]
        alpha = max(alpha * cooling, 1e-300)  # never 0: the weights would be 0 / 0
    return trace


def random_search(problem: Problem, budget: int, seed: int, **_) -> Trace:
    rng = np.random.default_rng(seed)
    trace = Trace("random", seed)
    b = _Budget(problem, budget, trace)
    space = _space(problem)
    picked: list = []
    if budget >= space:
        import itertools
        picked = list(itertools.product(*[range(s) for s in problem.sizes]))
        rng.shuffle(picked)
        picked = [tuple(int(x) for x in d) for d in picked]
    else:
        seen = set()
        while len(picked) < budget:
            d = tuple(int(rng.integers(s)) for s in problem.sizes)
            if d not in seen:
                seen.add(d)
                picked.append(d)
    b.run(picked)
    return trace


def greedy(problem: Problem, budget: int, seed: int, **_) -> Trace:
    trace = Trace("greedy", seed)
    b = _Budget(problem, budget, trace)
    theta = _start(problem)
    b.run([theta])
    n = len(problem.sizes)
    alone = []
    for g in range(n):
        d = list(theta)
        d[g] = problem.order[g][-1]
        alone.append(tuple(d))
    outs = b.run(alone)
    # least sensitive first: the highest metric with only that group on its cheapest unit
    order = sorted(range(n), key=lambda g: (-(outs[g].metric if outs[g] else -math.inf), g))
    rank = [{c: r for r, c in enumerate(o)} for o in problem.order]
    moved = True
    while moved and b.left > 0:
        moved = False
        for g in order:
            # every cheaper choice of this group in cost order, past infeasible ones; keep
            # the last feasible (the cheapest found)
            for r in range(rank[g][theta[g]] + 1, problem.sizes[g]):
                if b.left <= 0:
                    break
                d = list(theta)
                d[g] = problem.order[g][r]
                (o,) = b.run([tuple(d)])
                if o is not None and o.feasible:
                    theta, moved = tuple(d), True
    return trace


SEARCHES = {"sampling": sampling, "random": random_search, "greedy": greedy}
