"""Study ``mitchell-training`` (after Mogami, "Deep Neural Network Training without
Multiplications"): train the digits MLP with every matrix-product multiplication of the
forward and backward passes done by the float bit trick (``mitchell_mul_float``: add the bit
patterns), in fp32 or bf16, against float64 training with the same seeds and recipe.

Products are formed element by element through the trick and summed in float32 (fp32) or
float32 after bf16 rounding of the operands (bf16); biases, ReLU masks and the optimiser
stay float (``hwsim.studies.mlp``).
"""

from __future__ import annotations

import numpy as np

from hwsim.studies import mlp
from hwsim.studies import MAX_EPOCHS, MAX_HIDDEN, check_choice, check_int_param

ARITHMETIC = ("float", "fp32-trick", "bf16-trick")


def check(params: dict) -> None:
    check_choice("mitchell-training", params, "arithmetic", ARITHMETIC)
    check_int_param("mitchell-training", params, "hidden", 1, MAX_HIDDEN)
    check_int_param("mitchell-training", params, "epochs", 1, MAX_EPOCHS)


def trick_matmul(kind: str):
    from hwsim.mitchell import FloatFormat, bf16_from_float, bf16_to_float, mitchell_mul_float

    def matmul(a, b):
        if kind == "fp32-trick":
            p = mitchell_mul_float(a.astype(np.float32)[:, :, None], b.astype(np.float32)[None],
                                   FloatFormat.FP32)
        else:
            p = bf16_to_float(mitchell_mul_float(bf16_from_float(a)[:, :, None],
                                                 bf16_from_float(b)[None], FloatFormat.BF16))
        return p.astype(np.float32).sum(axis=1).astype(np.float64)
    return matmul


def run(params: dict, seed: int) -> dict:
    kind = params["arithmetic"]
    matmul = np.matmul if kind == "float" else trick_matmul(kind)
    _, curve = mlp.train(seed, params["hidden"], params["epochs"], matmul=matmul)
    return {"accuracy": curve[-1], "curve": curve}


def default_sweep(quick: bool = False) -> dict:
    return {"study": "mitchell-training", "seeds": [0] if quick else [0, 1, 2],
            "fixed": {"epochs": 10 if quick else 20},
            "grid": {"arithmetic": list(ARITHMETIC)}}


def report(rows: list[dict], out) -> list[str]:
    from hwsim.render import plots
    lines = ["## mitchell-training: training without multiplications", "",
             "The digits MLP (64-32-10, Adam) trained with every multiplication inside its matrix "
             "products (forward and backward) done by adding float bit patterns, against float64 "
             "training; same seeds, same recipe.", "",
             "| arithmetic | final test accuracy [%] (mean ± std) | per seed |", "|---|---|---|"]
    curves = {}
    for kind in ARITHMETIC:
        rs = sorted((r for r in rows if r["params"]["arithmetic"] == kind), key=lambda r: r["seed"])
        if not rs:
            continue
        acc = [100 * r["metrics"]["accuracy"] for r in rs]
        lines.append(f"| {kind} | {np.mean(acc):.2f} ± {np.std(acc):.2f} | "
                     + ", ".join(f"{a:.2f}" for a in acc) + " |")
        curves[kind] = {i + 1: 100 * v for i, v in
                        enumerate(np.mean([r["metrics"]["curve"] for r in rs], axis=0))}
    plots.sweep_lines(out / "mitchell_training_curves.png", "epoch", "test accuracy [%]", curves, True)
    return lines + ["", "![learning curves](mitchell_training_curves.png)", ""]
