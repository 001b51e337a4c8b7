"""Run the tmux smoke script against the installed ctxtui, as a person at a terminal would."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "tmux_smoke.sh"


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux not installed")
def test_tmux_smoke_script():
    exe = Path(sys.executable).parent / "ctxtui"
    if not exe.exists():
        pytest.skip("ctxtui console script not installed in this environment")
    r = subprocess.run(["bash", str(SCRIPT), str(exe)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "OK: budget line changed" in r.stdout
