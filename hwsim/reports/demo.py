"""``hwsim demo``: the question hwsim answers, on built-in defaults.

*If I build this cheap arithmetic unit, what happens to my model's accuracy, and what does
the unit cost?* ``DIR/report.md`` opens with what was found, then four short sections:

1. an ONNX model (the built-in digits MLP) run with its products on hwsim units against
   onnxruntime, as ``hwsim run`` does (:func:`hwsim.graph.evaluate.run_model`);
2. ``hwsim explore`` on it: the cheapest per-layer multipliers under an accuracy floor,
   priced by yosys (``fmax = false``: no place and route, so it stays quick);
3. the 8-bit multiplier front of every family in the registry (``hwsim synth --pareto``,
   LUT4 against MRED, yosys only);
4. formal proofs (``hwsim prove``) of the Mitchell and exact multipliers, each timed, and an
   exhaustive RTL simulation of the Mitchell multiplier when a simulator is installed.

A section whose tools or extras are missing says so in one line; the others still run.
Synthesis results are cached in the results database (``hwsim.eval.resultdb.default_path``).
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import numpy as np

from hwsim.exact_mul import ExactMulParams
from hwsim.mitchell import MitchellDivParams, MitchellMulParams, mitchell_div, mitchell_mul
from hwsim.units import get_unit

#: section 2: a small search on the digits MLP, yosys-only costs (written to DIR/explore.toml)
EXPLORE_TOML = """\
# hwsim explore explore.toml -o explore   (written by hwsim demo)
# The cheapest multipliers for the built-in digits MLP (64 -> 32 -> 10) that keep its
# accuracy within half a point of float; area = LUT4 x one multiplier per output neuron.
# Costs from yosys alone (fmax = false); examples/explore_digits.toml is the full search.

[workload]
builtin = "digits"

[[group]]
name = "hidden"             # 64 -> 32
node = "MatMul"
instances = 32
units = ["exact-mul", "mitchell-mul"]
width = [4, 5, 6, 8]
keep_bits = ["none", 2]

[[group]]
name = "output"             # 32 -> 10
node = "MatMul1"
instances = 10
units = ["exact-mul", "mitchell-mul"]
width = [4, 5, 6, 8]
keep_bits = ["none", 2]

[constraint]
metric = "accuracy"
max_drop = 0.5              # percentage points below the float model

[cost]
objective = "area"
fmax = false

