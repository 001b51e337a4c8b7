"""Ground truth for persona tiers: what Claude Code lists for hidden agents and ctxtui's skills.

Builds a project with four agents through ctxtui itself (``alpha`` hidden with ``Agent(alpha)``,
``beta`` hidden with the legacy ``Task(beta)``, ``gamma`` converted to a forked skill, ``delta``
a plain file), runs the real CLI offline with capture.py, and writes
``tests/data/claude_code/tiers/<version>.json``: the agents named in the Agent tool's listing
and the skills-listing line of each persona. Run from the repository root::

    python3 scripts/claude_code/capture_tiers.py --cli 2.1.112="node /x/package/cli.js"
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO))

from capture import capture, version_commands  # noqa: E402

NAMES = ("alpha", "beta", "gamma", "delta")


def build(project: Path, tmp: Path) -> None:
    """The project, tiers set by ctxtui's own set_tier."""
    os.environ["CTXTUI_CONFIG_DIR"] = str(tmp / "cfg")
    os.environ["CTXTUI_CLAUDE_HOME"] = str(tmp / "h" / ".claude")
    from ctxtui.core.config import load_settings
    from ctxtui.core.tiers import set_tier
    from ctxtui.core.workspace import Workspace

    agents = project / ".claude" / "agents"
    agents.mkdir(parents=True)
    for n in NAMES:
        (agents / f"{n}.md").write_text(
            f"---\nname: {n}\ndescription: Use {n} for task {n}.\ntools: Read, Grep\nmodel: haiku\n---\n\nYou are {n}.\n")
    lib = tmp / "lib"
    lib.mkdir()
    for n in NAMES:
        (lib / f"{n}.md").write_bytes((agents / f"{n}.md").read_bytes())
    ws = Workspace(load_settings(workspace=project, library_dirs=[lib], include_user_scope=False))
    set_tier(ws, ["alpha"], "hidden")
    set_tier(ws, ["gamma"], "skill")
    local = project / ".claude" / "settings.local.json"
    data = json.loads(local.read_text())
    data["permissions"]["deny"].append("Task(beta)")  # the legacy spelling, written by hand
    local.write_text(json.dumps(data))


def summarise(bodies: list[dict]) -> dict:
    body = next(b for b in bodies if isinstance(b, dict) and b.get("tools"))
    text = json.dumps(body, ensure_ascii=False)
    # agent and skill listing lines wherever the version puts them (2.1.112: the Agent tool's
    # description; later versions: a system-reminder attachment in the first message)
    lines = sorted({m for n in NAMES for m in re.findall(rf"- {n}: [^\\]*", text)})
    listed = sorted(n for n in NAMES if any(line.startswith(f"- {n}: ") and "(Tools:" in line for line in lines))
    return {"agents_listed": listed, "listing_lines": lines,
            "settings_local": None, "skill_md": None}


def main() -> None:
    _, clis = version_commands(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    for version, cmd in clis:
        with tempfile.TemporaryDirectory() as t:
            tmp = Path(t)
            project = tmp / "p"
            build(project, tmp)
            bodies = capture(cmd, project=project, home=tmp / "h", out=tmp / "o", git_init=True)
            out = summarise(bodies)
            out["settings_local"] = json.loads((project / ".claude" / "settings.local.json").read_text())
            out["skill_md"] = (project / ".claude" / "skills" / "gamma" / "SKILL.md").read_text()
            dest = REPO / "tests" / "data" / "claude_code" / "tiers" / f"{version}.json"
            dest.write_text(json.dumps({"version": version, **out}, indent=1, ensure_ascii=False) + "\n")
            print(f"{dest}: {out['agents_listed']} listed; {out['listing_lines']}")


if __name__ == "__main__":
    main()
