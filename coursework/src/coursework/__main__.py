"""``python -m coursework {student,grade,selftest} ...``."""

import sys

from .edition import main

if __name__ == "__main__":
    sys.exit(main())
