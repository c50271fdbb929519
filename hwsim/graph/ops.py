"""The ONNX product ops in numpy with a pluggable matrix product: what the nodes an
assignment puts on a product unit run (:mod:`hwsim.graph.assign`).

``gemm`` and ``conv`` (im2col, one matrix product per group) take ``product(a, b)``:
``np.matmul`` for float, a unit's exact-integer product (:mod:`hwsim.eval.hooks`) on a
unit. Every other op, and these ops wherever they stay float, run in ONNX Runtime
(:mod:`hwsim.graph.model`): hwsim does not re-implement ONNX's float operators.
"""

from __future__ import annotations

import numpy as np

__all__ = ["conv", "matmul", "gemm", "im2col", "qshape"]


def matmul(a, b):
    return np.matmul(a, b)


def gemm(inputs, attrs, product=matmul):
    a, b = inputs[0], inputs[1]
    c = inputs[2] if len(inputs) > 2 else None
    if attrs.get("transA", 0):
        a = a.T
    if attrs.get("transB", 0):
        b = b.T
    y = product(a, b)
    alpha, beta = attrs.get("alpha", 1.0), attrs.get("beta", 1.0)
    if alpha != 1.0:
        y = y * np.float32(alpha)
    if c is not None:
        y = y + (c if beta == 1.0 else np.float32(beta) * c)
    return [np.asarray(y).astype(inputs[0].dtype, copy=False)]


def _pads(attrs, spatial, in_shape, kernel, strides, dilations):
    """Begin and end padding per spatial axis (explicit ``pads`` or ``auto_pad``)."""
    auto = attrs.get("auto_pad", "NOTSET")
    if isinstance(auto, bytes):
        auto = auto.decode()
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        begin, end = [], []
        for i in range(spatial):
            out = -(-in_shape[i] // strides[i])
            total = max(0, (out - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - in_shape[i])
            small, big = total // 2, total - total // 2
            begin.append(big if auto == "SAME_LOWER" else small)
            end.append(small if auto == "SAME_LOWER" else big)
        return begin, end
    pads = list(attrs.get("pads", [0] * (2 * spatial)))
    return pads[:spatial], pads[spatial:]


def im2col(x, kernel, strides, dilations, begin, end, pad_value=0.0):
    """``(N, C, *spatial)`` -> ``(N, C, *kernel, *out)`` windows (a strided view of the
    padded input); the output spatial shape is the tail."""
    spatial = len(kernel)
    x = np.pad(x, [(0, 0), (0, 0)] + list(zip(begin, end)), constant_values=pad_value)
    out = [(x.shape[2 + i] - (kernel[i] - 1) * dilations[i] - 1) // strides[i] + 1
           for i in range(spatial)]
    s = x.strides
    shape = x.shape[:2] + tuple(kernel) + tuple(out)
    strides_ = s[:2] + tuple(s[2 + i] * dilations[i] for i in range(spatial)) \
        + tuple(s[2 + i] * strides[i] for i in range(spatial))
    return np.lib.stride_tricks.as_strided(x, shape=shape, strides=strides_, writeable=False)


def conv(inputs, attrs, product=matmul):
    """Conv as im2col + one matrix product per group (``product(a, b)`` with ``a``
    ``(N, out_positions, C/g * prod(kernel))`` and ``b`` ``(C/g * prod(kernel), M/g)``)."""
    x, w = inputs[0], inputs[1]
    bias = inputs[2] if len(inputs) > 2 else None
    spatial = x.ndim - 2
    kernel = list(attrs.get("kernel_shape", w.shape[2:]))
    strides = list(attrs.get("strides", [1] * spatial))
    dilations = list(attrs.get("dilations", [1] * spatial))
    group = int(attrs.get("group", 1))
    begin, end = _pads(attrs, spatial, x.shape[2:], kernel, strides, dilations)
    cols = im2col(x, kernel, strides, dilations, begin, end)
    n, c = x.shape[:2]
    out_sp = cols.shape[2 + spatial:]
    npos = int(np.prod(out_sp))
    m = w.shape[0]
    cg, mg = c // group, m // group
    ys = []
    for g in range(group):
        cg_cols = cols[:, g * cg:(g + 1) * cg]
        a = cg_cols.reshape(n, cg * int(np.prod(kernel)), npos).transpose(0, 2, 1)
        b = w[g * mg:(g + 1) * mg].reshape(mg, -1).T
        ys.append(np.asarray(product(np.ascontiguousarray(a), np.ascontiguousarray(b))))
    y = np.concatenate(ys, axis=-1).transpose(0, 2, 1).reshape((n, m) + tuple(out_sp))
    if bias is not None:
        y = y + bias.reshape((1, m) + (1,) * spatial)
    return [y.astype(x.dtype, copy=False)]


def qshape(param, x, axis):
    """A scale or zero point broadcast along ``axis`` (per-axis) or as a scalar."""
    param = np.asarray(param)
    if param.ndim == 0 or param.size == 1:
        return param.reshape(())
    shape = [1] * x.ndim
    shape[axis] = param.size
    return param.reshape(shape)
