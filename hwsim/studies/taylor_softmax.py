"""Study ``taylor-softmax``: the even-order Taylor softmax as the MLP's output layer.

``f_n(z_i) / sum_j f_n(z_j)`` with ``f_n(z) = sum_{k<=n} z**k / k!`` (positive for even n)
replaces softmax in training (its exact gradient) and evaluation; orders 2..8 against
softmax, same seeds, same recipe (``hwsim.studies.mlp``). The report also tabulates the
minimisers of f_n (the even-order Taylor facts, ``hwsim.exp.taylor_minimizer``).
"""

from __future__ import annotations

import numpy as np

from hwsim.studies import mlp
from hwsim._check import is_int
from hwsim.studies import MAX_EPOCHS, MAX_HIDDEN, check_choice, check_int_param

OUTPUTS = ("softmax", "taylor")


def check(params: dict) -> None:
    check_choice("taylor-softmax", params, "output", OUTPUTS)
    order = params["order"]
    if params["output"] == "taylor" and (not is_int(order) or order not in (2, 4, 6, 8)):
        raise ValueError(f"taylor-softmax: order must be 2, 4, 6 or 8 (even: odd orders go "
                         f"negative), not {order!r}")
    check_int_param("taylor-softmax", params, "hidden", 1, MAX_HIDDEN)
    check_int_param("taylor-softmax", params, "epochs", 1, MAX_EPOCHS)


def run(params: dict, seed: int) -> dict:
    output = "softmax" if params["output"] == "softmax" else ("taylor", params["order"])
    _, curve = mlp.train(seed, params["hidden"], params["epochs"], output=output)
    return {"accuracy": curve[-1], "curve": curve}


def default_sweep(quick: bool = False) -> dict:
    points = [{"output": "softmax"}] + [{"output": "taylor", "order": n} for n in (2, 4, 6, 8)]
    return {"study": "taylor-softmax", "seeds": [0] if quick else [0, 1, 2], "points": points}


def report(rows: list[dict], out) -> list[str]:
    from hwsim.render import plots
    from hwsim.exp import taylor_minimizer
    lines = ["## taylor-softmax: Taylor softmax as the output layer", "",
             "The digits MLP (64-32-10) trained and evaluated with the even-order Taylor softmax "
             "f_n(z_i) / sum_j f_n(z_j) instead of softmax (same seeds, same recipe).", "",
             "| output | test accuracy [%] (mean ± std) | seeds |", "|---|---|---|"]
    curves = {}
    for label, match in [("softmax", {"output": "softmax"})] + [
            (f"Taylor n={n}", {"output": "taylor", "order": n}) for n in (2, 4, 6, 8)]:
        rs = [r for r in rows if all(r["params"][k] == v for k, v in match.items())]
        if not rs:
            continue
        acc = [100 * r["metrics"]["accuracy"] for r in rs]
        lines.append(f"| {label} | {np.mean(acc):.2f} ± {np.std(acc):.2f} | {len(rs)} |")
        mean_curve = np.mean([r["metrics"]["curve"] for r in rs], axis=0)
        curves[label] = {i + 1: 100 * v for i, v in enumerate(mean_curve)}
    plots.sweep_lines(out / "taylor_softmax_curves.png", "epoch", "test accuracy [%]", curves, True)
    lines += ["", "![learning curves](taylor_softmax_curves.png)", "",
              "Minimisers of the even-order Taylor polynomials (where the Taylor softmax's "
              "weight function turns back up; hwsim's exp unit clamps there):", "",
              "| order n | t* | f_n(t*) |", "|---|---|---|"]
    for n in (2, 4, 6, 8):
        t, f = taylor_minimizer(n)
        lines.append(f"| {n} | {t:.3f} | {f:.4f} |")
    return lines + [""]
