"""hwsim: bit-accurate models of approximate and fixed-point hardware arithmetic.

``import hwsim`` imports nothing until one of its names is used (then numpy only); the
Amaranth HDL (``hwsim.hdl``) and the cocotb benches (``hwsim.sim``) are imported on demand.
"""

import importlib

#: the public names, by the module that defines them: imported on first use (PEP 562), so
#: ``import hwsim`` itself costs nothing and the ``hwsim`` command can catch Ctrl-C from
#: its first line (:mod:`hwsim._main`)
_EXPORTS = {
    "DrumMulParams": "hwsim.drum", "drum_mul": "hwsim.drum",
    "FixedFormat": "hwsim.fixed", "Overflow": "hwsim.fixed", "Rounding": "hwsim.fixed",
    **dict.fromkeys(("FloatDivParams", "FloatMethod", "FloatMulParams", "FloatType",
                     "float_div", "float_mul"), "hwsim.float_mul"),
    **dict.fromkeys(("FloatFormat", "MitchellDivParams", "MitchellMulParams",
                     "bf16_from_float", "bf16_to_float", "mitchell_div", "mitchell_div_float",
                     "mitchell_mul", "mitchell_mul_float"), "hwsim.mitchell"),
    "RealmMulParams": "hwsim.realm", "realm_mul": "hwsim.realm",
}


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'hwsim' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted({*globals(), *_EXPORTS})


__version__ = "0.1.0"

__all__ = [
    "FixedFormat", "Rounding", "Overflow",
    "MitchellMulParams", "MitchellDivParams", "mitchell_mul", "mitchell_div",
    "DrumMulParams", "drum_mul", "RealmMulParams", "realm_mul",
    "FloatType", "FloatMethod", "FloatMulParams", "FloatDivParams", "float_mul", "float_div",
    "FloatFormat", "mitchell_mul_float", "mitchell_div_float", "bf16_from_float", "bf16_to_float",
    "__version__",
]
