"""Record Claude Code's own agent listing and fixed request text as committed test data.

For every ``--cli VERSION=COMMAND`` this runs the real CLI offline (capture.py) and writes
``tests/data/claude_code/<VERSION>/``:

- ``builtin.json``: listing header, built-in agent lines (``-p`` and interactive runs);
- ``agents_edge.json``: per corpus file (``tests/data/claude_code/agents_edge`` plus the
  generated files of ``generated.json``), the custom text the file adds to the listing when it
  is the only file in ``.claude/agents`` (empty = not listed), and the whole listing block
  with the full corpus at once;
- ``wshobson.json``: the listing block for the wshobson library copied flat (first path per
  file name, sorted), and for the 10-agent + empty CLAUDE.md project;
- ``scenarios.json``: discovery and precedence set-ups (user vs project, ancestors, git root);
- ``request_*.json``: full request bodies; ``summary.json``: cl100k token sizes of the system
  blocks, of each tool (JSON, compact separators) and of the Agent tool description.

Run with the project's venv Python (tiktoken offline) from the repository root:
``.venv/bin/python scripts/claude_code/ground_truth.py --cli 2.1.112="node .../cli.js" ...``
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO))

from capture import capture, version_commands  # noqa: E402

DATA = REPO / "tests" / "data" / "claude_code"
EDGE = DATA / "agents_edge"
WSHOBSON = Path("/work/shared/corpora/wshobson__agents")

HEADERS = (
    ("tool", "Available agent types and the tools they have access to:\n"),
    ("message", "Available agent types for the Agent tool:\n"),
)
ENDS = ("\n\nWhen using the ", "\n\nWhen you launch multiple agents", "\n\nThe following skills",
        "\n\nThe following agent types are no longer", "\n</system-reminder>")


def materialize_generated(dest: Path) -> list[str]:
    """Write the generated corpus files (too big to commit) under DEST; return their paths."""
    spec = json.loads((DATA / "generated.json").read_text(encoding="utf-8"))
    out = []
    for rel, item in spec.items():
        head = item["head"].encode("utf-8")
        fill = (item["fill_line"] + "\n").encode("utf-8")
        data = head + fill * ((item["size"] - len(head)) // len(fill) + 1)
        path = dest / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data[: item["size"]])
        out.append(rel)
    return out


def edge_files() -> list[str]:
    """Every committed corpus file, as a POSIX path relative to the corpus folder."""
    return sorted(p.relative_to(EDGE).as_posix() for p in EDGE.rglob("*") if p.is_file())


def wshobson_flat() -> dict[str, Path]:
    """File name -> source path: the first path (sorted) for each agent file name."""
    chosen: dict[str, Path] = {}
    for path in sorted(WSHOBSON.glob("plugins/*/agents/*.md")):
        chosen.setdefault(path.name, path)
    return chosen


def texts(body: dict) -> list[tuple[str, str]]:
    """(where, text) for every piece of text in the request that can hold the listing."""
    out = []
    for tool in body.get("tools", []):
        out.append((f"tool:{tool.get('name')}", tool.get("description", "")))
    for i, msg in enumerate(body.get("messages", [])):
        content = msg["content"]
        if isinstance(content, str):
            out.append((f"message:{i}:{msg['role']}", content))
            continue
        for j, part in enumerate(content):
            if part.get("type") == "text":
                out.append((f"message:{i}:{msg['role']}:{j}", part["text"]))
    return out


def listing(body: dict) -> dict:
    """The agent listing block: where it was found, its header and the text of its lines."""
    for where, text in texts(body):
        for kind, header in HEADERS:
            start = text.find(header)
            if start < 0:
                continue
            rest = text[start + len(header):]
            end = min((i for i in (rest.find(e) for e in ENDS) if i >= 0), default=len(rest))
            return {"where": where, "kind": kind, "header": header, "block": rest[:end]}
    raise RuntimeError("no agent listing found in the request")


def strip_builtins(block: str, builtin_lines: list[str]) -> tuple[str, list[str]]:
    """Remove the built-in agents' lines; return (custom text, built-ins still present)."""
    present = []
    for line in builtin_lines:
        for cand in ("\n" + line, line + "\n", line):
            if cand in block and (cand != line or block == line):
                block = block.replace(cand, "", 1)
                present.append(line.split(":", 1)[0][2:])
                break
    return block, present


def new_project(root: Path, cwd_rel: str = "") -> Path:
    root.mkdir(parents=True)
    return root


