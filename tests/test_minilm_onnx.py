"""MiniLM as an ONNX graph (hwsim.studies.minilm_onnx): the same model as the numpy encoder,
checked against onnxruntime and sentence-transformers; the ONNX path with units computes the
minilm-units study's bits."""

from pathlib import Path

import numpy as np
import pytest

from rtl import require_module

require_module("onnx", "ml")
require_module("onnxruntime", "ml")
require_module("safetensors", "ml")

from hwsim.graph.assign import build_impl, parse_assignment  # noqa: E402
from hwsim.graph.evaluate import _float_path_error, reference_outputs  # noqa: E402
from hwsim.graph.model import Graph  # noqa: E402

FIXTURE = Path(__file__).parent / "data" / "minilm_reference.npz"


@pytest.fixture(scope="module")
def minilm():
    from hwsim.studies.minilm import MiniLM
    try:
        m = MiniLM(max_tokens=256)
    except RuntimeError as e:
        from rtl import skip_unless_ci
        skip_unless_ci(str(e))
    from hwsim.studies import minilm_onnx
    return m, Graph(minilm_onnx.build(m))


def _same_length(m, n):
    from hwsim.studies.sentences import builtin_corpus
    by_len = {}
    for s in builtin_corpus():
        by_len.setdefault(len(m.tokenize([s])[0]), []).append(s)
    return max(by_len.values(), key=len)[:n]


def test_float_graph_matches_onnxruntime_and_sentence_transformers(minilm):
    from hwsim.studies import minilm_onnx
    m, g = minilm
    ref = np.load(FIXTURE)
    sentences = [str(s) for s in ref["sentences"]]
    lengths = [len(t) for t in m.tokenize(sentences)]
    # the short sentences padded to the longest of them (the mask at work), the long ones alone
    groups = [[i for i, n in enumerate(lengths) if n <= 64]]
    groups += [[i] for i, n in enumerate(lengths) if n > 64]
    emb = np.zeros((len(sentences), m.hidden))
    for idx in groups:
        feeds = minilm_onnx.feeds(m, [sentences[i] for i in idx])
        got = g.run(feeds)
        ort = reference_outputs(g, feeds)
        assert _float_path_error({"e": got["sentence_embedding"]},
                                 {"e": ort["sentence_embedding"]}) <= 1e-5
        # the hidden states of six float32 layers: within 2e-5 (docs/onnx.md)
        assert _float_path_error(got, ort) <= 2e-5
        emb[idx] = got["sentence_embedding"]
    assert len(groups) > 1 and len(groups[0]) > 20
    want = ref["embeddings"].astype(np.float64)
    cos = (emb * want).sum(1) / (np.linalg.norm(emb, axis=1) * np.linalg.norm(want, axis=1))
    assert cos.min() >= 0.99999, cos.min()


def test_unpadded_rows_are_the_numpy_encoders_bits(minilm):
    from hwsim.studies import minilm_onnx
    m, g = minilm
    sents = _same_length(m, 6)
    assert np.array_equal(g.run(minilm_onnx.feeds(m, sents))["sentence_embedding"],
                          m.encode(sents))


def test_units_compute_the_minilm_units_studys_bits(minilm):
    """minilm-units with Mitchell-8 attention products and dense layers and the 16-bit
    two-pass softmax unit == the ONNX graph with the same units on the same nodes."""
    from hwsim.studies import STUDIES, minilm_onnx, minilm_units
    m, g = minilm
    sents = _same_length(m, 6)
    params = dict(STUDIES["minilm-units"].params, softmax="two_pass", out_bits=16,
                  products="mitchell", linear="mitchell", product_bits=8)
    want = m.encode(sents, minilm_units.arithmetic(params))
    mm = {"op": "MatMul", "unit": "mitchell-mul", "width": 8}
    a = parse_assignment({
        "assign": [mm | {"node": "layer*.scores"}, mm | {"node": "layer*.context"},
                   mm | {"node": "layer*.[qkvo]"}, mm | {"node": "layer*.ff[12]"},
                   {"op": "Softmax", "unit": "softmax", "in_fmt": {"int_bits": 7, "frac_bits": 5},
                    "out_fmt": {"int_bits": 1, "frac_bits": 15, "signed": False},
                    "form": "two_pass", "method": "lut", "normalizer": "exact_div",
                    "lut_bits": 6}],
        "calibration": {"mode": "block"}})
    feeds = minilm_onnx.feeds(m, sents)
    impl, nodes, _ = build_impl(g, a, feeds)
    assert len(nodes) == 6 * 9
    got = g.run(feeds, impl)["sentence_embedding"]
    assert np.array_equal(got, want)
    assert not np.array_equal(got, m.encode(sents))
