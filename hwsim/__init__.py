"""hwsim: bit-accurate models of approximate and fixed-point hardware arithmetic.

``import hwsim`` is numpy-only; the Amaranth HDL (``hwsim.hdl``) and the cocotb benches
(``hwsim.sim``) are imported on demand.
"""

from hwsim.drum import DrumMulParams, drum_mul
from hwsim.fixed import FixedFormat, Overflow, Rounding
from hwsim.float_mul import (
    FloatDivParams,
    FloatMethod,
    FloatMulParams,
    FloatType,
    float_div,
    float_mul,
)
from hwsim.mitchell import (
    FloatFormat,
    MitchellDivParams,
    MitchellMulParams,
    bf16_from_float,
    bf16_to_float,
    mitchell_div,
    mitchell_div_float,
    mitchell_mul,
    mitchell_mul_float,
)
from hwsim.realm import RealmMulParams, realm_mul

__version__ = "0.1.0"

__all__ = [
    "FixedFormat", "Rounding", "Overflow",
    "MitchellMulParams", "MitchellDivParams", "mitchell_mul", "mitchell_div",
    "DrumMulParams", "drum_mul", "RealmMulParams", "realm_mul",
    "FloatType", "FloatMethod", "FloatMulParams", "FloatDivParams", "float_mul", "float_div",
    "FloatFormat", "mitchell_mul_float", "mitchell_div_float", "bf16_from_float", "bf16_to_float",
    "__version__",
]
