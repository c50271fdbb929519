"""The fused Mitchell matrix product (hwsim.mitchell_kernels.mitchell_matmul) equals the sum
of the model's products, for every lane type it picks (int32 lanes and sum, int32 lanes with
an int64 sum, int64 lanes, the scalar kernel), Mitch-w truncation, zeros and the extremes."""

import numpy as np
import pytest

from hwsim.mitchell import MitchellMulParams, mitchell_mul
from hwsim.mitchell_kernels import mitchell_matmul


def _operands(rng, width, shape):
    lo, hi = -(1 << (width - 1)), (1 << (width - 1))
    x = rng.integers(lo, hi, shape)
    flat = x.reshape(-1)
    flat[rng.random(flat.size) < 0.1] = 0
    flat[rng.random(flat.size) < 0.05] = lo         # |-2**(N-1)| = 2**(N-1)
    flat[rng.random(flat.size) < 0.05] = hi - 1
    return x


@pytest.mark.parametrize("width", [2, 3, 8, 10, 11, 16, 21, 22, 24])
@pytest.mark.parametrize("keep", [None, 0, 1])
def test_matmul_equals_the_sum_of_model_products(width, keep):
    if keep is not None and keep >= width - 1:
        keep = None   # Mitch-w needs keep_bits < N-1
    rng = np.random.default_rng(width * 7 + (keep or 5))
    p = MitchellMulParams(width=width, signed=True, keep_bits=keep)
    a, b = _operands(rng, width, (2, 5, 33)), _operands(rng, width, (2, 33, 4))
    want = mitchell_mul(a[:, :, :, None], b[:, None, :, :], p).sum(axis=2)
    assert np.array_equal(mitchell_matmul(a, b, p), want)


def test_int64_sum_when_the_int32_sum_could_overflow():
    """Width 10, k = 2**13: k 2**18 = 2**31 does not fit int32, so the sum is int64; all
    operands -512 give products 2**18 each, a sum of exactly 2**31."""
    p = MitchellMulParams(width=10, signed=True)
    k = 1 << 13
    a = np.full((1, 1, k), -512)
    b = np.full((1, k, 1), -512)
    assert mitchell_matmul(a, b, p)[0, 0, 0] == 1 << 31


@pytest.mark.parametrize("width", [2, 8, 12, 24])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_compiled_block_quantize_equals_the_numpy_steps(width, dtype):
    from hwsim.eval.hooks import block_quantize, block_quantize_numpy
    rng = np.random.default_rng(width)
    x = (rng.normal(size=(4, 7, 9)) * 10.0 ** rng.integers(-6, 6, (4, 7, 1))).astype(dtype)
    x[0, 0] = 0                                        # a zero row
    x[0, 1, :3] = [1e-30, -1e-30, 0]                   # tiny values
    x[1, 2] = np.linspace(-4, 4, 9)                    # ties at half an LSB: -4 .. 4 step 1
    x[1, 3, 0] = -x[1, 3].__abs__().max() * 1.0        # the most negative value is the peak
    x[2, 0] = 1e30 if dtype == np.float64 else 1e30
    for axis in (-1, -2, 0):
        q, f = block_quantize(x, width, axis)
        q0, f0 = block_quantize_numpy(x, width, axis)
        assert np.array_equal(q, q0) and np.array_equal(f, f0)
        assert q.dtype == np.int64 and f.shape == f0.shape
