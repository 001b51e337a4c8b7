"""Rewrite an agent file's frontmatter so every Claude Code version loads it as meant.

Pure: bytes in, bytes out. Only the frontmatter is rewritten (from the start of the file to
the end of its closing ``---`` line); the body's bytes are kept exactly, and the frontmatter
keeps the file's line ending. Keys that already read as meant are kept as written; the rest
are written in a form every parser agrees on (a ``|`` block for a multi-line description,
double quotes where a plain value would not survive). The result is checked with Claude
Code's own loader model under every profile before it is offered; a file that cannot be made
to load as meant is left alone, with the reason.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field

from ctxtui.core.claude_code import yaml_js
from ctxtui.core.claude_code.agents import utf16_len
from ctxtui.core.claude_code.profiles import Profile, profiles
from ctxtui.core.lint import Intent, LintResult, _standalone, _tools_value, lint_bytes

__all__ = ["FixResult", "fix_bytes", "fixed_name"]

_PLAIN_SAFE = re.compile(r"^[A-Za-z0-9_(<][^\n\r\t]*$")
_NOT_PRINTABLE = re.compile("[^\x09\x0A\x20-\x7E\xA0-\u2027\u202A-\uD7FF\uE000-\uFEFE"
                            "\uFF00-\uFFFD\U00010000-\U0010FFFF]")
_BLOCK_BAD = _NOT_PRINTABLE  # a | block can hold no escapes


@dataclass
class FixResult:
    """What ``fix`` does to one file."""

    path: str
    data: bytes | None
    """The fixed bytes, or None when nothing is written (fine already, or cannot be fixed)."""
    status: str
    """``fixed``, ``unchanged`` (loads as meant everywhere) or ``cannot`` (see ``reason``)."""
    reason: str = ""
    name: str | None = None
    description: str | None = None
    tools: list[str] | None = None
    notes: list[str] = field(default_factory=list)
    lint: LintResult | None = None

    def to_json(self) -> dict:
        """JSON form for ``fix --json``."""
        return {"path": self.path, "status": self.status, "reason": self.reason,
                "name": self.name, "notes": self.notes}


def fixed_name(name: str) -> str:
    """A name every version accepts: no ``:`` (after NFKC), no leading ``-``, <= 256 units."""
    out = "".join("-" if unicodedata.normalize("NFKC", ch) == ":" or ":" in
                  unicodedata.normalize("NFKC", ch) else ch for ch in name)
    out = out.lstrip("-") or "agent"
    while utf16_len(out) > 256:
        out = out[:-1]
    return out


def _double_quoted(text: str) -> str:
    out = json.dumps(text, ensure_ascii=False)
    out = _NOT_PRINTABLE.sub(lambda m: f"\\u{ord(m[0]):04x}" if ord(m[0]) <= 0xFFFF
                             else f"\\U{ord(m[0]):08x}", out)
    # The frontmatter ends at the first "---" anywhere: never write three dashes in a row.
    return out.replace("---", "--\\x2d")


def _is_plain_safe(text: str) -> bool:
    if not _PLAIN_SAFE.match(text) or text != text.strip() or "---" in text:
        return False
    if ": " in text or " #" in text or text.endswith(":") or "\\" in text:
        return False
    try:
        value = yaml_js.parse(f"k: {text}", duplicate_keys_error=True)
    except yaml_js.JsYamlError:
        return False
    import yaml  # YAML 1.1 readers must agree too (no `yes`, dates, 1:20)

    try:
        v11 = yaml.safe_load(f"k: {text}")
    except yaml.YAMLError:
        return False
    return value == {"k": text} and v11 == {"k": text}


def _scalar(key: str, text: str, newline: str) -> str:
    """``key: value`` lines for a text value, in the safest readable form."""
    if "\n" in text and not _BLOCK_BAD.search(text) and "---" not in text \
            and not text.endswith("\n\n") and text.strip("\n"):
        chomp = "" if text.endswith("\n") else "-"
        body = text[:-1] if text.endswith("\n") else text
        lines = body.split("\n")
        first = next((ln for ln in lines if ln.strip()), "")
        indicator = "2" if first[:1] in (" ", "\t") or not lines[0].strip() else ""
        rendered = [f"  {ln}" if ln else "" for ln in lines]
        if all(not ln.strip() or ln.rstrip(" ") == ln for ln in lines):
            return newline.join([f"{key}: |{indicator}{chomp}", *rendered])
    if "\n" not in text and _is_plain_safe(text):
        return f"{key}: {text}"
    return f"{key}: {_double_quoted(text)}"


def _tools_line(key: str, tools: list[str] | None) -> str:
    return f"{key}: {_double_quoted(', '.join(tools) if tools is not None else '*')}"


def _render(intent: Intent, name: str, minimal: bool) -> tuple[str, list[str]]:
    nl = intent.newline
    notes: list[str] = []
    lines: list[str] = []
    keys = dict(intent.keys)
    order = list(keys)
    for key in ("name", "description"):
        if key not in keys:
            order.insert(0 if key == "name" else 1, key)
    for key in order:
        chunk = keys.get(key, "")
        same = key in keys and minimal
        if key == "":
            notes.append("dropped text before the first key: " + chunk.strip()[:40])
            continue
        if key == "name":
            ok, value = _standalone(chunk) if same else (False, None)
            lines.append(chunk if ok and value == name and "\n" not in chunk.strip()
                         else _scalar("name", name, nl))
        elif key == "description":
            ok, value = _standalone(chunk) if same else (False, None)
            keep = ok and isinstance(value, str) and value.replace("\\n", "\n") == \
                intent.description and "\\n" not in value
            lines.append(chunk if keep else _scalar("description", intent.description or "", nl))
        elif key in ("tools", "disallowedTools"):
            want = intent.tools if key == "tools" else intent.disallowed_tools
            ok, _ = _standalone(chunk)
            keep = same and ok and _tools_value(chunk) == want
            lines.append(chunk if keep else _tools_line(key, want))
        else:
            ok, _ = _standalone(chunk)
            if ok:
                lines.append(chunk)
            else:
                raw = chunk.split(":", 1)[1].strip() if ":" in chunk else ""
                lines.append(f"{key}: {_double_quoted(raw)}")
                notes.append(f"quoted {key}")
    text = nl.join(ln.replace("\r\n", "\n").replace("\n", nl) for ln in lines)
    return f"---{nl}{text}{nl}---{nl}", notes


def fix_bytes(data: bytes, path: str = "", every: tuple[Profile, ...] | None = None) -> FixResult:
    """The fixed bytes of one agent file, checked under every profile in EVERY (default:
    all known ones): each must load it, at the first parse, with the meant name (made
    acceptable to every version), description and tools."""
    every = every or profiles()
    report = lint_bytes(path, data, every)
    intent = report.intent
    if not report.needs_fix:
        return FixResult(path, None, "unchanged", "loads as written in every version",
                         name=report.name, lint=report)
    if intent is None:
        return FixResult(path, None, "cannot", "no frontmatter: ctxtui cannot tell its name "
                         "and description", lint=report)
    if any(f.code == "over-size-limit" for f in report.findings):
        return FixResult(path, None, "cannot", "over Claude Code's 1 MiB limit (the body would "
                         "have to change)", name=intent.name, lint=report)
    if not intent.name or not intent.description:
        missing = "name" if not intent.name else "description"
        return FixResult(path, None, "cannot", f"no {missing} given: add one by hand",
                         name=intent.name, lint=report)
    name = fixed_name(intent.name)
    notes = [f"renamed {intent.name!r} to {name!r}: newer versions reject the name"] \
        if name != intent.name else []
    body = data[intent.end:]
    for minimal in (True, False):
        head, more = _render(intent, name, minimal)
        new = head.encode("utf-8") + body
        check = lint_bytes(path, new, every)
        if all(v.loaded and v.frontmatter == "ok" and v.name == name
               and v.description == intent.description and v.tools == intent.tools
               and v.disallowed_tools == intent.disallowed_tools
               for v in check.verdicts.values()):
            if new == data:
                break
            return FixResult(path, new, "fixed", "", name=name, description=intent.description,
                             tools=intent.tools, notes=notes + more, lint=report)
    return FixResult(path, None, "cannot", "no rewrite of the frontmatter loads as meant in "
                     "every version", name=intent.name, lint=report)