class Runner:
    """Captures for one CLI version, in a scratch folder."""

    def __init__(self, version: str, cmd: list[str], scratch: Path) -> None:
        self.version, self.cmd, self.scratch = version, cmd, scratch
        self.n = 0

    def run(self, files: dict[str, bytes], cwd: str = "repo", git: str | None = "repo",
            interactive: bool = False) -> dict:
        """Lay out FILES (paths under a fresh root: ``home/...``, ``repo/...``), run, return body."""
        self.n += 1
        root = self.scratch / f"run{self.n:04d}"
        if root.exists():
            shutil.rmtree(root)
        (root / "home").mkdir(parents=True)
        (root / cwd).mkdir(parents=True, exist_ok=True)
        for rel, data in files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        if git is not None:
            import subprocess

            subprocess.run(["git", "init", "-q", str(root / git)], check=True)
        for attempt in range(3):
            try:
                reqs = capture(self.cmd, root / cwd, root / "home", root / "out",
                               interactive=interactive, timeout=90)
                break
            except RuntimeError:
                if attempt == 2:
                    raise
                time.sleep(1)
        return reqs[-1] if not interactive else reqs[0]


def token_summary(body: dict) -> dict:
    from ctxtui.core import tokens

    def n(text: str) -> int:
        return tokens.count(text)

    tools = {t["name"]: n(json.dumps(t, separators=(",", ":"), ensure_ascii=False))
             for t in body.get("tools", [])}
    system = [n(s["text"]) for s in body.get("system", [])]
    agent = next((t for t in body.get("tools", []) if t["name"] == "Agent"), None)
    msgs = []
    try:
        lst = listing(body)
        holder = next(t for w, t in texts(body) if w == lst["where"])
    except (RuntimeError, StopIteration):
        lst, holder = None, None
    for where, text in texts(body):
        if where.startswith("message"):
            msgs.append({"where": where, "chars": len(text), "tokens": n(text),
                         "starts": text[:60]})
    return {
        "agent_tool_description": agent["description"] if agent else None,
        "model": body.get("model"),
        "system_tokens": system, "system_total": sum(system),
        "tool_tokens": tools, "tools_total": sum(tools.values()),
        "agent_tool_description_tokens": n(agent["description"]) if agent else None,
        "agent_tool_json_tokens": tools.get("Agent"),
        "message_texts": msgs,
        "listing_message": holder if lst and lst["kind"] == "message" else None,
    }


def record(version: str, cmd: list[str], parts: set[str]) -> None:
    out = DATA / version
    out.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f"cc-gt-{version}-"))
    r = Runner(version, cmd, scratch)
    prov = {"version": version, "command": shlex.join(cmd),
            "script": "scripts/claude_code/ground_truth.py"}

    def save(name: str, obj: object) -> None:
        (out / name).write_text(json.dumps(obj, ensure_ascii=False, indent=1) + "\n",
                                encoding="utf-8")

    # Baselines: no custom agent, -p and interactive.
    base = r.run({})
    base_i = r.run({}, interactive=True)
    lb, lbi = listing(base), listing(base_i)
    builtin = {"provenance": prov, "p_mode": lb, "interactive": lbi,
               "p_mode_lines": lb["block"].split("\n"),
               "interactive_lines": lbi["block"].split("\n")}
    save("builtin.json", builtin)
    builtin_lines = sorted(set(builtin["p_mode_lines"]) | set(builtin["interactive_lines"]))
    summary: dict = {
        "provenance": prov,
        "tokenizer": "cl100k_base (tiktoken); tools as json.dumps(tool, separators=(',', ':'))",
    }
    if "fixed" in parts:
        save("request_p_empty.json", base)
        save("request_interactive_empty.json", base_i)
        summary["p_empty"] = token_summary(base)
        summary["interactive_empty"] = token_summary(base_i)

    if "edge" in parts:
        per_file = {}
        gen_dir = scratch / "generated"
        generated = materialize_generated(gen_dir)
        sources = {rel: (EDGE / rel).read_bytes() for rel in edge_files()}
        sources.update({rel: (gen_dir / rel).read_bytes() for rel in generated})
        for rel, data in sorted(sources.items()):
            body = r.run({f"repo/.claude/agents/{rel}": data})
            custom, present = strip_builtins(listing(body)["block"], builtin_lines)
            per_file[rel] = {"custom": custom, "builtins_present": present}
            print(version, rel, "listed" if custom else "-", flush=True)
        body = r.run({f"repo/.claude/agents/{rel}": d for rel, d in sources.items()})
        save("agents_edge.json", {"provenance": prov, "per_file": per_file,
                                  "combined": listing(body)})

    if "wshobson" in parts:
        flat = wshobson_flat()
        files = {f"repo/.claude/agents/{name}": p.read_bytes() for name, p in flat.items()}
        body = r.run(files)
        ten = sorted(flat)[:10]
        files10 = {f"repo/.claude/agents/{name}": flat[name].read_bytes() for name in ten}
        files10["repo/CLAUDE.md"] = b""
        body10 = r.run(files10)
        body10_i = r.run(files10, interactive=True)
        save("wshobson.json", {
            "provenance": prov,
            "source": "/work/shared/corpora/wshobson__agents (first sorted path per file name)",
            "files": {name: str(p.relative_to(WSHOBSON)) for name, p in flat.items()},
            "all": listing(body),
            "ten_names": ten, "ten_with_empty_claude_md": listing(body10),
            "ten_with_empty_claude_md_interactive": listing(body10_i),
        })
        save("request_p_wshobson10_claude_md.json", body10)
        save("request_interactive_wshobson10_claude_md.json", body10_i)
        summary["p_wshobson10_claude_md"] = token_summary(body10)
        summary["interactive_wshobson10_claude_md"] = token_summary(body10_i)

    if "fixed" in parts or "wshobson" in parts:
        path = out / "summary.json"
        old = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        save("summary.json", {**old, **summary})

    if "scenarios" in parts:
        save("scenarios.json", {"provenance": prov, "cases": run_scenarios(r, builtin_lines)})
    shutil.rmtree(scratch, ignore_errors=True)


