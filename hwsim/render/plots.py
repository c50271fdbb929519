"""Matplotlib figures for reports (Agg back end: no display needed)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def _save(fig, path) -> Path:
    """Write ``fig`` as a PNG to ``path`` whole or not at all (:func:`hwsim.paths.atomic_writer`),
    and close it."""
    from hwsim.paths import atomic_writer
    try:
        with atomic_writer(path, binary=True) as f:
            fig.savefig(f, dpi=110, format="png")
    finally:
        plt.close(fig)
    return Path(path)


def sweep_lines(path: Path, param: str, metric: str, series: dict, numeric: bool,
                logy: bool = False):
    """``metric`` against ``param``: ``{label: {param value: mean metric}}``, one line each."""
    fig, ax = plt.subplots(figsize=(6.8, 4.2))
    if logy:
        ax.set_yscale("log")
    for label, pts in list(series.items())[:12]:
        xs = sorted(pts, key=lambda v: (v is None, v if numeric else str(v)))
        pos = xs if numeric else list(range(len(xs)))
        ax.plot(pos, [pts[x] for x in xs], "o-", label=label)
        if not numeric:
            ax.set_xticks(pos, [str(x) for x in xs])
    ax.set_xlabel(param)
    ax.set_ylabel(metric)
    ax.set_title(f"{metric} vs {param} (mean over seeds)")
    if len(series) > 1:
        ax.legend(fontsize=7)
    fig.tight_layout()
    _save(fig, path)


def sweep_pareto(path: Path, cost: str, metric: str, points):
    """``metric`` against ``cost`` for every row ``(cost, metric, label)``, with the front of
    rows no other row beats on both (lower is better for both)."""
    fig, ax = plt.subplots(figsize=(6.8, 4.2))
    ax.scatter([p[0] for p in points], [p[1] for p in points], s=14)
    front, best = [], float("inf")
    for c, m, _ in sorted(points):
        if m < best:
            front.append((c, m))
            best = m
    ax.step([p[0] for p in front], [p[1] for p in front], where="post", color="black", lw=0.8,
            ls="--", label="Pareto front")
    ax.set_xlabel(cost)
    ax.set_ylabel(metric)
    ax.set_title(f"{metric} vs {cost}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    _save(fig, path)


def attribution_bars(path: Path, attribution: dict):
    """Per-node attribution of ``hwsim run``: the metric with each assigned node alone on its
    unit (``attribution["nodes"]``: node, op, unit, metric), the float value as a line."""
    nodes = attribution["nodes"]
    fig, ax = plt.subplots(figsize=(7.2, max(2.4, 0.32 * len(nodes) + 1.2)))
    y = np.arange(len(nodes))
    ax.barh(y, [n["metric"] for n in nodes], color="tab:blue")
    ax.axvline(attribution["float"], color="black", lw=1, ls="--", label="float")
    ax.set_yticks(y, [f"{n['node']} ({n['op']}, {n['unit']})" for n in nodes], fontsize=8)
    ax.invert_yaxis()
    lo = min([n["metric"] for n in nodes] + [attribution["float"]])
    hi = max([n["metric"] for n in nodes] + [attribution["float"]])
    pad = max(1e-4, 0.1 * (hi - lo))
    ax.set_xlim(lo - pad, hi + pad)
    ax.set_xlabel(attribution["metric"])
    ax.set_title("each node alone on its unit, the rest float")
    ax.legend(loc="lower right")
    fig.tight_layout()
    _save(fig, path)


def _explore_cost_label(result: dict, fpga: str = "iCE40 ") -> str:
    """The cost axis of the explore plots: the result's own ``cost_label`` (a standard-cell
    target), else (``fpga``) LUT4 x instances or x ops per row."""
    return result.get("cost_label") or (f"{fpga}LUT4" + (
        " x instances" if result["objective"] == "area" else " x ops per row"))


def explore_front(path: Path, result: dict) -> Path:
    """``hwsim explore``: the metric of every design evaluated against its cost, the Pareto
    front, the uniform assignments labelled, the floor and the best design marked."""
    fig, ax = plt.subplots(figsize=(7.2, 4.8))
    d = result["designs"]
    ax.scatter([e["cost"] for e in d], [e["metric"] for e in d], s=12, c="#9ab",
               label="designs evaluated")
    fr = result["front"]
    ax.step([e["cost"] for e in fr], [e["metric"] for e in fr], where="post", color="black",
            lw=0.9, ls="--", label="Pareto front")
    best_u = -float("inf")  # label the uniform assignments on their own front only
    for u in sorted(result["uniform"], key=lambda u: (u["cost"], -u["metric"])):
        ax.scatter([u["cost"]], [u["metric"]], marker="s", s=28, c="tab:orange")
        if u["metric"] > best_u:
            best_u = u["metric"]
            ax.annotate(u["label"], (u["cost"], u["metric"]), textcoords="offset points",
                        xytext=(4, -9), fontsize=7, color="tab:orange")
    ax.axhline(result["floor"], color="tab:red", lw=0.8, label="floor")
    if result["best"] is not None:
        b = result["best"]
        ax.scatter([b["cost"]], [b["metric"]], marker="*", s=160, c="tab:green", zorder=5,
                   label="best under the floor")
    ax.set_xscale("log")
    ax.set_xlabel(f"cost: {result['objective']} ({_explore_cost_label(result)})")
    ax.set_ylabel(result["metric_key"] + (" (fraction of rows)"
                                          if result["metric_key"] == "accuracy" else ""))
    ax.set_title("hwsim explore: accuracy against cost (squares: uniform assignments)")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    _save(fig, path)
    return path


def explore_search(path: Path, result: dict) -> Path:
    """Best feasible cost after each evaluation, per search method and seed."""
    fig, ax = plt.subplots(figsize=(7.2, 4.2))
    colours = {"sampling": "tab:blue", "random": "tab:grey", "greedy": "tab:green"}
    for m, runs in result["searches"].items():
        for j, r in enumerate(runs):
            ys = r["best_so_far"]
            xs = [i + 1 for i, y in enumerate(ys) if y is not None]
            ax.step(xs, [y for y in ys if y is not None], where="post",
                    color=colours.get(m), alpha=0.8, label=m if j == 0 else None)
    ax.set_yscale("log")
    ax.set_xlabel("designs evaluated")
    ax.set_ylabel(f"best feasible {result['objective']} ({_explore_cost_label(result, '')})")
    ax.set_title("search progress at equal budget (one line per seed)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    _save(fig, path)
    return path


def multiplier_front(path: Path, points: list[dict], cost: str = "lut4",
                     cost_label: str = "iCE40 LUT4", error: str = "mred",
                     error_label: str = "MRED [%]") -> Path:
    """``hwsim front``: MRED against LUT4, one panel per width, one line per family of the
    registry (each unit's ``front`` trait: its label, marker and knob labels), the exact
    family's LUT4 marked and each width's Pareto front dashed. ``cost`` / ``error``: the
    point keys plotted instead (e.g. ``energy_fj_per_op`` against ``mred_data``), with
    their axis labels."""
    from hwsim.units import front_knob, front_units
    specs = front_units()
    widths = sorted({p["params"]["width"] for p in points})
    fig, axes = plt.subplots(1, len(widths), figsize=(4.2 * len(widths), 4.2), squeeze=False)
    for ax, w in zip(axes[0], widths):
        here = [p for p in points if p["params"]["width"] == w]
        for spec in specs:
            if spec.front.exact:
                for p in here:
                    if p["unit"] == spec.name:
                        ax.axvline(p[cost], color="grey", lw=0.8, ls=":",
                                   label=f"{spec.front.family} ({p[cost]:.4g})"
                                   if isinstance(p[cost], float)
                                   else f"{spec.front.family} ({p[cost]})")
                continue
            fam = sorted(((p[cost], 100 * p[error], front_knob(p))
                          for p in here if p["unit"] == spec.name), key=lambda f: f[:2])
            if not fam:
                continue
            ax.plot([f[0] for f in fam], [f[1] for f in fam], f"{spec.front.marker}-", ms=4,
                    label=spec.front.family)
            for lut, mred, k in fam:
                ax.annotate("full" if k is None else f"{k}", (lut, mred), textcoords="offset points",
                            xytext=(3, 3), fontsize=6)
        approx = sorted((p[cost], 100 * p[error]) for p in here if p[error] > 0)
        front, best = [], float("inf")
        for lut, mred in approx:
            if mred < best:
                front.append((lut, mred))
                best = mred
        ax.step([f[0] for f in front], [f[1] for f in front], where="post", color="black",
                lw=0.8, ls="--", label="front")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(f"{w}-bit unsigned")
        ax.set_xlabel(cost_label)
        knobs = " / ".join(s.front.knob_name for s in specs if s.front.knob_name)
        ax.set_ylabel(f"{error_label} (labels: {knobs})")
        ax.legend(fontsize=7)
    fig.tight_layout()
    _save(fig, path)
    return path
