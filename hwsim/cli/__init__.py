"""The ``hwsim`` command: one module per command in this package (``hwsim.cli.<command>``,
each with ``add(sub)`` building its parser and the ``cmd_*`` function it runs), the shared
parts in :mod:`hwsim.cli.common`.

Each unit command (verilog, verify, characterize, synth, prove) takes the unit as a sub-command
whose options are generated from that unit's Params (``hwsim.cli.options``): ``hwsim verify
softmax --help`` lists softmax's parameters with softmax's defaults. Exit codes: 0 success,
1 failed verification (mismatches) or failed tool run, 2 bad usage (one line ``hwsim: error:
...``, no traceback). Paths the user names are checked before any work starts: each command
module declares what a run reads and writes (``files(args)``, :class:`hwsim.cli.common.Files`),
and ``main`` refuses, before the command runs, any output that is one of its inputs or
another of its outputs (:func:`hwsim.cli.common.check_files`).
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import importlib
import sys

from hwsim.cli.common import Failure, Parser, UsageError, check_files
from hwsim.cli.options import option_name
from hwsim.units import REGISTRY

__all__ = ["main", "build_parser", "COMMANDS"]

#: the commands, in the order ``hwsim --help`` lists them: modules of this package
COMMANDS = ("units", "verilog", "verify", "characterize", "synth", "front", "prove", "sweep",
            "study", "run", "explore", "demo")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The ``hwsim`` parser; ``only``: with that command's sub-parser alone (what ``main``
    builds when the command is named: each command's help and parsing are the same, and
    start-up does not pay for every unit's options of every other command)."""
    p = Parser(
        prog="hwsim", allow_abbrev=False,
        description="Bit-accurate models, Verilog, verification and accuracy of approximate "
                    "arithmetic units.",
        epilog="Examples: hwsim verilog mitchell-mul --width 8 -o out/ ; "
               "hwsim verify mitchell-mul --width 8 --vectors exhaustive ; "
               "hwsim characterize mitchell-div --width 12 --frac-bits 8 ; "
               "hwsim verify softmax --help")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True,
                           parser_class=Parser)

    for name in COMMANDS if only is None else (only,):
        importlib.import_module(f"hwsim.cli.{name}").add(sub)
    return p


def _unknown_option(args, extra: list[str]) -> str:
    """The message for arguments the parser did not take."""
    unit = getattr(args, "unit", None)
    opt = next((x.split("=")[0] for x in extra if x.startswith("--")), None)
    if unit in REGISTRY and opt is not None:
        fields = sorted(f.name for f in dataclasses.fields(REGISTRY[unit].params_cls))
        every = {f.name for spec in REGISTRY.values()
                 for f in dataclasses.fields(spec.params_cls)}
        if opt[2:].replace("-", "_") in every:
            opts = ", ".join(option_name(f) for f in fields)
            return f"{unit} has no parameter {opt} (its parameters: {opts})"
        return f"unknown option {opt} (see hwsim {args.command} {unit} --help)"
    where = " ".join(["hwsim"] + [getattr(args, k) for k in ("command", "name")
                                  if getattr(args, k, None)])
    if opt is not None:
        return f"unknown option {opt} (see {where} --help)"
    return f"unrecognized arguments: {' '.join(extra)} (see {where} --help)"


def _parser(argv=None) -> argparse.ArgumentParser:
    """The parser for ``argv``: only the named command's when it starts with one, else all
    (``hwsim --help``, an unknown command)."""
    args = sys.argv[1:] if argv is None else list(argv)
    only = args[0] if args and args[0] in COMMANDS else None
    return _parser_for(tuple(REGISTRY), only)  # a unit registered since is in the next parser


@functools.lru_cache(maxsize=4)
def _parser_for(units: tuple, only: str | None = None) -> argparse.ArgumentParser:
    return build_parser(only)  # argparse parsers keep no state between parses


#: options naming a path or an address, by argparse dest: an empty value is refused (it would
#: be skipped as "not given", or mean the current directory)
PATH_OPTIONS = {
    "output": ("-o/--output", "a directory"), "front_out": ("-o/--output", "a directory"),
    "build_dir": ("--build-dir", "a directory"), "keep": ("--keep", "a directory"),
    "emit": ("--emit", "a directory"),
    "json": ("--json", "a file name"), "front_json": ("--json", "a file name"),
    "export": ("--export", "a file name"), "db": ("--db", "a file name"),
    "front_db": ("--db", "a file name"),
    "verilog": ("--verilog", "a file"), "corpus": ("--corpus", "a file"),
    "sts": ("--sts", "a file"), "assign": ("--assign", "a file"),
    "reference": ("--reference", "a file"), "data": ("--data", "a file"),
    "config": ("CONFIG", "a file"), "model": ("MODEL", "a file"),
    "scheduler": ("--scheduler", "an address (tcp://host:port)"),
}


def _refuse_empty_paths(args) -> None:
    for dest, (option, rule) in PATH_OPTIONS.items():
        if getattr(args, dest, None) == "":
            raise UsageError(f"{option} must be {rule}, not ''")


def main(argv=None) -> int:
    try:
        parser = _parser(argv)  # builds the parser (unit options): Ctrl-C lands here too
        args, extra = parser.parse_known_args(argv)
        if extra:
            raise UsageError(_unknown_option(args, extra))
        _refuse_empty_paths(args)
        check_files(args)  # the command's declared outputs against its inputs: before any work
        return args.func(args)
    except UsageError as e:
        print(f"hwsim: error: {e}", file=sys.stderr)
        return 2
    except Failure as e:
        print(f"hwsim: {e}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # `hwsim units | head`: the reader is gone, nothing to report
        import os
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no error at exit
        return 141
    except OSError as e:  # an output that failed late (a full disk), a file that vanished
        where = f"{e.filename}: " if e.filename else ""
        print(f"hwsim: error: {where}{e.strerror or e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("hwsim: interrupted", file=sys.stderr)
        return 130

