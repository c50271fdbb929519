"""Study ``performer-minilm``: MiniLM with FAVOR+ in place of softmax attention, no fine-tuning.

Every head of the chosen ``layers`` (``"all"`` or one index 0..5) computes
``phi(Q) (phi(K)^T V) / (phi(Q) phi(K)^T 1)`` with ``features`` = m positive random features
(``kind``: i.i.d., orthogonal, orthogonal with chi-quantile norms; the seed draws omega and the
sentence sample) instead of ``softmax(Q K^T / sqrt(d)) V``
(:class:`hwsim.eval.hooks.PerformerAttention`). ``feature_frac``: ``None`` for
float features, or the fraction bits of features from the LUT exp unit. The pretrained weights
expect softmax attention, so fidelity is expected to drop; the study measures how far, and how
it moves with m = d .. 8d (d = 32 per head).
"""

from __future__ import annotations

import numpy as np

from hwsim.studies import minilm_eval as E
from hwsim.studies import check_choice

KINDS = ("iid", "orthogonal", "orthogonal_quantile")
LAYER_CHOICES = ("all", "0", "1", "2", "3", "4", "5")


def attention(params: dict, seed: int):
    from hwsim.performer import FeatureKind
    from hwsim.eval.hooks import PerformerAttention
    layers = None if str(params["layers"]) == "all" else (int(params["layers"]),)
    return PerformerAttention(features=params["features"], kind=FeatureKind(params["kind"]),
                              seed=seed, feature_frac=params["feature_frac"], layers=layers)


def check(params: dict) -> None:
    check_choice("performer-minilm", params, "kind", KINDS)
    check_choice("performer-minilm", params, "layers", LAYER_CHOICES)
    try:
        attention(params, 0)
    except (TypeError, ValueError) as e:
        raise type(e)(f"performer-minilm: {e}") from None
    E.check_data("performer-minilm", params)


def run(params: dict, seed: int) -> dict:
    from hwsim.studies.minilm import Arithmetic
    return E.evaluate(params, seed, Arithmetic(attention=attention(params, seed)))


# -- the default study and its report -------------------------------------------------------

FEATURES = (32, 64, 128, 256)


def default_sweep(quick: bool = False) -> dict:
    feats = (32, 128) if quick else FEATURES
    kinds = ("iid", "orthogonal") if quick else KINDS
    points = [{"features": m, "kind": k} for m in feats for k in kinds]
    if not quick:
        points += [{"features": 128, "feature_frac": f} for f in (6, 8, 12)]
        points += [{"features": 256, "layers": str(i)} for i in range(6)]
    return {"study": "performer-minilm", "seeds": [0] if quick else [0, 1, 2],
            "fixed": {"sentences": 100 if quick else 300}, "points": points}


def _stats(rows, metric, **match):
    v = [r["metrics"][metric] for r in rows if all(r["params"].get(k) == x for k, x in match.items())]
    return (float(np.mean(v)), float(np.std(v))) if v else None


def report(rows: list[dict], out) -> list[str]:
    from hwsim.render import plots
    seeds = sorted({r["seed"] for r in rows})
    feats = sorted({r["params"]["features"] for r in rows})
    lines = ["## performer-minilm: FAVOR+ in place of MiniLM's softmax attention", "",
             f"Every head of all 6 layers uses FAVOR+ with m random features; no fine-tuning. "
             f"{E.sentence_counts(rows)} {E.corpus_label(rows)} sentences; mean ± std over omega seeds "
             f"{seeds}. cos: embedding cosine to the float encoder; ρ: Spearman of all pairwise "
             "similarities; NN: nearest-neighbour agreement.", "",
             "| features | " + " | ".join(f"m = {m} ({m // 32}d)" for m in feats) + " |",
             "|---|" + "---|" * len(feats)]
    curves = {}
    for kind in KINDS:
        cells, pts = [], {}
        for m in feats:
            match = dict(kind=kind, features=m, feature_frac=None, layers="all")
            c, rho, nn = (_stats(rows, x, **match) for x in ("cos_mean", "spearman", "nn_agreement"))
            if c is None:
                cells.append("-")
                continue
            cells.append(f"cos {c[0]:.3f}, ρ {rho[0]:.3f} ± {rho[1]:.3f}, NN {nn[0]:.2f}")
            pts[m] = rho[0]
        if pts:
            curves[kind] = pts
            lines.append(f"| {kind} | " + " | ".join(cells) + " |")
    if curves:
        plots.sweep_lines(out / "performer_minilm_features.png", "random features m",
                          "Spearman vs float MiniLM", curves, True)
        lines += ["", "![Spearman vs m](performer_minilm_features.png)"]
    frac = [(f, _stats(rows, "spearman", features=128, kind="orthogonal", feature_frac=f,
                       layers="all")) for f in (None, 6, 8, 12)]
    frac = [(f, s) for f, s in frac if s]
    if len(frac) > 1:
        lines += ["", "Fixed-point features (LUT exp unit, UQ1.F, m = 128 orthogonal): " +
                  "; ".join(f"{'float' if f is None else f'F = {f}'}: ρ {s[0]:.3f}" for f, s in frac)
                  + "."]
    per_layer = [(i, _stats(rows, "spearman", features=256, kind="orthogonal", layers=str(i)))
                 for i in range(6)]
    per_layer = [(i, s) for i, s in per_layer if s]
    if per_layer:
        lines += ["", "One layer at a time (m = 256 orthogonal, the other layers exact softmax): " +
                  "; ".join(f"layer {i}: ρ {s[0]:.3f}" for i, s in per_layer) + "."]
    return lines + [""]
