"""The float32 bit-pattern Mitchell matrix product (widths up to 15, the fast path of
hwsim.mitchell_kernels.mitchell_matmul) equals the split-logarithm kernel and the sum of the
model's products on seeded random operands with the edge values (0, -2**(N-1), 2**(N-1)-1,
+-1, powers of two), for every width it takes, Mitch-w truncation, the int64 sum and a right
operand shared along the stack (a broadcast weight matrix)."""

import numpy as np
import pytest

from hwsim.mitchell import MitchellMulParams, mitchell_mul
from hwsim.mitchell_kernels import PATTERN_MAX_WIDTH, mitchell_matmul, split_matmul


def _operands(rng, width, shape):
    lo, hi = -(1 << (width - 1)), (1 << (width - 1))
    x = rng.integers(lo, hi, shape)
    flat = x.reshape(-1)
    edges = np.array([0, lo, hi - 1, 1, -1] + [s * (1 << j) for j in range(width - 1)
                                               for s in (1, -1)])
    pick = rng.random(flat.size) < 0.3
    flat[pick] = rng.choice(edges, int(pick.sum()))
    return x


@pytest.mark.parametrize("width", range(2, PATTERN_MAX_WIDTH + 1))
def test_pattern_kernel_equals_split_kernel_and_model(width):
    rng = np.random.default_rng(1000 + width)
    for keep in [None, *range(0, width - 1)]:
        p = MitchellMulParams(width=width, signed=True, keep_bits=keep)
        a, b = _operands(rng, width, (3, 6, 37)), _operands(rng, width, (3, 37, 70))
        want = mitchell_mul(a[:, :, :, None], b[:, None, :, :], p).sum(axis=2)
        got = mitchell_matmul(a, b, p)
        assert got.dtype == np.int64
        assert np.array_equal(got, want), (width, keep)
        assert np.array_equal(split_matmul(a, b, p), want), (width, keep)


def test_every_pair_of_8_bit_operands():
    """All 2**16 signed 8-bit pairs, one product per dot product (k = 1)."""
    p = MitchellMulParams(width=8, signed=True)
    x = np.arange(-128, 128)
    a, b = np.repeat(x, 256), np.tile(x, 256)
    # each pair as its own 1x1 product: a stack of 65536 matrices
    got = mitchell_matmul(a.reshape(-1, 1, 1), b.reshape(-1, 1, 1), p).reshape(-1)
    assert np.array_equal(got, mitchell_mul(a, b, p))


@pytest.mark.parametrize("width", [8, 15])
def test_int64_sum(width):
    """k 2**(2N-2) >= 2**31: the int64 sum; all operands -2**(N-1) give 2**(2N-2) each."""
    p = MitchellMulParams(width=width, signed=True)
    k = (1 << (33 - 2 * (width - 1))) + 3
    a = np.full((1, 2, k), -(1 << (width - 1)))
    b = np.full((1, k, 1), -(1 << (width - 1)))
    assert np.array_equal(mitchell_matmul(a, b, p)[:, :, 0], np.full((1, 2), k << (2 * width - 2)))


def test_shared_right_operand_is_converted_once_and_equal():
    rng = np.random.default_rng(7)
    p = MitchellMulParams(width=8, signed=True)
    a = _operands(rng, 8, (6, 3, 20))
    w = _operands(rng, 8, (20, 9))
    shared = np.broadcast_to(w, (6, 20, 9))            # stride 0 along the stack
    got = mitchell_matmul(a, shared, p)
    want = mitchell_mul(a[:, :, :, None], w[None, None, :, :], p).sum(axis=2)
    assert np.array_equal(got, want)
    assert np.array_equal(got, mitchell_matmul(a, np.ascontiguousarray(shared), p))


def test_weight_patterns_remembered_only_for_read_only_codes():
    """A read-only right operand's patterns are kept (weights); changing a writeable
    operand in place between calls changes the result as it must."""
    from hwsim import mitchell_kernels as mk
    rng = np.random.default_rng(8)
    p = MitchellMulParams(width=8, signed=True)
    a = _operands(rng, 8, (1, 4, 16))
    w = _operands(rng, 8, (1, 16, 3))
    mitchell_matmul(a, w, p)
    w[0, 0, 0] = 0 if w[0, 0, 0] else 5
    assert np.array_equal(mitchell_matmul(a, w, p),
                          mitchell_mul(a[:, :, :, None], w[:, None, :, :], p).sum(axis=2))
    ro = np.array(w)
    ro.setflags(write=False)
    before = len(mk._PATTERNS)
    got = mitchell_matmul(a, ro, p)
    assert len(mk._PATTERNS) == before + 1
    assert np.array_equal(mitchell_matmul(a, ro, p), got)
    assert len(mk._PATTERNS) == before + 1
    assert np.array_equal(got, mitchell_mul(a[:, :, :, None], ro[:, None, :, :], p).sum(axis=2))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("width", [2, 8, 16, 24])
def test_compiled_quantize_frac_equals_the_numpy_steps(dtype, width):
    from hwsim.eval.hooks import quantize_frac, quantize_frac_numpy
    rng = np.random.default_rng(width)
    x = (rng.normal(size=(3, 50)) * 10.0 ** rng.integers(-8, 8, (3, 1))).astype(dtype)
    x[0, :9] = np.arange(-4, 5) + 0.5                   # ties: to even
    x[1, :6] = [0.0, -0.0, np.inf, -np.inf, 1e30, -1e30]
    x[2, :3] = [1e-30, -1e-30, np.finfo(dtype).tiny]
    for frac in (-1000, -20, -3, 0, 1, 5, 7, 23, 60, 1000):
        got = quantize_frac(x, width, frac)
        want = quantize_frac_numpy(x, width, frac)
        assert got.dtype == np.int64 and np.array_equal(got, want), frac
    y = x.copy()
    y[0, 0] = np.nan   # NaN: the numpy steps (no compiled answer)
    with np.errstate(invalid="ignore"):
        assert np.array_equal(quantize_frac(y, width, 3)[1:], quantize_frac_numpy(x, width, 3)[1:])


@pytest.mark.parametrize("width", [2, 8, 24])
def test_compiled_column_quantize_equals_the_numpy_steps(width):
    """Weights take the column kernel (axis -2, no transposes): extreme columns too
    (peaks below 2**-1000 and near 2**1000 take the ldexp branch)."""
    from hwsim.eval.hooks import block_quantize, block_quantize_numpy
    rng = np.random.default_rng(30 + width)
    x = rng.normal(size=(2, 11, 6)) * 10.0 ** rng.integers(-5, 5, (1, 1, 6))
    x[0, :, 0] = 0.0
    x[0, :, 1] = rng.normal(size=11) * 1e-305
    x[1, :, 2] = rng.normal(size=11) * 1e300
    x[1, :5, 3] = np.arange(-2, 3) * 0.5                 # ties
    for arr in (x, x[0], x.astype(np.float32)[1]):
        q, f = block_quantize(arr, width, axis=-2)
        q0, f0 = block_quantize_numpy(arr, width, axis=-2)
        assert np.array_equal(q, q0) and np.array_equal(f, f0) and f.shape == f0.shape
