"""Record the session transcript Claude Code writes, for ``ctxtui verify``'s tests.

For every ``--cli VERSION=COMMAND`` this runs ``claude -p hello`` offline (capture.py) in a
project at ``PROJECT`` (``/tmp/ctxtui-verify/repo``: the tests replace this prefix with
their own folder) holding four agents of the messy library (one of them skipped by Claude
Code) and a CLAUDE.md, and copies the transcript Claude Code wrote under the fake HOME to
``tests/data/claude_code/transcripts/<VERSION>.jsonl``. The stand-in API answers every
request with usage 1/0/0, so the measured size in these files is not a real one.

``.venv/bin/python scripts/claude_code/verify_capture.py --cli 2.1.332=".../claude" ...``
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))

from capture import capture, version_commands  # noqa: E402

ROOT = Path("/tmp/ctxtui-verify")
PROJECT = ROOT / "repo"
AGENTS = ("good-plain.md", "good-block.md", "db-migrator.md", "perf-tuner.md")
CLAUDE_MD = b"# Project\nUse tabs.\n"
OUT = REPO / "tests" / "data" / "claude_code" / "transcripts"


def record(version: str, cmd: list[str]) -> None:
    if ROOT.exists():
        shutil.rmtree(ROOT)
    agents = PROJECT / ".claude" / "agents"
    agents.mkdir(parents=True)
    for name in AGENTS:
        shutil.copy(REPO / "tests" / "data" / "messy_library" / name, agents / name)
    (PROJECT / "CLAUDE.md").write_bytes(CLAUDE_MD)
    capture(cmd, PROJECT, ROOT / "home", ROOT / "out", git_init=True, timeout=90)
    found = sorted((ROOT / "home" / ".claude" / "projects").rglob("*.jsonl"))
    main = [p for p in found if "subagents" not in p.parts]
    if len(main) != 1:
        raise RuntimeError(f"expected one transcript, found {found}")
    OUT.mkdir(parents=True, exist_ok=True)
    shutil.copy(main[0], OUT / f"{version}.jsonl")
    print(version, main[0].name, flush=True)
    shutil.rmtree(ROOT)


def main() -> int:
    _, clis = version_commands(argparse.ArgumentParser(
        description="Capture Claude Code session transcripts."))
    for version, cmd in clis:
        record(version, cmd)
    return 0


if __name__ == "__main__":
    sys.exit(main())