[search]
methods = ["sampling"]
budget = 30                 # distinct designs, after the uniform assignments
seeds = [0]
"""
#: section 1: every matrix product of the model on one unit (the rest float)
RUN_ASSIGNMENTS = [
    ("exact 8-bit (quantisation only)", {"unit": "exact-mul", "width": 8}),
    ("Mitchell 8-bit", {"unit": "mitchell-mul", "width": 8}),
    ("Mitchell 8-bit, keep_bits = 2", {"unit": "mitchell-mul", "width": 8, "keep_bits": 2}),
]
HEADLINE_RUN = 1  # the assignment the headline quotes
#: section 3
FRONT_WIDTH = 8
#: section 4: (unit, params, property)
PROOFS = [
    ("mitchell-mul", MitchellMulParams(width=8), "equivalence"),
    ("mitchell-mul", MitchellMulParams(width=8), "bounds"),
    ("exact-mul", ExactMulParams(width=8, signed=True), "equivalence"),
]
PROOF_TIMEOUT = 120.0  # seconds per proof
SECTIONS = 4


def _log(msg: str):
    print(msg, file=sys.stderr, flush=True)


def published_facts() -> list[tuple[str, str, str, bool]]:
    """(fact, expected, measured, holds) rows of the Mitchell papers' numbers; each is a test
    (``tests/test_cli.py``)."""
    rows = []
    a, b = np.meshgrid(np.arange(1, 256), np.arange(1, 256), indexing="ij")
    a, b = a.ravel(), b.ravel()
    real = mitchell_mul(a << 8, b << 8, MitchellMulParams(width=16)).astype(np.float64) / 2 ** 16
    ratio = real / (a * b)
    i = int(np.argmin(ratio))
    rows.append(("product / exact, all 8-bit pairs (real-valued)", "[8/9, 1], min at x1 = x2 = 1/2",
                 f"[{ratio.min():.6f}, {ratio.max():.6f}], min at a={a[i]}, b={b[i]}",
                 bool(np.isclose(ratio.min(), 8 / 9, rtol=0, atol=1e-15) and ratio.max() == 1.0)))
    q, _ = mitchell_div(a, b, MitchellDivParams(width=8, frac_bits=15))
    qr = (q.astype(np.float64) / 2 ** 15) / (a / b)
    rows.append(("quotient / exact, all 8-bit pairs (real-valued)", "[1, 9/8]",
                 f"[{qr.min():.6f}, {qr.max():.6f}]",
                 bool(qr.min() == 1.0 and abs(qr.max() - 9 / 8) < 1e-12)))
    p = mitchell_mul(1574, 583, MitchellMulParams(width=16))
    rows.append(("12.3 x 4.56, inputs truncated to 7 fraction bits (1574 x 583)",
                 "53.625 (exact 56.088)", f"{float(p) / 2 ** 14}", float(p) / 2 ** 14 == 53.625))
    rng = np.random.default_rng(0)
    x = rng.integers(0, 1 << 16, (2, 2_000_000))
    x = x[:, (x[0] > 0) & (x[1] > 0)]
    red = 1 - mitchell_mul(x[0], x[1], MitchellMulParams(width=16)).astype(np.float64) / (x[0] * x[1])
    rows.append(("mean relative error, 16-bit multiplier (2M seeded pairs)", "about 3.8 %",
                 f"{100 * red.mean():.3f} %", abs(red.mean() - 0.038) < 0.002))
    return rows


class Section:
    """One section of the report: its lines, the headline bullet it contributes, whether it
    found a failure (a counterexample, a mismatch) and how long it took."""

    def __init__(self, title: str):
        self.title = title
        self.lines: list[str] = [f"## {title}", ""]
        self.headline: str | None = None
        self.failed = False
        self.seconds = 0.0

    def skip(self, why: str) -> "Section":
        self.lines += [f"Skipped: {why}", ""]
        self.headline = f"{self.title}: skipped ({why.rstrip('.')})"
        return self


def _home(p: Path) -> str:
    """``p`` with the home directory as ``~``."""
    try:
        return "~/" + str(p.relative_to(Path.home()))
    except ValueError:
        return str(p)


def _pct(x: float, digits: int = 2) -> str:
    return f"{100 * x:.{digits}f} %"


# -- 1. the model on hwsim units -------------------------------------------------------------

def _class_output(r: dict) -> str:
    """The output the table quotes: the first with an argmax (class scores), else the first."""
    return next((k for k, m in r["outputs"].items() if m["argmax_agreement"] is not None),
                next(iter(r["outputs"])))


def run_section(workload: Path) -> tuple[Section, tuple[str, str] | None]:
    """The digits MLP with its products on hwsim units, against onnxruntime; returns the
    section and the (model, data) paths (``None`` when the ml extra is missing)."""
    s = Section("1. An ONNX model on hwsim units (`hwsim run`)")
    try:
        from hwsim.explore.workloads import resolve
        from hwsim.graph.assign import parse_assignment
        from hwsim.graph.evaluate import FLOAT_PATH_TOLERANCE, run_model
        model, data = resolve({"builtin": "digits"}, workload)
    except ImportError as e:
        return s.skip(f"needs the ml extra ({e.name} is missing): pip install 'hwsim[ml]'."), None
    rel = [Path(model).relative_to(workload.parent), Path(data).relative_to(workload.parent)]
    runs = []
    for label, rule in RUN_ASSIGNMENTS:
        a = parse_assignment({"assign": [{"op": "MatMul", **rule}]}, f"demo: {label}")
        runs.append((label, run_model(model, data, a, attribution=False)))
    r0 = runs[0][1]
    out = _class_output(r0)
    fl = r0["float_accuracy"]
    s.lines += [f"The digits MLP (scikit-learn `MLPClassifier` 64 -> 32 ReLU -> 10, exported by "
                f"skl2onnx: `{rel[0]}`) on {r0['rows']} held-out digits (`{rel[1]}`). Every "
                f"MatMul runs on the unit below with calibrated fixed-point operands, bit-exact; "
                f"the rest stays float. The reference is onnxruntime's float run; hwsim's own "
                f"float path matches it to {r0['float_path_error']:.1e} (relative, must be "
                f"< {FLOAT_PATH_TOLERANCE:g}).", "",
                f"| products on | accuracy | drop (points) | cosine of `{out}` | "
                f"argmax agreement |", "|---|---|---|---|---|",
                f"| float (onnxruntime) | {_pct(fl)} | - | 1 | 1 |"]
    for label, r in runs:
        m = r["outputs"][out]
        agree = "-" if m["argmax_agreement"] is None else f"{m['argmax_agreement']:.4f}"
        s.lines.append(f"| {label} | {_pct(r['accuracy'])} | "
                       f"{100 * (fl - r['accuracy']):.2f} | {m['cosine']:.6f} | {agree} |")
        s.failed |= not r["float_path_error"] < FLOAT_PATH_TOLERANCE
    label, r = runs[HEADLINE_RUN]
    s.lines += ["", f"The same from the command line: `hwsim run {rel[0]} --data {rel[1]} "
                f"--assign A.toml`, with A.toml's `[[assign]]` as in examples/onnx_mitchell8.toml "
                f"(docs/onnx.md).", ""]
    s.headline = (f"**Accuracy**: the digits MLP with every product on the {label} multiplier "
                  f"scores {_pct(r['accuracy'])} against {_pct(fl)} in float (a drop of "
                  f"{100 * (fl - r['accuracy']):.2f} points); its `{out}` have cosine "
                  f"{r['outputs'][out]['cosine']:.6f} to onnxruntime's.")
    return s, (model, data)


# -- 2. explore -----------------------------------------------------------------------------

def _design(d: dict) -> str:
    return ", ".join(f"{k}: {v}" for k, v in d.items())


def explore_section(out: Path, jobs: int, db) -> Section:
    s = Section("2. The cheapest per-layer units under an accuracy floor (`hwsim explore`)")
    try:
        from hwsim.explore.config import parse_config
        from hwsim.explore.run import explore, write_outputs
        from hwsim.paths import parse_toml, replace_text
        from hwsim.eval.synth import SynthToolNotFound
    except ImportError as e:
        return s.skip(f"needs the ml extra ({e.name} is missing): pip install 'hwsim[ml]'.")
    config = out / "explore.toml"
    cfg = parse_config(parse_toml(EXPLORE_TOML, str(config)), str(config.name))
    try:
        result, _space = explore(cfg, out / "explore", jobs=jobs, db=db, progress=True)
    except SynthToolNotFound as e:
        return s.skip(f"{e}.")
    replace_text(config, EXPLORE_TOML)
    write_outputs(result, cfg, out / "explore")
    n_space = math.prod(len(g.choices) for g in cfg.groups)
    units = {u["unit"]: u["lut4"] for g in result["groups"] for u in g["choices"]}
    widths = sorted({c.fields["width"] for g in cfg.groups for c in g.choices})
    s.lines += [f"Each layer's multipliers: exact or Mitchell (signed, with or without "
                f"keep_bits = 2), {', '.join(map(str, widths))} bits: "
                f"{len(cfg.groups[0].choices)} choices per layer, {n_space} designs, of which "
                f"{result['evaluations']} were evaluated bit-exactly (the uniform assignments, "
                f"then a {' / '.join(cfg.methods)} search of {cfg.budget} designs). Floor: "
                f"{result['constraint']} = {_pct(result['floor'])}. Area = LUT4 of the unit "
                f"(yosys `synth_ice40`, no place and route) x one unit per output neuron "
                f"(32 hidden, 10 output).", ""]
    best, uni = result["best"], {u["label"]: u for u in result["uniform"]}
    exact8 = next((uni.get(c.label) for c in cfg.groups[0].choices
                   if c.unit == "exact-mul" and c.fields.get("width") == 8), None)
    if best is None:
        reached = result["best_reached"]
        s.lines += [f"No design meets the floor; the best accuracy reached was "
                    f"{_pct(reached['metric'])} ({_design(reached['design'])}).", ""]
        s.headline = "**Cheapest design**: none of the designs searched meets the floor."
        return s
    rows = [("best found", best)]
    if result["uniform_best"] is not None:
        u = result["uniform_best"]
        rows.append((f"cheapest uniform ({u['label']})", u))
    if exact8 is not None:
        rows.append(("all exact 8-bit", exact8))
    s.lines += ["| | design | area (LUT4) | accuracy |", "|---|---|---|---|"]
    s.lines += [f"| {k} | {_design(e['design'])} | {e['cost']:,.0f} | {_pct(e['metric'])} |"
                for k, e in rows]
    s.lines += ["", "LUT4 of the units it uses: " + ", ".join(
        f"{v} {units[v]}" for v in dict.fromkeys(best["design"].values())) + ".", "",
        "![explore front](explore/front.png)", "",
        f"Everything evaluated: `explore/designs.csv`, the full report `explore/report.md`, the "
        f"best design as an assignment `explore/best.toml` (`hwsim run --assign`). Again, with "
        f"more: `hwsim explore {config.name} -o explore` (in this directory); "
        f"examples/explore_digits.toml searches 3-8 bits and Mitch-w truncation "
        f"(docs/studies/explore.md).", ""]
    saving = ""
    if exact8 is not None and exact8["cost"] > 0:
        saving = (f", {_pct(1 - best['cost'] / exact8['cost'], 0)} less than all exact 8-bit "
                  f"({exact8['cost']:,.0f})")
    s.headline = (f"**Cheapest design** within {result['constraint']}: "
                  f"{_design(best['design'])}: area {best['cost']:,.0f} LUT4{saving}, "
                  f"accuracy {_pct(best['metric'])}.")
    return s


# -- 3. the multiplier front ----------------------------------------------------------------

def front_section(out: Path, jobs: int, db) -> Section:
    from hwsim.render import plots
    from hwsim.reports.cost import front_table, multiplier_front
    from hwsim.eval.synth import SynthToolNotFound, find_tool, tool_version
    from hwsim.units import front_units
    s = Section(f"3. What each multiplier costs: the {FRONT_WIDTH}-bit front")
    try:
        yosys = tool_version(find_tool("yosys"))
    except SynthToolNotFound as e:
        return s.skip(f"{e}.")
    points = multiplier_front(db=db, jobs=jobs, widths=(FRONT_WIDTH,), fmax=False,
                              progress=True)
    plots.multiplier_front(out / "multiplier_front.png", points)
    families = ", ".join(sp.front.family for sp in front_units())
    s.lines += [f"Every multiplier family of the registry ({families}), unsigned "
                f"{FRONT_WIDTH}-bit: LUT4 from `yosys synth_ice40` ({yosys}), combinational, no "
                f"DSP; MRED (mean relative error) over all input pairs. `hwsim synth --pareto` "
                f"adds 16 bits and Fmax (docs/cost.md).", "",
                "![multiplier front](multiplier_front.png)", "", *front_table(points), ""]
    exact = next((p for p in points if get_unit(p["unit"]).front.exact), None)
    mitchell = next((p for p in points if p["unit"] == "mitchell-mul"
                     and p["params"].get("keep_bits") is None), None)
    if exact is None or mitchell is None:
        s.headline = f"**Multiplier front**: {len(points)} {FRONT_WIDTH}-bit units priced."
        return s
    rel = exact["lut4"]
    text = (f"**Unit cost** ({FRONT_WIDTH}-bit, unsigned): exact {exact['lut4']} LUT4; Mitchell "
            f"{mitchell['lut4']} ({_pct(mitchell['lut4'] / rel, 0)} of exact) at MRED "
            f"{_pct(mitchell['mred'])}")
    better = [p for p in points if p["mred"] <= mitchell["mred"] and p["lut4"] < mitchell["lut4"]
              and p is not exact]
    if better:
        b = min(better, key=lambda p: (p["lut4"], p["mred"]))
        knob = get_unit(b["unit"]).front.knob(b["params"])
        text += (f"; {b['unit']}{'' if knob is None else f' ({knob})'} beats it: "
                 f"{b['lut4']} LUT4 ({_pct(b['lut4'] / rel, 0)}) at MRED {_pct(b['mred'])}")
    s.headline = text + "."
    return s


# -- 4. proofs ------------------------------------------------------------------------------

def proof_section(out: Path, sim: str | None) -> Section:
    from hwsim.sim import formal, runner
    s = Section("4. Proven, not only tested (`hwsim prove`)")
    results, missing = [], None
    for unit, params, prop in PROOFS:
        t0 = time.perf_counter()
        try:
            r = formal.prove(get_unit(unit), params, timeout_s=PROOF_TIMEOUT, property=prop)
        except formal.ProofToolMissing as e:
            missing = str(e)
            break
        results.append((r, time.perf_counter() - t0))
        s.failed |= r.status == "counterexample"
        _log(f"      {formal.format_result(r).splitlines()[0]}")
    if missing:
        s.lines += [f"Proofs skipped: {missing}.", ""]
    else:
        s.lines += ["yosys turns the exported Verilog into a circuit, z3 proves it equal to the "
                    "unit's specification (or within its documented error bounds) for every "
                    "input (time: the whole proof, export and yosys included; solver: z3 "
                    "alone):", "", "| unit | property | result | time | solver | size |",
                    "|---|---|---|---|---|---|"]
        s.lines += [f"| `{r.top}` | {r.property} | {r.status} | {t:.1f} s | {r.seconds:.2f} s "
                    f"| {r.size} |" for r, t in results]
        s.lines.append("")
    sim_line = None
    if sim is None:
        found = runner.available_simulators()
        sim = "icarus" if "icarus" in found else (found[0] if found else None)
    if sim is not None:
        p = MitchellMulParams(width=8)
        t0 = time.perf_counter()
        r = runner.run_bench(get_unit("mitchell-mul"), p, sim=sim, vectors=None,
                             build_root=out / "build")
        s.failed |= not r.passed
        sim_line = (f"`{p.top_name}` simulated exhaustively on {sim}: {r.vectors:,} vectors, "
                    f"{r.mismatches} mismatches against the numpy model "
                    f"({time.perf_counter() - t0:.1f} s)")
        s.lines += [f"And in simulation (cocotb): {sim_line}.", ""]
    else:
        s.lines += [f"RTL simulation skipped: {runner.INSTALL_HINT['icarus']}.", ""]
    s.lines += ["`make prove` proves the 32-bit units (docs/verification.md).", ""]
    if missing:
        s.headline = f"**Proofs**: skipped ({missing})"
    else:
        proved = sum(r.proved for r, _ in results)
        s.headline = (f"**Proofs**: {proved} of {len(results)} proved for all inputs in "
                      f"{sum(t for _, t in results):.1f} s ("
                      + ", ".join(f"{r.top} {r.property}" for r, _ in results) + ")")
    if sim_line:
        s.headline += f"; {sim_line}"
    s.headline += "."
    return s


#: what the demo writes in DIR: files, then directories
OUTPUT_FILES = ("report.md", "explore.toml", "multiplier_front.png")
OUTPUT_DIRS = ("explore", "build")


def check_outputs(out: Path) -> None:
    """Refuse, before any work, a directory standing where the demo writes a file or a file
    where it needs a directory (``OSError``: one line from the CLI)."""
    import errno
    for name in OUTPUT_FILES:
        p = out / name
        if p.is_dir():
            raise IsADirectoryError(errno.EISDIR, "is a directory; hwsim demo writes a file "
                                    "there (give another -o)", str(p))
    for name in OUTPUT_DIRS:
        p = out / name
        if p.exists() and not p.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, "is not a directory; hwsim demo writes "
                                     "one there (give another -o)", str(p))


def run_demo(out: Path, sim: str | None = None, jobs: int = 2) -> int:
    from hwsim.paths import replace_text
    from hwsim.eval.resultdb import ResultDB, default_path

    t0 = time.perf_counter()
    check_outputs(out)
    out.mkdir(parents=True, exist_ok=True)
    sections = []

    def timed(n: int, what: str, fn, *args):
        _log(f"[{n}/{SECTIONS}] {what}")
        t = time.perf_counter()
        result = fn(*args)
        s = result[0] if isinstance(result, tuple) else result
        s.seconds = time.perf_counter() - t
        _log(f"      {s.seconds:.0f} s")
        sections.append(s)
        return result

    timed(1, "the digits MLP (ONNX) on hwsim units, against onnxruntime", run_section,
          out / "explore")
    with ResultDB() as db:
        timed(2, "explore: the cheapest per-layer units (yosys costs, cached)", explore_section,
              out, jobs, db)
        timed(3, f"the {FRONT_WIDTH}-bit multiplier front (yosys, cached)", front_section, out,
              jobs, db)
    timed(4, "formal proofs and an exhaustive simulation", proof_section, out, sim)

    seconds = time.perf_counter() - t0
    lines = ["# hwsim demo", "",
             "*If I build this cheap arithmetic unit, what happens to my model's accuracy, and "
             "what does the unit cost?* What this run found:", ""]
    lines += [f"- {s.headline}" for s in sections if s.headline]
    lines += ["", "Sections: " + " | ".join(
        f"{s.title.split(' (')[0]} ({s.seconds:.0f} s)" for s in sections)
        + f". Total {seconds:.0f} s; synthesis results are cached in `{_home(default_path())}` "
        f"(a second run reuses them).", ""]
    for s in sections:
        lines += s.lines
    lines += [f"Generated by `hwsim demo` in {seconds:.0f} s.", ""]
    report = replace_text(out / "report.md", "\n".join(lines))
    print(f"wrote {report} ({seconds:.0f} s)")
    return 1 if any(s.failed for s in sections) else 0
