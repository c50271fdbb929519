"""Sentence data and embedding-fidelity metrics for the MiniLM studies.

* :func:`builtin_corpus`: 600 real English sentences that ship with hwsim (first sentences of
  Python standard library and numpy docstrings; ``scripts/make_corpus.py``).
* :func:`load_corpus`: a user's text file, one sentence a line (blank and ``#`` lines skipped).
* :func:`load_sts`: the STS benchmark, either the original ``sts-*.csv`` files (tab-separated
  ``genre, file, year, id, score, sentence1, sentence2[, ...]``, no header) or GLUE's STS-B
  ``*.tsv`` (a header naming ``sentence1``, ``sentence2`` and ``score``); gold scores 0..5.
* :func:`fidelity`: how well approximate embeddings keep the float embeddings' geometry.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from hwsim.metrics import pair_cosines, spearman

__all__ = ["builtin_corpus", "load_corpus", "StsData", "load_sts", "spearman", "fidelity",
           "pair_cosines"]


def _lines(text: str) -> list[str]:
    return [s.strip() for s in text.splitlines() if s.strip() and not s.lstrip().startswith("#")]


def builtin_corpus() -> list[str]:
    return _lines(resources.files("hwsim").joinpath("data/corpus.txt").read_text(encoding="utf-8"))


def load_corpus(path: str | Path | None) -> list[str]:
    """The sentences of ``path`` (one a line), or the built-in corpus for ``None``/"builtin"."""
    if path is None or str(path) in ("", "builtin"):
        return builtin_corpus()
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"corpus file {str(p)!r} does not exist; give a text file with one "
                         f"sentence a line, or 'builtin'")
    s = _lines(p.read_text(encoding="utf-8", errors="replace"))
    if len(s) < 2:
        raise ValueError(f"corpus file {str(p)!r} has {len(s)} sentences; at least 2 are needed")
    return s


@dataclass(frozen=True)
class StsData:
    first: list[str]
    second: list[str]
    gold: np.ndarray  # float64, 0..5


def load_sts(path: str | Path) -> StsData:
    """Sentence pairs and gold similarity of an STS-benchmark file (see the module doc)."""
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"STS file {str(p)!r} does not exist (the STS benchmark's "
                         f"sts-test.csv, or GLUE STS-B's dev.tsv)")
    with p.open(encoding="utf-8", errors="replace", newline="") as f:
        rows = [r for r in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE) if r]
    if not rows:
        raise ValueError(f"STS file {str(p)!r} is empty")
    header = [c.strip().lower() for c in rows[0]]
    if "sentence1" in header and "score" not in header:
        raise ValueError(f"STS file {str(p)!r} has no score column (GLUE's STS-B test.tsv is "
                         f"unlabelled; use dev.tsv or the STS benchmark's sts-test.csv)")
    if {"sentence1", "sentence2", "score"} <= set(header):
        i1, i2, isc = header.index("sentence1"), header.index("sentence2"), header.index("score")
        body, first_line = rows[1:], 2
    else:
        i1, i2, isc = 5, 6, 4
        body, first_line = rows, 1
    a, b, gold = [], [], []
    for n, r in enumerate(body, first_line):
        try:
            score = float(r[isc])
            s1, s2 = r[i1].strip(), r[i2].strip()
        except (IndexError, ValueError):
            raise ValueError(f"STS file {str(p)!r} line {n}: expected a score in column "
                             f"{isc + 1} and sentences in columns {i1 + 1} and {i2 + 1} "
                             f"(tab-separated), got {r[:8]!r}") from None
        a.append(s1)
        b.append(s2)
        gold.append(score)
    if len(gold) < 3:
        raise ValueError(f"STS file {str(p)!r} has {len(gold)} pairs; at least 3 are needed")
    return StsData(a, b, np.asarray(gold))


def _nearest(e: np.ndarray) -> np.ndarray:
    e = np.asarray(e, np.float64)
    e = e / np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-300)
    s = e @ e.T
    np.fill_diagonal(s, -np.inf)
    return s.argmax(1)


def fidelity(ref: np.ndarray, emb: np.ndarray, same_space: bool = True) -> dict[str, float]:
    """How far ``emb`` (rows: the same sentences) keeps the geometry of ``ref``.

    ``cos_mean`` / ``cos_min``: cosine between each sentence's two embeddings (only when both
    live in the same space: ``same_space`` and the same dimension); ``spearman``: rank correlation of all pairwise similarities;
    ``nn_agreement``: fraction of sentences whose nearest neighbour is the same.
    """
    ref, emb = np.asarray(ref, np.float64), np.asarray(emb, np.float64)
    if len(ref) != len(emb) or len(ref) < 3:
        raise ValueError(f"fidelity: need the same >= 3 sentences in both, not {len(ref)} "
                         f"and {len(emb)}")
    out = {}
    if same_space and ref.shape == emb.shape:
        c = (ref * emb).sum(1) / (np.linalg.norm(ref, axis=1) * np.linalg.norm(emb, axis=1))
        out.update(cos_mean=float(c.mean()), cos_min=float(c.min()))
    out["spearman"] = spearman(pair_cosines(ref), pair_cosines(emb))
    out["nn_agreement"] = float((_nearest(ref) == _nearest(emb)).mean())
    return out
