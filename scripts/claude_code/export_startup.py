"""Turn the empty-project captures into ctxtui's per-version fixed startup figures.

Reads ``tests/data/claude_code/startup/<VERSION>/{p,interactive}_empty.json`` (written by
startup_shapes.py) and writes ``ctxtui/data/claude_code/startup_<VERSION>.json``: per
entrypoint, the cl100k size of every fixed part of the first request (system blocks, each
built-in tool as compact JSON, the built-in agents' part of the listing, the bundled skills'
listing, the deferred-tools list, and the rest: environment, date, git status, attribution),
plus the bundled skill listing's entries so the skill budget can be applied with the
project's own skills. Run from the repository root with the venv Python.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(REPO))

from ctxtui.core import tokens  # noqa: E402

SRC = REPO / "tests" / "data" / "claude_code" / "startup"
DEST = REPO / "ctxtui" / "data" / "claude_code"
SKILLS_HEADER = "The following skills are available for use with the Skill tool:\n\n"
AGENTS_HEADERS = ("Available agent types for the Agent tool:\n",)
DEFERRED_HEADER = "The following deferred tools are now available via ToolSearch."
PROMPT = "hello"
# The skill listing's budget is window x chars-per-token x 1% for the session's model. Read from
# the code (2.1.112: 200k and 4 for every model; 2.1.332: the model's window, 3 characters per
# token unless the model is in a known set) and pinned by the ``skills_many`` captures: 2.1.112
# shares 8,000 characters, 2.1.332 (claude-opus-5-5, 1M window) fills 30,000.
SKILL_BUDGET = {"2.1.112": {"window": 200_000, "chars_per_token": 4},
                "2.1.332": {"window": 1_000_000, "chars_per_token": 3}}


def tool_tokens(tool: dict) -> int:
    """A tool as Claude Code sends it: compact JSON, cl100k."""
    return tokens.count(json.dumps(tool, separators=(",", ":"), ensure_ascii=False))


def message_texts(body: dict) -> list[tuple[str, str]]:
    """(role, text) of every text part of every message, the prompt left out."""
    out = []
    for msg in body["messages"]:
        content = msg["content"]
        parts = [content] if isinstance(content, str) else [
            p.get("text", "") for p in content if p.get("type") == "text"]
        out += [(msg["role"], t) for t in parts if t.strip() != PROMPT]
    return out


def section(text: str, header: str) -> str:
    """From HEADER to the next blank line that ends the block ("" when absent)."""
    start = text.find(header)
    if start < 0:
        return ""
    end = text.find("\n\n", start + len(header))
    return text[start:] if end < 0 else text[start:end]


def request_total(body: dict) -> int:
    """System blocks + tools + message texts before/around the prompt (the prompt excluded)."""
    return (sum(tokens.count(s["text"]) for s in body["system"])
            + sum(tool_tokens(t) for t in body["tools"])
            + sum(tokens.count(t) for _, t in message_texts(body)))


def fixed(body: dict) -> dict:
    system = sum(tokens.count(s["text"]) for s in body["system"])
    tools = {t["name"]: tool_tokens(t) for t in body["tools"]}
    texts = message_texts(body)
    skills_text, where = "", ""
    agents_text = deferred_text = ""
    for role, text in texts:
        if SKILLS_HEADER in text and not skills_text:
            if role == "user" and text.startswith("<system-reminder>\n" + SKILLS_HEADER):
                skills_text, where = text, "reminder"
            else:
                skills_text, where = section(text, SKILLS_HEADER), "system-message"
        for h in AGENTS_HEADERS:
            if h in text and role == "system":
                block = section(text, h)
                note = section(text[text.find(block) + len(block):].lstrip("\n"),
                               "When you launch multiple agents")
                agents_text = block + ("\n\n" + note if note else "")
        if DEFERRED_HEADER in text:
            deferred_text = section(text, DEFERRED_HEADER)
    listing = skills_text.split(SKILLS_HEADER, 1)[1] if skills_text else ""
    listing = listing.removesuffix("\n").removesuffix("\n</system-reminder>")
    entries = [("- " + e if i else e) for i, e in enumerate(listing.split("\n- "))] if listing else []
    messages_total = sum(tokens.count(t) for _, t in texts)
    parts = {
        "skills_listing": tokens.count(skills_text),
        "agents_listing": tokens.count(agents_text),
        "deferred_tools": tokens.count(deferred_text),
    }
    head = body["system"][0]["text"] if body["system"] else ""
    return {
        "model": body.get("model"),
        "system_prompt": system,
        "billing_header": tokens.count(head) if head.startswith("x-anthropic-billing") else 0,
        "tools": tools,
        "skills_where": where,
        "skills_wrapper": tokens.count(skills_text.replace(listing, "")) if listing else 0,
        "skill_entries": entries,
        "deferred_names": deferred_text.split("\n")[1:] if deferred_text else [],
        **parts,
        "other_messages": messages_total - sum(parts.values()),
        "total": request_total(body),
    }


def _normalised_total(rec: dict) -> int:
    """request_total with the capture's scratch folder (and its slug) replaced by one short
    name, so two shapes' totals differ only by what the shapes change."""
    root = str(Path(rec["project"]).parent)
    slug = re.sub(r"[^a-zA-Z0-9]", "-", root)
    text = json.dumps(rec["body"], ensure_ascii=False).replace(root, "/S").replace(slug, "-S")
    return request_total(json.loads(text))


