"""Startup tokens of a persona library per tier, and the cost of the typed config.

    .venv/bin/python bench/bench_tiers.py [LIBRARY]   (default: the shared wshobson corpus)

Tiers for the whole library, in a scratch project: ``file`` (every persona a hot agent file,
the eager baseline), ``hidden`` (every file in .claude/agents behind an Agent(NAME) deny rule),
``skill`` (every persona a forked skill: one listing line each). Token counts are cl100k on
the agent listing entries and skill listing lines (before Claude Code's skill-listing budget).
Then ``hybrid-config.json`` decoding: msgspec typed load vs the bare ``json.loads`` floor.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ctxtui.core import config  # noqa: E402
from ctxtui.core.config import load_settings  # noqa: E402
from ctxtui.core.tiers import set_tier  # noqa: E402
from ctxtui.core.workspace import Workspace  # noqa: E402


def agent_tokens(ws: Workspace) -> tuple[int, int]:
    b = ws.budget()
    return (sum(i.tokens for i in b.items if i.kind == "agent"), sum(i.tokens for i in b.items if i.kind == "skill"))


def main() -> None:
    lib = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent.parent / "shared" / "corpora" / "wshobson__agents"
    if not lib.is_dir():
        lib = Path("/work/shared/corpora/wshobson__agents")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["CTXTUI_CONFIG_DIR"] = f"{tmp}/config"
        os.environ["CTXTUI_CLAUDE_HOME"] = f"{tmp}/home"
        proj = Path(tmp) / "project"
        proj.mkdir()
        (proj / "hybrid-config.json").write_text(json.dumps({"lazy_loading": {"max_active_personas": 1000, "pinned": []}}))
        ws = Workspace(load_settings(workspace=proj, library_dirs=[lib], include_user_scope=False))
        names = [p.name for p in ws.library.unique() if p.usable]
        rows = []
        ws.activate(names)
        rows.append(("file (all hot)", *agent_tokens(ws)))
        t = time.perf_counter()
        set_tier(ws, names, "hidden")
        hidden_s = time.perf_counter() - t
        rows.append(("hidden (all)", *agent_tokens(ws)))
        t = time.perf_counter()
        set_tier(ws, names, "skill")
        skill_s = time.perf_counter() - t
        rows.append(("skill (all)", *agent_tokens(ws)))
        set_tier(ws, names, "file")
        back = all((ws.settings.agents_dir / f"{n}.md").exists() or ws.find_hot(n) for n in names)
        print(f"library: {lib} ({len(names)} usable personas)")
        print(f"{'tier':16} {'agent listing':>14} {'skill lines':>12} {'total':>8}")
        for label, a, s in rows:
            print(f"{label:16} {a:>14,} {s:>12,} {a + s:>8,}")
        print(f"set_tier all -> hidden {hidden_s:.2f}s, -> skill {skill_s:.2f}s; back to file, all hot again: {back}")
        data = json.dumps({"lazy_loading": {"max_active_personas": 5, "pinned": ["a", "b"]},
                           "profiles": {f"p{i}": ["x", "y", "z"] for i in range(20)}, "strategy": "hybrid"})
        n = 5000
        t = time.perf_counter()
        for _ in range(n):
            json.loads(data)
        bare = (time.perf_counter() - t) / n
        t = time.perf_counter()
        for _ in range(n):
            config.decode_workspace_config(json.loads(data))
        typed = (time.perf_counter() - t) / n
        print(f"hybrid-config.json decode: typed {typed * 1e6:.1f} us, bare json.loads {bare * 1e6:.1f} us, "
              f"ratio {typed / bare:.2f}x")


if __name__ == "__main__":
    main()
