"""Study ``minilm-units``: the pretrained MiniLM sentence encoder through hwsim units.

One configuration replaces, in all 6 layers and 12 heads of all-MiniLM-L6-v2
(:mod:`hwsim.studies.minilm`):

* the attention softmax by the softmax unit (``softmax`` = form ``two_pass`` / ``online`` /
  ``taylor``, exp ``method``, ``normalizer``, scores in ``in_fmt``, probabilities in
  ``UQ1.(out_bits-1)``), or by float softmax with only the exp in hardware (``exp-only``),
  or nothing (``float``);
* the attention products Q K^T and P V (``products``) and/or every dense layer (``linear``) by
  block-floating-point exact or Mitchell products of ``product_bits`` bits
  (``product_format = "bfp"``, :class:`hwsim.eval.hooks.FixedMatmul`), or by the float multiplier
  unit (``product_format`` = ``fp32`` / ``bf16`` / ``fp16`` / ``e4m3`` / ``e5m2``; products
  ``exact`` / ``mitchell`` / ``lmul`` (L-Mul as hardware adds the patterns) / ``lmul-paper``
  (L-Mul's formula read literally); :class:`hwsim.eval.hooks.FloatMatmul`, sums in float32)
  with operands scaled by powers of two (``float_scale``: ``tensor`` = one scale per
  attention matrix, i.e. per sentence and head, and in dense layers per token and per
  weight column, because the dense hook sees a batch's tokens as one matrix and a
  sentence's result must not depend on its batch; ``vector`` = per row / column everywhere;
  ``none``);
* or each whole head (``head`` = ``exact`` / ``mitchell``) by the fixed-point attention head
  unit (:class:`hwsim.eval.hooks.AttentionHeadHook`, the model of the verified RTL
  head): Q, K, V in ``Q5.(head_bits-5)`` (MiniLM's reach ±8.7), 1/sqrt(32) with 12 fraction
  bits, the two-pass softmax configured by the softmax parameters, outputs Q4.12; at most 32
  tokens (``max_tokens <= 32``).

Metrics against the float encoder on the same sentences
(:func:`hwsim.studies.sentences.fidelity`): embedding cosine (mean, min), Spearman of all
pairwise similarities, nearest-neighbour agreement; with an STS file, Spearman against gold.
"""

from __future__ import annotations

import numpy as np

from hwsim.studies import check_choice
from hwsim.studies import minilm_eval as E

SOFTMAX = ("float", "two_pass", "online", "taylor", "exp-only")
PRODUCTS = ("float", "exact", "mitchell", "lmul", "lmul-paper")
#: the float-mul methods the float tables report, in their order
FLOAT_METHODS = ("exact", "mitchell", "lmul", "lmul-paper")
#: product_format: block floating point integers, or a float format of the float-mul unit
PRODUCT_FORMATS = ("bfp", "fp32", "bf16", "fp16", "e4m3", "e5m2")
HEADS = ("none", "exact", "mitchell")



def _softmax_hook(params: dict):
    from hwsim.exp import ExpMethod, ExpParams
    from hwsim.fixed import FixedFormat
    from hwsim.softmax import Normalizer, SoftmaxForm
    from hwsim.eval.hooks import ExpSoftmax, SoftmaxHook, softmax_params_for
    kind = params["softmax"]
    if kind == "float":
        return None
    in_fmt = FixedFormat.parse(params["in_fmt"])
    method = ExpMethod(params["method"])
    if kind == "exp-only":
        ob = params["out_bits"]
        return ExpSoftmax(ExpParams(in_fmt=FixedFormat(in_fmt.int_bits + 1, in_fmt.frac_bits),
                                    out_fmt=FixedFormat(1, ob - 1, signed=False), method=method,
                                    lut_bits=params["lut_bits"]))
    return SoftmaxHook(softmax_params_for(
        params["out_bits"], length=64, in_fmt=in_fmt, form=SoftmaxForm(kind), method=method,
        normalizer=Normalizer(params["normalizer"]), lut_bits=params["lut_bits"]))