def output_style(vdir: Path, entry: str) -> dict:
    """What selecting a project output style changes, from the ``style`` captures.

    ``fixed``: Claude Code's own text that comes with any style (the changed intro line, the
    "style is active" note), i.e. the growth minus the style's own ``# Output Style`` section;
    ``coding_instructions``: what leaves the system prompt unless the style sets
    ``keep-coding-instructions: true``.
    """
    recs = {}
    for shape in ("agents", "style", "style_keep"):
        path = vdir / f"{entry}_{shape}.json"
        if not path.is_file():
            return {}
        recs[shape] = json.loads(path.read_text(encoding="utf-8"))
    shapes = json.loads((SRC / "shapes.json").read_text(encoding="utf-8"))["shapes"]
    style = shapes["style_keep"][".claude/output-styles/terse.md"]
    prompt = style.split("\n---\n", 1)[1].strip()
    section = tokens.count(f"\n\n# Output Style: Terse\n{prompt}")
    totals = {k: _normalised_total(r) for k, r in recs.items()}
    return {"fixed": totals["style_keep"] - totals["agents"] - section,
            "coding_instructions": totals["style_keep"] - totals["style"]}


def main() -> int:
    DEST.mkdir(parents=True, exist_ok=True)
    for vdir in sorted(p for p in SRC.iterdir() if p.is_dir()):
        out: dict = {}
        for entry, key in (("p", "print"), ("interactive", "interactive")):
            rec = json.loads((vdir / f"{entry}_empty.json").read_text(encoding="utf-8"))
            out[key] = fixed(rec["body"])
            out[key]["output_style"] = output_style(vdir, entry)
            out[key]["skill_budget"] = SKILL_BUDGET[vdir.name]
            prov = rec["provenance"]
        data = {
            "provenance": {
                "version": vdir.name, "command": prov["command"],
                "capture": "scripts/claude_code/startup_shapes.py (shape 'empty', prompt 'hello')",
                "export": "scripts/claude_code/export_startup.py",
                "tokenizer": "cl100k_base; tools as json.dumps(tool, separators=(',', ':'))",
                "note": "measured from the request Claude Code sent for an empty git project",
            },
            **out,
        }
        (DEST / f"startup_{vdir.name}.json").write_text(
            json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(vdir.name, {k: out[k]["total"] for k in out})
    return 0


if __name__ == "__main__":
    sys.exit(main())
