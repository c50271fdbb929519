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
