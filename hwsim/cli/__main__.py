"""``python -m hwsim.cli``: the ``hwsim`` command."""

import sys

from hwsim.cli import main

sys.exit(main())
