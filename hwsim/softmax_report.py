"""Exp and softmax sections of the demo report: tables, facts and plots.

Each function returns Markdown lines (and writes its PNGs into ``out``); ``hwsim demo``
strings them together. The tables in ``docs/units/exp.md`` and ``docs/units/softmax.md``
come from the same functions (``python -m hwsim.softmax_report``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hwsim.exp import ExpMethod, ExpParams, exp_fixed, exp_real, taylor_minimizer, taylor_poly
from hwsim.fixed import FixedFormat
from hwsim.characterize import characterize, characterize_softmax
from hwsim.softmax import Normalizer, SoftmaxForm, SoftmaxParams
from hwsim.units import get_unit

#: the exp units compared: every method at the default formats (Q4.8 -> UQ12.12, base e)
EXP_VARIANTS = [ExpParams(method=ExpMethod.LUT, lut_bits=6), ExpParams(method=ExpMethod.LUT, lut_bits=8),
                ExpParams(method=ExpMethod.PWL, segments=4), ExpParams(method=ExpMethod.PWL, segments=16),
                ExpParams(method=ExpMethod.MITCHELL), ExpParams(method=ExpMethod.IBERT),
                ExpParams(method=ExpMethod.TAYLOR, order=4), ExpParams(method=ExpMethod.TAYLOR, order=8)]

#: published even-order Taylor minima (t*, f_n(t*)), 3 and 4 decimals
TAYLOR_MINIMA = {2: (-1.0, 0.5), 4: (-1.596, 0.2704), 6: (-2.181, 0.1493), 8: (-2.759, 0.0833)}


def softmax_variants(out_frac: int = 15, length: int = 8) -> list[tuple[str, SoftmaxParams]]:
    """Every form x exp method x normaliser worth comparing, at one output format UQ1.<out_frac>."""
    out = FixedFormat(1, out_frac, signed=False)
    base = dict(length=length, in_fmt=FixedFormat(4, 4), out_fmt=out)
    rows = []
    for method, extra in ((ExpMethod.LUT, dict(lut_bits=6)), (ExpMethod.PWL, dict(segments=8)),
                          (ExpMethod.MITCHELL, {}), (ExpMethod.IBERT, {})):
        for form in (SoftmaxForm.TWO_PASS, SoftmaxForm.ONLINE):
            rows.append((f"{form.value}, exp {method.value}", SoftmaxParams(
                form=form, method=method, **extra, **base)))
    for norm in (Normalizer.MITCHELL_DIV, Normalizer.RECIPROCAL_LUT):
        rows.append((f"two_pass, exp lut, {norm.value}", SoftmaxParams(
            normalizer=norm, **base)))
    for order in (2, 4, 6, 8):
        rows.append((f"taylor n={order}", SoftmaxParams(form=SoftmaxForm.TAYLOR,
                                                        method=ExpMethod.TAYLOR, order=order, **base)))
    return rows


def taylor_facts() -> list[tuple[str, str, str, bool]]:
    """(fact, expected, measured, holds) rows: minimisers and values of f_n, odd orders."""
    rows = []
    for n, (t_want, f_want) in TAYLOR_MINIMA.items():
        t, f = taylor_minimizer(n)
        rows.append((f"even-order Taylor f_{n}: minimiser and minimum", f"{t_want:.3f}, {f_want:.4f}",
                     f"{t:.3f}, {f:.4f}", round(t, 3) == t_want and round(f, 4) == f_want))
    neg = [float(taylor_poly(-2.0 * n - 2, n)) for n in (1, 3, 5, 7)]
    rows.append(("odd-order Taylor f_1, f_3, f_5, f_7 at x = -2n-2", "negative",
                 ", ".join(f"{v:.3g}" for v in neg), all(v < 0 for v in neg)))
    return rows


def exp_section(out: Path, jobs: int = 2) -> list[str]:
    from hwsim import plots
    from hwsim.tables import format_metrics_table
    spec = get_unit("exp")
    rows, curves = [], []
    for p in EXP_VARIANTS:
        c = characterize(spec, p, jobs=jobs)
        rows.append((f"`{p.top_name}`", c.metrics.to_dict()))
        x = np.arange(*p.in_range)
        exact = exp_real(x, p)
        keep = (exact >= 2.0 ** -6) & (exact <= p.out_fmt.max_raw * p.out_fmt.lsb)
        rel = p.out_fmt.to_float(exp_fixed(x[keep], p)) / exact[keep] - 1
        curves.append((p.top_name, p.in_fmt.to_float(x[keep]), rel))
    plots.relative_error_curves(out / "exp_relative_error.png", curves,
                                "exp units: relative error (inputs with e**x >= 2**-6)", "x")
    return ["## Exp units", "",
            "Every method at the default formats (input Q4.8, output UQ12.12, base e), "
            "exhaustive over all 4096 inputs whose exact result fits the output. MAE/WCE in "
            "real units; MRED is dominated by the smallest outputs, where one output LSB is a "
            "large relative step.", "", format_metrics_table(rows), "",
            "![exp relative error](exp_relative_error.png)", ""]


def softmax_table(out_frac: int = 15, samples: int = 4000, seed: int = 0) -> list[str]:
    lines = ["| variant | module | max abs error | mean abs error | KL | argmax flips | "
             "sum of p |", "|---|---|---|---|---|---|---|"]
    for name, p in softmax_variants(out_frac):
        m = characterize_softmax(p, samples=samples, seed=seed).overall
        lines.append(f"| {name} | `{p.top_name}` | {m.max_abs:.2e} | {m.mean_abs:.2e} | "
                     f"{m.kl:.2e} | {100 * m.flip_rate:.2f} % | [{m.sum_min:.4f}, {m.sum_max:.4f}] |")
    return lines


def lut_sweep(samples: int = 2000, seed: int = 0) -> dict:
    """Metrics against table index bits: exp LUT (two-pass and online) and reciprocal LUT."""
    bits = list(range(1, 11))
    series = {
        "exp LUT, two-pass": [SoftmaxParams(lut_bits=b) for b in bits],
        "exp LUT, online": [SoftmaxParams(form=SoftmaxForm.ONLINE, lut_bits=b) for b in bits],
        "reciprocal LUT (exp LUT 8 bits)": [
            SoftmaxParams(normalizer=Normalizer.RECIPROCAL_LUT, recip_bits=b, lut_bits=8) for b in bits],
    }
    return {name: (bits, [characterize_softmax(p, samples=samples, seed=seed).overall for p in ps])
            for name, ps in series.items()}


def softmax_section(out: Path) -> list[str]:
    from hwsim import plots
    sweep = lut_sweep()
    plots.lut_sweep(out / "softmax_lut_sweep.png", sweep)
    lines = ["## Softmax units", "",
             "All variants at 16-bit outputs (UQ1.15), length 8, logits Q4.4, against the exact "
             "float64 softmax over 5 seeded logit distributions (uniform, N(0, s^2) for s = 0.5, "
             "1, 2, 4), 4,000 vectors each. KL = mean KL(exact || approx renormalised); argmax "
             "flips = vectors whose top class changes.", "", *softmax_table(), "",
             "8-bit outputs (UQ1.7): where flips appear.", "", *softmax_table(out_frac=7), "",
             "### Table sizes: where the probabilities stop summing to about 1", "",
             "| index bits | " + " | ".join(sweep) + " |", "|---" * (len(sweep) + 1) + "|"]
    bits = next(iter(sweep.values()))[0]
    for i, b in enumerate(bits):
        cells = [f"[{m[i].sum_min:.3f}, {m[i].sum_max:.3f}]" for _, m in sweep.values()]
        lines.append(f"| {b} | " + " | ".join(cells) + " |")
    lines += ["", "Two-pass softmax divides by the sum of the very exp values it outputs, so any "
              "exp table keeps the sum within L output LSBs of 1. The online form rescales its "
              "running sum with the same coarse exp, so small exp tables break normalisation; a "
              "small reciprocal table scales every probability by the same wrong factor.", "",
              "![LUT sweep](softmax_lut_sweep.png)", ""]
    return lines


if __name__ == "__main__":  # regenerate the tables in docs/units/
    print("\n".join(softmax_table()))
    print()
    print("\n".join(softmax_table(out_frac=7)))
