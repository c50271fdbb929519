"""Characterisation of a unit: error metrics over every input or a seeded sample.

:func:`characterize` runs a two-operand or single-input unit exhaustively (with the compiled
kernel its registry entry names, else chunk by chunk through the numpy model) or on seeded
uniform inputs. Units whose inputs are vectors name their own characteriser in the registry:
:func:`characterize_softmax` (probability vectors per logit distribution),
:func:`characterize_attention` and :func:`characterize_performer`.
"""

from __future__ import annotations

import importlib
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from hwsim.metrics import (HIST_BINS, HIST_RANGE, ErrorMetrics, accumulate, empty_stats,
                           finalize)


@dataclass
class Characterization:
    unit: str
    params: dict
    mode: str  # "exhaustive" or "sampled"
    metrics: ErrorMetrics
    seconds: float
    seed: int | None = None
    hist: np.ndarray = field(default=None, repr=False)
    #: inputs whose approximation is not finite (an overflow to +-inf, a NaN) where the exact
    #: value is finite: counted here, left out of ``metrics`` (no finite error measures them)
    overflows: int = 0
    #: mode "stream": the operand stream's name (uniform, small, a file, a model)
    stream: str | None = None

    @property
    def hist_edges(self) -> np.ndarray:
        return np.linspace(*HIST_RANGE, HIST_BINS + 1)

    def to_dict(self) -> dict:
        return {"unit": self.unit, "params": self.params, "mode": self.mode, "seed": self.seed,
                "seconds": round(self.seconds, 3), "metrics": self.metrics.to_dict(),
                "overflows": self.overflows,
                **({"stream": self.stream} if self.stream is not None else {})}


def _accumulate_finite(stats, hist, approx, exact) -> int:
    """:func:`hwsim.metrics.accumulate` over the inputs whose approximation is finite;
    returns how many were not (the unit's ``real`` gives finite exact values only)."""
    ok = np.isfinite(approx)
    if ok.all():
        accumulate(stats, hist, approx, exact)
        return 0
    accumulate(stats, hist, approx[ok], exact[ok])
    return int(ok.size - np.count_nonzero(ok))


#: exhaustive characterisation is limited to 2**32 input combinations (two 16-bit operands)
MAX_CHARACTERIZE_INPUT_BITS = 32
#: sampled characterisation is chunked, so its bound is time (about 10 minutes at 2e7/s)
MAX_SAMPLES = 10 ** 10


