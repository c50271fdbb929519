"""The output policy: no command's output replaces one of its inputs or another output.

Every command declares what a run reads and writes (``files(args)``, hwsim.cli.common.Files);
``hwsim.cli.main`` checks the declaration before the command runs. These tests read the
declarations themselves: every registered command must have one, and every declared output,
made a link to every declared input, is refused (exit 2, one line, the input's bytes and the
directory unchanged) before the command's function is even called.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np
import pytest

import hwsim.cli as cli
from hwsim.cli import build_parser, main
from hwsim.paths import Output
from rtl import require_module

BOOBY = "the command ran: the refusal did not come before the work"


def _walk(parser, path=()):
    """Every (sub-)parser of ``parser`` with its command path."""
    yield path, parser
    for a in parser._actions:
        if isinstance(a, argparse._SubParsersAction):
            for name, sp in a.choices.items():
                yield from _walk(sp, path + (name,))


def _leaves(parser):
    """The runnable command paths, each with whether a ``files`` declaration reaches it
    (its own parser or a parent's below ``hwsim``)."""
    def rec(p, path, declared):
        declared = declared or p.get_default("files") is not None
        subs = [a for a in p._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs or not any(a.required for a in subs):
            yield path, declared
        for a in subs:
            for name, sp in a.choices.items():
                yield from rec(sp, path + (name,), declared)
    for a in parser._actions:
        if isinstance(a, argparse._SubParsersAction):
            for name, sp in a.choices.items():
                yield from rec(sp, (name,), False)


@pytest.fixture(scope="module")
def trapped():
    """hwsim's parser with every command's function replaced by one that fails the test."""
    def boom(args):
        raise AssertionError(BOOBY)
    p = build_parser()
    for _path, sp in _walk(p):
        if sp.get_default("func") is not None:
            sp.set_defaults(func=boom)
    return p


def test_every_registered_command_declares_its_files():
    leaves = list(_leaves(build_parser()))
    assert {path[0] for path, _ in leaves} == set(cli.COMMANDS)
    missing = [" ".join(path) for path, declared in leaves if not declared]
    assert missing == [], f"commands without a files(args) declaration: {missing}"


def test_a_command_without_a_declaration_is_not_run():
    from hwsim.cli.common import check_files
    with pytest.raises(RuntimeError, match=r"^hwsim units declares no files"):
        check_files(argparse.Namespace(command="units", func=lambda a: 0))


# -- the scenarios: each command with every input it can take, on the cheapest arguments ------

def _model(d: Path, name: str) -> Path:
    """A one-MatMul ONNX model whose weights are in an external file ``<name>.data``."""
    onnx = require_module("onnx", "ml")
    from onnx import TensorProto, helper, numpy_helper
    w = numpy_helper.from_array(np.arange(8, dtype=np.float32).reshape(4, 2), "W")
    g = helper.make_graph([helper.make_node("MatMul", ["X", "W"], ["Y"])], "g",
                          [helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, 4])],
                          [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [None, 2])],
                          [w])
    path = d / name
    onnx.save_model(helper.make_model(g), str(path), save_as_external_data=True,
                    all_tensors_to_one_file=True, location=f"{name}.data", size_threshold=0)
    return path


def _data(d: Path) -> Path:
    np.savez(d / "data.npz", X=np.ones((3, 4), np.float32), labels=np.zeros(3, np.int64))
    return d / "data.npz"


def _stream(d: Path) -> Path:
    np.savez(d / "ops.npz", a=np.arange(4), b=np.arange(4))
    return d / "ops.npz"


def _circuit(d: Path) -> list[str]:
    """A user's multiplier circuit (its Verilog file an input of every unit command)."""
    from hwsim.circuits import Circuit
    v = _text(d, "mine.v", Circuit("broken-array", width=4, hbl=1, vbl=2).verilog())
    return ["circuit-mul", "--verilog", str(v), "--width", "4"]


def _text(d: Path, name: str, text: str) -> Path:
    (d / name).write_text(text)
    return d / name


