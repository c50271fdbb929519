"""What every ``hwsim`` command shares: the one-line usage error, the argparse
subclass that raises it, option parsers, the path checks that run before any work (among
them the output policy: :class:`Files`, :func:`check_files`), the JSON writer and the
per-unit sub-command builder."""

from __future__ import annotations

import argparse
import contextlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from hwsim.cli.options import add_unit_options, params_from_args
from hwsim.paths import (
    Output,
    check_output_file,
    check_outputs,
    output_files,
    replace_text,
)
from hwsim.units import REGISTRY, get_unit

#: defaults when no vector / sample count is given: exhaustive up to these many input bits
#: (two 8-bit operands for verification, two 12-bit operands for characterisation)
VERIFY_EXHAUSTIVE_DEFAULT_BITS = 16
CHARACTERIZE_EXHAUSTIVE_DEFAULT_BITS = 24
DEFAULT_SAMPLES = 1_000_000
#: random draws are bounded by memory: at most this many input values (int64) per run
MAX_INPUT_VALUES = 1 << 28
MAX_SEED = 2 ** 32 - 1
MAX_JOBS = 256


class UsageError(Exception):
    """Bad usage: reported as one line, exit code 2."""


class Failure(Exception):
    """A failure after valid input (a tool that failed): ``hwsim: <message>``, exit code 1."""


@contextlib.contextmanager
def synthesis_errors(db=None, usage=(), failures=()):
    """How every command reports synthesis: a missing tool or target library (and the
    exception types in ``usage``) is a :class:`UsageError`; a failed run (and ``failures``)
    a :class:`Failure` ``synthesis failed: <its first line>``; the result database ``db`` is
    closed either way."""
    from hwsim.eval.synth import SynthError, SynthToolNotFound
    from hwsim.eval.targets import TargetUnavailable
    try:
        yield
    except (SynthToolNotFound, TargetUnavailable, *usage) as e:
        raise UsageError(str(e)) from None
    except (SynthError, *failures) as e:
        raise Failure(f"synthesis failed: {str(e).splitlines()[0]}") from None
    finally:
        if db is not None:
            db.close()


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors in hwsim's words (exit 2, no usage block)."""

    def error(self, message):
        raise UsageError(reword(message))


def reword(message: str) -> str:
    m = re.match(r"argument (UNIT|NAME): invalid choice: '([^']*)'", message)
    if m:
        if m.group(1) == "UNIT":
            return f"unknown unit {m.group(2)!r} (units: {', '.join(REGISTRY)})"
        from hwsim.studies import STUDIES
        return f"unknown study {m.group(2)!r} (studies: {', '.join(STUDIES)})"
    m = re.match(r"argument ([^:]+): (.*)", message, re.S)
    if m:
        opt = m.group(1).split("/")[0]
        text = m.group(2)
        return f"{opt} {text}" if text.startswith("must") else f"{opt}: {text}"
    return message


def int_option(name: str, lo: int, hi: int):
    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer in {lo}..{hi}, "
                                             f"not {text!r}") from None
        if not lo <= v <= hi:
            raise argparse.ArgumentTypeError(f"must be an integer in {lo}..{hi}, not {v}")
        return v
    parse.__name__ = name
    return parse


seed_option = int_option("seed", 0, MAX_SEED)
jobs_option = int_option("jobs", 1, MAX_JOBS)
#: nextpnr placements per unit with ``hwsim synth --seeds`` (each takes seconds to minutes)
MAX_PNR_SEEDS = 32
pnr_seeds_option = int_option("seeds", 1, MAX_PNR_SEEDS)
#: the longest ``--timeout`` (``hwsim synth``: per tool call; ``hwsim prove``: the solver): a day
MAX_TIMEOUT = 86_400


def seconds_option(text: str) -> float:
    """``--timeout``: a number of seconds in (0, MAX_TIMEOUT]."""
    try:
        v = float(text)
    except ValueError:
        v = None
    if v is None or not 0 < v <= MAX_TIMEOUT:  # also refuses nan and inf
        raise argparse.ArgumentTypeError(f"must be a number of seconds in (0, {MAX_TIMEOUT}], "
                                         f"not {text!r}")
    return v


seconds_option.__name__ = "timeout"


def path_check(check, path, option: str, *args):
    try:
        return check(path, option, *args)
    except ValueError as e:
        raise UsageError(str(e)) from None