def characterize(spec, params, *, samples: int | None = None, seed: int = 0, jobs: int = 1,
                 progress: bool = False) -> Characterization:
    """Error metrics of a unit over every input combination (``samples=None``) or a seeded
    sample of uniform inputs.

    The unit's operands (``spec.operands``, each uniform over ``params.in_range``) span the
    input space. Exhaustive runs cover all ``2**params.input_bits`` combinations (at most
    2**32): with a compiled kernel when the unit has one (the Mitchell units do), else chunk
    by chunk through the numpy model. ``jobs`` threads share the work of a compiled kernel.
    """
    from hwsim.progress import bar as progress_bar

    t0 = time.perf_counter()
    stats, hist = empty_stats()
    overflows = 0
    lo, hi = params.in_range
    ops = spec.operands
    if samples is None:
        if params.input_bits > MAX_CHARACTERIZE_INPUT_BITS:
            raise ValueError(f"characterize: exhaustive runs are limited to "
                             f"{MAX_CHARACTERIZE_INPUT_BITS} input bits (2**32 combinations), "
                             f"not {params.input_bits}; use a sample count")
        kernel = None
        if spec.exhaustive_kernel:
            module, func = spec.exhaustive_kernel.split(":")
            kernel = getattr(importlib.import_module(module), func)
        rows = np.arange(lo, hi)
        per_row = (hi - lo) ** (len(ops) - 1)
        chunk = max(1, (1 << 22) // per_row)  # about 4M combinations per chunk
        bar = progress_bar(rows.size, unit="row", desc=f"characterize: {params.top_name} "
                           f"exhaustive", show=progress, leave=False)
        for start in range(0, rows.size, chunk):
            first = rows[start:start + chunk]
            if kernel is not None:
                kernel(params, first, stats, hist, jobs)
            else:
                grids = np.meshgrid(first, *[np.arange(lo, hi)] * (len(ops) - 1), indexing="ij")
                approx, exact = spec.real(params, {k: g.ravel() for k, g in zip(ops, grids)})
                overflows += _accumulate_finite(stats, hist, approx, exact)
            bar.update(first.size)
        bar.close()
        mode = "exhaustive"
        used_seed = None
    else:
        from hwsim._check import check_int
        check_int("characterize", "samples", samples, 1)
        rng = np.random.default_rng(seed)
        done = 0
        bar = progress_bar(samples, unit="input", desc=f"characterize: {params.top_name} "
                           f"sampled", show=progress, leave=False)
        while done < samples:
            n = min(1 << 22, samples - done)
            vec = {k: rng.integers(lo, hi, n, dtype=np.int64) for k in ops}
            approx, exact = spec.real(params, vec)
            overflows += _accumulate_finite(stats, hist, approx, exact)
            done += n
            bar.update(n)
        bar.close()
        mode = "sampled"
        used_seed = seed
    return Characterization(unit=spec.name, params=params.to_dict(), mode=mode,
                            metrics=finalize(stats), seconds=time.perf_counter() - t0,
                            seed=used_seed, hist=hist, overflows=overflows)


def characterize_operands(spec, params, operands: dict, *, name: str,
                          seed: int | None = None) -> Characterization:
    """Error metrics on the given operands (``{port: int array}``, one entry per operation):
    a stream's distribution, e.g. the operands a model feeds the unit (the data-weighted MRED
    of the approximate-computing literature: each operation counts once, so the metrics
    weigh the operand pairs as often as the data has them). ``mode`` is ``"stream"``;
    ``name`` is kept as ``stream``."""
    t0 = time.perf_counter()
    stats, hist = empty_stats()
    ops = {k: np.asarray(operands[k], dtype=np.int64) for k in spec.operands}
    approx, exact = spec.real(params, ops)
    overflows = _accumulate_finite(stats, hist, np.asarray(approx), np.asarray(exact))
    c = Characterization(unit=spec.name, params=params.to_dict(), mode="stream",
                         metrics=finalize(stats), seconds=time.perf_counter() - t0,
                         seed=seed, hist=hist, overflows=overflows, stream=name)
    return c


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

    def summary(self, params) -> str:
        return (f"{params.top_name}: {self.overall.n} vectors of {params.length} logits against "
                f"the exact float64 softmax, in {self.seconds:.1f} s")

    def table(self) -> str:
        return format_distribution_table(self.rows)

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
    names = ["vectors", "max abs error", "mean abs error", "KL [nats]", "top-class flip rate",
             "min sum", "max sum"]  # of the probabilities (DistributionMetrics)
    out = ["| logits | " + " | ".join(names) + " |", "|" + "---|" * (len(cols) + 1)]
    for name, m in rows:
        d = m.to_dict()
        out.append(f"| {name} | {d['n']} | " + " | ".join(f"{d[c]:.4g}" for c in cols[1:]) + " |")
    return "\n".join(out)


# -- attention and Performer ---------------------------------------------------------------------

@dataclass
class TableCharacterization:
    """Rows of named metrics (``[(label, {metric: value})]``) with a one-line summary."""

    unit: str
    params: dict
    text: str
    rows: list
    seconds: float
    seed: int

    def summary(self, params) -> str:
        return f"{params.top_name}: {self.text}, in {self.seconds:.1f} s"

    def table(self) -> str:
        cols = list(self.rows[0][1])
        out = ["| | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
        for label, m in self.rows:
            out.append(f"| {label} | " + " | ".join(f"{m[c]:.4g}" for c in cols) + " |")
        return "\n".join(out)

    def to_dict(self) -> dict:
        return {"unit": self.unit, "params": self.params, "seed": self.seed,
                "seconds": round(self.seconds, 3), "rows": {k: v for k, v in self.rows}}


def characterize_attention(params, *, samples: int = 2000, seed: int = 0) -> TableCharacterization:
    """Output and attention-matrix error of a head against float64 attention of the same
    (quantised) inputs, for uniform and N(0, s**2) inputs (s = 0.25, 0.5, 1)."""
    from hwsim.attention import attention_fixed, attention_real, attention_scores
    from hwsim.fixed import Overflow, Rounding
    from hwsim.softmax import softmax_fixed
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    shape = (samples, params.length, params.dim)
    lo, hi = params.in_range
    sets = [("uniform", [rng.integers(lo, hi, shape) for _ in range(3)])]
    for s in (0.25, 0.5, 1.0):
        sets.append((f"normal s={s:g}", [params.in_fmt.quantize(
            rng.normal(0, s, shape), rounding=Rounding.NEAREST_EVEN,
            overflow=Overflow.SATURATE) for _ in range(3)]))
    rows = []
    for name, (q, k, v) in sets:
        out = params.out_fmt.to_float(attention_fixed(q, k, v, params))
        ref = attention_real(q, k, v, params)
        prob = params.softmax_out_fmt.to_float(softmax_fixed(attention_scores(q, k, params),
                                                      params.softmax_params))
        f = params.in_fmt
        sc = f.to_float(q) @ np.swapaxes(f.to_float(k), -1, -2) / np.sqrt(params.dim)
        e = np.exp(sc - sc.max(-1, keepdims=True))
        pref = e / e.sum(-1, keepdims=True)
        rows.append((name, {"out_max_abs": float(np.abs(out - ref).max()),
                            "out_mean_abs": float(np.abs(out - ref).mean()),
                            "attn_max_abs": float(np.abs(prob - pref).max()),
                            "attn_mean_abs": float(np.abs(prob - pref).mean())}))
    return TableCharacterization("attention", params.to_dict(),
                                 f"{samples} (Q, K, V) sets per input distribution against float64 "
                                 f"attention", rows, time.perf_counter() - t0, seed)


#: omega ROMs (consecutive seeds) the Performer kernel error is averaged over
PERFORMER_OMEGA_DRAWS = 16


def characterize_performer(params, *, samples: int = 2000, seed: int = 0) -> TableCharacterization:
    """Feature-map error (fixed point against float features of the same omega ROM) and the
    median relative error of the kernel estimate phi(q).phi(k) against exp(q.k), at
    m = d, 2d, 4d, 8d for the params' feature kind, for N(0, 0.4**2) inputs, averaged over PERFORMER_OMEGA_DRAWS omega ROMs."""
    import dataclasses

    from hwsim.fixed import Overflow, Rounding
    from hwsim.performer import phi_fixed, phi_float
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    rows = []
    x = params.in_fmt.quantize(rng.normal(0, 0.4, (2 * samples, params.dim)),
                               rounding=Rounding.NEAREST_EVEN, overflow=Overflow.SATURATE)
    xf = params.in_fmt.to_float(x)
    qf, kf = xf[:samples], xf[samples:]
    exact = np.exp((qf * kf).sum(-1))
    for mult in (1, 2, 4, 8):
        err_fixed, err_float, feat_err = [], [], []
        for draw in range(PERFORMER_OMEGA_DRAWS):  # the estimator's error is over omega draws
            p = dataclasses.replace(params, features=mult * params.dim,
                                    omega_seed=params.omega_seed + draw)
            feats = p.exp_params.out_fmt.to_float(phi_fixed(x, p))
            ref = phi_float(xf, p.omega_fmt.to_float(p.omega_raw()))
            feat_err.append(np.abs(feats - ref).max() / ref.max())
            err_fixed.append(np.abs((feats[:samples] * feats[samples:]).sum(-1) / exact - 1))
            err_float.append(np.abs((ref[:samples] * ref[samples:]).sum(-1) / exact - 1))
        rows.append((f"m = {mult}d = {mult * params.dim}", {
            "feature_max_rel": float(max(feat_err)),
            # median: the estimator's error has a heavy tail (exp of a Gaussian)
            "kernel_rel_err_median_float": float(np.median(err_float)),
            "kernel_rel_err_median_fixed": float(np.median(err_fixed))}))
    return TableCharacterization("performer", params.to_dict(),
                                 f"{samples} (q, k) pairs x {PERFORMER_OMEGA_DRAWS} omega ROMs, "
                                 f"kind {params.kind.value}", rows,
                                 time.perf_counter() - t0, seed)
