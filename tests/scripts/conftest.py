"""The maintainer scripts are files, not a package: their folder goes on the path for these tests."""

import sys
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
sys.path.insert(0, str(SCRIPTS))
