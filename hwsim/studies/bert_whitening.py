"""Study ``bert-whitening``: whitened, reduced MiniLM embeddings in fixed point.

BERT-whitening (Su et al., 2021): with ``mu`` the mean of a set of sentence embeddings and
``Sigma = U Lambda U^T`` the SVD of their covariance, ``y = (x - mu) W`` with
``W = U[:, :k] Lambda[:k]^(-1/2)`` keeps the ``k`` leading of 384 dimensions and whitens them;
similarity is the cosine of the ``y``.

The encoder is the float MiniLM; the whitening transform is the part under study: ``mu`` is
subtracted in float, then ``(x - mu) W`` runs in ``arithmetic`` = ``float``, or block floating
point with exact or Mitchell products of ``width`` bits
(:class:`hwsim.eval.hooks.FixedMatmul`). ``mu`` and ``W`` are fitted on the
study's own sentences (and, with an STS file, on the STS sentences for the STS metric).

Metrics: ``spearman`` / ``nn_agreement`` of the whitened embeddings against the float
full-dimension embeddings (the ranking a user had before whitening); ``spearman_arith``: against
the float whitened ones at the same k (the arithmetic's own damage); with an STS file
``sts_spearman`` (whitened, this arithmetic) and ``sts_spearman_float`` (plain float encoder).
"""

from __future__ import annotations

import numpy as np

from hwsim.studies import STUDIES
from hwsim.studies import minilm_eval as E
from hwsim.studies import sentences as S
from hwsim.studies import check_choice

ARITHMETIC = ("float", "exact", "mitchell")


def fit(x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """``(mu, W)``: mean and the ``(d, k)`` whitening matrix of the rows of ``x``."""
    x = np.asarray(x, np.float64)
    mu = x.mean(0)
    u, lam, _ = np.linalg.svd(np.cov(x - mu, rowvar=False))
    return mu, u[:, :k] / np.sqrt(np.maximum(lam[:k], np.finfo(np.float64).tiny))


def whiten(x: np.ndarray, mu: np.ndarray, w: np.ndarray, params: dict) -> np.ndarray:
    c = np.asarray(x, np.float64) - mu
    if params["arithmetic"] == "float":
        return c @ w
    return _products(params)(c, w)


def _products(params: dict):
    """The study's ``arithmetic`` (``exact`` / ``mitchell``) as a block-FP matrix product
    on that product unit (``keep_bits``: Mitchell's)."""
    from hwsim.eval.hooks import fixed_matmul
    keep = {"keep_bits": params["keep_bits"]} if params["arithmetic"] == "mitchell" else {}
    return fixed_matmul(f"{params['arithmetic']}-mul", params["width"], **keep)


def check(params: dict) -> None:
    check_choice("bert-whitening", params, "arithmetic", ARITHMETIC)
    k = params["k"]
    if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= 384:
        raise ValueError(f"bert-whitening: k must be an integer in 1..384, not {k!r}")
    if params["arithmetic"] != "float":
        _products(params)
    E.check_data("bert-whitening", params)


def run(params: dict, seed: int) -> dict:
    mt, k = params["max_tokens"], params["k"]
    texts = E.sample(params, seed)
    ref = E.float_embeddings(texts, mt)
    mu, w = fit(ref, k)
    y = whiten(ref, mu, w, params)
    out = S.fidelity(ref, y, same_space=False)
    out["n_sentences"] = len(texts)
    y_float = (np.asarray(ref, np.float64) - mu) @ w
    out["spearman_arith"] = S.spearman(S.pair_cosines(y_float), S.pair_cosines(y))
    sts_list, data = E.sts_texts(params)
    if data is not None:
        ref_sts = E.float_embeddings(sts_list, mt)
        mu_s, w_s = fit(ref_sts, k)
        out["sts_spearman"] = E.sts_spearman(sts_list, whiten(ref_sts, mu_s, w_s, params), data)
        out["sts_spearman_float"] = E.sts_spearman(sts_list, ref_sts, data)
    return out


# -- the default study and its report -------------------------------------------------------

KS = (32, 64, 128, 256, 384)


def default_sweep(quick: bool = False) -> dict:
    ks = (32, 128) if quick else KS
    widths = (8,) if quick else (6, 8, 12)
    points = [{"k": k} for k in ks]
    points += [{"k": k, "arithmetic": a, "width": w} for k in ks for a in ("exact", "mitchell")
               for w in widths]
    # all 600 sentences: the covariance of fewer than 384 has zero eigenvalues, and
    # Lambda^(-1/2) of those is pure noise; the seeds draw nothing then, so one is enough
    return {"study": "bert-whitening", "seeds": [0],
            "fixed": {"sentences": 0}, "points": points}


def report(rows: list[dict], out) -> list[str]:
    from hwsim.render import plots
    ks = sorted({r["params"]["k"] for r in rows})
    lines = ["## bert-whitening: whitened MiniLM embeddings in fixed point", "",
             f"BERT-whitening fitted on {E.sentence_counts(rows)} {E.corpus_label(rows)} sentences, "
             f"keeping k of 384 dimensions; ρ = Spearman of all "
             "pairwise cosine similarities against the float full-dimension embeddings "
             "(mean over seeds), in brackets against float whitening at the same k.", "",
             "| arithmetic | " + " | ".join(f"k = {k}" for k in ks) + " |", "|---|" + "---|" * len(ks)]
    configs = sorted({(r["params"]["arithmetic"], r["params"]["width"]) for r in rows},
                     key=lambda c: (c[0] != "float", c))
    damage = {}
    for a, w in configs:
        if a == "float" and w != STUDIES["bert-whitening"].params["width"]:
            continue
        match = {"arithmetic": a} if a == "float" else {"arithmetic": a, "width": w}
        cells, pts = [], {}
        for k in ks:
            rs = [r for r in rows if r["params"]["k"] == k and
                  all(r["params"][x] == v for x, v in match.items())]
            if not rs:
                cells.append("-")
                continue
            rho = float(np.mean([r["metrics"]["spearman"] for r in rs]))
            ra = float(np.mean([r["metrics"]["spearman_arith"] for r in rs]))
            cells.append(f"{rho:.4f} ({ra:.4f})")
            pts[k] = max(1 - ra, 1e-7)
        label = "float" if a == "float" else f"{a} {w}-bit"
        damage[label] = pts
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    damage = {label: pts for label, pts in damage.items() if label != "float" and pts}
    if damage:
        plots.sweep_lines(out / "bert_whitening_k.png", "kept dimensions k",
                          "1 - ρ vs float whitening", damage, True, logy=True)
        lines += ["", "What the arithmetic itself costs (against float whitening at the same k; "
                  "float whitening against the full-dimension embeddings is the table's first "
                  "row):", "", "![arithmetic damage vs k](bert_whitening_k.png)"]
    sts = [r for r in rows if "sts_spearman" in r["metrics"]]
    if sts:
        lines += ["", f"STS benchmark: plain float MiniLM ρ = "
                  f"{sts[0]['metrics']['sts_spearman_float']:.4f} against gold.", "",
                  "| arithmetic | k | STS ρ |", "|---|---|---|"]
        for r in sts:
            p = r["params"]
            lines.append(f"| {p['arithmetic']} {'' if p['arithmetic'] == 'float' else p['width']} "
                         f"| {p['k']} | {r['metrics']['sts_spearman']:.4f} |")
    return lines + [""]
