"""Every subcommand, every unit, bad values of every option: exit 0, 1 or 2 only, never a
traceback, and exit 2 is one line. The cases are generated from the registry and the Params
fields, so a new unit or field is attacked without editing this file."""

import dataclasses
import json
import enum

import pytest

from hwsim.cli import main
from hwsim.fixed import FixedFormat
from hwsim.cli.options import option_name
from hwsim.units import REGISTRY

#: values no option of that kind accepts, or that are at the edges of what it might
BAD_INT = ["-1", "0", "1", "65", "4097", "1" + "0" * 30, "-" + "9" * 25, "x", "", "1.5", "0x10",
           "none"]
BAD_FORMAT = ["Q0.0", "UQ0.0", "Q1.0", "UQ99.99", "Q4.-1", "Q-4.4", "4.8", "q4.4", "", "UQ64.64",
              "Q1.63", "Q33.0"]
BAD_ENUM = ["bogus", "", "LUT", "0"]
UNIT_COMMANDS = ("verilog", "verify", "characterize", "synth", "prove")


def _bad_values(field):
    d = field.default
    if isinstance(d, bool):
        return None  # a flag: --x / --no-x, both valid
    if isinstance(d, FixedFormat):
        return BAD_FORMAT
    if isinstance(d, enum.Enum):
        return BAD_ENUM
    return BAD_INT


def _guard(cmd, tmp_path):
    """Options that make a command stop before its work when the unit options are valid."""
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    return {"verilog": ["-o", str(blocker)],
            "verify": ["--build-dir", str(blocker)],
            "characterize": ["--json", str(tmp_path / "missing" / "x.json")],
            "synth": ["--json", str(tmp_path / "missing" / "x.json")],
            "prove": ["--verilog", str(tmp_path / "missing.v")]}[cmd]


def _cases():
    for cmd in UNIT_COMMANDS:
        for spec in REGISTRY.values():
            for f in dataclasses.fields(spec.params_cls):
                values = _bad_values(f)
                if values is not None:
                    yield pytest.param(cmd, spec.name, f.name, values,
                                       id=f"{cmd}-{spec.name}-{f.name}")


def _check(capsys, argv):
    code = main(argv)
    out, err = capsys.readouterr()
    assert code in (0, 1, 2), (argv, code)
    assert "Traceback" not in out + err, argv
    if code == 2:
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("hwsim: error: "), (argv, err)
    return code, err


@pytest.mark.parametrize("cmd,unit,field,values", list(_cases()))
def test_bad_option_values(capsys, tmp_path, cmd, unit, field, values):
    guard = _guard(cmd, tmp_path)
    for v in values:
        code, err = _check(capsys, [cmd, unit, option_name(field), v] + guard)
        assert code == 2, (cmd, unit, field, v)


def _command_options(cmd: str, unit: str) -> set[str]:
    """The option strings ``hwsim CMD UNIT`` takes (the command's and the unit's)."""
    import argparse

    from hwsim.cli import build_parser

    def sub(parser, name):
        return next(a for a in parser._actions
                    if isinstance(a, argparse._SubParsersAction)).choices[name]
    return set(sub(sub(build_parser(), cmd), unit)._option_string_actions)


@pytest.mark.parametrize("cmd", UNIT_COMMANDS)
@pytest.mark.parametrize("unit", list(REGISTRY))
def test_other_units_options_and_unknown_options(capsys, tmp_path, cmd, unit):
    own = {f.name for f in dataclasses.fields(REGISTRY[unit].params_cls)}
    others = {f.name for s in REGISTRY.values() for f in dataclasses.fields(s.params_cls)} - own
    # a command option that is another unit's parameter too (prove --verilog FILE) is the
    # command's for this unit
    own_options = _command_options(cmd, unit)
    others = {n for n in others if option_name(n) not in own_options}
    guard = _guard(cmd, tmp_path)
    for name in sorted(others):
        code, err = _check(capsys, [cmd, unit, option_name(name), "1"] + guard)
        assert code == 2 and f"{unit} has no parameter {option_name(name)}" in err
    for argv in (["--no-such-option"], ["stray"], ["--seed"], ["--vectors"], ["-o"]):
        code, _ = _check(capsys, [cmd, unit] + argv + guard)
        assert code == 2, argv
    code, err = _check(capsys, [cmd, unit] + guard)  # valid unit options: the guard stops it
    assert code == 2 and ("a-file" in err or "missing" in err
                          or "no specification" in err), err


