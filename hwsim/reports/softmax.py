"""The softmax and exp tables of ``docs/units/softmax.md`` and ``docs/units/exp.md``:
``python -m hwsim.reports.softmax`` prints them (Markdown lines from each function)."""

from __future__ import annotations



from hwsim.exp import ExpMethod, taylor_minimizer, taylor_poly
from hwsim.fixed import FixedFormat
from hwsim.eval.characterize import characterize_softmax
from hwsim.softmax import Normalizer, SoftmaxForm, SoftmaxParams

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


def lut_sweep_table(samples: int = 2000, seed: int = 0) -> list[str]:
    """The range of the output sums against table index bits (:func:`lut_sweep`)."""
    sweep = lut_sweep(samples, seed)
    lines = ["| index bits | " + " | ".join(sweep) + " |", "|---" * (len(sweep) + 1) + "|"]
    bits = next(iter(sweep.values()))[0]
    for i, b in enumerate(bits):
        cells = [f"[{m[i].sum_min:.3f}, {m[i].sum_max:.3f}]" for _, m in sweep.values()]
        lines.append(f"| {b} | " + " | ".join(cells) + " |")
    return lines


if __name__ == "__main__":  # regenerate the tables in docs/units/
    print("\n".join(softmax_table()))
    print()
    print("\n".join(softmax_table(out_frac=7)))
    print()
    print("\n".join(lut_sweep_table()))
