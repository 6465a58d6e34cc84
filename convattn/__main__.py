"""``python -m convattn <command>``. Commands: ``doctor`` (check this environment can run the course)."""

import sys

from . import doctor

COMMANDS = {"doctor": doctor.main}

if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
    sys.exit(
        f"usage: python -m convattn {{{'|'.join(COMMANDS)}}}\n  doctor  check this environment can run the course"
    )
sys.exit(COMMANDS[sys.argv[1]](sys.argv[2:]))
