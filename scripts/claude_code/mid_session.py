"""Record, from Claude Code's shipped code, what it does with agent files mid-session.

Reads each given CLI (npm ``cli.js`` or the native binary, whose JavaScript is embedded as
text) and writes ``tests/data/claude_code/mid_session.json``:

* ``watched``: the ``(scope, folder)`` pairs of the skill/command change detector (chokidar,
  started with "Watching for changes in skill/command directories"): where
  ``("projectSettings", "agents")`` is among them, a new ``.claude/agents`` file reaches the
  running session;
* ``new_agent_note``: the "New agent types are now available for the Agent tool:" text;
* ``reload_plugins``: the ``/reload-plugins`` command (it clears the agent-definition cache).

``ctxtui.core.claude_code.profiles.Profile.agents_watched`` is checked against this data by
``tests/test_in_session.py``.

    python3 scripts/claude_code/mid_session.py 2.1.112=/path/cc-2.1.112/cli.js \\
        2.1.332=/path/cc-2.1.332/package/claude
"""

from __future__ import annotations

import json
import mmap
import re
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[2] / "tests" / "data" / "claude_code" / "mid_session.json"
WATCH = b"Watching for changes in skill/command directories"
PAIR = re.compile(rb'\("(userSettings|projectSettings)","(skills|commands|agents)"\)')
WINDOW = 8000


def facts(path: Path) -> dict:
    """What one CLI's code says."""
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
        watched: list[list[str]] = []
        at = m.find(WATCH)
        while at >= 0:  # the binary holds the code more than once (source and bytecode)
            window = m[at : at + WINDOW]
            at = m.find(WATCH, at + 1)
            end = window.find(b"export{")
            window = window[: end if end > 0 else WINDOW]
            for scope, folder in PAIR.findall(window):
                pair = [scope.decode(), folder.decode()]
                if pair not in watched:
                    watched.append(pair)
        return {
            "watched": watched,
            "new_agent_note": m.find(b"New agent types are now available for the Agent tool:") >= 0,
            "reload_plugins": m.find(b'name:"reload-plugins"') >= 0,
        }


def main(argv: list[str]) -> int:
    data = json.loads(OUT.read_text()) if OUT.exists() else {}
    for arg in argv:
        version, _, path = arg.partition("=")
        data[version] = facts(Path(path))
    OUT.write_text(json.dumps(dict(sorted(data.items())), indent=1) + "\n")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