def _matmul(params: dict, which: str):
    from hwsim.eval.hooks import FloatMatmul, fixed_matmul
    kind = params[which]
    if kind == "float":
        return None
    fmt = params["product_format"]
    if fmt == "bfp":
        if kind in ("lmul", "lmul-paper"):
            raise ValueError(f"{which} = {kind} needs a float product_format "
                             f"({', '.join(PRODUCT_FORMATS[1:])}), not bfp")
        keep = {"keep_bits": params["keep_bits"]} if kind == "mitchell" else {}
        return fixed_matmul(f"{kind}-mul", params["product_bits"], **keep)
    from hwsim.float_mul import FloatMethod, FloatMulParams, FloatType
    if params["keep_bits"] is not None:
        raise ValueError(f"keep_bits applies to product_format = bfp only, not {fmt}")
    scale = params["float_scale"]
    if which == "linear" and scale == "tensor":
        scale = "vector"  # the dense hook sees a batch's tokens as one matrix
    return FloatMatmul(FloatMulParams(fmt=FloatType(fmt), method=FloatMethod(kind)),
                       scale=scale)


def head_params(params: dict):
    """The AttentionParams of ``head`` (length 32: each call sets its own)."""
    from hwsim.attention import AttentionParams, Multiplier
    from hwsim.exp import ExpMethod
    from hwsim.fixed import FixedFormat
    from hwsim.softmax import Normalizer
    hb = params["head_bits"]
    if not isinstance(hb, int) or isinstance(hb, bool) or not 6 <= hb <= 16:
        raise ValueError(f"head_bits must be an integer in 6..16, not {hb!r}")
    mult = Multiplier(params["head"])
    return AttentionParams(
        length=32, dim=32, in_fmt=FixedFormat(5, hb - 5), out_fmt=FixedFormat(4, 12),
        multiplier=mult, keep_bits=params["keep_bits"] if mult is Multiplier.MITCHELL else None,
        scale_bits=12, softmax_in_fmt=FixedFormat.parse(params["in_fmt"]),
        softmax_out_fmt=FixedFormat(1, params["out_bits"] - 1, signed=False),
        softmax_method=ExpMethod(params["method"]), softmax_normalizer=Normalizer(params["normalizer"]))


def arithmetic(params: dict):
    from hwsim.studies.minilm import Arithmetic
    if params["head"] != "none":
        from hwsim.eval.hooks import AttentionHeadHook
        return Arithmetic(attention=AttentionHeadHook(head_params(params)),
                          linear=_matmul(params, "linear"))
    return Arithmetic(softmax=_softmax_hook(params), attention_products=_matmul(params, "products"),
                      linear=_matmul(params, "linear"))


def check(params: dict) -> None:
    check_choice("minilm-units", params, "softmax", SOFTMAX)
    for k in ("products", "linear"):
        check_choice("minilm-units", params, k, PRODUCTS)
    check_choice("minilm-units", params, "product_format", PRODUCT_FORMATS)
    from hwsim.eval.hooks import FLOAT_SCALES
    check_choice("minilm-units", params, "float_scale", FLOAT_SCALES)
    check_choice("minilm-units", params, "head", HEADS)
    if params["head"] != "none":
        if params["softmax"] != "two_pass" or params["products"] != "float":
            raise ValueError("minilm-units: head replaces the whole attention (its softmax is "
                             "two-pass, its products its own); give softmax = two_pass and "
                             "products = float with it")
        if params["max_tokens"] > 32:
            raise ValueError(f"minilm-units: the attention head unit takes at most 32 tokens; "
                             f"give max_tokens <= 32 with head, not {params['max_tokens']}")
    ob = params["out_bits"]
    if not isinstance(ob, int) or not 8 <= ob <= 24:
        raise ValueError(f"minilm-units: out_bits must be an integer in 8..24, not {ob!r}")
    try:
        arithmetic(params)
    except (TypeError, ValueError) as e:
        raise type(e)(f"minilm-units: {e}") from None
    E.check_data("minilm-units", params)


def run(params: dict, seed: int) -> dict:
    return E.evaluate(params, seed, arithmetic(params))


# -- the default study and its report -------------------------------------------------------

OUT_BITS = (8, 12, 16)
METHODS = ("lut", "pwl", "mitchell", "ibert")
VARIANTS = [("two_pass", n, m) for n in ("exact_div", "mitchell_div", "reciprocal_lut")
            for m in METHODS] + [("online", n, "lut") for n in ("exact_div", "mitchell_div",
                                                                 "reciprocal_lut")]