GROUPS = "[[group]]\nunits = ['exact-mul']\n[constraint]\nmax_drop = 1\n"


def _study_with_files():
    from hwsim.cli.study import STUDY_FILE_OPTIONS
    from hwsim.studies import STUDIES
    return next(s.name for s in STUDIES.values() if set(STUDY_FILE_OPTIONS) <= set(s.params))


SCENARIOS = {
    "units": [lambda d: ["units"]],
    "verilog": [lambda d: ["verilog", "mitchell-mul", "--width", "4", "-o", str(d / "v")],
                lambda d: ["verilog", *_circuit(d), "-o", str(d / "v")]],
    "verify": [lambda d: ["verify", *_circuit(d), "--build-dir", str(d / "b")]],
    "characterize": [lambda d: ["characterize", *_circuit(d), "--json", str(d / "c.json")]],
    "synth": [lambda d: ["synth", "mitchell-mul", "--width", "4", "--db", str(d / "s.sqlite"),
                         "--json", str(d / "s.json"), "--keep", str(d / "k"), "--target",
                         "osu018", "--stream", str(_stream(d))],
              lambda d: ["synth", *_circuit(d), "--db", str(d / "s.sqlite"), "--json",
                         str(d / "s.json"), "--keep", str(d / "k")],
              lambda d: ["synth", "--pareto", "--db", str(d / "s.sqlite"), "--json",
                         str(d / "f.json"), "-o", str(d / "f")]],
    "front": [lambda d: ["front", "--db", str(d / "s.sqlite"), "--json", str(d / "f.json"),
                         "-o", str(d / "f")]],
    "prove": [lambda d: ["prove", "mitchell-mul", "--width", "4", "--verilog",
                         str(_text(d, "u.v", "module m; endmodule\n"))],
              lambda d: ["prove", *_circuit(d)]],
    "sweep": [
        lambda d: ["sweep", str(_text(d, "sw.toml", (
            f'study = "onnx"\n[fixed]\nmodel = "{_model(d, "m.onnx")}"\n'
            f'data = "{_data(d)}"\n[grid]\nwidth = [4, 6]\n'))), "-o", str(d / "o")],
        lambda d: ["sweep", str(_text(d, "sw.toml", 'study = "unit-error"\n[grid]\nwidth = [4]\n')),
                   "-o", str(d / "o"), "--export", str(d / "e.csv")]],
    "study": [lambda d: ["study", _study_with_files(), "-o", str(d / "o"), "--quick",
                         "--corpus", str(_text(d, "corpus.txt", "a cat\na dog\n")),
                         "--sts", str(_text(d, "sts.tsv", "x\ty\n"))]],
    "run": [lambda d: ["run", str(_model(d, "m.onnx")), "--data", str(_data(d)), "--assign",
                       str(_text(d, "a.toml", '[[assign]]\nop = "MatMul"\nunit = "exact-mul"\n')),
                       "--reference", str(_model(d, "ref.onnx")), "--json", str(d / "r.json"),
                       "-o", str(d / "o")]],
    "explore": [lambda d: ["explore", str(_text(d, "e.toml", (
        f'[workload]\nmodel = "{_model(d, "m.onnx")}"\ndata = "{_data(d)}"\n{GROUPS}'))),
        "-o", str(d / "o"), "--emit", str(d / "em"), "--db", str(d / "x.sqlite"),
        "--json", str(d / "x.json")]],
    "demo": [lambda d: ["demo", "-o", str(d / "o")]],
}


def test_every_command_has_a_scenario():
    assert sorted(SCENARIOS) == sorted(cli.COMMANDS)


def _snapshot(root: Path) -> dict:
    """Every entry under ``root``: a link's target, a file's bytes, a directory."""
    snap = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            p = Path(dirpath) / n
            snap[str(p)] = (os.readlink(p) if p.is_symlink() else
                            None if p.is_dir() else p.read_bytes())
    return snap


