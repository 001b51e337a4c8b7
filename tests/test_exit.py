"""The commands end through ``cli.exit_now``: what Python's exit does, minus freeing objects."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

SCRIPT = textwrap.dedent("""
    import atexit, sys, threading, time
    from pathlib import Path
    from ctxtui.cli import exit_now
    out = Path(sys.argv[1])
    atexit.register(lambda: out.write_text("exit functions ran"))
    if sys.argv[2] == "thread":  # a thread still working: Python's own exit waits for it
        threading.Thread(target=lambda: (time.sleep(0.3), print("thread done", flush=True))).start()
    sys.stdout.write("x" * 200_000)  # buffered, no newline: flushed on the way out
    exit_now(3)
""")


def _run(tmp_path: Path, mode: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "ran"), mode],
                          capture_output=True, text=True, timeout=60)


def test_exit_runs_the_exit_functions_flushes_and_keeps_the_code(tmp_path):
    done = _run(tmp_path, "alone")
    assert done.returncode == 3 and done.stdout == "x" * 200_000 and done.stderr == ""
    assert (tmp_path / "ran").read_text() == "exit functions ran"


def test_with_a_thread_alive_the_exit_waits_for_it(tmp_path):
    done = _run(tmp_path, "thread")
    assert done.returncode == 3 and done.stdout.endswith("thread done\n") and "x" * 1000 in done.stdout
    assert (tmp_path / "ran").read_text() == "exit functions ran"
