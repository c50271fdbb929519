"""Error metrics of an approximation against exact values (characterisation of a whole unit
is in :mod:`hwsim.eval.characterize`).

Metrics (DESIGN.md section 7) of an approximation ``approx`` of ``exact``, with
``e = approx - exact``:

=========  ================================================================
mae        mean |e|
wce        worst-case error, max |e|
mse        mean e**2
bias       mean e (signed)
ep         error probability: fraction of inputs with e != 0
mred       mean relative error distance |e| / |exact|, over exact != 0
max_red    max relative error distance, over exact != 0
mae_pct    100 * mae / max |exact| (EvoApproxLib's normalisation)
wce_pct    100 * wce / max |exact|
=========  ================================================================

All of them are computed from a small vector of sums and maxima (:class:`Stats`), so
chunks of an exhaustive run (possibly in other threads) merge exactly. A histogram of the
signed relative error over ``[-1, 1]`` comes with it.

For embeddings: :func:`pair_cosines` (every pair of rows) and :func:`spearman` (ties get
their average rank), the rank fidelity the MiniLM studies and ``hwsim run`` report.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from hwsim._check import real_operand

#: histogram of the signed relative error (approx - exact) / |exact| over [-1, 1]
HIST_BINS = 2000
HIST_RANGE = (-1.0, 1.0)

# Layout of the stats vector shared by the numpy path and the compiled kernels.
N, N_REL, SUM_E, SUM_ABS, SUM_SQ, MAX_ABS, N_ERR, SUM_RED, MAX_RED, MAX_EXACT = range(10)
N_STATS = 10


@dataclass(frozen=True)
class ErrorMetrics:
    n: int
    mae: float
    wce: float
    mse: float
    bias: float
    ep: float
    mred: float
    max_red: float
    mae_pct: float
    wce_pct: float

    def to_dict(self) -> dict:
        return asdict(self)


def empty_stats() -> tuple[np.ndarray, np.ndarray]:
    return np.zeros(N_STATS), np.zeros(HIST_BINS, dtype=np.int64)


def accumulate(stats: np.ndarray, hist: np.ndarray, approx, exact) -> None:
    """Add the pairs ``(approx, exact)`` to ``stats`` / ``hist`` in place.

    Both must be real numbers (integer or floating dtype, compared as float64), finite and of
    the same size; anything else is refused with a message naming the argument."""
    approx = _finite("approx", approx)
    exact = _finite("exact", exact)
    if approx.shape != exact.shape:
        raise ValueError(f"error_metrics: approx and exact differ in size "
                         f"({approx.size} vs {exact.size})")
    if approx.size == 0:
        return
    e = approx - exact
    ae = np.abs(e)
    nz = exact != 0
    rel = e[nz] / np.abs(exact[nz])
    stats[N] += e.size
    stats[N_REL] += rel.size
    stats[SUM_E] += e.sum()
    stats[SUM_ABS] += ae.sum()
    stats[SUM_SQ] += (e * e).sum()
    stats[MAX_ABS] = max(stats[MAX_ABS], ae.max())
    stats[N_ERR] += np.count_nonzero(e)
    if rel.size:
        stats[SUM_RED] += np.abs(rel).sum()
        stats[MAX_RED] = max(stats[MAX_RED], np.abs(rel).max())
        idx = ((np.clip(rel, *HIST_RANGE) - HIST_RANGE[0]) * (HIST_BINS / 2.0)).astype(np.int64)
        hist += np.bincount(np.minimum(idx, HIST_BINS - 1), minlength=HIST_BINS)
    stats[MAX_EXACT] = max(stats[MAX_EXACT], np.abs(exact).max())


def _finite(name: str, value) -> np.ndarray:
    arr = real_operand("error_metrics", name, value).astype(np.float64).ravel()
    bad = ~np.isfinite(arr)
    if bad.any():
        raise ValueError(f"error_metrics: {name} has non-finite values (first: {arr[bad][0]})")
    return arr


def finalize(stats: np.ndarray) -> ErrorMetrics:
    n = int(stats[N])
    if n == 0:
        raise ValueError("error_metrics: no values to compare")
    n_rel = stats[N_REL]
    scale = stats[MAX_EXACT]
    mae, wce = stats[SUM_ABS] / n, stats[MAX_ABS]
    return ErrorMetrics(**{k: (int(v) if k == "n" else float(v)) for k, v in dict(
        n=n, mae=mae, wce=wce, mse=stats[SUM_SQ] / n, bias=stats[SUM_E] / n,
        ep=stats[N_ERR] / n,
        mred=stats[SUM_RED] / n_rel if n_rel else float("nan"),
        max_red=stats[MAX_RED] if n_rel else float("nan"),
        mae_pct=100 * mae / scale if scale else float("nan"),
        wce_pct=100 * wce / scale if scale else float("nan"),
    ).items()})


def error_metrics(approx, exact) -> ErrorMetrics:
    """MAE, WCE, MSE, bias, EP, MRED, max RED, MAE% and WCE% of ``approx`` against ``exact``."""
    stats, hist = empty_stats()
    accumulate(stats, hist, approx, exact)
    return finalize(stats)


# -- rank fidelity of embeddings (MiniLM studies, hwsim run) ------------------------------

def spearman(x, y) -> float:
    """Spearman rank correlation (ties get their average rank)."""
    from scipy.stats import rankdata
    rx, ry = rankdata(np.asarray(x, np.float64)), rankdata(np.asarray(y, np.float64))
    if rx.std() == 0 or ry.std() == 0:
        return float("nan")
    return float(np.corrcoef(rx, ry)[0, 1])


def pair_cosines(e: np.ndarray) -> np.ndarray:
    """Cosine similarity of every unordered pair of rows (upper triangle, row-major)."""
    e = np.asarray(e, np.float64)
    e = e / np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-300)
    i, j = np.triu_indices(len(e), k=1)
    return (e @ e.T)[i, j]
