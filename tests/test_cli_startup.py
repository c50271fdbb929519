"""``hwsim COMMAND`` builds only that command's parser (start-up; issue 27 item 7): each
command's help is the full parser's, and no other command's module is imported."""

import subprocess
import sys

import pytest

from hwsim.cli import COMMANDS, build_parser


def _sub(parser, name):
    action = next(a for a in parser._actions if hasattr(a, "choices") and a.choices
                  and name in a.choices)
    return action.choices[name]


@pytest.mark.parametrize("cmd", COMMANDS)
def test_one_command_parser_equals_the_full_parsers(cmd):
    full, one = build_parser(), build_parser(cmd)
    assert _sub(one, cmd).format_help() == _sub(full, cmd).format_help()
    assert set(_sub(one, cmd)._option_string_actions) == set(_sub(full, cmd)._option_string_actions)


def test_run_help_imports_no_other_command():
    code = ("import sys, contextlib, io\n"
            "from hwsim.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    try:\n        main(['run', '--help'])\n    except SystemExit:\n        pass\n"
            "print(sorted(m for m in sys.modules if m.startswith('hwsim.cli.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    loaded = eval(out)  # a list literal printed above
    others = [f"hwsim.cli.{c}" for c in COMMANDS if c != "run"]
    assert "hwsim.cli.run" in loaded
    assert not set(others) & set(loaded), loaded


def test_an_unknown_command_still_lists_every_command(capsys):
    from hwsim.cli import main
    assert main(["no-such-command"]) == 2
    err = capsys.readouterr().err
    assert all(c in err for c in COMMANDS)


HEAVY = ("onnx", "onnxruntime", "ml_dtypes", "numba", "llvmlite", "scipy", "sklearn",
         "matplotlib", "amaranth", "cocotb", "skl2onnx")


def _imported_after(argv, cwd) -> set:
    code = ("import sys, contextlib, io\n"
            "from hwsim.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    try:\n        rc = main(%r)\n    except SystemExit as e:\n        rc = e.code\n"
            "print(rc, sorted({m.split('.')[0] for m in sys.modules}))" % (argv,))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=cwd).stdout
    rc, mods = out.split(" ", 1)
    assert rc in ("0", "None"), out
    return set(eval(mods)) & set(HEAVY)   # a list literal printed above


def test_run_help_imports_no_heavy_library(tmp_path):
    """``hwsim run --help`` needs argparse and the registry: no ONNX, numba, plotting or HDL
    library (each costs 0.05-1.4 s of start-up; benchmarks/README.md)."""
    assert _imported_after(["run", "--help"], tmp_path) == set()


def test_a_float_run_imports_onnx_and_onnxruntime_only(tmp_path):
    """A small model's float run imports what it runs on (onnx, onnxruntime, onnx's
    ml_dtypes), not numba (no unit runs), scipy, scikit-learn, matplotlib or Amaranth."""
    from rtl import require_module
    onnx = require_module("onnx", "ml")
    require_module("onnxruntime", "ml")
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper
    w = numpy_helper.from_array(np.arange(6, dtype=np.float32).reshape(3, 2), "w")
    g = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 3])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 2])], [w])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]),
              tmp_path / "m.onnx")
    np.savez(tmp_path / "d.npz", x=np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3))
    assert _imported_after(["run", "m.onnx", "--data", "d.npz"], tmp_path) == {
        "onnx", "onnxruntime", "ml_dtypes"}


def test_ctrl_c_while_the_command_loads_is_one_line_not_a_traceback(monkeypatch, capsys):
    """Ctrl-C in the first moments of ``hwsim`` (its modules loading: numpy, the registry)
    ended in a traceback; the console script (hwsim._main.run) reports it as Ctrl-C during a
    command is reported."""
    import importlib.abc

    from hwsim import _main

    class Interrupt(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == "hwsim.cli":
                raise KeyboardInterrupt
            return None

    monkeypatch.delitem(sys.modules, "hwsim.cli")
    monkeypatch.setattr(sys, "meta_path", [Interrupt(), *sys.meta_path])
    assert _main.run() == 130
    assert capsys.readouterr().err == "hwsim: interrupted\n"


def test_import_hwsim_loads_nothing_until_a_name_is_used():
    code = ("import sys, hwsim\n"
            "assert 'numpy' not in sys.modules and 'hwsim.mitchell' not in sys.modules\n"
            "p = hwsim.MitchellMulParams(width=4)\n"
            "assert hwsim.mitchell_mul(4, 2, p) == 8 and 'hwsim.mitchell' in sys.modules\n"
            "assert set(hwsim.__all__) <= set(dir(hwsim))\n"
            "try:\n    hwsim.nope\nexcept AttributeError as e:\n    print(e)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout == "module 'hwsim' has no attribute 'nope'\n"
