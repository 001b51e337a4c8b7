"""Distil the captured requests into the fixed data ctxtui ships per profile.

Reads ``tests/data/claude_code/<version>/{builtin,summary}.json`` (written by
ground_truth.py) and writes ``ctxtui/core/claude_code/fixed_<version>.json``: the built-in
agents' listing lines per entrypoint and the cl100k token sizes of the fixed request parts.

Usage (repository root, project venv): ``.venv/bin/python scripts/claude_code/export_fixed.py 2.1.112 2.1.332``
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(REPO))
DATA = REPO / "tests" / "data" / "claude_code"
OUT = REPO / "ctxtui" / "core" / "claude_code"


def _texts(body: dict) -> list[tuple[str, str]]:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from ground_truth import texts

    return texts(body)


def fixed_for(version: str) -> dict:
    from ctxtui.core import tokens

    builtin = json.loads((DATA / version / "builtin.json").read_text(encoding="utf-8"))
    summary = json.loads((DATA / version / "summary.json").read_text(encoding="utf-8"))
    lines = {"interactive": builtin["interactive_lines"], "print": builtin["p_mode_lines"]}
    token_info = {}
    for entrypoint, key in (("interactive", "interactive_empty"), ("print", "p_empty")):
        s = summary[key]
        blines = lines[entrypoint]
        req = json.loads((DATA / version / f"request_{'p' if entrypoint == 'print' else entrypoint}"
                          "_empty.json").read_text(encoding="utf-8"))
        agent_desc = next(t["description"] for t in req["tools"] if t["name"] == "Agent")
        block = "\n".join(blines)
        fixed_desc = agent_desc.replace("\n" + block, "") if block in agent_desc else agent_desc
        token_info[entrypoint] = {
            "system_blocks": s["system_tokens"],
            "system_total": s["system_total"],
            "tools": s["tool_tokens"],
            "tools_total": s["tools_total"],
            "agent_tool_description": s["agent_tool_description_tokens"],
            "agent_tool_description_without_builtin_lines": tokens.count(fixed_desc),
            "builtin_lines": {ln[2:].split(": ", 1)[0]: tokens.count(ln) for ln in blines},
            "builtin_block": tokens.count("\n".join(blines)),
            "messages": [{k: m[k] for k in ("where", "tokens", "starts")}
                         for m in s["message_texts"]],
        }
    header = builtin["p_mode"]["header"]
    note = ""
    if builtin["p_mode"]["kind"] == "message":
        req = json.loads((DATA / version / "request_p_empty.json").read_text(encoding="utf-8"))
        text = next(t for _, t in _texts(req) if header in t)
        after = text[text.index(header) + len(header) + len(builtin["p_mode"]["block"]):]
        note = after.split("\n\n")[1] if after.startswith("\n\n") else ""
    wrapper = header + ("\n\n" + note if note else "")
    return {
        "listing_wrapper": {"header": header, "note_after": note,
                            "tokens": tokens.count(wrapper),
                            "where": "Agent tool description" if not note
                            else "first system-role message"},
        "provenance": {**builtin["provenance"], "export": "scripts/claude_code/export_fixed.py",
                       "tokenizer": summary["tokenizer"],
                       "note": "empty project (git init, no CLAUDE.md, no agents), prompt 'hello'"},
        "listing_header": builtin["p_mode"]["header"].rstrip("\n"),
        "listing_where": builtin["p_mode"]["where"],
        "builtin_lines": lines,
        "tokens": token_info,
    }


def main() -> int:
    for version in sys.argv[1:]:
        (OUT / f"fixed_{version}.json").write_text(
            json.dumps(fixed_for(version), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print("wrote", OUT / f"fixed_{version}.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