#: (label, match) of the rows with 8-bit scores Q4.8 (saturating at +-8)
Q48 = [("taylor (order 4), Q4.8 scores", {"softmax": "taylor", "method": "taylor"}),
       ("two_pass, lut exp, exact_div, Q4.8 scores", {"softmax": "two_pass", "method": "lut",
                                                      "normalizer": "exact_div"})]


#: (product_format, products) of the float-unit attention-products table
FLOAT_PRODUCTS = [("fp32", "exact")] + [(f, k) for f in ("bf16", "fp16", "e4m3", "e5m2")
                                         for k in FLOAT_METHODS]
#: (product_format, linear) of the float-unit dense-layer table, on FLOAT_LINEAR_SENTENCES
FLOAT_LINEAR = [(f, k) for f in ("bf16", "e4m3") for k in FLOAT_METHODS]
FLOAT_LINEAR_SENTENCES = 30
_FMT_LABEL = {"fp32": "fp32", "bf16": "bf16", "fp16": "fp16", "e4m3": "fp8 e4m3",
              "e5m2": "fp8 e5m2"}
_METHOD_LABEL = {"exact": "exact (RNE)", "mitchell": "Mitchell", "lmul": "L-Mul",
                 "lmul-paper": "L-Mul, paper formula"}


def default_sweep(quick: bool = False) -> dict:
    """Every softmax variant at 8/12/16-bit outputs, exact and Mitchell attention products
    at 4..16 bits, the float multiplier units (exact, Mitchell, both L-Mul readings in fp32 ..
    fp8) in the
    attention products and in every dense layer; ``quick``: fewer variants and sentences
    and no float units (the demo)."""
    variants = [v for v in VARIANTS if v[2] == "lut"] if quick else VARIANTS
    points = [{"softmax": "float"}]
    points += [{"softmax": f, "normalizer": n, "method": m, "out_bits": b}
               for f, n, m in variants for b in OUT_BITS]
    points += [{"softmax": "exp-only", "method": m, "out_bits": b}
               for m in (("lut",) if quick else METHODS) for b in OUT_BITS]
    if not quick:  # Taylor needs a small input range (no max subtraction): scores saturate at 8
        points += [{"softmax": sf, "method": m, "in_fmt": "Q4.8", "out_bits": b}
                   for sf, m in (("taylor", "taylor"), ("two_pass", "lut")) for b in OUT_BITS]
    for w in ((4, 8) if quick else (4, 6, 8, 12, 16)):
        points += [{"softmax": "float", "products": k, "product_bits": w} for k in ("exact", "mitchell")]
    if not quick:
        points += [{"head": h, "head_bits": b, "out_bits": 12, "max_tokens": 32}
                   for h in ("exact", "mitchell") for b in (8, 12, 16)]
        points += [{"softmax": "float", "linear": k, "product_bits": w, "sentences": 60}
                   for k in ("exact", "mitchell") for w in (8, 12)]
        points += [{"softmax": "two_pass", "products": "mitchell", "product_bits": 8, "out_bits": b}
                   for b in OUT_BITS]
        points += [{"softmax": "float", "products": k, "product_format": f}
                   for f, k in FLOAT_PRODUCTS]
        points += [{"softmax": "float", "linear": k, "product_format": f,
                    "sentences": FLOAT_LINEAR_SENTENCES} for f, k in FLOAT_LINEAR]
    return {"study": "minilm-units", "seeds": [0],
            "fixed": {"sentences": 100 if quick else 300}, "points": points}


def _label(p: dict) -> str:
    if p["softmax"] == "exp-only":
        return f"exp-only ({p['method']} exp, float normaliser)"
    if p["softmax"] in ("float",):
        return "float softmax"
    return f"{p['softmax']}, {p['method']} exp, {p['normalizer']}"


def _mean(rows, metric, **match):
    v = [r["metrics"][metric] for r in rows if all(r["params"].get(k) == x for k, x in match.items())]
    return float(np.mean(v)) if v else None


