"""``hwsim demo``: the main job on built-in defaults.

Generates Verilog for default Mitchell multiplier / divider configurations, verifies each
in cocotb against the model, characterises them, checks the published facts and writes
``DIR/report.md`` with a metrics table and PNG plots.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from hwsim.exp import ExpBase, ExpMethod, ExpParams
from hwsim.mitchell import MitchellDivParams, MitchellMulParams, mitchell_div, mitchell_mul
from hwsim.softmax import SoftmaxForm, SoftmaxParams
from hwsim.units import get_unit

DEMO_UNITS = [
    ("mitchell-mul", MitchellMulParams(width=8)),
    ("mitchell-mul", MitchellMulParams(width=8, signed=True, stages=2)),
    ("mitchell-mul", MitchellMulParams(width=8, keep_bits=3)),
    ("mitchell-div", MitchellDivParams(width=8, frac_bits=8)),
]
#: verified in the demo: exhaustive for the exp units, corners + SOFTMAX_VECTORS for softmax
DEMO_VERIFY_EXTRA = [
    ("exp", ExpParams()),
    ("exp", ExpParams(method=ExpMethod.PWL, base=ExpBase.TWO, stages=2)),
    ("softmax", SoftmaxParams()),
    ("softmax", SoftmaxParams(form=SoftmaxForm.ONLINE)),
]
SOFTMAX_VECTORS = 1000
SWEEP_WIDTHS = range(4, 17)
SWEEP_EXHAUSTIVE_MAX = 12  # wider points use a seeded sample to keep the demo short
SWEEP_SAMPLES = 2_000_000


def _log(msg: str):
    print(msg, file=sys.stderr, flush=True)


def published_facts() -> list[tuple[str, str, str, bool]]:
    """(fact, expected, measured, holds) rows for the report; each is also a test."""
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


def _study_section(out: Path, jobs: int, name: str, note: str) -> list[str]:
    """The quick default sweep of study ``name`` and its report, or why it was skipped."""
    from hwsim.studies import get_study
    from hwsim.sweep import parse_config, run_sweep, sweep_rows
    try:
        mod = get_study(name)._mod()
        cfg = parse_config(mod.default_sweep(quick=True), "demo")
    except RuntimeError as e:  # a missing optional extra
        return [f"## {name}", "", f"Skipped: {e}.", ""]
    db = out / f"{name}.sqlite"
    run = run_sweep(cfg, db, jobs=jobs)
    # the rows this run stored (a source edited meanwhile changes code_fingerprint())
    return mod.report(sweep_rows(cfg, db, fingerprint=run["fingerprint"]), out) + [note, ""]


def _attention_section(out: Path) -> list[str]:
    from hwsim import plots
    from hwsim.attention import AttentionParams, Multiplier
    from hwsim.characterize import characterize_attention, characterize_performer
    from hwsim.performer import FeatureKind, PerformerParams
    lines = ["## Attention head and Performer features", "",
             "Attention head (L = d = 8, Q/K/V Q2.6, LUT-exp softmax) against float64 attention, "
             "inputs N(0, 0.5^2), 1,000 problems:", "",
             "| multiplier | output max abs | output mean abs | attention-matrix mean abs |",
             "|---|---|---|---|"]
    for mult, keep in ((Multiplier.EXACT, None), (Multiplier.MITCHELL, None), (Multiplier.MITCHELL, 3)):
        c = characterize_attention(AttentionParams(multiplier=mult, keep_bits=keep), samples=1000)
        r = dict(c.rows)["normal s=0.5"]
        name = mult.value + ("" if keep is None else f", keep_bits={keep}")
        lines.append(f"| {name} | {r['out_max_abs']:.4f} | {r['out_mean_abs']:.5f} | "
                     f"{r['attn_mean_abs']:.5f} |")
    curves = []
    for kind in FeatureKind:
        c = characterize_performer(PerformerParams(kind=kind), samples=500)
        curves.append((kind.value, [(int(label.split("= ")[-1]), m["kernel_rel_err_median_fixed"])
                                    for label, m in c.rows]))
    plots.performer_variance(out / "performer_kernel_error.png", curves)
    lines += ["", "Performer kernel estimate (fixed-point feature map, d = 8): the error falls with "
              "m and orthogonal features beat i.i.d. ones (`hwsim characterize performer`).", "",
              "![Performer](performer_kernel_error.png)", ""]
    return lines


def run_demo(out: Path, sim: str | None = None, jobs: int = 2) -> int:
    from tqdm.auto import tqdm

    from hwsim import plots
    from hwsim.tables import format_metrics_table
    from hwsim.hdl.export import write_verilog
    from hwsim.characterize import characterize
    from hwsim.sim import runner

    t0 = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    (out / "verilog").mkdir(exist_ok=True)
    if sim is None:
        found = runner.available_simulators()
        sim = "icarus" if "icarus" in found else (found[0] if found else None)
    lines = ["# hwsim demo report", "",
             "Mitchell logarithmic multiplier and divider, exp and softmax units: Verilog "
             "generated from the Amaranth models, verified against the bit-accurate numpy "
             "models, and characterised.", ""]

    # 1-2. Verilog + verification
    _log(f"[1/10] Verilog and RTL verification ({sim or 'no simulator found'})")
    verify_rows, failed = [], 0
    for unit, params in tqdm(DEMO_UNITS + DEMO_VERIFY_EXTRA, desc="verify",
                             disable=not sys.stderr.isatty()):
        spec = get_unit(unit)
        v, _ = write_verilog(spec, params, out / "verilog")
        if sim is None:
            verify_rows.append(f"| {params.top_name} | - | skipped: {runner.INSTALL_HINT['icarus']} | | |")
            continue
        count = None if spec.exhaustive else SOFTMAX_VECTORS
        r = runner.run_bench(spec, params, sim=sim, vectors=count, build_root=out / "build")
        failed += not r.passed
        verify_rows.append(f"| `{params.top_name}` | {sim} | {r.vectors} | {r.mismatches} | "
                           f"{r.rate:,.0f} |")
    lines += ["## RTL verification (exact integer equality)", "",
              "Exhaustive for the Mitchell and exp units; softmax: corner vectors + "
              f"{SOFTMAX_VECTORS:,} seeded random vectors of 8 logits, streamed with random "
              "stalls (`make test` runs 20,000 per configuration).", "",
              "| module | simulator | vectors | mismatches | vectors/s |", "|---|---|---|---|---|",
              *verify_rows, "", f"Verilog and JSON sidecars: `{out / 'verilog'}`.", ""]

    # 3. characterisation
    _log("[2/10] exhaustive characterisation of the demo units")
    rows = []
    for unit, params in DEMO_UNITS:
        c = characterize(get_unit(unit), params, jobs=jobs)
        rows.append((f"`{params.top_name}`", c.metrics.to_dict()))
    lines += ["## Error metrics (exhaustive over all input pairs)", "",
              "MAE/WCE/MSE/bias in output LSBs (quotient: in real units), EP = error probability, "
              "MRED/max RED over exact != 0, MAE%/WCE% normalised by the largest exact output.", "",
              format_metrics_table(rows), ""]

    _log("[3/10] error vs width and plots")
    spec = get_unit("mitchell-mul")
    sweep = {}
    points = [(w, k) for k in (None, 3) for w in SWEEP_WIDTHS if k is None or k <= w - 2]
    for w, k in tqdm(points, desc="widths", disable=not sys.stderr.isatty()):
        p = MitchellMulParams(width=w, keep_bits=k)
        samples = None if w <= SWEEP_EXHAUSTIVE_MAX else SWEEP_SAMPLES
        sweep[(w, k)] = characterize(spec, p, samples=samples, seed=0, jobs=jobs).metrics
    a, b = np.meshgrid(np.arange(1, 256), np.arange(1, 256), indexing="ij")
    prod = mitchell_mul(a, b, MitchellMulParams(width=8)).astype(np.float64)
    plots.heatmap_8bit(out / "mul_heatmap_8bit.png", (prod - a * b) / (a * b))
    c8 = characterize(spec, MitchellMulParams(width=8), jobs=jobs)
    c16 = characterize(spec, MitchellMulParams(width=16), samples=SWEEP_SAMPLES, seed=0)
    plots.histogram(out / "mul_error_histogram.png", [("8-bit exhaustive", c8), ("16-bit sampled", c16)])
    plots.error_vs_width(out / "mul_error_vs_width.png", sweep)
    lines += ["## Multiplier error vs width", "",
              f"Exhaustive up to {SWEEP_EXHAUSTIVE_MAX} bits, {SWEEP_SAMPLES:,} seeded pairs beyond.", "",
              "| width | MRED (full) | max RED (full) | MRED (keep_bits=3) | max RED (keep_bits=3) |",
              "|---|---|---|---|---|"]
    for w in SWEEP_WIDTHS:
        full = sweep[(w, None)]
        k3 = sweep.get((w, 3))
        k3s = f"{100 * k3.mred:.3f} % | {100 * k3.max_red:.3f} %" if k3 else "- | -"
        lines.append(f"| {w} | {100 * full.mred:.3f} % | {100 * full.max_red:.3f} % | {k3s} |")
    lines += ["", "![error vs width](mul_error_vs_width.png)", "",
              "Relative error of the 8-bit multiplier over all (a, b); the diagonal bands are the "
              "fraction-sum carry boundary x_a + x_b = 1:", "",
              "![heatmap](mul_heatmap_8bit.png)", "", "![histogram](mul_error_histogram.png)", ""]

    from hwsim import softmax_report
    _log("[4/10] exp units")
    lines += softmax_report.exp_section(out, jobs=jobs)
    _log("[5/10] softmax variants and table sizes")
    lines += softmax_report.softmax_section(out)

    from hwsim import cost_report
    _log("[6/10] cost: yosys synth_ice40 (cached after the first run)")
    lines += cost_report.cost_section(out, jobs=jobs)

    _log("[7/10] digits-mlp study (short sweep)")
    lines += _study_section(out, jobs, "digits-mlp",
                            "Short version (one seed, four widths); the full study with three "
                            "seeds, the Gaussian error model and layer attribution: "
                            "`hwsim study digits-mlp`.")

    _log("[8/10] MiniLM studies (short sweeps)")
    for name in ("minilm-units", "bert-whitening", "performer-minilm"):
        lines += _study_section(out, jobs, name,
                                f"Short version (fewer variants and sentences, one seed); the "
                                f"full study: `hwsim study {name}` (docs/studies/{name}.md).")

    _log("[9/10] attention head and Performer features")
    lines += _attention_section(out)

    _log("[10/10] published facts")
    facts = published_facts() + softmax_report.taylor_facts()
    lines += ["## Published facts", "", "| fact | expected | measured | holds |", "|---|---|---|---|"]
    lines += [f"| {f} | {e} | {m} | {'yes' if ok else '**NO**'} |" for f, e, m, ok in facts]
    seconds = time.perf_counter() - t0
    lines += ["", f"Generated by `hwsim demo` in {seconds:.0f} s.", ""]
    from hwsim.paths import replace_text
    report = replace_text(out / "report.md", "\n".join(lines))
    print(f"wrote {report} ({seconds:.0f} s)")
    return 1 if failed or not all(ok for *_, ok in facts) else 0