COMMAND_OPTIONS = {
    "verify": [["--vectors", v] for v in ("-1", "x", "1e9", "", "exhaustive", "1" + "0" * 20)]
              + [["--seed", v] for v in ("-1", "x", str(2 ** 32), "1.5")]
              + [["--sim", "ghdl"], ["--batched", "--waves"]],
    "characterize": [["--samples", v] for v in ("0", "-5", "x", "1" + "0" * 20)]
                    + [["--seed", "-1"], ["--jobs", "0"], ["--jobs", "x"],
                       ["--exhaustive", "--samples", "5"]],
    "synth": [["--target", "ecp5"], ["--db", "/"]]
             + [["--timeout", v] for v in ("0", "-1", "x", "nan", "inf", "1e9")],
    "prove": [["--timeout", v] for v in ("0", "-1", "x", "nan", "inf", "1e9")]
             + [["--property", "speed"]],
}


@pytest.mark.parametrize("cmd", list(COMMAND_OPTIONS))
@pytest.mark.parametrize("unit", list(REGISTRY))
def test_bad_command_options(capsys, tmp_path, cmd, unit):
    guard = _guard(cmd, tmp_path)
    for extra in COMMAND_OPTIONS[cmd]:
        code, _ = _check(capsys, [cmd, unit] + extra + guard)
        assert code == 2, extra


def test_output_paths_are_checked_before_work(capsys, tmp_path):
    f = tmp_path / "file"
    f.write_text("not a directory")
    binary = tmp_path / "binary.sqlite"
    binary.write_bytes(bytes(range(256)) * 8)
    missing = tmp_path / "missing" / "x.json"
    explore = tmp_path / "explore.toml"
    explore.write_text("[workload]\nbuiltin = 'digits'\n[[group]]\nunits = ['exact-mul']\n"
                       "[constraint]\nmax_drop = 1\n")
    cases = [
        (["verilog", "mitchell-mul", "-o", str(f)], "is not a directory"),
        (["verilog", "mitchell-mul", "-o", str(f / "sub")], "cannot be created"),
        (["verify", "exp", "--build-dir", str(f)], "is not a directory"),
        (["characterize", "mitchell-mul", "--json", str(missing)], "does not exist"),
        (["characterize", "mitchell-mul", "--json", str(tmp_path)], "is a directory"),
        (["synth", "mitchell-mul", "--db", str(tmp_path)], "is a directory"),
        (["synth", "mitchell-mul", "--db", str(binary), "--no-fmax"], "not a hwsim results"),
        (["synth", "mitchell-mul", "--json", str(missing)], "does not exist"),
        (["synth", "mitchell-mul", "--keep", str(f)], "is not a directory"),
        (["sweep", str(f), "-o", str(f)], "is not a directory"),
        (["sweep", str(f), "-o", str(tmp_path / "o"), "--export", str(tmp_path)],
         "is a directory"),
        (["study", "digits-mlp", "-o", str(f)], "is not a directory"),
        (["demo", "-o", str(f)], "is not a directory"),
        (["explore", str(f), "-o", str(f)], "is not a directory"),
        (["explore", str(f), "-o", str(tmp_path / "o"), "--json", str(missing)],
         "does not exist"),
        (["explore", str(f), "-o", str(tmp_path / "o"), "--emit", str(f)], "is not a directory"),
        (["explore", str(explore), "-o", str(tmp_path / "o"), "--db", str(binary)],
         "not a hwsim results"),
        (["explore", str(tmp_path / "none.toml"), "-o", str(tmp_path / "o")], "does not exist"),
        (["explore", str(binary), "-o", str(tmp_path / "o")], "CONFIG"),
    ]
    for argv, words in cases:
        code, err = _check(capsys, argv)
        assert code == 2 and words in err, (argv, err)
    assert not (tmp_path / "o").exists()


