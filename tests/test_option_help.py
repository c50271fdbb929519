"""Unit options' help (hwsim/cli/options.py, from each Params docstring): one help string per
option (no shared group text), the default stated once and in the CLI's spelling, enum
members as the CLI spells them, and a refusal of a default the user never gave says so."""

import dataclasses
import enum
import re

import pytest

from hwsim.cli.options import describe_option, param_docs
from hwsim.units import REGISTRY

SPECS = sorted(REGISTRY.values(), key=lambda s: s.name)


def _helps(cls) -> dict[str, str]:
    docs = param_docs(cls)
    return {f.name: describe_option(f, docs.get(f.name, ""))[1]
            for f in dataclasses.fields(cls)}


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_each_option_has_its_own_help(spec):
    helps = _helps(spec.params_cls)
    seen = {}
    for name, text in helps.items():
        body = re.sub(r" \(default [^)]*\)$", "", text)
        assert body not in seen, f"--{name} and --{seen[body]} share their help: {body!r}"
        seen[body] = name


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_the_default_is_stated_once_in_cli_spelling(spec):
    for f in dataclasses.fields(spec.params_cls):
        text = _helps(spec.params_cls)[f.name]
        assert len(re.findall(r"\bdefault\b", text, re.I)) <= 1 or "(default)" in text, text
        d = f.default
        if isinstance(d, enum.Enum):
            assert text.endswith(f"(default {d.value})"), (f.name, text)
            for m in type(d):
                if len(m.name) > 1 and m.name != str(m.value):
                    assert not re.search(rf"\b{m.name}\b", text), (f.name, m.name, text)
        if d is None:
            assert text.endswith("(default none)"), (f.name, text)


def test_exp_method_help_is_not_doubled():
    from hwsim.exp import ExpParams
    assert _helps(ExpParams)["method"] == "ExpMethod (default lut)"


def test_softmax_group_fields_each_say_what_they_are():
    from hwsim.softmax import SoftmaxParams
    h = _helps(SoftmaxParams)
    assert h["lut_bits"] == "The exp unit's table index bits (lut method), 1..12 (default 6)"
    assert h["order"].startswith("The exp unit's Taylor order")


def test_a_refused_default_is_named_as_the_default(capsys):
    from hwsim.cli import main
    assert main(["verify", "exp", "--in-fmt", "Q4.0", "--out-fmt", "UQ4.0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["hwsim: error: ExpParams.lut_bits must be an integer in 1..4, not 6 "
                   "(the default; give --lut-bits)"]
    # a value the user gave is not called the default
    assert main(["verify", "exp", "--in-fmt", "Q4.0", "--out-fmt", "UQ4.0", "--lut-bits", "6"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "hwsim: error: ExpParams.lut_bits must be an integer in 1..4, not 6"