def _written(outputs: list[Output]) -> list[tuple[Output, Path]]:
    """A path for each declared output: a file itself, a name matching a pattern, a tree."""
    return [(o, o.path / o.pattern.replace("*", "x") if o.pattern else o.path)
            for o in outputs]


def _declared(trapped, argv):
    args, extra = trapped.parse_known_args(argv)
    assert extra == []
    return args.files(args)


def _refused(trapped, monkeypatch, capsys, argv, root: Path, words: str):
    """``hwsim argv`` is refused: exit 2, one line with ``words``, nothing under ``root``
    changed, the command's function never called."""
    monkeypatch.setattr(cli, "_parser", lambda argv=None: trapped)
    before = _snapshot(root)
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("hwsim: error: ") and err.count("\n") == 1, (argv, err)
    assert words in err, (argv, err)
    assert _snapshot(root) == before


def _link(path: Path, target: Path, root: Path) -> None:
    assert str(path.absolute()).startswith(str(root)), path  # never outside the test's files
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(target)


@pytest.mark.parametrize("command", sorted(SCENARIOS))
def test_every_output_as_a_link_to_every_input_is_refused(command, tmp_path, trapped,
                                                          monkeypatch, capsys):
    """The matrix: commands x declared outputs x declared inputs."""
    monkeypatch.chdir(tmp_path)
    cases = 0
    for k, scenario in enumerate(SCENARIOS[command]):
        root = tmp_path / f"s{k}"
        root.mkdir()
        argv = scenario(root)
        decl = _declared(trapped, argv)
        inputs = {label: Path(p) for label, p in decl.inputs.items() if p is not None}
        for label, p in inputs.items():
            assert p.is_file(), (command, label, p)
        for o, path in _written(decl.outputs):
            for label, p in inputs.items():
                target = p.parent if o.tree else p
                _link(path, target.absolute(), root)
                words = f"holds the {label} file" if o.tree else f"is the {label} file"
                original = p.read_bytes()
                _refused(trapped, monkeypatch, capsys, argv, root, words)
                assert p.read_bytes() == original
                path.unlink()
                cases += 1
    # the scenarios give each command every input it can take (a unit command: the unit's
    # own files, a user's circuit; none for mitchell-mul)
    expected = {"run": 6 * 3, "explore": 4 * 20, "sweep": 4 * 7 + 1 * 7, "study": 2 * 8,
                "synth": 2 * (5 + 1 + 2), "verilog": 1 * 3, "verify": 1 * 4,
                "characterize": 1 * 1, "prove": 0}
    assert cases == expected.get(command, 0), cases


@pytest.mark.parametrize("command", sorted(SCENARIOS))
def test_an_output_linked_to_another_output_is_refused(command, tmp_path, trapped,
                                                       monkeypatch, capsys):
    """Two declared outputs that would be one file: each file output, made a link to the
    next one's path, is refused as that output."""
    monkeypatch.chdir(tmp_path)
    for k, scenario in enumerate(SCENARIOS[command]):
        root = tmp_path / f"s{k}"
        root.mkdir()
        argv = scenario(root)
        files = [(o, p) for o, p in _written(_declared(trapped, argv).outputs)
                 if not o.tree and not o.pattern]
        for (o, p), (x, q) in zip(files, files[1:]):
            _link(p, q.absolute(), root)
            _refused(trapped, monkeypatch, capsys, argv, root,
                     f"{o.option} {str(p)!r} is the {x.label} file")
            p.unlink()


# -- the three reproductions of issue 30 -------------------------------------------------------

OK = "[workload]\nbuiltin = 'digits'\n" + GROUPS


def test_explore_config_named_best_toml_in_its_own_output_dir_is_kept(tmp_path, capsys):
    """``cp ok.toml exd/best.toml; hwsim explore exd/best.toml -o exd`` replaced the
    configuration by the result assignment."""
    (tmp_path / "exd").mkdir()
    cfg = _text(tmp_path / "exd", "best.toml", OK)
    assert main(["explore", str(cfg), "-o", str(tmp_path / "exd")]) == 2
    err = capsys.readouterr().err
    assert err == (f"hwsim: error: -o/--output {str(cfg)!r} is the CONFIG file; give another "
                   f"directory\n")
    assert cfg.read_text() == OK and os.listdir(tmp_path / "exd") == ["best.toml"]


