"""Study ``zo-training``: training through arithmetic that has no useful derivative.

The digits MLP's forward pass runs through the bit-exact Mitchell multiplier on ``width``-bit
quantised operands (``hwsim.studies.digits_mlp.approx_matmul``): a piecewise-constant
function of the weights. Three ways to train it, compared at equal numbers of forward-pass
evaluations (a backward pass counts as two):

* ``backprop``: ordinary float training (forward and backward in float64), evaluated through
  the Mitchell forward;
* ``ste``: straight-through estimator: the loss and the activations come from the Mitchell
  forward, the gradient treats the quantised products as if they were exact;
* ``zo``: the zeroth-order (policy-gradient) estimator
  ``g = (1/q) sum_i (L(w + eps u_i) - L(w)) / eps * u_i``, ``u_i ~ N(0, I)``, which needs
  only loss values of the Mitchell forward (q + 1 evaluations a step).

All use Adam (lr 1e-2) on minibatches of 64; test accuracy through the Mitchell forward is
recorded ten times over the evaluation budget.
"""

from __future__ import annotations

import numpy as np

from hwsim.studies import mlp
from hwsim.studies import MAX_HIDDEN, check_choice, check_int_param

METHODS = ("backprop", "ste", "zo")
#: forward evaluations (budget) or directions per step: 1,000x the defaults (6,000 and 16)
MAX_BUDGET = 10_000_000
#: the finite-difference step, relative to weights of order 1
MAX_EPSILON = 1.0
BACKWARD_COST = 2  # a backward pass costs about two forward passes


def check(params: dict) -> None:
    check_choice("zo-training", params, "method", METHODS)
    check_int_param("zo-training", params, "width", 2, 32)  # MitchellMulParams' widths
    check_int_param("zo-training", params, "budget", 1, MAX_BUDGET)
    check_int_param("zo-training", params, "directions", 1, MAX_BUDGET)
    check_int_param("zo-training", params, "hidden", 1, MAX_HIDDEN)
    eps = params["epsilon"]
    if (isinstance(eps, bool) or not isinstance(eps, (int, float))
            or not 0 < eps <= MAX_EPSILON):
        raise ValueError(f"zo-training: epsilon must be a number in (0, {MAX_EPSILON}], "
                         f"not {eps!r}")


def mitchell_forward(w, x, width):
    from hwsim.studies.digits_mlp import approx_matmul
    spec = {"multiplier": "mitchell", "width": width, "keep_bits": None}
    h = np.maximum(approx_matmul(x, w[0], spec, None) + w[1], 0)
    return h, approx_matmul(h, w[2], spec, None) + w[3]


def cross_entropy(z, y):
    p = mlp.softmax(z)
    return float(-np.log(np.maximum(p[np.arange(len(y)), y], 1e-12)).mean())


def run(params: dict, seed: int) -> dict:
    method, width = params["method"], params["width"]
    x, y, xt, yt = mlp.dataset(seed)
    w = mlp.init_weights(params["hidden"], seed)
    opt = mlp.Adam(w)
    rng = np.random.default_rng(seed + 4000)
    budget, q, eps = params["budget"], params["directions"], params["epsilon"]
    step_cost = q + 1 if method == "zo" else 1 + BACKWARD_COST
    checkpoints = sorted({max(step_cost, round(budget * k / 10)) for k in range(1, 11)})
    curve, used = [], 0
    order = rng.permutation(len(y))
    pos = 0
    while used + step_cost <= budget:
        if pos + mlp.BATCH > len(y):
            order, pos = rng.permutation(len(y)), 0
        b = order[pos:pos + mlp.BATCH]
        pos += mlp.BATCH
        xb, yb = x[b], y[b]
        if method == "zo":
            base = cross_entropy(mitchell_forward(w, xb, width)[1], yb)
            grads = [np.zeros_like(p) for p in w]
            for _ in range(q):
                u = [rng.normal(size=p.shape) for p in w]
                moved = [p + eps * d for p, d in zip(w, u)]
                delta = (cross_entropy(mitchell_forward(moved, xb, width)[1], yb) - base) / eps
                for g, d in zip(grads, u):
                    g += delta * d / q
        else:
            h, z = mlp.forward(w, xb) if method == "backprop" else mitchell_forward(w, xb, width)
            g3 = mlp.output_grad(z, yb, "softmax") / len(b)
            gh = (g3 @ w[2].T) * (h > 0)
            grads = [xb.T @ gh, gh.sum(0), h.T @ g3, g3.sum(0)]
        w = opt.step(w, grads)
        used += step_cost
        if checkpoints and used >= checkpoints[0]:
            while checkpoints and used >= checkpoints[0]:
                checkpoints.pop(0)
            _, zt = mitchell_forward(w, xt, width)
            curve.append([used, float((zt.argmax(1) == yt).mean())])
    _, zt = mitchell_forward(w, xt, width)
    float_acc = float((mlp.forward(w, xt)[1].argmax(1) == yt).mean())
    return {"accuracy": float((zt.argmax(1) == yt).mean()), "float_accuracy": float_acc,
            "evaluations": used, "curve": curve}


def default_sweep(quick: bool = False) -> dict:
    return {"study": "zo-training", "seeds": [0] if quick else [0, 1, 2],
            "fixed": {"budget": 1500 if quick else 6000},
            "grid": {"method": list(METHODS)}}


def report(rows: list[dict], out) -> list[str]:
    from hwsim.render import plots
    r0 = rows[0]["params"]
    lines = ["## zo-training: gradients where the arithmetic has none", "",
             f"The digits MLP (64-{r0['hidden']}-10) with a Mitchell forward pass "
             f"({r0['width']}-bit operands), trained for {r0['budget']} forward-pass evaluations "
             f"(backward = {BACKWARD_COST}); zeroth-order: {r0['directions']} directions a step, "
             f"eps = {r0['epsilon']}. Test accuracy through the Mitchell forward.", "",
             "| method | test accuracy [%] (mean ± std) | float forward [%] |", "|---|---|---|"]
    curves = {}
    for method in METHODS:
        rs = [r for r in rows if r["params"]["method"] == method]
        if not rs:
            continue
        acc = [100 * r["metrics"]["accuracy"] for r in rs]
        fl = [100 * r["metrics"]["float_accuracy"] for r in rs]
        lines.append(f"| {method} | {np.mean(acc):.2f} ± {np.std(acc):.2f} | {np.mean(fl):.2f} |")
        pts = {}
        for r in rs:
            for used, a in r["metrics"]["curve"]:
                pts.setdefault(used, []).append(100 * a)
        curves[method] = {k: float(np.mean(v)) for k, v in pts.items()}
    plots.sweep_lines(out / "zo_training_curves.png", "forward-pass evaluations",
                      "test accuracy [%]", curves, True)
    return lines + ["", "![accuracy vs evaluations](zo_training_curves.png)", ""]
