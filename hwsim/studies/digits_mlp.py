"""Study ``digits-mlp``: a small MLP on sklearn's bundled digits, run through hwsim multipliers.

The network (64 -> hidden ReLU -> 10) is trained in float64 numpy with a fixed recipe
(seeded initialisation, seeded split, Adam, cross-entropy); then its test-set inference is
repeated with every product of the chosen layers computed by a multiplier model:

* ``float``: the float64 reference;
* ``exact``: fixed-point exact products (operands quantised to ``width`` bits);
* ``mitchell``: the bit-exact Mitchell multiplier (signed, ``width``, ``keep_bits``);
* ``gaussian``: the exact product times ``1 + e``, ``e ~ N(mean, std)`` with the mean and
  standard deviation of the Mitchell relative error measured on the very same operands;
* ``fp32-trick`` / ``bf16-trick`` / ``fp16-trick``: the float bit-pattern trick
  (``mitchell_mul_float``) on operands rounded to that format.

Quantisation (``exact``, ``mitchell``, ``gaussian``): each tensor gets a signed format of
``width`` bits with just enough integer bits for its largest magnitude (round to nearest
even, saturate); products are accumulated exactly in int64 and scaled back. Biases are
added in float. ``layers`` picks where the approximate unit is used ("all", "0" = the hidden
layer, "1" = the output layer); the others stay float.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from hwsim.studies import mlp
from hwsim.studies import MAX_EPOCHS, MAX_HIDDEN, check_choice, check_int_param

MULTIPLIERS = ("float", "exact", "mitchell", "gaussian", "fp32-trick", "bf16-trick", "fp16-trick")
LAYERS = ("all", "0", "1")


def check(params: dict) -> None:
    check_choice("digits-mlp", params, "multiplier", MULTIPLIERS)
    check_choice("digits-mlp", params, "layers", LAYERS)
    w = params["width"]
    if not isinstance(w, int) or not 2 <= w <= 32:
        raise ValueError(f"digits-mlp: width must be an integer in 2..32, not {w!r}")
    if params["multiplier"] == "mitchell":
        from hwsim.mitchell import MitchellMulParams
        MitchellMulParams(width=w, signed=True, keep_bits=params["keep_bits"])
    check_int_param("digits-mlp", params, "hidden", 1, MAX_HIDDEN)
    check_int_param("digits-mlp", params, "epochs", 1, MAX_EPOCHS)


# -- float training (hwsim.studies.mlp) --------------------------------------------------------

@lru_cache(maxsize=16)
def train_float(seed: int, hidden: int, epochs: int):
    return tuple(mlp.train(seed, hidden, epochs)[0])


# -- approximate matrix products --------------------------------------------------------------

def fit_format(x: np.ndarray, width: int):
    """Signed Q format of ``width`` bits with just enough integer bits for max |x|."""
    from hwsim.fixed import FixedFormat
    peak = float(np.abs(x).max()) or 1.0
    int_bits = max(1, math.floor(math.log2(peak)) + 2)  # sign + magnitude bits
    return FixedFormat(int_bits, width - int_bits)


def quantize(x: np.ndarray, width: int):
    from hwsim.fixed import Overflow, Rounding
    fmt = fit_format(x, width)
    return fmt.quantize(x, rounding=Rounding.NEAREST_EVEN, overflow=Overflow.SATURATE), fmt


def mitchell_rel_error(a, b, width, keep_bits):
    """Relative error moments of the Mitchell products of raw operand pairs (non-zero exact)."""
    from hwsim.mitchell import MitchellMulParams, mitchell_mul
    p = mitchell_mul(a, b, MitchellMulParams(width=width, signed=True, keep_bits=keep_bits))
    exact = a * b
    nz = exact != 0
    rel = (p[nz] - exact[nz]) / np.abs(exact[nz])
    return float(rel.mean()), float(rel.std())


def approx_matmul(x: np.ndarray, w: np.ndarray, params: dict, rng) -> np.ndarray:
    """``x @ w`` with every scalar product through the chosen multiplier model."""
    kind = params["multiplier"]
    if kind == "float":
        return x @ w
    if kind.endswith("-trick"):
        from hwsim.mitchell import FloatFormat, bf16_from_float, bf16_to_float, mitchell_mul_float
        fmt = {"fp32-trick": FloatFormat.FP32, "bf16-trick": FloatFormat.BF16,
               "fp16-trick": FloatFormat.FP16}[kind]
        if fmt is FloatFormat.BF16:
            a, b = bf16_from_float(x), bf16_from_float(w)
            prod = bf16_to_float(mitchell_mul_float(a[:, :, None], b[None, :, :], fmt))
        else:
            dt = np.float32 if fmt is FloatFormat.FP32 else np.float16
            prod = mitchell_mul_float(x.astype(dt)[:, :, None], w.astype(dt)[None, :, :], fmt)
        return prod.astype(np.float64).sum(axis=1)
    width = params["width"]
    qx, fx = quantize(x, width)
    qw, fw = quantize(w, width)
    a, b = np.broadcast_arrays(qx[:, :, None], qw[None, :, :])
    scale = 2.0 ** -(fx.frac_bits + fw.frac_bits)
    exact = a * b
    if kind == "exact":
        prod = exact
    elif kind == "mitchell":
        from hwsim.mitchell import MitchellMulParams, mitchell_mul
        prod = mitchell_mul(np.ascontiguousarray(a), np.ascontiguousarray(b),
                            MitchellMulParams(width=width, signed=True,
                                              keep_bits=params["keep_bits"]))
    else:  # gaussian: the Mitchell error's first two moments on these operands, no structure
        mean, std = mitchell_rel_error(np.ascontiguousarray(a), np.ascontiguousarray(b), width,
                                       params["keep_bits"])
        return (exact * (1 + rng.normal(mean, std, exact.shape))).sum(axis=1) * scale
    return prod.sum(axis=1).astype(np.float64) * scale


def forward(x, w, params: dict, rng) -> np.ndarray:
    layers = str(params["layers"])
    use = {0: layers in ("all", "0"), 1: layers in ("all", "1")}
    float_params = dict(params, multiplier="float")
    h = approx_matmul(x, w[0], params if use[0] else float_params, rng) + w[1]
    h = np.maximum(h, 0)
    return approx_matmul(h, w[2], params if use[1] else float_params, rng) + w[3]


def run(params: dict, seed: int) -> dict:
    w = train_float(seed, params["hidden"], params["epochs"])
    _, _, xt, yt = mlp.dataset(seed)
    rng = np.random.default_rng(seed + 3000)
    logits = forward(xt, w, params, rng)
    ref = forward(xt, w, dict(params, multiplier="float"), rng)
    acc = float((logits.argmax(1) == yt).mean())
    float_acc = float((ref.argmax(1) == yt).mean())
    return {"accuracy": acc, "float_accuracy": float_acc, "delta_points": 100 * (acc - float_acc),
            "top1_agreement": float((logits.argmax(1) == ref.argmax(1)).mean())}


# -- the default study (``hwsim study digits-mlp``) and its report ---------------------------

WIDTHS = [4, 5, 6, 8, 10, 12, 16]


def default_sweep(quick: bool = False) -> dict:
    """The sweep ``hwsim study digits-mlp`` runs (``quick``: the demo's short version)."""
    widths = [4, 6, 8, 16] if quick else WIDTHS
    points = [{"multiplier": "float"}]
    points += [{"multiplier": m, "width": w} for m in ("exact", "mitchell") for w in widths]
    if not quick:
        points += [{"multiplier": "gaussian", "width": w} for w in widths]
        points += [{"multiplier": "mitchell", "width": w, "keep_bits": 2} for w in (6, 8, 12, 16)]
        points += [{"multiplier": t} for t in ("fp32-trick", "bf16-trick", "fp16-trick")]
        points += [{"multiplier": m, "width": 4, "layers": layer}
                   for m in ("mitchell", "exact") for layer in ("0", "1")]
    return {"study": "digits-mlp", "seeds": [0] if quick else [0, 1, 2], "points": points}


def _label(p: dict) -> str:
    if p["multiplier"] in ("float",) or p["multiplier"].endswith("-trick"):
        return p["multiplier"]
    k = "" if p["keep_bits"] is None else f", keep_bits={p['keep_bits']}"
    return f"{p['multiplier']}{k}"


def _stats(rows, **match):
    vals = [100 * r["metrics"]["accuracy"] for r in rows
            if all(r["params"].get(k) == v for k, v in match.items())]
    return (float(np.mean(vals)), float(np.std(vals)), len(vals)) if vals else None


def report(rows: list[dict], out) -> list[str]:
    from hwsim.render import plots
    seeds = sorted({r["seed"] for r in rows})
    fl = _stats(rows, multiplier="float")
    lines = ["## digits-mlp: a digits MLP through hwsim multipliers", "",
             f"sklearn digits (1797 8x8 images, seeded 80/20 splits), MLP 64-32-10 trained in "
             f"float64; test accuracy with every product of both layers through the multiplier "
             f"model, mean ± std over seeds {seeds}. Float reference: "
             f"**{fl[0]:.2f} %** ± {fl[1]:.2f}.", "",
             "| multiplier | " + " | ".join(f"{w} bits" for w in WIDTHS) + " |",
             "|---|" + "---|" * len(WIDTHS)]
    curves = {}
    for mult, keep in (("exact", None), ("mitchell", None), ("mitchell", 2), ("gaussian", None)):
        cells, pts = [], {}
        for w in WIDTHS:
            s = _stats(rows, multiplier=mult, width=w, keep_bits=keep, layers="all")
            cells.append(f"{s[0]:.2f} ± {s[1]:.2f}" if s else "-")
            if s:
                pts[w] = s[0]
        if pts:
            label = _label({"multiplier": mult, "keep_bits": keep})
            curves[label] = pts
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
    tricks = [(t, _stats(rows, multiplier=t)) for t in ("fp32-trick", "bf16-trick", "fp16-trick")]
    tricks = [(t, s) for t, s in tricks if s]
    if tricks:
        lines += ["", "Float bit trick (`mitchell_mul_float`, operands rounded to the format): " +
                  "; ".join(f"{t}: {s[0]:.2f} % ± {s[1]:.2f}" for t, s in tricks) + "."]
    if curves:
        plots.sweep_lines(out / "digits_accuracy_vs_width.png", "operand width [bits]",
                          "test accuracy [%]", curves, True)
        lines += ["", "![accuracy vs width](digits_accuracy_vs_width.png)"]
    attr = [(m, layer, _stats(rows, multiplier=m, width=4, layers=layer))
            for m in ("mitchell", "exact") for layer in ("0", "1", "all")]
    attr = [a for a in attr if a[2]]
    if len(attr) == 6:
        lines += ["", "### Which layer loses the accuracy (4-bit operands, the rest float)", "",
                  "| multiplier | hidden layer only | output layer only | both |", "|---|---|---|---|"]
        for m in ("mitchell", "exact"):
            cells = [f"{s[0]:.2f}" for mm, _, s in attr if mm == m]
            lines.append(f"| {m} | " + " | ".join(cells) + " |")
    gm = [(w, _stats(rows, multiplier="mitchell", width=w, keep_bits=None, layers="all"),
           _stats(rows, multiplier="gaussian", width=w, layers="all")) for w in WIDTHS]
    gm = [(w, m, g) for w, m, g in gm if m and g]
    if gm:
        lines += ["", "### Bit-exact Mitchell against a Gaussian error model", "",
                  "The Gaussian model multiplies each exact product by 1 + N(mean, std) with the "
                  "mean and standard deviation of the Mitchell relative error measured on the same "
                  "operands.", "", "| width | Mitchell (bit-exact) | Gaussian model | difference |",
                  "|---|---|---|---|"]
        for w, m, g in gm:
            lines.append(f"| {w} | {m[0]:.2f} | {g[0]:.2f} | {g[0] - m[0]:+.2f} |")
        worst = max(gm, key=lambda t: abs(t[2][0] - t[1][0]))
        lines += ["", f"Largest difference: {worst[2][0] - worst[1][0]:+.2f} points at "
                  f"{worst[0]} bits (seed spread there: ± {worst[1][1]:.2f}). Mitchell's error is "
                  "a deterministic bias (every product is scaled by 8/9..1, so all logits shrink "
                  "alike and argmax mostly ignores it); the Gaussian model spends the same moments "
                  "on independent noise per product. On this workload both put the break-down at "
                  "the same width; differences this small are within the seed spread."]
    if len(attr) == 6:
        m0, m1 = attr[0][2][0], attr[1][2][0]
        lines += ["", f"Layer attribution: with only the hidden layer approximate Mitchell keeps "
                  f"{m0:.2f} %, with only the output layer {m1:.2f} %: the "
                  f"{'output' if m1 < m0 else 'hidden'} layer (10 logits from 32 activations, "
                  "no averaging over many products) is where 4-bit products hurt."]
    return lines + [""]