@dataclass
class Files:
    """What one run of a command reads and writes, from its arguments: ``inputs``
    ``{label: path or None}`` (configurations, models and their external weights, data,
    assignments, corpora) and ``outputs`` (:class:`hwsim.paths.Output`: every file it
    writes, plots, reports, sidecars, databases with their -wal/-shm/-journal/.lock).

    Each command module declares ``files(args) -> Files`` and hands it to its parser
    (``set_defaults(func=..., files=files)``); :func:`hwsim.cli.main` calls
    :func:`check_files` with it before the command runs, so no output of any command
    replaces one of its inputs or another of its outputs."""

    inputs: dict = field(default_factory=dict)
    outputs: list = field(default_factory=list)

    def out(self, option: str, path, label: str | None = None, database: bool = False,
            noun: str = "file name") -> Files:
        """Add the file ``path`` (nothing for ``None``); ``database=True``: with its sidecars."""
        self.outputs += output_files(option, path, label, database, noun)
        return self

    def out_dir(self, option: str, directory, names=(), patterns=(), databases=(),
                trees=(), labels=None) -> Files:
        """Add the files ``names`` (``databases``: with their sidecars) in ``directory``, the
        existing entries matching each glob of ``patterns`` (names known after the work) and
        the sub-directories ``trees`` the command fills (nothing for ``None``)."""
        if directory is None:
            return self
        d, labels = Path(directory), labels or {}
        for name in (*names, *databases):
            self.out(option, d / name, labels.get(name, option), name in databases,
                     "directory")
        self.outputs += [Output(option, d, pattern=g, noun="directory") for g in patterns]
        self.outputs += [Output(option, d / t, tree=True, noun="directory") for t in trees]
        return self


def check_files(args) -> None:
    """Refuse (:class:`UsageError`, exit 2, before any work) a run whose outputs would
    replace one of its inputs or one another: the command's ``files(args)`` declaration
    checked by :func:`hwsim.paths.check_outputs`."""
    declare = getattr(args, "files", None)
    if declare is None:
        raise RuntimeError(f"hwsim {args.command} declares no files (set_defaults(files=...))")
    f = declare(args)
    try:
        check_outputs(f.outputs, f.inputs)
    except ValueError as e:
        raise UsageError(str(e)) from None


def loaded_once(args, load, errors):
    """``load(args.config)``, read once per run (``files(args)`` and the command both need
    it, and a pipe can be read only once): the result, or the error of ``errors`` it raised,
    is kept on ``args``."""
    if not hasattr(args, "_loaded_config"):
        try:
            args._loaded_config = load(args.config)
        except errors as e:
            args._loaded_config = e
    if isinstance(args._loaded_config, Exception):
        raise args._loaded_config
    return args._loaded_config


def model_inputs(label: str, path) -> dict:
    """``{label: path}`` and the external weight files an ONNX model at ``path`` names
    (``"{label} weights"``); a model that cannot be read names none (the command says why)."""
    import os
    if path is None:
        return {}
    found = {label: path}
    if not os.path.isfile(path):  # a device or a pipe would be read for ever: checked later
        return found
    try:
        from hwsim.studies.onnx_model import external_files
        weights = external_files(path)
    except (ImportError, OSError, ValueError):  # no ml extra, unreadable: checked later
        weights = []
    if len(weights) == 1:
        return found | {f"{label} weights": str(weights[0])}
    return found | {f"{label} weights {w.name}": str(w) for w in weights}


def toml_files(label: str, path, known: dict | None = None) -> dict:
    """The existing files a TOML file's values name (a user's circuit, ``verilog = "mul.v"``
    in an ``[[assign]]`` rule): ``{"LABEL assign[0].verilog": path}``, those among ``known``
    (inputs already labelled) left out; a file that is not readable TOML names none (the
    command says why)."""
    import os
    import tomllib
    if path is None or not os.path.isfile(path):  # a pipe is read once, by the command
        return {}
    try:
        with open(path, "rb") as f:
            doc = tomllib.load(f)
    except (OSError, ValueError):
        return {}
    found = {}

    def walk(v, at):
        if isinstance(v, dict):
            for k, x in v.items():
                walk(x, f"{at}.{k}" if at else k)
        elif isinstance(v, list):
            for i, x in enumerate(v):
                walk(x, f"{at}[{i}]")
        elif isinstance(v, str) and v and os.path.isfile(v):
            found[f"{label} {at}"] = v
    walk(doc, "")
    seen = {os.path.realpath(p) for p in (known or {}).values() if p is not None}
    return {k: v for k, v in found.items() if os.path.realpath(v) not in seen}