def report(rows: list[dict], out) -> list[str]:
    from hwsim.render import plots
    n = max(r["metrics"].get("n_sentences", r["params"]["sentences"]) for r in rows)
    lines = ["## minilm-units: MiniLM through hardware softmax and multipliers", "",
             f"all-MiniLM-L6-v2 in numpy on {n} {E.corpus_label(rows)} sentences (fewer where a table "
             "says so), every layer and head through the unit; compared with the float encoder. "
             "cos = mean (min) cosine between a sentence's two embeddings; ρ = Spearman of all "
             "pairwise similarities; NN = nearest-neighbour agreement. Scores enter the softmax "
             "unit in Q7.5 (rounded, saturating at ±64; MiniLM's scores reach ±39) unless the "
             "row says Q4.8 (saturating at ±8, which the Taylor form needs: it has no max "
             "subtraction, so its exp range grows with the input range).", "",
             "| softmax variant | " + " | ".join(f"{b}-bit cos (min) / ρ / NN" for b in OUT_BITS) + " |",
             "|---|" + "---|" * len(OUT_BITS)]
    curves = {}
    table = []
    for f, nm, m in VARIANTS + [("exp-only", "exact_div", m) for m in METHODS]:
        match = dict(softmax=f, method=m, in_fmt="Q7.5")
        if f != "exp-only":
            match["normalizer"] = nm
        table.append((_label({"softmax": f, "method": m, "normalizer": nm}), match))
    table += [(label, dict(match, in_fmt="Q4.8")) for label, match in Q48]
    for label, match in table:
        match = dict(match, products="float", linear="float", head="none")
        cells, pts = [], {}
        for b in OUT_BITS:
            c = _mean(rows, "cos_mean", out_bits=b, **match)
            if c is None:
                cells.append("-")
                continue
            cmin = _mean(rows, "cos_min", out_bits=b, **match)
            rho = _mean(rows, "spearman", out_bits=b, **match)
            nn = _mean(rows, "nn_agreement", out_bits=b, **match)
            cells.append(f"{c:.5f} ({cmin:.4f}) / {rho:.5f} / {nn:.3f}")
            pts[b] = max(1 - rho, 1e-7)
        if pts:
            curves[label] = pts
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
    if curves:
        shown = [label for label in curves if "lut exp" in label and "reciprocal" not in label
                 or "mitchell exp, exact_div" in label or "taylor" in label
                 or label.startswith("exp-only (lut") or label.startswith("exp-only (mitchell")]
        top = {label: curves[label] for label in shown}
        plots.sweep_lines(out / "minilm_softmax_bits.png", "softmax output bits",
                          "1 - Spearman vs float (log)", top, True, logy=True)
        lines += ["", "![1 - Spearman vs output bits](minilm_softmax_bits.png)"]
    prod = [(k, w) for k in ("exact", "mitchell") for w in (4, 6, 8, 12, 16)
            if _mean(rows, "spearman", softmax="float", products=k, product_bits=w,
                     product_format="bfp") is not None]
    if prod:
        lines += ["", "### Attention products Q·K^T and P·V (block floating point, float softmax)",
                  "", "| multiplier | bits | cos (min) | ρ | NN |", "|---|---|---|---|---|"]
        for k, w in prod:
            m = dict(softmax="float", products=k, product_bits=w, linear="float", head="none",
                     product_format="bfp")
            lines.append(f"| {k} | {w} | {_mean(rows, 'cos_mean', **m):.5f} "
                         f"({_mean(rows, 'cos_min', **m):.4f}) | {_mean(rows, 'spearman', **m):.5f} "
                         f"| {_mean(rows, 'nn_agreement', **m):.3f} |")
    lines += _float_tables(rows)
    lin = [(k, w) for k in ("exact", "mitchell") for w in (8, 12)
           if _mean(rows, "spearman", linear=k, product_bits=w, product_format="bfp") is not None]
    if lin:
        nl = sorted({r["params"]["sentences"] for r in rows if r["params"]["linear"] != "float"
                     and r["params"].get("product_format", "bfp") == "bfp"})
        lines += ["", "### Every dense layer too (Q, K, V, output, FFN; float softmax; "
                  f"{', '.join(map(str, nl))} sentences)", "",
                  "| multiplier | bits | cos (min) | ρ | NN |", "|---|---|---|---|---|"]
        for k, w in lin:
            m = dict(linear=k, product_bits=w, head="none", product_format="bfp")
            lines.append(f"| {k} | {w} | {_mean(rows, 'cos_mean', **m):.5f} "
                         f"({_mean(rows, 'cos_min', **m):.4f}) | {_mean(rows, 'spearman', **m):.5f} "
                         f"| {_mean(rows, 'nn_agreement', **m):.3f} |")
    heads = [(h, b) for h in ("exact", "mitchell") for b in (8, 12, 16)
             if _mean(rows, "spearman", head=h, head_bits=b) is not None]
    if heads:
        lines += ["", "### The whole attention head unit (the verified RTL head's model)", "",
                  "Each head through `hwsim.attention.attention_fixed`: Q, K, V in "
                  "Q5.(bits-5), scores Q7.5, 12-bit probabilities (two-pass, LUT exp, exact "
                  "divider), outputs Q4.12; sentences truncated to 32 tokens (the unit's limit), "
                  "float reference at the same truncation.", "",
                  "| head products | Q/K/V bits | cos (min) | ρ | NN |", "|---|---|---|---|---|"]
        for h, b in heads:
            m = dict(head=h, head_bits=b)
            lines.append(f"| {h} | {b} | {_mean(rows, 'cos_mean', **m):.5f} "
                         f"({_mean(rows, 'cos_min', **m):.4f}) | {_mean(rows, 'spearman', **m):.5f} "
                         f"| {_mean(rows, 'nn_agreement', **m):.3f} |")
    sts = [r for r in rows if "sts_spearman" in r["metrics"]]
    if sts:
        lines += ["", f"STS benchmark: float encoder ρ = "
                  f"{sts[0]['metrics']['sts_spearman_float']:.4f} against gold; the hardware "
                  f"configurations range {min(r['metrics']['sts_spearman'] for r in sts):.4f} .. "
                  f"{max(r['metrics']['sts_spearman'] for r in sts):.4f}."]
    return lines + [""]


