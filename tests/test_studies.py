"""ML studies: the published claims, measured (sklearn's bundled digits; no downloads)."""

import numpy as np
import pytest

from rtl import require_module  # noqa: E402

require_module("sklearn", "ml")

from hwsim.cli import main  # noqa: E402
from hwsim.studies import get_study  # noqa: E402

DIGITS = get_study("digits-mlp")
SEEDS = (0, 1, 2)


def accuracy(seed, **kw):
    return DIGITS.run({**DIGITS.params, **kw}, seed)["accuracy"]


def test_digits_exact_16_bit_and_fp32_trick_within_one_point_of_float():
    for seed in SEEDS:
        ref = accuracy(seed, multiplier="float")
        assert ref > 0.95
        assert abs(accuracy(seed, multiplier="exact", width=16) - ref) <= 0.01
        assert abs(accuracy(seed, multiplier="fp32-trick") - ref) <= 0.01


def test_digits_mitchell_breaks_down_at_small_widths():
    ref = np.mean([accuracy(s, multiplier="float") for s in SEEDS])
    wide = np.mean([accuracy(s, multiplier="mitchell", width=12) for s in SEEDS])
    narrow = np.mean([accuracy(s, multiplier="mitchell", width=4) for s in SEEDS])
    assert abs(wide - ref) <= 0.01 < ref - narrow


def test_digits_layer_attribution_and_gaussian_model_run():
    r0 = DIGITS.run({**DIGITS.params, "multiplier": "mitchell", "width": 4, "layers": "0"}, 0)
    r1 = DIGITS.run({**DIGITS.params, "multiplier": "mitchell", "width": 4, "layers": "1"}, 0)
    assert r0["accuracy"] != r1["accuracy"]
    g = DIGITS.run({**DIGITS.params, "multiplier": "gaussian", "width": 6}, 0)
    assert 0.9 < g["accuracy"] <= 1.0


def test_digits_bad_params():
    with pytest.raises(ValueError, match=r"^digits-mlp: multiplier must be one of float, exact, "
                                         r"mitchell, gaussian, fp32-trick, bf16-trick, fp16-trick, "
                                         r"not 'booth'$"):
        DIGITS.check({**DIGITS.params, "multiplier": "booth"})


def test_cli_study_quick_writes_report(tmp_path, capsys):
    assert main(["study", "digits-mlp", "--quick", "-o", str(tmp_path), "--jobs", "1"]) == 0
    report = (tmp_path / "report.md").read_text()
    assert "## digits-mlp" in report and "| mitchell |" in report
    assert (tmp_path / "digits_accuracy_vs_width.png").stat().st_size > 5000
    assert main(["study", "cifar"]) == 2
    assert "unknown study 'cifar'" in capsys.readouterr().err


def test_mitchell_training_tracks_float_training():
    """Mogami's claim on our MLP: training with every product by the fp32 bit trick ends
    within 2 points of float training (same seed, short schedule)."""
    s = get_study("mitchell-training")
    base = {**s.params, "epochs": 6}
    fl = s.run({**base, "arithmetic": "float"}, 0)
    tr = s.run({**base, "arithmetic": "fp32-trick"}, 0)
    assert len(tr["curve"]) == 6 and fl["accuracy"] > 0.9
    assert abs(tr["accuracy"] - fl["accuracy"]) <= 0.02
    assert tr["curve"] != fl["curve"]  # the trick really changed the arithmetic


def test_taylor_softmax_trains_and_its_gradient_is_exact():
    from hwsim.studies import mlp
    rng = np.random.default_rng(0)
    z = rng.normal(0, 2, (5, 10))
    y = rng.integers(0, 10, 5)
    for order in (2, 4):
        out = ("taylor", order)
        g = mlp.output_grad(z, y, out)
        num = np.zeros_like(z)
        for i in range(z.shape[0]):
            for j in range(z.shape[1]):
                d = np.zeros_like(z)
                d[i, j] = 1e-6
                loss = lambda zz: -np.log(mlp.output_probs(zz, out)[i, y[i]])  # noqa: E731, B023
                num[i, j] = (loss(z + d) - loss(z - d)) / 2e-6
        assert np.allclose(g, num, atol=1e-5)
    s = get_study("taylor-softmax")
    r = s.run({**s.params, "order": 6, "epochs": 8}, 0)
    assert r["accuracy"] > 0.9


@pytest.mark.slow  # 11 s of CPU
def test_zo_training_learns_but_trails_backprop_at_equal_evaluations():
    s = get_study("zo-training")
    base = {**s.params, "budget": 900}
    zo = s.run({**base, "method": "zo"}, 0)
    bp = s.run({**base, "method": "backprop"}, 0)
    assert zo["evaluations"] <= 900 and bp["evaluations"] <= 900
    assert 0.2 < zo["accuracy"] < bp["accuracy"]  # better than chance (0.1), worse than backprop


def test_study_param_errors():
    with pytest.raises(ValueError, match=r"^taylor-softmax: order must be 2, 4, 6 or 8 \(even: "
                                         r"odd orders go negative\), not 3$"):
        get_study("taylor-softmax").check({**get_study("taylor-softmax").params, "order": 3})
    with pytest.raises(ValueError, match=r"^zo-training: method must be one of backprop, ste, zo, "
                                         r"not 'adam'$"):
        get_study("zo-training").check({**get_study("zo-training").params, "method": "adam"})
