"""``hwsim units``: every registered unit, its summary and its parameters."""

from __future__ import annotations

from hwsim.cli.common import Files
from hwsim.cli.options import unit_summary_lines
from hwsim.units import REGISTRY


def cmd_units(args):
    for spec in REGISTRY.values():
        print(f"{spec.name:14} {spec.summary}")
        print("\n".join(unit_summary_lines(spec.params_cls)))
    return 0


def files(args) -> Files:
    """Reads no file; writes none."""
    return Files()


def add(sub) -> None:
    """``hwsim units``."""
    s = sub.add_parser("units", help="list units and their parameters")
    s.set_defaults(func=cmd_units, files=files)
