"""A toy multiplier family registered from outside hwsim (tests/test_plugin.py): the model
and registry entry of a plug-in unit. ``trunc-mul`` clears the low ``t`` bits of each
unsigned operand and multiplies exactly: ``p = (a & ~(2**t - 1)) * (b & ~(2**t - 1))``.

Importing this module registers the unit (``HWSIM_PLUGINS=trunc_mul`` with this directory on
``PYTHONPATH``); nothing in hwsim names it.
"""

from dataclasses import dataclass

import numpy as np

from hwsim._check import check_int, int_operand
from hwsim.params import UnsignedMulParams
from hwsim.units import Formal, Front, Product, UnitSpec, multiplier, register
from hwsim.vectors import operand_pairs


@dataclass(frozen=True)
class TruncMulParams(UnsignedMulParams):
    width: int = 8
    t: int = 2
    stages: int = 0

    stem = "trunc_mul"

    def __post_init__(self):
        check_int("TruncMulParams", "width", self.width, 2, 16)
        check_int("TruncMulParams", "t", self.t, 0, self.width - 1)
        check_int("TruncMulParams", "stages", self.stages, 0, 0)

    def _name_parts(self):
        return (f"t{self.t}",)


def trunc_mul(a, b, params: TruncMulParams) -> np.ndarray:
    hi = 1 << params.width
    a = int_operand("trunc_mul", "a", a, 0, hi, f"for width {params.width}")
    b = int_operand("trunc_mul", "b", b, 0, hi, f"for width {params.width}")
    mask = ~((1 << params.t) - 1)
    return (a & mask) * (b & mask)


def _pairs(params, count, seed):
    a, b = operand_pairs(params.width, False, count, seed)
    return {"a": a, "b": b}


def formal_spec(z3, params, inputs):
    n, mask = params.width, (1 << params.width) - (1 << params.t)
    a, b = inputs["a"] & mask, inputs["b"] & mask
    return {"p": z3.ZeroExt(n, a) * z3.ZeroExt(n, b)}


SPEC = register(UnitSpec(
    "trunc-mul", TruncMulParams, "trunc_mul_hdl:TruncMultiplier", "trunc_mul_tb",
    "toy plug-in: operands with their low t bits cleared, multiplied exactly",
    _pairs, *multiplier(trunc_mul), baseline="hwsim.hdl.exact:ExactMultiplier",
    graph=Product(sign_magnitude=True),
    front=Front("truncated (plug-in)", lambda w: [TruncMulParams(width=w, t=t) for t in (1, 2)],
                knob=lambda d: d["t"], knob_name="t", marker="v"),
    formal=Formal("trunc_mul:formal_spec")))
