"""Record what the real Claude Code lists for the messy library, before and after ``fix``.

For every ``--cli VERSION=COMMAND`` this lays the files of ``tests/data/messy_library`` into a
project's ``.claude/agents`` twice, as written and as ``ctxtui.core.fix.fix_bytes`` rewrites
them, runs the CLI offline (capture.py: network namespace, stand-in API on 127.0.0.1) and
writes ``tests/data/claude_code/messy/<VERSION>.json``:

- ``before`` / ``after``: the agent listing block with the built-in lines removed;
- ``fixed``: per file, the fix status and the sha256 of the bytes that were run (tests check
  that ``fix_bytes`` still produces exactly these bytes, so the capture still applies).

Run from the repository root with the project's venv Python:
``.venv/bin/python scripts/claude_code/messy_capture.py --cli 2.1.112="node .../cli.js" ...``
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shlex
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO))

from capture import version_commands  # noqa: E402
from ground_truth import Runner, listing, strip_builtins  # noqa: E402

from ctxtui.core.fix import fix_bytes  # noqa: E402

LIBRARY = REPO / "tests" / "data" / "messy_library"
OUT = REPO / "tests" / "data" / "claude_code" / "messy"


def library() -> dict[str, bytes]:
    """File name -> bytes of every messy library file."""
    return {p.name: p.read_bytes() for p in sorted(LIBRARY.glob("*.md"))}


def fixed_library() -> tuple[dict[str, bytes], dict[str, dict]]:
    """The library after ``fix --all`` and, per file, its status and the sha256 run."""
    files, info = {}, {}
    for name, data in library().items():
        result = fix_bytes(data, name)
        files[name] = result.data if result.data is not None else data
        info[name] = {"status": result.status, "reason": result.reason,
                      "sha256": hashlib.sha256(files[name]).hexdigest()}
    return files, info


def record(version: str, cmd: list[str]) -> None:
    scratch = Path(tempfile.mkdtemp(prefix=f"cc-messy-{version}-"))
    runner = Runner(version, cmd, scratch)
    builtin = json.loads((REPO / "tests/data/claude_code" / version / "builtin.json")
                         .read_text(encoding="utf-8"))
    builtin_lines = sorted(set(builtin["p_mode_lines"]) | set(builtin["interactive_lines"]))
    before = library()
    after, info = fixed_library()
    out = {"provenance": {"version": version, "command": shlex.join(cmd),
                          "script": "scripts/claude_code/messy_capture.py"},
           "fixed": info}
    for label, files in (("before", before), ("after", after)):
        body = runner.run({f"repo/.claude/agents/{n}": d for n, d in files.items()})
        custom, present = strip_builtins(listing(body)["block"], builtin_lines)
        out[label] = {"custom": custom, "builtins_present": present}
        print(version, label, "done", flush=True)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"{version}.json").write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n",
                                         encoding="utf-8")
    shutil.rmtree(scratch, ignore_errors=True)


def main() -> int:
    _, clis = version_commands(argparse.ArgumentParser(
        description="Capture Claude Code on the messy library."))
    for version, cmd in clis:
        record(version, cmd)
    return 0


if __name__ == "__main__":
    sys.exit(main())