def _agent(name: str, desc: str) -> bytes:
    return f"---\nname: {name}\ndescription: {desc}\n---\nBody\n".encode()


SCENARIOS = {
    "user_and_project_same_name": {
        "files": {"home/.claude/agents/same.md": _agent("same", "From the user folder."),
                  "home/.claude/agents/user-only.md": _agent("user-only", "Only in user."),
                  "repo/.claude/agents/same.md": _agent("same", "From the project folder.")},
        "cwd": "repo", "git": "repo"},
    "ancestor_up_to_git_root": {
        "files": {"repo/.claude/agents/top.md": _agent("top-only", "At the git root."),
                  "repo/.claude/agents/same.md": _agent("same", "From the git root."),
                  "repo/sub/.claude/agents/same.md": _agent("same", "From the middle folder."),
                  "repo/sub/dir/.claude/agents/same.md": _agent("same", "From the cwd."),
                  "repo/sub/dir/.claude/agents/cwd.md": _agent("cwd-only", "In the cwd."),
                  ".claude/agents/above.md": _agent("above-git-root", "Above the git root.")},
        "cwd": "repo/sub/dir", "git": "repo"},
    "no_git_root_walks_up": {
        "files": {"a/.claude/agents/upper.md": _agent("upper", "Two levels up, no git."),
                  "a/b/c/.claude/agents/here.md": _agent("here", "In the cwd, no git.")},
        "cwd": "a/b/c", "git": None},
    "nested_git_root": {
        "files": {"outer/.claude/agents/o.md": _agent("outer-agent", "Outside the inner repo."),
                  "outer/inner/.claude/agents/i.md": _agent("inner-agent", "Inside.")},
        "cwd": "outer/inner", "git": "outer/inner"},
    "same_name_same_folder": {
        "files": {"repo/.claude/agents/a.md": _agent("twin", "File a."),
                  "repo/.claude/agents/b.md": _agent("twin", "File b."),
                  "repo/.claude/agents/z/c.md": _agent("twin", "File z/c.")},
        "cwd": "repo", "git": "repo"},
    "raw_control_characters": {
        "files": {**{f"repo/.claude/agents/raw-{c:02x}.md": _agent(f"raw-{c:02x}", f"x {chr(c)} y")
                     for c in (0x00, 0x01, 0x07, 0x08, 0x0B, 0x0C, 0x0E, 0x1B, 0x1F, 0x7F, 0x9B,
                               0xFFFE)},
                  "repo/.claude/agents/raw-cr.md": _agent("raw-cr", "x \r y")},
        "cwd": "repo", "git": "repo"},
    "sort_order": {
        "files": {f"repo/.claude/agents/s{i}.md": _agent(n, f"Sort {i}.") for i, n in enumerate(
            ["beta", "Alpha", "alpha", "ALPHA2", "a-b", "a_b", "ab", "a.b", "a b", "a1", "a10",
             "a2", "Zulu", "_x", "-y", "\u00e9cole", "ecole", "\u00c9cole", "zz", "Z", "Explorer",
             "plan", "general"])},
        "cwd": "repo", "git": "repo"},
}


def run_scenarios(r: Runner, builtin_lines: list[str]) -> dict:
    out = {}
    for name, sc in SCENARIOS.items():
        body = r.run(sc["files"], cwd=sc["cwd"], git=sc["git"])
        lst = listing(body)
        custom, present = strip_builtins(lst["block"], builtin_lines)
        out[name] = {"files": {k: v.decode() for k, v in sc["files"].items()},
                     "cwd": sc["cwd"], "git": sc["git"], "block": lst["block"],
                     "custom": custom, "builtins_present": present}
        print(r.version, name, flush=True)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description="Record Claude Code ground truth.")
    ap.add_argument("--parts", default="fixed,edge,wshobson,scenarios")
    args, clis = version_commands(ap)
    parts = set(args.parts.split(","))
    for version, cmd in clis:
        record(version, cmd, parts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
