"""The ``hwsim`` console script: :func:`hwsim.cli.main`, with Ctrl-C while its modules load
reported like Ctrl-C during a command (``hwsim: interrupted``, exit 130), not as a
traceback. Importing this module loads nothing (``hwsim/__init__`` is lazy)."""

import sys


def run() -> int:
    try:
        from hwsim.cli import main
    except KeyboardInterrupt:
        print("hwsim: interrupted", file=sys.stderr)
        return 130
    return main()
