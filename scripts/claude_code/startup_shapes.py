"""Capture Claude Code's whole startup request for a ladder of project shapes.

For every ``--cli VERSION=COMMAND`` and every shape in SHAPES this lays the shape's files out in
a fresh project (its own git root) with a fake HOME, runs the real CLI offline (capture.py: a
network namespace with only ``lo``, the stand-in API on 127.0.0.1, a dummy key) with ``-p`` and
interactively, and writes ``tests/data/claude_code/startup/<VERSION>/<entry>_<shape>.json``:
the request body (``model``, ``system``, ``tools``, ``messages``) plus the project and home
paths it ran in. ``tests/data/claude_code/startup/shapes.json`` holds the shapes' files, so
tests rebuild each project without Node or a network.

Shapes (each adds to the one before):

- ``empty``: nothing but the git root;
- ``agents``: five wshobson agents in ``.claude/agents``;
- ``memory``: + ``CLAUDE.md`` with an ``@import`` and an unconditional ``.claude/rules`` file;
- ``mcp``: + a project ``.mcp.json`` naming a local stdio server (tiny_mcp_server.py, three
  tools), approved in ``.claude/settings.local.json``;
- ``skills``: + two project skills (one ``disable-model-invocation``) and three slash commands
  (one ``disable-model-invocation``, one without a description);
- ``style`` / ``style_keep`` (variants of ``agents``): a project output style selected in
  ``.claude/settings.json``, without and with ``keep-coding-instructions: true``;
- ``skills_many`` (a variant of ``empty``): 90 project skills, past the listing budget, with
  ``skillOverrides`` (one ``name-only``, one ``off``) and ``skillUsage`` for two of them in
  ``~/.claude.json``.

A file key starting with ``~/`` is written under the fake HOME instead of the project.

Run from the repository root with the venv Python:
``.venv/bin/python scripts/claude_code/startup_shapes.py --cli 2.1.112="node .../cli.js"``
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))

from capture import capture, version_commands  # noqa: E402

DATA = REPO / "tests" / "data" / "claude_code" / "startup"
WSHOBSON = Path("/work/shared/corpora/wshobson__agents")
MCP_SERVER = "tiny_mcp_server.py"
AGENT_NAMES = ("backend-architect.md", "code-reviewer.md", "debugger.md",
               "frontend-developer.md", "test-automator.md")


def _wshobson_agents() -> dict[str, str]:
    chosen: dict[str, Path] = {}
    for path in sorted(WSHOBSON.glob("plugins/*/agents/*.md")):
        chosen.setdefault(path.name, path)
    return {f".claude/agents/{n}": chosen[n].read_text(encoding="utf-8") for n in AGENT_NAMES}


MEMORY = {
    "CLAUDE.md": "# Project notes\n\nRun the tests with `make test` before every commit.\n"
                 "Conventions live in @docs/conventions.md\n",
    "docs/conventions.md": "# Conventions\n\n- Use type hints everywhere.\n"
                           "- Keep modules small; one job each.\n",
    ".claude/rules/style.md": "# Style\n\nPrefer dataclasses at boundaries. Never print "
                              "from library code.\n",
}

SKILLS = {
    ".claude/skills/release-notes/SKILL.md":
        "---\nname: release-notes\ndescription: Draft release notes from the merged pull "
        "requests since the last tag, grouped by area.\n---\n\nRead `git log` since the last "
        "tag and group the changes.\n",
    ".claude/skills/db-migrate/SKILL.md":
        "---\nname: db-migrate\ndescription: Write and check a database migration for the "
        "orders service.\ndisable-model-invocation: true\n---\n\nSteps for a migration.\n",
    ".claude/commands/review.md":
        "---\ndescription: Review the staged diff for bugs and style problems\n---\n\n"
        "Review the staged changes: $ARGUMENTS\n",
    ".claude/commands/ship.md":
        "---\ndescription: Tag and push a release\ndisable-model-invocation: true\n---\n\n"
        "Tag the release and push it.\n",
    ".claude/commands/todo.md": "List the TODO comments in the files I name: $ARGUMENTS\n",
}


STYLE = ("---\nname: Terse\ndescription: Short answers, no preamble\n{keep}---\n\n"
         "Answer in at most three sentences. Lead with the answer. No bullet lists unless the "
         "user asks for one.\n")


def shapes() -> dict[str, dict[str, str]]:
    """Shape name -> project files (relative path -> text); MCP paths use ``{server}``."""
    agents = _wshobson_agents()
    mcp = {
        ".mcp.json": json.dumps({"mcpServers": {"tiny": {
            "type": "stdio", "command": "{python}", "args": ["{server}"]}}}, indent=2) + "\n",
        ".claude/settings.local.json": json.dumps({"enableAllProjectMcpServers": True}) + "\n",
    }
    out = {"empty": {}, "agents": dict(agents)}
    out["memory"] = {**out["agents"], **MEMORY}
    out["mcp"] = {**out["memory"], **mcp}
    out["skills"] = {**out["mcp"], **SKILLS}
    selected = {".claude/settings.json": json.dumps({"outputStyle": "Terse"}) + "\n"}
    out["style"] = {**agents, **selected,
                    ".claude/output-styles/terse.md": STYLE.format(keep="")}
    out["style_keep"] = {**agents, **selected, ".claude/output-styles/terse.md": STYLE.format(
        keep="keep-coding-instructions: true\n")}
    out["skills_many"] = many_skills()
    return out


USAGE_AT_MS = 1_790_000_000_000  # a fixed "last used" time, so the capture is reproducible


def many_skills() -> dict[str, str]:
    """90 skills: past the 8,000-character budget of a 200k window, and between 3 and 4
    characters per token of a 1M window (30,000 and 40,000 characters)."""
    files = {}
    for i in range(90):
        desc = (f"Skill number {i:02d} for the capture: " + "handles a recurring chore of the "
                "team, with checks and a short report at the end; " * 4).strip()
        files[f".claude/skills/skill-{i:02d}/SKILL.md"] = (
            f"---\nname: skill-{i:02d}\ndescription: {desc}\n---\n\nSteps.\n")
    files[".claude/settings.json"] = json.dumps(
        {"skillOverrides": {"skill-01": "name-only", "skill-02": "off"}}) + "\n"
    files["~/.claude.json"] = json.dumps({"skillUsage": {
        "skill-30": {"usageCount": 50, "lastUsedAt": USAGE_AT_MS},
        "skill-31": {"usageCount": 20, "lastUsedAt": USAGE_AT_MS}}}) + "\n"
    return files


def body_of(reqs: list[dict], prompt: str) -> dict:
    """The main-loop request: the first carrying tools whose messages hold PROMPT."""
    for body in reqs:
        if not body.get("tools"):
            continue
        for msg in body.get("messages", []):
            content = msg["content"]
            parts = [content] if isinstance(content, str) else [
                p.get("text", "") for p in content if isinstance(p, dict)]
            if any(p.strip() == prompt for p in parts):
                return body
    raise RuntimeError("no main-loop request with the prompt")


def run_shape(cmd: list[str], files: dict[str, str], scratch: Path, interactive: bool) -> dict:
    if scratch.exists():
        shutil.rmtree(scratch)
    project, home = scratch / "repo", scratch / "home"
    project.mkdir(parents=True)
    home.mkdir()
    server = project / ".mcp-server" / MCP_SERVER
    for rel, text in files.items():
        path = home / rel[2:] if rel.startswith("~/") else project / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.replace("{python}", sys.executable).replace("{server}", str(server)),
                        encoding="utf-8")
    if ".mcp.json" in files:
        server.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(HERE / MCP_SERVER, server)
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    for attempt in range(3):
        try:
            reqs = capture(cmd, project, home, scratch / "out", interactive=interactive,
                           timeout=120)
            body = body_of(reqs, "hello")
            break
        except RuntimeError:
            if attempt == 2:
                raise
            time.sleep(1)
    keep = {k: body[k] for k in ("model", "system", "tools", "messages") if k in body}
    sessions = sorted((home / ".claude" / "projects").glob("*/*.jsonl"))
    return {"project": str(project.resolve()), "home": str(home.resolve()), "body": keep,
            "transcript": sessions[0].read_text(encoding="utf-8") if sessions else ""}


def main() -> int:
    ap = argparse.ArgumentParser(description="Capture whole-startup requests per project shape.")
    ap.add_argument("--shapes", default=",".join(shapes()))
    ap.add_argument("--entries", default="p,interactive")
    ap.add_argument("--transcripts", action="store_true",
                    help="also keep the session transcript as <entry>_<shape>.transcript.jsonl")
    args, clis = version_commands(ap)
    all_shapes = shapes()
    DATA.mkdir(parents=True, exist_ok=True)
    (DATA / "shapes.json").write_text(json.dumps({
        "script": "scripts/claude_code/startup_shapes.py",
        "mcp_server": f"scripts/claude_code/{MCP_SERVER}",
        "note": "{python}: the Python that ran the server; {server}: its path in the project",
        "shapes": all_shapes}, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    for version, cmd in clis:
        out = DATA / version
        out.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=f"cc-startup-{version}-"))
        for name in args.shapes.split(","):
            for entry in args.entries.split(","):
                rec = run_shape(cmd, all_shapes[name], scratch / f"{entry}_{name}",
                                entry == "interactive")
                transcript = rec.pop("transcript")
                if args.transcripts and transcript:
                    (out / f"{entry}_{name}.transcript.jsonl").write_text(transcript,
                                                                          encoding="utf-8")
                rec["provenance"] = {"version": version, "command": shlex.join(cmd),
                                     "script": "scripts/claude_code/startup_shapes.py",
                                     "shape": name, "entrypoint": entry}
                (out / f"{entry}_{name}.json").write_text(
                    json.dumps(rec, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
                print(version, entry, name, len(rec["body"]["tools"]), "tools", flush=True)
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