def _float_tables(rows: list[dict]) -> list[str]:
    """The float-unit tables: attention products, then every dense layer."""
    lines = []
    for which, title in (("products", "Attention products Q·K^T and P·V in float formats "
                                      "(float-mul unit, float softmax)"),
                         ("linear", "Every dense layer in float formats (float-mul unit; "
                                    "attention products and softmax float)")):
        other = "linear" if which == "products" else "products"
        found = []
        for f in PRODUCT_FORMATS[1:]:
            for k in FLOAT_METHODS:
                m = {"softmax": "float", which: k, other: "float", "product_format": f,
                     "head": "none"}
                if _mean(rows, "spearman", **m) is not None:
                    found.append((f, k, m))
        if not found:
            continue
        n = sorted({r["metrics"].get("n_sentences", r["params"]["sentences"]) for r in rows
                    if r["params"][which] != "float" and r["params"].get("product_format", "bfp") != "bfp"})
        scales = sorted({r["params"].get("float_scale", "none") for r in rows
                         if r["params"][which] != "float" and r["params"].get("product_format", "bfp") != "bfp"})
        where = ("one per matrix, i.e. per sentence and head" if which == "products"
                 else "in dense layers one per token row and one per weight column")
        scaled = ("Operands are not scaled. " if scales == ["none"] else
                  f"Each operand is scaled by a power of two (`float_scale` = "
                  f"{', '.join(scales)}; {where}) so that its peak lies in [T/2, T), T = 16 in "
                  "e4m3 and 128 in the other formats (the product of two peaks fits the "
                  "format); ")
        lines += ["", f"### {title}", "",
                  f"{', '.join(map(str, n))} sentences. {scaled}operands are rounded to "
                  "nearest even into the format "
                  "(subnormals flushed to zero, e4m3 saturating at ±448), multiplied by the "
                  "float-mul unit's bit-exact model (`hwsim.float_mul.float_mul`), decoded and "
                  "summed in float32 in k order (`hwsim.eval.hooks.FloatMatmul`).", "",
                  "| format | multiplier | cos (min) | ρ | NN |", "|---|---|---|---|---|"]
        for f, k, m in found:
            lines.append(f"| {_FMT_LABEL[f]} | {_METHOD_LABEL[k]} | "
                         f"{_mean(rows, 'cos_mean', **m):.5f} ({_mean(rows, 'cos_min', **m):.4f}) "
                         f"| {_mean(rows, 'spearman', **m):.5f} "
                         f"| {_mean(rows, 'nn_agreement', **m):.3f} |")
    return lines
