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


def test_unpadded_rows_are_the_numpy_encoders_rows(minilm):
    """The float path is onnxruntime's kernels, not numpy's: equal to the numpy encoder to
    float32 rounding (1e-5 relative, the float-path contract), no longer bit for bit."""
    from hwsim.studies import minilm_onnx
    m, g = minilm
    sents = _same_length(m, 6)
    got = g.run(minilm_onnx.feeds(m, sents))["sentence_embedding"]
    assert _float_path_error({"e": got}, {"e": m.encode(sents)}) <= 1e-5


@pytest.mark.slow  # the numpy MiniLM: 4 s
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
    env = g.run(feeds, impl, keep=True)
    got = env["sentence_embedding"]
    # the float ops between the units are onnxruntime's (LayerNorm, Gelu, Add: last-ulp
    # differences from numpy's), so the encoder's and the graph's units see inputs a float32
    # rounding apart; the units' own bits are pinned node by node in tests/test_graph.py,
    # and here each assigned MatMul is the study's Mitchell product of its actual inputs
    from hwsim.eval.hooks import FixedMatmul
    from hwsim.mitchell import MitchellMulParams
    engine = FixedMatmul(MitchellMulParams(width=8, signed=True))
    for name in ("layer0.scores", "layer3.ff1", "layer5.context"):
        n = g.node(name)
        assert np.array_equal(env[n.outputs[0]],
                              np.asarray(engine(env[n.inputs[0]], env[n.inputs[1]]),
                                         dtype=np.float32)), name
    def cos(x, y):
        x, y = x.astype(np.float64), y.astype(np.float64)
        return (x * y).sum(1) / (np.linalg.norm(x, axis=1) * np.linalg.norm(y, axis=1))
    # a float32 rounding apart at an 8-bit block quantiser's rounding point moves one code,
    # which moves an embedding far less than the units do: at most a tenth of the units'
    # smallest effect on a sentence (measured: 1 - cosine 3.6e-5 against 1.0e-2)
    far = m.encode(sents)
    assert (1 - cos(got, want)).max() <= 0.1 * (1 - cos(got, far)).min()