@pytest.mark.parametrize("name", ["designs.csv", "best.toml", "report.md", "front.png"])
@pytest.mark.parametrize("target", ["CONFIG", "workload.data"])
def test_explore_output_link_to_the_config_or_data_is_refused(tmp_path, capsys, name, target):
    """A link in explore's output directory, named like one of its outputs, pointing at the
    configuration or the data .npz: the input was overwritten with CSV, TOML, Markdown or
    a PNG."""
    data = _data(tmp_path)
    _text(tmp_path, "m.onnx", "not read before the refusal")
    cfg = _text(tmp_path, "e.toml", f'[workload]\nmodel = "m.onnx"\ndata = "data.npz"\n{GROUPS}')
    victim = {"CONFIG": cfg, "workload.data": data}[target]
    before = victim.read_bytes()
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / name).symlink_to(victim)
    assert main(["explore", str(cfg), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err == (f"hwsim: error: -o/--output {str(tmp_path / 'out' / name)!r} is the {target} "
                   f"file ({str(victim)!r}, through a link); remove the link or give another "
                   f"directory\n")
    assert victim.read_bytes() == before and os.listdir(tmp_path / "out") == [name]


def test_sweep_plot_link_to_the_config_is_refused(tmp_path, capsys):
    """``hwsim sweep sw.toml -o s4`` with ``s4/mred_vs_width.png`` a link to the
    configuration: the configuration became a PNG (results.csv was refused already)."""
    text = 'study = "unit-error"\n[grid]\nwidth = [3, 4]\n'
    cfg = _text(tmp_path, "sw.toml", text)
    (tmp_path / "s4").mkdir()
    (tmp_path / "s4" / "mred_vs_width.png").symlink_to(cfg)
    assert main(["sweep", str(cfg), "-o", str(tmp_path / "s4")]) == 2
    err = capsys.readouterr().err
    assert "mred_vs_width.png' is the sweep configuration file" in err and err.count("\n") == 1
    assert cfg.read_text() == text and os.listdir(tmp_path / "s4") == ["mred_vs_width.png"]
    # written through when the link points at no input
    os.unlink(tmp_path / "s4" / "mred_vs_width.png")
    (tmp_path / "s4" / "mred_vs_width.png").symlink_to(tmp_path / "plot.png")
    assert main(["sweep", str(cfg), "-o", str(tmp_path / "s4"), "--jobs", "1"]) == 0
    assert (tmp_path / "s4" / "mred_vs_width.png").is_symlink()
    assert (tmp_path / "plot.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_hard_link_to_an_input_is_refused_and_a_fresh_directory_is_not_made(tmp_path, capsys,
                                                                              monkeypatch):
    """A hard link is the same file by inode (no link to see in the directory)."""
    monkeypatch.chdir(tmp_path)
    text = 'study = "unit-error"\n[grid]\nwidth = [4]\n'
    cfg = _text(tmp_path, "sw.toml", text)
    (tmp_path / "o").mkdir()
    os.link(cfg, tmp_path / "o" / "results.csv")
    assert main(["sweep", str(cfg), "-o", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err == (f"hwsim: error: -o/--output {str(tmp_path / 'o' / 'results.csv')!r} is the "
                   f"sweep configuration file ({str(cfg)!r}); give another directory\n")
    assert cfg.read_text() == text and os.listdir(tmp_path / "o") == ["results.csv"]
    # --export naming the configuration: refused before the default directory is made
    assert main(["sweep", str(cfg), "--export", str(cfg)]) == 2
    assert "--export" in capsys.readouterr().err and not (tmp_path / "sweep-unit-error").exists()