def test_study_files_are_checked(capsys, tmp_path):
    binary = tmp_path / "corpus.bin"
    binary.write_bytes(b"\x00\xff\xfe" * 100)
    latin = tmp_path / "latin1.txt"
    latin.write_bytes("caf\xe9 au lait\nsecond line\n".encode("latin-1"))
    out = tmp_path / "out"
    for argv, words in [
        (["study", "minilm-units", "--corpus", str(tmp_path), "-o", str(out)], "is a directory"),
        (["study", "minilm-units", "--corpus", str(binary), "-o", str(out)], "binary file"),
        (["study", "minilm-units", "--corpus", str(latin), "-o", str(out)], "not UTF-8"),
        (["study", "minilm-units", "--corpus", str(tmp_path / "nope"), "-o", str(out)],
         "does not exist"),
        (["study", "bert-whitening", "--sts", str(binary), "-o", str(out)], "binary file"),
        (["study", "digits-mlp", "--corpus", str(latin), "-o", str(out)],
         "unknown option --corpus (see hwsim study digits-mlp --help)"),
        (["study", "no-such-study"], "unknown study 'no-such-study'"),
    ]:
        code, err = _check(capsys, argv)
        assert code == 2 and words in err and "skip_invalid" not in err, (argv, err)
    assert not out.exists()  # a refused run leaves no empty output directory behind


@pytest.mark.parametrize("cmd", ["units", *UNIT_COMMANDS, "sweep", "study", "run", "explore",
                                 "demo"])
def test_help_exits_0(capsys, cmd):
    with pytest.raises(SystemExit) as e:
        main([cmd, "--help"])
    assert e.value.code == 0
    assert "usage:" in capsys.readouterr().out


