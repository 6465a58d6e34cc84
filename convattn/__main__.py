"""``python -m convattn <command>``: short forms of the tools in :mod:`convattn.tools`.

``doctor`` checks that this environment can run the course (``python -m convattn.tools.doctor``); ``bench``
measures every layer (``python -m convattn.tools.bench``, options after the word). Each is imported only
when asked for.
"""

import importlib
import sys

COMMANDS = {
    "doctor": "check that this environment can run the course",
    "bench": "time and memory of every layer against the input size (--help for options)",
}

if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
    lines = [f"usage: python -m convattn {{{'|'.join(COMMANDS)}}}"]
    sys.exit("\n".join(lines + [f"  {name:<7} {what}" for name, what in COMMANDS.items()]))
tool = importlib.import_module(f"convattn.tools.{sys.argv[1]}")
sys.exit(tool.main(sys.argv[2:]))
