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
        a, b = _operands(rng, width, (3, 4, 37)), _operands(rng, width, (3, 37, 5))
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
