"""Error metrics and exhaustive / sampled characterisation of a unit.

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
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

import numpy as np

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
    """Add the pairs ``(approx, exact)`` (float64 arrays) to ``stats`` / ``hist`` in place."""
    approx = np.asarray(approx, dtype=np.float64).ravel()
    exact = np.asarray(exact, dtype=np.float64).ravel()
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


@dataclass
class Characterization:
    unit: str
    params: dict
    mode: str  # "exhaustive" or "sampled"
    metrics: ErrorMetrics
    seconds: float
    seed: int | None = None
    hist: np.ndarray = field(default=None, repr=False)

    @property
    def hist_edges(self) -> np.ndarray:
        return np.linspace(*HIST_RANGE, HIST_BINS + 1)

    def to_dict(self) -> dict:
        return {"unit": self.unit, "params": self.params, "mode": self.mode, "seed": self.seed,
                "seconds": round(self.seconds, 3), "metrics": self.metrics.to_dict()}


#: exhaustive characterisation is limited to 2**32 input combinations (two 16-bit operands)
MAX_CHARACTERIZE_INPUT_BITS = 32


def characterize(spec, params, *, samples: int | None = None, seed: int = 0, jobs: int = 1,
                 progress: bool = False) -> Characterization:
    """Error metrics of a unit over every input combination (``samples=None``) or a seeded
    sample of uniform inputs.

    The unit's operands (``spec.operands``, each uniform over ``params.in_range``) span the
    input space. Exhaustive runs cover all ``2**params.input_bits`` combinations (at most
    2**32): with a compiled kernel when the unit has one (the Mitchell units do), else chunk
    by chunk through the numpy model. ``jobs`` threads share the work of a compiled kernel.
    """
    from tqdm.auto import tqdm

    t0 = time.perf_counter()
    stats, hist = empty_stats()
    lo, hi = params.in_range
    ops = spec.operands
    if samples is None:
        if params.input_bits > MAX_CHARACTERIZE_INPUT_BITS:
            raise ValueError(f"characterize: exhaustive runs are limited to "
                             f"{MAX_CHARACTERIZE_INPUT_BITS} input bits (2**32 combinations), "
                             f"not {params.input_bits}; use a sample count")
        from hwsim import _kernels
        kernel = _kernels.EXHAUSTIVE.get(spec.name)
        rows = np.arange(lo, hi)
        per_row = (hi - lo) ** (len(ops) - 1)
        chunk = max(1, (1 << 22) // per_row)  # about 4M combinations per chunk
        bar = tqdm(total=rows.size, unit="row", desc=f"{params.top_name} exhaustive",
                   disable=not progress, leave=False)
        for start in range(0, rows.size, chunk):
            first = rows[start:start + chunk]
            if kernel is not None:
                kernel(params, first, stats, hist, jobs)
            else:
                grids = np.meshgrid(first, *[np.arange(lo, hi)] * (len(ops) - 1), indexing="ij")
                approx, exact = spec.real(params, {k: g.ravel() for k, g in zip(ops, grids)})
                accumulate(stats, hist, approx, exact)
            bar.update(first.size)
        bar.close()
        mode = "exhaustive"
        used_seed = None
    else:
        from hwsim._check import check_int
        check_int("characterize", "samples", samples, 1)
        rng = np.random.default_rng(seed)
        done = 0
        bar = tqdm(total=samples, unit="input", desc=f"{params.top_name} sampled",
                   disable=not progress, leave=False)
        while done < samples:
            n = min(1 << 22, samples - done)
            vec = {k: rng.integers(lo, hi, n, dtype=np.int64) for k in ops}
            approx, exact = spec.real(params, vec)
            accumulate(stats, hist, approx, exact)
            done += n
            bar.update(n)
        bar.close()
        mode = "sampled"
        used_seed = seed
    return Characterization(unit=spec.name, params=params.to_dict(), mode=mode,
                            metrics=finalize(stats), seconds=time.perf_counter() - t0,
                            seed=used_seed, hist=hist)


# -- probability vectors (softmax) -------------------------------------------------------------

@dataclass(frozen=True)
class DistributionMetrics:
    """Errors of approximate probability vectors ``q`` (rows) against exact ones ``p``.

    ``max_abs`` / ``mean_abs``: of ``q_i - p_i`` over all elements; ``kl``: mean over rows of
    ``KL(p || q')``, where ``q'`` is ``q`` with every element raised to at least ``kl_floor``
    (half an output LSB: an exact zero would make KL infinite) and renormalised;
    ``argmax_agree``: share of rows whose first largest element is at the same index
    (``flip_rate = 1 - argmax_agree``: the approximation changes the top class);
    ``sum_min`` / ``sum_max`` / ``sum_dev``: range of ``sum_i q_i`` and max ``|sum - 1|``.
    """

    n: int
    max_abs: float
    mean_abs: float
    kl: float
    argmax_agree: float
    flip_rate: float
    sum_min: float
    sum_max: float
    sum_dev: float

    def to_dict(self) -> dict:
        return asdict(self)


def distribution_metrics(approx, exact, kl_floor: float) -> DistributionMetrics:
    q = np.asarray(approx, dtype=np.float64)
    p = np.asarray(exact, dtype=np.float64)
    if q.shape != p.shape or q.ndim != 2:
        raise ValueError(f"distribution_metrics: approx and exact must be equal (n, L) arrays, "
                         f"not {q.shape} and {p.shape}")
    err = np.abs(q - p)
    qk = np.maximum(q, kl_floor)
    qk = qk / qk.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        kl = np.where(p > 0, p * np.log(p / qk), 0.0).sum(axis=1)
    agree = float((q.argmax(axis=1) == p.argmax(axis=1)).mean())
    s = q.sum(axis=1)
    return DistributionMetrics(n=int(q.shape[0]), max_abs=float(err.max()),
                               mean_abs=float(err.mean()), kl=float(kl.mean()),
                               argmax_agree=agree, flip_rate=1.0 - agree,
                               sum_min=float(s.min()), sum_max=float(s.max()),
                               sum_dev=float(np.abs(s - 1).max()))


@dataclass
class SoftmaxCharacterization:
    unit: str
    params: dict
    rows: list  # (distribution name, DistributionMetrics)
    seconds: float
    seed: int

    @property
    def overall(self) -> DistributionMetrics:
        return dict(self.rows)["all"]

    def to_dict(self) -> dict:
        return {"unit": self.unit, "params": self.params, "seed": self.seed,
                "seconds": round(self.seconds, 3),
                "distributions": {name: m.to_dict() for name, m in self.rows}}


def characterize_softmax(params, *, samples: int = 10_000, seed: int = 0) -> SoftmaxCharacterization:
    """Softmax error metrics against the exact float64 softmax, per seeded logit
    distribution: uniform over the input range and N(0, s**2) for s in LOGIT_SCALES,
    ``samples`` vectors each (same seed -> same vectors), plus all of them pooled."""
    from hwsim._check import check_int
    from hwsim.softmax import LOGIT_SCALES, gaussian_logits, softmax_fixed, softmax_real

    check_int("characterize_softmax", "samples", samples, 1)
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    lo, hi = params.in_range
    sets = [("uniform", rng.integers(lo, hi, (samples, params.length), dtype=np.int64))]
    sets += [(f"normal s={s:g}", gaussian_logits(params, samples, s, rng)) for s in LOGIT_SCALES]
    floor = params.out_fmt.lsb / 2
    rows, qs, ps = [], [], []
    for name, x in sets:
        q = params.out_fmt.to_float(softmax_fixed(x, params))
        p = softmax_real(x, params)
        rows.append((name, distribution_metrics(q, p, floor)))
        qs.append(q)
        ps.append(p)
    rows.append(("all", distribution_metrics(np.concatenate(qs), np.concatenate(ps), floor)))
    return SoftmaxCharacterization(unit="softmax", params=params.to_dict(), rows=rows,
                                   seconds=time.perf_counter() - t0, seed=seed)


def format_distribution_table(rows: list[tuple[str, DistributionMetrics]]) -> str:
    cols = ["n", "max_abs", "mean_abs", "kl", "flip_rate", "sum_min", "sum_max"]
    out = ["| logits | " + " | ".join(cols) + " |", "|" + "---|" * (len(cols) + 1)]
    for name, m in rows:
        d = m.to_dict()
        out.append(f"| {name} | {d['n']} | " + " | ".join(f"{d[c]:.4g}" for c in cols[1:]) + " |")
    return "\n".join(out)
