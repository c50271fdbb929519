"""The exact multiplier unit's model (``exact-mul``) against Python integers, and its Params."""

import numpy as np
import pytest

from hwsim.exact_mul import ExactMulParams, exact_mul
from hwsim.units import get_unit

EXACT = get_unit("exact-mul")


@pytest.mark.parametrize("width, signed", [(2, False), (5, True), (8, False), (8, True)])
def test_model_is_the_integer_product_on_every_pair(width, signed):
    p = ExactMulParams(width=width, signed=signed)
    v = EXACT.vectors(p, None, 0)
    assert len(v["a"]) == 4 ** width
    got = exact_mul(v["a"], v["b"], p)
    assert got.dtype == (np.int64 if signed else np.uint64)
    want = [int(a) * int(b) for a, b in zip(v["a"], v["b"])]
    assert [int(x) for x in got] == want


@pytest.mark.parametrize("signed", [False, True])
def test_model_at_32_bits_keeps_every_bit(signed):
    """The extremes of a 32-bit product (2N = 64 bits) are exact, not wrapped."""
    p = ExactMulParams(width=32, signed=signed)
    lo, hi = p.in_range
    xs = np.array([lo, lo + 1, -1 if signed else 1, 0, hi - 1], dtype=np.int64)
    got = exact_mul(xs[:, None], xs[None, :], p)
    want = [[int(a) * int(b) for b in xs] for a in xs]
    assert [[int(x) for x in row] for row in got] == want


@pytest.mark.parametrize("kwargs, err, msg", [
    (dict(width=33), ValueError, r"^ExactMulParams.width must be an integer in 2..32, not 33$"),
    (dict(width=8.0), TypeError, r"^ExactMulParams.width must be an integer"),
    (dict(signed=1), TypeError, r"^ExactMulParams.signed must be a bool"),
    (dict(stages=9), ValueError, r"^ExactMulParams.stages must be an integer in 0..8, not 9$"),
])
def test_bad_params_are_refused(kwargs, err, msg):
    with pytest.raises(err, match=msg):
        ExactMulParams(**kwargs)


def test_out_of_range_operands_are_refused():
    with pytest.raises(ValueError, match=r"^exact_mul: a has values outside \[-8, 8\) for signed "
                                         r"width 4 \(first: 8\)$"):
        exact_mul(8, 1, ExactMulParams(width=4, signed=True))
    with pytest.raises(TypeError, match=r"^exact_mul: b must be integers, not dtype float64$"):
        exact_mul(1, 1.5, ExactMulParams())
