"""Error on a stream's distribution (characterize --stream: the data-weighted MRED) and the
operand streams captured from the built-in models (--stream digits / minilm)."""

import json

import numpy as np
import pytest

from hwsim.cli import main
from hwsim.drum import DrumMulParams, drum_mul
from hwsim.mitchell import MitchellMulParams, mitchell_mul
from hwsim.units import get_unit


def _mred(approx, exact):
    approx, exact = np.asarray(approx, dtype=np.float64), np.asarray(exact, dtype=np.float64)
    nz = exact != 0
    return float(np.mean(np.abs(approx[nz] - exact[nz]) / np.abs(exact[nz])))


def test_characterize_stream_file_reports_both_mreds(tmp_path, capsys):
    rng = np.random.default_rng(5)
    a = np.round(rng.normal(0, 6, 4000)).astype(np.int64).clip(-128, 127)
    b = np.round(rng.laplace(0, 10, 4000)).astype(np.int64).clip(-128, 127)
    np.savez(tmp_path / "s.npz", a=a, b=b)
    out = tmp_path / "c.json"
    assert main(["characterize", "mitchell-mul", "--width", "8", "--signed", "--stream",
                 str(tmp_path / "s.npz"), "--json", str(out)]) == 0
    d = json.loads(out.read_text())
    p = MitchellMulParams(width=8, signed=True)
    assert d["mred_data"] == pytest.approx(_mred(mitchell_mul(a, b, p), a * b), rel=1e-12)
    x = np.arange(-128, 128)
    xa, xb = np.meshgrid(x, x)
    assert d["mred_uniform"] == pytest.approx(_mred(mitchell_mul(xa, xb, p), xa * xb), rel=1e-12)
    assert d["metrics"]["mred"] == d["mred_uniform"] and d["mode"] == "exhaustive"
    assert d["data"]["mode"] == "stream" and d["data"]["metrics"]["n"] == 4000
    text = capsys.readouterr().out
    assert "(exhaustive)" in text and "data-weighted MRED" in text


def test_characterize_stream_refusals(tmp_path, capsys):
    assert main(["characterize", "mitchell-mul", "--width", "8", "--ops", "9"]) == 2
    assert main(["characterize", "softmax", "--stream", "small"]) == 2
    np.savez(tmp_path / "s.npz", a=np.array([1, 2]), b=np.array([3, 300]))
    assert main(["characterize", "mitchell-mul", "--width", "8", "--stream",
                 str(tmp_path / "s.npz")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and "300" in err[2]
    assert main(["characterize", "float-mul", "--stream", "digits"]) == 2
    assert "does not compute a model's products" in capsys.readouterr().err


@pytest.mark.slow
def test_digits_stream_is_the_codes_the_mlp_feeds(monkeypatch, tmp_path):
    """The digits stream of an unsigned DRUM: magnitudes of the codes the MLP's two layers
    feed a signed 8-bit unit; the same stream again from the cache; the MRED on it differs
    from the uniform one (small operands: DRUM is exact below 2**k)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    from hwsim.studies.model_streams import unit_stream
    spec = get_unit("drum-mul")
    p = DrumMulParams(width=8, k=4)
    s = unit_stream(spec, p, "digits", 3000, 2)
    a, b = s["operands"]["a"], s["operands"]["b"]
    assert a.size == b.size == 3000 and a.min() >= 0 and b.min() >= 0 and a.max() <= 128
    # the MLP (64 -> 32 -> 10) on 360 test digits: 360 * 32 * 64 + 360 * 10 * 32 products
    assert s["operations"] == 360 * 32 * 64 + 360 * 10 * 32
    assert list((tmp_path / "hwsim" / "streams").glob("digits-*.npz"))
    again = unit_stream(spec, p, "digits", 3000, 2)
    assert np.array_equal(again["operands"]["a"], a) and np.array_equal(again["operands"]["b"], b)
    # pixels are in [0, 1]: a row's largest pixel quantises to 64 (block format), zeros stay 0
    assert (a == 0).mean() > 0.2
    small = (a < 16) & (b < 16)
    assert np.array_equal(drum_mul(a[small], b[small], p), a[small] * b[small])
