"""Error metrics by hand, and the compiled exhaustive kernels against the numpy model."""

import math

import numpy as np
import pytest

from hwsim import MitchellDivParams, MitchellMulParams
from hwsim.eval.characterize import characterize
from hwsim.metrics import error_metrics
from hwsim.units import get_unit
from hwsim.vectors import operand_pairs


def test_error_metrics_by_hand():
    m = error_metrics([9, 10, 0, 3], [10, 10, 2, 0])
    # errors -1, 0, -2, 3 ; exact != 0 for the first three: RED 0.1, 0, 1
    assert m.n == 4
    assert m.mae == 1.5 and m.wce == 3 and m.mse == 3.5 and m.bias == 0.0
    assert m.ep == 0.75
    assert math.isclose(m.mred, 1.1 / 3) and m.max_red == 1.0
    assert m.mae_pct == 15.0 and m.wce_pct == 30.0


def test_error_metrics_rejects_bad_input():
    with pytest.raises(ValueError, match=r"^error_metrics: approx and exact differ in size \(2 vs 3\)$"):
        error_metrics([1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match=r"^error_metrics: no values to compare$"):
        error_metrics([], [])
    with pytest.raises(ValueError, match=r"^error_metrics: approx has non-finite values "
                                         r"\(first: nan\)$"):
        error_metrics([1.0, float("nan"), float("inf")], [1, 2, 3])
    with pytest.raises(ValueError, match=r"^error_metrics: exact has non-finite values "
                                         r"\(first: -inf\)$"):
        error_metrics([1, 2], np.array([-np.inf, 2.0]))
    with pytest.raises(TypeError, match=r"^error_metrics: approx must be real numbers, "
                                        r"not dtype <U1$"):
        error_metrics(["a"], [1])
    with pytest.raises(TypeError, match=r"^error_metrics: exact must be real numbers, "
                                        r"not dtype bool$"):
        error_metrics([1], [True])
    with pytest.raises(ValueError, match=r"^error_metrics: exact must be a rectangular array "
                                         r"\(every row the same length\), not \[\[1\], \[2, 3\]\]$"):
        error_metrics([1, 2, 3], [[1], [2, 3]])


KERNEL_CASES = [("mitchell-mul", MitchellMulParams(width=w, signed=s, keep_bits=k))
                for w in (3, 8) for s in (False, True) for k in (None, 1)]
KERNEL_CASES += [("mitchell-div", MitchellDivParams(width=w, frac_bits=f, keep_bits=k))
                 for w in (3, 8) for f in (0, 5, 20) for k in (None, 1)]


@pytest.mark.parametrize("unit,params", KERNEL_CASES, ids=lambda x: getattr(x, "top_name", x))
def test_exhaustive_kernel_equals_numpy_model(unit, params):
    spec = get_unit(unit)
    fast = characterize(spec, params, jobs=2)
    a, b = operand_pairs(params.width, params.signed, None)
    approx, exact = spec.real(params, {"a": a, "b": b})
    slow = error_metrics(approx, exact)
    f, s = fast.metrics.to_dict(), slow.to_dict()
    for key in ("n", "wce", "ep", "max_red"):
        assert f[key] == s[key], key
    for key in ("mae", "mse", "bias", "mred", "mae_pct", "wce_pct"):
        assert math.isclose(f[key], s[key], rel_tol=1e-12, abs_tol=1e-12), key  # summation order
    expected_n = 4 ** params.width if unit == "mitchell-mul" else 2 ** params.width * (2 ** params.width - 1)
    assert fast.mode == "exhaustive" and fast.metrics.n == expected_n
    assert fast.hist.sum() == np.count_nonzero(exact)


def test_sampled_characterisation_is_seeded():
    spec, p = get_unit("mitchell-mul"), MitchellMulParams(width=24)
    one = characterize(spec, p, samples=50_000, seed=3)
    two = characterize(spec, p, samples=50_000, seed=3)
    other = characterize(spec, p, samples=50_000, seed=4)
    assert one.metrics == two.metrics and one.metrics != other.metrics
    assert one.mode == "sampled" and one.metrics.n == 50_000
    assert 8 / 9 <= 1 - one.metrics.max_red  # the proven bound holds on the sample


def test_exhaustive_limit_message():
    with pytest.raises(ValueError, match=r"^characterize: exhaustive runs are limited to 32 input "
                                         r"bits \(2\*\*32 combinations\), not 40; use a sample count$"):
        characterize(get_unit("mitchell-mul"), MitchellMulParams(width=20))
