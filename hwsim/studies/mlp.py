"""The digits MLP every training study shares: data, initialisation, a pluggable trainer.

64 inputs -> ``hidden`` ReLU units -> 10 outputs, cross-entropy, Adam (lr 1e-2, batches of
64), seeded initialisation, seeded 80/20 split of sklearn's bundled digits. What a study
changes is passed in:

* ``matmul(a, b)``: every matrix product of the forward and backward passes goes through it
  (the Mitchell-training study passes the float bit trick);
* ``output``: ``"softmax"`` or ``("taylor", n)``: the even-order Taylor softmax
  ``f_n(z_i) / sum_j f_n(z_j)`` and its exact gradient.

The optimiser's own arithmetic (Adam moments, the update) stays float64 in every study.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

LR = 1e-2
BATCH = 64


@lru_cache(maxsize=4)
def dataset(seed: int):
    """(x_train, y_train, x_test, y_test): pixels scaled to [0, 1], a seeded 80/20 split."""
    from sklearn.datasets import load_digits
    d = load_digits()
    x = d.data.astype(np.float64) / 16.0
    y = d.target.astype(np.int64)
    idx = np.random.default_rng(seed).permutation(len(y))
    cut = int(0.8 * len(y))
    return x[idx[:cut]], y[idx[:cut]], x[idx[cut:]], y[idx[cut:]]


def init_weights(hidden: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed + 1000)
    return [rng.normal(0, math.sqrt(2 / 64), (64, hidden)), np.zeros(hidden),
            rng.normal(0, math.sqrt(2 / hidden), (hidden, 10)), np.zeros(10)]


def softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def output_probs(z, output):
    if output == "softmax":
        return softmax(z)
    from hwsim.exp import taylor_poly
    f = taylor_poly(z, output[1])
    return f / f.sum(axis=1, keepdims=True)


def output_grad(z, y, output):
    """d(mean cross-entropy)/dz for a batch (before dividing by the batch size)."""
    if output == "softmax":
        g = softmax(z)
        g[np.arange(len(y)), y] -= 1
        return g
    # p_i = f(z_i) / S: dL/dz_j = f'(z_j) / S - [j = y] f'(z_y) / f(z_y), with f' = f_{n-1}
    from hwsim.exp import taylor_poly
    n = output[1]
    f, df = taylor_poly(z, n), taylor_poly(z, n - 1)
    g = df / f.sum(axis=1, keepdims=True)
    rows = np.arange(len(y))
    g[rows, y] -= df[rows, y] / f[rows, y]
    return g


class Adam:
    def __init__(self, params):
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.t = 0

    def step(self, params, grads):
        self.t += 1
        for i, g in enumerate(grads):
            self.m[i] = 0.9 * self.m[i] + 0.1 * g
            self.v[i] = 0.999 * self.v[i] + 0.001 * g * g
            mh = self.m[i] / (1 - 0.9 ** self.t)
            vh = self.v[i] / (1 - 0.999 ** self.t)
            params[i] = params[i] - LR * mh / (np.sqrt(vh) + 1e-8)
        return params


def forward(w, x, matmul=np.matmul):
    h = np.maximum(matmul(x, w[0]) + w[1], 0)
    return h, matmul(h, w[2]) + w[3]


def accuracy(w, x, y, matmul=np.matmul, output="softmax") -> float:
    _, z = forward(w, x, matmul)
    return float((output_probs(z, output).argmax(1) == y).mean())


def train(seed: int, hidden: int, epochs: int, matmul=np.matmul, output="softmax"):
    """Train; returns (weights, test accuracy after every epoch)."""
    x, y, xt, yt = dataset(seed)
    w = init_weights(hidden, seed)
    opt = Adam(w)
    rng = np.random.default_rng(seed + 2000)
    curve = []
    for _ in range(epochs):
        order = rng.permutation(len(y))
        for s in range(0, len(y), BATCH):
            b = order[s:s + BATCH]
            h, z = forward(w, x[b], matmul)
            g3 = output_grad(z, y[b], output) / len(b)
            gh = matmul(g3, w[2].T) * (h > 0)
            grads = [matmul(x[b].T, gh), gh.sum(0), matmul(h.T, g3), g3.sum(0)]
            w = opt.step(w, grads)
        curve.append(accuracy(w, xt, yt, matmul, output))
    return w, curve
