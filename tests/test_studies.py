"""ML studies: the published claims, measured (sklearn's bundled digits; no downloads)."""

import numpy as np
import pytest

pytest.importorskip("sklearn")

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