def unit_files(args) -> Files:
    """The unit's own inputs: every Params value that names an existing file (a user's
    circuit, ``--verilog FILE``), labelled by its option."""
    import dataclasses
    import os

    from hwsim.cli.options import option_name
    _spec, params = unit_and_params(args)
    return Files({option_name(f.name): getattr(params, f.name)
                  for f in dataclasses.fields(params)
                  if isinstance(getattr(params, f.name), str)
                  and os.path.isfile(getattr(params, f.name))})


def unit_and_params(args):
    spec = get_unit(args.unit)
    try:
        params = params_from_args(spec.params_cls, args)
    except (TypeError, ValueError) as e:
        raise UsageError(str(e)) from None
    return spec, params


def values_per_vector(spec, params) -> int:
    """Input values (int64) one vector of ``spec`` holds, from its corner vectors."""
    v = spec.vectors(params, 0, 0)
    return max(1, sum(int(a[0].size) if a.ndim > 1 else 1 for a in v.values()))


def write_json(path, data, option: str = "--json") -> None:
    """Write ``data`` atomically (:func:`hwsim.paths.replace_text`) as strict JSON: a
    NaN or infinite number (an undefined metric) is written as null."""
    text = json.dumps(json_finite(data), indent=2, allow_nan=False) + "\n"
    try:
        replace_text(path, text)
    except OSError as e:  # after the work (a full disk): a failure, exit 1, not bad usage
        raise OSError(e.errno, f"{option} cannot be written ({e.strerror or e})",
                      str(path)) from None
    print(f"wrote {path}")


def json_finite(x):
    import math
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, dict):
        return {k: json_finite(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [json_finite(v) for v in x]
    return x


def check_files_in(out: Path, names) -> None:
    """The files a command will write in ``-o DIR`` can be written: none is a directory
    (found after the work, it would leave the outputs half written)."""
    for name in names:
        if (out / name).is_dir():
            raise UsageError(f"-o/--output {str(out)!r}: {name} there is a directory; remove "
                             f"it or give another directory")


def db_path(option_value):
    """The results file a ``--db`` value names (None for 'none')."""
    from hwsim.eval.resultdb import default_path
    if option_value == "none":
        return None
    return option_value if option_value is not None else default_path()


def open_db(path):
    """The synthesis cache at ``path`` (None: the default), refusing what is not one."""
    import sqlite3

    from hwsim.eval.resultdb import ResultDB
    if path is not None:
        path_check(check_output_file, path, "--db")
        if Path(path).is_file() and Path(path).stat().st_size == 0:  # SQLite would take it over
            raise UsageError(f"--db {str(path)!r} is an empty file, not a hwsim results "
                             f"database; give another file, a new name or 'none'")
    try:
        return ResultDB(path)
    except sqlite3.DatabaseError as e:
        raise UsageError(f"--db {str(path)!r} is not a hwsim results database ({e}); give "
                         f"another file or 'none'") from None


def unit_command(sub, name: str, help: str, common: argparse.ArgumentParser,
                  required: bool = True, specs=None, note=lambda spec: ""):
    """``hwsim NAME UNIT [unit options] [command options]``: one sub-parser per unit of
    ``specs`` (default: every registered unit); ``note(spec)`` ends its description."""
    specs = list(REGISTRY.values()) if specs is None else specs
    s = sub.add_parser(name, help=help, description=help)
    units = s.add_subparsers(dest="unit", metavar="UNIT", required=required,
                             parser_class=Parser,
                             help=f"one of: {', '.join(x.name for x in specs)} (hwsim {name} "
                                  f"UNIT --help lists its options)")
    for spec in specs:
        u = units.add_parser(spec.name, help=spec.summary, parents=[common],
                             description=f"hwsim {name} {spec.name}: {spec.summary}{note(spec)}",
                             allow_abbrev=False)
        add_unit_options(u, spec.params_cls)
    return s


def options(*adders) -> argparse.ArgumentParser:
    p = Parser(add_help=False, allow_abbrev=False)
    for add in adders:
        add(p)
    return p
