"""Formal specification of the exact multiplier (``hwsim.exact_mul``)."""

from __future__ import annotations

__all__ = ["exact_mul"]


def exact_mul(z3, params, inputs: dict) -> dict:
    """``{"p": a * b}`` for ``ExactMulParams``: the operands extended to 2N bits (sign- or
    zero-extended) and multiplied as bit vectors (exact: the product fits 2N bits)."""
    n, a, b = params.width, inputs["a"], inputs["b"]
    ext = z3.SignExt if params.signed else z3.ZeroExt
    return {"p": ext(n, a) * ext(n, b)}
