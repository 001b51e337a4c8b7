"""The faces (CLI and TUI) type-check with mypy (settings in pyproject.toml).

The core and analytics modules are being rewritten in other branches; once they are clean too,
``CHECKED`` becomes the whole package (``mypy`` with no arguments reads ``files`` from pyproject).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CHECKED = ["ctxtui/cli", "ctxtui/tui"]


def test_faces_type_check():
    pytest.importorskip("mypy")
    r = subprocess.run([sys.executable, "-m", "mypy", *CHECKED], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