@pytest.mark.parametrize("unit", list(REGISTRY))
def test_unit_help_shows_the_units_own_defaults(capsys, unit):
    spec = REGISTRY[unit]
    with pytest.raises(SystemExit):
        main(["verify", unit, "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for f in dataclasses.fields(spec.params_cls):
        d = f.default
        shown = (d.value if isinstance(d, enum.Enum) else "empty" if d == ""
                 else "none" if d is None else d)   # the CLI's spellings
        assert option_name(f.name) in text
        # ours, or the docstring's own where it states the default with a reason
        # (hwsim.cli.options.describe_option: "Default Q4.8: x in [-8, 8)")
        assert f"(default {shown})" in text or f"Default {shown}" in text, (unit, f.name, shown)
    others = {f.name for s in REGISTRY.values() for f in dataclasses.fields(s.params_cls)}
    for name in others - {f.name for f in dataclasses.fields(spec.params_cls)}:
        assert f"{option_name(name)} " not in text, (unit, name)


def test_outputs_never_replace_inputs_and_bad_paths_are_one_line(capsys, tmp_path, monkeypatch):
    import sqlite3
    cfg = tmp_path / "s.toml"
    text = 'study = "unit-error"\n[grid]\nwidth = [4]\n'
    cfg.write_text(text)
    out = tmp_path / "o"
    out.mkdir()
    from hwsim.eval.resultdb import ResultDB
    ResultDB(out / "results.sqlite").close()
    empty = tmp_path / "empty.db"  # a file the user made: SQLite would turn it into a database
    empty.write_bytes(b"")
    foreign = tmp_path / "foreign.db"
    con = sqlite3.connect(foreign)
    con.execute("CREATE TABLE results (a, b)")
    con.commit()
    con.close()
    long_name = str(tmp_path / ("x" * 300 + ".json"))
    in_out = tmp_path / "in_out"  # a configuration where the sweep writes its CSV
    in_out.mkdir()
    (in_out / "results.csv").write_text(text)
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    (tmp_path / "fresh").mkdir()  # an output directory without a database yet
    (tmp_path / "vd" / "mitchell_mul_u8.v").mkdir(parents=True)  # where verilog writes a file
    cases = [
        (["sweep", str(cfg), "-o", str(out), "--export", str(cfg)],
         "is the sweep configuration file"),
        (["sweep", str(cfg), "-o", str(out), "--export", str(out / "results.sqlite")],
         "is the results database file"),
        (["sweep", str(cfg), "-o", str(tmp_path / "fresh"), "--export",
          str(tmp_path / "fresh" / "results.sqlite")], "is the results database file"),
        (["sweep", str(cfg), "-o", str(out), "--export", str(out / "results.sqlite-wal")],
         "is the results database's -wal file"),
        (["sweep", str(in_out / "results.csv"), "-o", str(in_out)],
         "-o/--output " + repr(str(in_out / "results.csv")) + " is the sweep configuration"),
        (["synth", "mitchell-mul", "--db", str(out / "results.sqlite"), "--json",
          str(out / "results.sqlite")], "--json " + repr(str(out / "results.sqlite")) +
         " is the --db file"),
        (["verilog", "mitchell-mul", "-o", str(tmp_path / "dangling")], "is a link to nothing"),
        (["verilog", "mitchell-mul", "-o", str(tmp_path / "vd")],
         "mitchell_mul_u8.v there is a directory"),
        (["sweep", str(cfg), "-o", str(tmp_path / "new"), "--scheduler", "nonsense"],
         "--scheduler must be a reachable Dask scheduler address, not 'nonsense'"),
        (["synth", "mitchell-mul", "--no-fmax", "--db", str(foreign)],
         "not a hwsim results database (its results table has the columns a, b)"),
        (["synth", "mitchell-mul", "--no-fmax", "--db", str(empty)],
         f"--db {str(empty)!r} is an empty file, not a hwsim results database"),
        (["synth", "--no-fmax", "mitchell-mul"], "--fmax/--no-fmax before the unit's name is "
                                                 "a --pareto option"),
        (["synth", "--json", str(tmp_path / "j.json"), "mitchell-mul"],
         "--json before the unit's name is a --pareto option"),
        (["characterize", "mitchell-mul", "--json", long_name], "File name too long"),
        (["verilog", "mitchell-mul", "-o", long_name], "File name too long"),
        # an empty path was skipped as "not given" (--json) or meant the current directory
        (["characterize", "mitchell-mul", "--json", ""], "--json must be a file name, not ''"),
        (["verilog", "mitchell-mul", "-o", ""], "-o/--output must be a directory, not ''"),
        (["synth", "mitchell-mul", "--keep", ""], "--keep must be a directory, not ''"),
        (["sweep", str(cfg), "--export", ""], "--export must be a file name, not ''"),
    ]
    for argv, words in cases:
        code, err = _check(capsys, argv)
        assert code == 2 and words in err, (argv, err)
    assert cfg.read_text() == text and not (tmp_path / "new").exists()
    assert (in_out / "results.csv").read_text() == text
    assert not any((tmp_path / "fresh").iterdir())
    assert empty.read_bytes() == b""
    assert [p.name for p in (tmp_path / "vd").iterdir()] == ["mitchell_mul_u8.v"]
    con = sqlite3.connect(foreign)  # the foreign database is left as it was
    assert [r[0] for r in con.execute("SELECT name FROM sqlite_master")] == ["results"]
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    con.close()
    # a JSON output that is a link is written through, never replaced
    target, link = tmp_path / "target.json", tmp_path / "link.json"
    target.write_text("")
    link.symlink_to(target)
    assert _check(capsys, ["characterize", "mitchell-mul", "--width", "4", "--json",
                           str(link)])[0] == 0
    assert link.is_symlink() and json.loads(target.read_text())["metrics"]["n"] == 256
    # the file written beside the output first has a fresh name: a link planted at
    # "<output>.tmp" is not followed
    victim, plain = tmp_path / "victim.txt", tmp_path / "plain.json"
    victim.write_text("keep")
    (tmp_path / "plain.json.tmp").symlink_to(victim)
    assert _check(capsys, ["characterize", "mitchell-mul", "--width", "4", "--json",
                           str(plain)])[0] == 0
    assert victim.read_text() == "keep" and json.loads(plain.read_text())["metrics"]["n"] == 256
    assert sorted(p.name for p in tmp_path.glob("*.tmp")) == ["plain.json.tmp"]
    # an OSError after the checks (a full disk, a vanished directory) is one line, exit 1
    import hwsim.cli.units

    def full(params_cls):
        raise OSError(28, "No space left on device", str(tmp_path / "r.json"))
    monkeypatch.setattr(hwsim.cli.units, "unit_summary_lines", full)
    assert main(["units"]) == 1
    assert capsys.readouterr().err == (f"hwsim: error: {tmp_path / 'r.json'}: No space left on "
                                       f"device\n")
