"""Lint agent files against Claude Code's own loader: what it skips or reads differently.

Pure: file bytes in, findings out. Each file is read twice: as Claude Code reads it under
every supported version profile (:func:`ctxtui.core.claude_code.load_agent`), and as its
author meant it (:func:`read_intent`, a lenient reading that keeps ``user:``/``Context:``
lines of an ``<example>`` block inside the description, accepts a leading blank line or an
indented fence, and takes the last of a repeated key). Where the two differ, a finding says
how, in which versions, and what the fix is (``ctxtui fix`` writes it; see ``fix.py``).

A file that Claude Code parses at the first attempt, identically in every profile, is read as
its author meant by definition: lint reports nothing on it beyond notes that change nothing.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

import yaml

from ctxtui.core.claude_code import yaml_js
from ctxtui.core.claude_code.agents import (
    _FRONTMATTER,
    AgentVerdict,
    decode,
    load_agent,
    parse_tools,
    utf16_len,
)
from ctxtui.core.claude_code.profiles import Profile, profiles

__all__ = ["Finding", "Intent", "LintResult", "describe_versions", "lint_bytes", "read_intent"]

#: Keys an agent's frontmatter holds; a column-0 ``word:`` line with another word inside a
#: description is text (``Context:``, ``user:``), not a key.
AGENT_KEYS = frozenset({
    "name", "description", "tools", "disallowedTools", "model", "color", "memory",
    "permissionMode", "maxTurns", "skills", "mcpServers", "hooks", "effort", "isolation",
    "background", "initialPrompt", "when-to-use", "version", "author", "tags", "category",
    "license", "type", "title", "emoji", "icon",
})
_KEY_LINE = re.compile(r"^([A-Za-z_][A-Za-z0-9_-]*)[ \t]*:(?:[ \t]|$)")
_FENCE = re.compile(r"^[ \t]*---[ \t]*\r?$")
_YAML11_SPECIAL = re.compile(
    r"^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF|[-+]?\d[\d_]*(?::[0-5]?\d)+(?:\.\d*)?"
    r"|\d{4}-\d\d?-\d\d?(?:[Tt ].*)?|0b[01_]+|0[0-7_]+|[-+]?\d[\d_,]*\.?\d*)$")


@dataclass(frozen=True)
class Intent:
    """What the author of an agent file meant: name, description, tools (None: all)."""

    name: str | None
    description: str | None
    tools: list[str] | None
    disallowed_tools: list[str] | None
    keys: tuple[tuple[str, str], ...]
    """Every top-level key with its raw text (key line and continuation lines), in order,
    the last of a repeated key only."""
    end: int
    """Byte offset just past the closing fence line: the body starts here."""
    newline: str
    """The frontmatter's line ending (``\\n`` or ``\\r\\n``)."""
    repeated: tuple[str, ...] = ()
    """Keys given more than once."""


@dataclass
class Finding:
    """One way Claude Code reads a file differently from what its author meant."""

    code: str
    """Stable id: ``skipped``, ``cut-at-user-line``, ``description-differs``, ``literal-newline``,
    ``tools-differ``, ``name-rejected``, ``over-size-limit``, ``duplicate-name``,
    ``duplicate-key``, ``yaml11``, ``retried``."""
    severity: str
    """``error`` (skipped by some version), ``warning`` (loads, but not as meant), ``info``."""
    message: str
    fix: str
    """What to change (``ctxtui fix`` does it where it can)."""
    versions: list[str] = field(default_factory=list)
    """Profile versions it applies to (empty: all)."""


@dataclass
class LintResult:
    """Every finding for one file, with Claude Code's verdict under each profile."""

    path: str
    name: str | None
    findings: list[Finding]
    verdicts: dict[str, AgentVerdict]
    """Profile version -> verdict."""
    intent: Intent | None

    @property
    def needs_fix(self) -> bool:
        """Whether some version skips the file or reads it differently from the intent."""
        return any(f.severity in ("error", "warning") for f in self.findings)

    def to_json(self) -> dict[str, Any]:
        """JSON form for ``lint --json``."""
        loads = [v for v, vd in self.verdicts.items() if vd.loaded]
        return {"path": self.path, "name": self.name, "needs_fix": self.needs_fix,
                "loads_in": loads, "findings": [asdict(f) for f in self.findings]}


# --- the author's reading ---------------------------------------------------------------


def _frontmatter_span(text: str) -> tuple[int, int, int, str] | None:
    """(content start, content end, body start, newline) of a lenient frontmatter: optional
    BOM and blank lines, a fence line (indented or not), up to the next fence line."""
    lines = text.splitlines(keepends=True)
    pos = 0
    i = 0
    if lines and lines[0].startswith("\ufeff"):
        lines[0] = lines[0][1:]
        pos = 1
    while i < len(lines) and not lines[i].strip(" \t\r\n"):
        pos += len(lines[i])
        i += 1
    if i >= len(lines) or not _FENCE.match(lines[i].rstrip("\n")):
        return None
    newline = "\r\n" if lines[i].endswith("\r\n") else "\n"
    pos += len(lines[i])
    start = pos
    for line in lines[i + 1:]:
        if _FENCE.match(line.rstrip("\n")):
            return start, pos, pos + len(line), newline
        pos += len(line)
    return None


def _chunks(content: str) -> list[tuple[str, str]]:
    """Split frontmatter text into (key, raw text) per top-level key, lines kept."""
    out: list[tuple[str, list[str]]] = []
    in_example = False
    for line in content.split("\n"):
        m = _KEY_LINE.match(line)
        low = line.strip().lower()
        if "<example" in low:
            in_example = True
        if "</example" in low:
            in_example = False
        # An unknown word after the description or inside an example is text (Context:).
        if m and (m[1] in AGENT_KEYS or not (in_example or (out and out[-1][0] == "description"))):
            out.append((m[1], [line]))
            continue
        if out:
            out[-1][1].append(line)
        elif line.strip():
            out.append(("", [line]))
    return [(k, "\n".join(lines)) for k, lines in out]


def _standalone(chunk: str) -> tuple[bool, Any]:
    """Parse one key's text alone, as the JS parsers agree on it (duplicate keys refused)."""
    try:
        # in the file every key's text is followed by a line break (a | block keeps it)
        value = yaml_js.parse(chunk.replace("\r", "") + "\n", duplicate_keys_error=True)
    except yaml_js.JsYamlError:
        return False, None
    if isinstance(value, dict) and len(value) == 1:
        return True, next(iter(value.values()))
    return False, None


def _unquote(text: str) -> str:
    t = text.strip()
    if len(t) >= 2 and t[0] == t[-1] and t[0] in "\"'":
        return t[1:-1]
    return t


def _raw_value(key: str, chunk: str) -> str:
    """The text after ``key:`` as written: continuation lines dedented, trailing blanks cut."""
    lines = chunk.replace("\r", "").split("\n")
    first = lines[0].split(":", 1)[1].strip()
    rest = lines[1:]
    while rest and not rest[-1].strip():
        rest.pop()
    indents = [len(x) - len(x.lstrip(" \t")) for x in rest if x.strip()]
    cut = min(indents, default=0)
    rest = [x[cut:] if x.strip() else "" for x in rest]
    if first in ("|", ">", "|-", ">-", "|+", ">+"):
        first = ""
        if not rest:
            return ""
    if not rest:
        return _unquote(first)
    return "\n".join([first, *rest]) if first else "\n".join(rest)


def _text_value(key: str, chunk: str) -> str | None:
    ok, value = _standalone(chunk)
    if ok:
        if isinstance(value, str):
            return value
        if value is None:
            return None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return _raw_value(key, chunk) or None  # `name: 123` meant the text 123
        if isinstance(value, bool):
            return _raw_value(key, chunk) or None
        return None
    return _raw_value(key, chunk) or None


def _tools_value(chunk: str | None) -> list[str] | None:
    if chunk is None:
        return None
    ok, value = _standalone(chunk)
    if not ok:
        key = chunk.split(":", 1)[0].strip()
        value = _raw_value(key, chunk)
    return parse_tools({"t": value}, "t")


def read_intent(data: bytes) -> Intent | None:
    """The name, description and tools the author meant, or None when there is no
    frontmatter at all (no ``---`` line before the first text)."""
    text = decode(data)
    span = _frontmatter_span(text)
    if span is None:
        return None
    cstart, cend, body, newline = span
    content = text[cstart:cend]
    if content.endswith("\n"):
        content = content[:-1]
    chunks = _chunks(content)
    seen: dict[str, str] = {}
    repeated = []
    for key, chunk in chunks:
        if key in seen:
            repeated.append(key)
        seen.pop(key, None)
        seen[key] = chunk  # the last of a repeated key wins, as in newer versions
    name = _text_value("name", seen["name"]) if "name" in seen else None
    desc = _text_value("description", seen["description"]) if "description" in seen else None
    if desc is not None:
        desc = desc.replace("\\n", "\n")
    body_bytes = len(text[:body].encode("utf-8", errors="surrogatepass"))
    if text[:body] != decode(data[:body_bytes]):  # invalid UTF-8 before the body: byte walk
        body_bytes = _byte_offset(data, text[:body])
    return Intent(name=name, description=desc, tools=_tools_value(seen.get("tools")),
                  disallowed_tools=_tools_value(seen.get("disallowedTools")),
                  keys=tuple(seen.items()), end=body_bytes, newline=newline,
                  repeated=tuple(dict.fromkeys(repeated)))


def _byte_offset(data: bytes, prefix: str) -> int:
    """Bytes of DATA that decode (with replacement) to PREFIX."""
    lo, hi = 0, len(data)
    while lo < hi:
        mid = (lo + hi) // 2
        if len(decode(data[:mid])) < len(prefix):
            lo = mid + 1
        else:
            hi = mid
    return lo


# --- findings ---------------------------------------------------------------------------


def describe_versions(versions: list[str], every: tuple[Profile, ...] | None = None) -> str:
    """``all versions``, ``2.1.112``, ``2.1.218+`` or ``2.1.112-2.1.181`` for a set of profiles."""
    every = every or profiles()
    names = [p.version for p in every]
    chosen = [v for v in names if v in set(versions)]
    if not chosen or len(chosen) == len(names):
        return "all versions"
    runs: list[list[str]] = []
    for v in chosen:
        if runs and names.index(v) == names.index(runs[-1][-1]) + 1:
            runs[-1].append(v)
        else:
            runs.append([v])
    out = []
    for run in runs:
        after = names.index(run[-1]) + 1
        end = "+" if after == len(names) else f" up to {names[after]} (excluded)"
        if run[0] == names[0] and end != "+":
            out.append(f"before {names[after]}")
        else:
            out.append(f"{run[0]}{end}")
    return ", ".join(out)


def _matches(v: AgentVerdict, intent: Intent) -> bool:
    return (v.loaded and v.name == intent.name and v.description == intent.description
            and v.tools == intent.tools and v.disallowed_tools == intent.disallowed_tools)


def _group(by_version: dict[str, str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for version, msg in by_version.items():
        out.setdefault(msg, []).append(version)
    return out


_KINDS = {"bool": "a boolean", "int": "a number", "float": "a number", "date": "a date",
          "datetime": "a date", "NoneType": "empty"}


def _yaml11(intent: Intent) -> list[Finding]:
    """Values YAML 1.1 readers (PyYAML, many tools) take for booleans, numbers or dates."""
    out = []
    for key, chunk in intent.keys:
        if key not in ("name", "description", "tools", "model"):
            continue
        raw = chunk.split(":", 1)[1].strip() if ":" in chunk else ""
        if "\n" in raw or not _YAML11_SPECIAL.match(raw):
            continue
        try:
            v11 = yaml.safe_load(f"k: {raw}")
        except yaml.YAMLError:
            continue
        if isinstance(v11, dict) and not isinstance(v11.get("k"), str):
            out.append(Finding(
                "yaml11", "info",
                f"{key}: {raw} is text to Claude Code (YAML 1.2) but "
                f"{_KINDS.get(type(v11['k']).__name__, 'not text')} to YAML 1.1 readers such as "
                "PyYAML",
                f'quote it: {key}: "{raw}"'))
    return out


def _loader_key(p: Profile) -> tuple:
    """The rules one file's verdict depends on (listing and discovery rules left out)."""
    return (p.runtime, p.duplicate_keys_error, p.strip_bom, p.max_file_bytes,
            p.retry_value_pattern, p.retry_keeps_flow_lists, p.retry_tabs_to_spaces,
            p.reject_leading_dash, p.reject_colon, p.max_name_length, p.keep_block_eof_newline,
            p.memory_tools)


def _verdicts(path: str, data: bytes, every: tuple[Profile, ...]) -> dict[str, AgentVerdict]:
    """Verdict per profile version; profiles with the same loader rules share one parse."""
    done: dict[tuple, AgentVerdict] = {}
    out = {}
    for p in every:
        key = _loader_key(p)
        if key not in done:
            done[key] = load_agent(path, data, p)
        out[p.version] = done[key]
    return out


def lint_bytes(path: str, data: bytes, every: tuple[Profile, ...] | None = None) -> LintResult:
    """Every finding for one agent file's bytes, checked against each profile in EVERY
    (default: all known profiles)."""
    every = every or profiles()
    verdicts = _verdicts(path, data, every)
    intent = read_intent(data)
    findings: list[Finding] = []
    name = next((v.name for v in verdicts.values() if v.loaded), None)
    if intent is not None and intent.name:
        name = intent.name
    loaded_all_same = (
        all(v.loaded and v.frontmatter == "ok" for v in verdicts.values())
        and len({(v.name, v.description, tuple(v.tools or ()), v.tools is None,
                  tuple(v.disallowed_tools or ())) for v in verdicts.values()}) == 1)
    if loaded_all_same and intent is not None:
        # A "---" inside a value ends Claude Code's frontmatter early: not what was meant.
        fence = _FRONTMATTER.match(decode(data).lstrip("\ufeff"))
        loaded_all_same = fence is not None and len(
            decode(data)[:fence.end()].encode("utf-8", errors="replace")) >= intent.end
    if loaded_all_same:
        # Parsed at the first attempt, the same in every version: that is what was meant.
        first = next(iter(verdicts.values()))
        intent = _intent_from(first, intent)
    # "... of Claude Code 2.1.196+" names the profile: the same reason in every one
    skipped = {ver: re.sub(r" of Claude Code [\d.]+\+", "", v.reason)
               for ver, v in verdicts.items() if not v.loaded}
    for reason, versions in _group(skipped).items():
        code = "skipped"
        fix = _fix_for_reason(reason, intent)
        if "byte limit" in reason:
            code, fix = "over-size-limit", "make the file smaller than 1 MiB (the body counts too)"
        elif reason.startswith("name "):
            code = "name-rejected"
        findings.append(Finding(code, "error", f"Claude Code skips this file: {reason}", fix,
                                versions if len(versions) < len(every) else []))
    if intent is not None and intent.name and intent.description:
        diffs: dict[str, str] = {}
        for ver, v in verdicts.items():
            if not v.loaded or _matches(v, intent):
                continue
            diffs[ver] = _difference(v, intent)
        for msg, versions in _group(diffs).items():
            code = msg.split(":", 1)[0]
            findings.append(Finding(code, "warning", msg.split(":", 1)[1].strip(),
                                    _fix_for_difference(code),
                                    versions if len(versions) < len(every) else []))
        if intent.repeated:
            findings.append(Finding(
                "duplicate-key", "info",
                f"key(s) given twice: {', '.join(intent.repeated)} (an error for 2.1.112's YAML "
                "parser; newer versions take the last)", "keep one of each key"))
    raw_desc = dict(intent.keys).get("description", "") if intent else ""
    if "\\n" in raw_desc:
        findings.append(Finding(
            "literal-newline", "info",
            "the description holds the two characters \\n; Claude Code turns each into a "
            "line break", "write real line breaks (a | block) so every reader sees the same text"))
    if intent is not None:
        findings += _yaml11(intent)
        if any(v.frontmatter == "retried" and v.loaded and _matches(v, intent)
               for v in verdicts.values()) and not any(f.severity != "info" for f in findings):
            findings.append(Finding(
                "retried", "info", "the YAML is invalid; Claude Code loads it only after "
                "quoting values itself", "quote values holding ': ' or a YAML indicator"))
    return LintResult(path, name, findings, verdicts, intent)


def _intent_from(v: AgentVerdict, intent: Intent | None) -> Intent:
    base = intent or Intent(None, None, None, None, (), 0, "\n")
    return Intent(v.name, v.description, v.tools, v.disallowed_tools, base.keys, base.end,
                  base.newline, base.repeated)


def _difference(v: AgentVerdict, intent: Intent) -> str:
    if v.name != intent.name:
        return f"name-differs: Claude Code names it {v.name!r}, not {intent.name!r}"
    if v.description != intent.description:
        got, want = v.description or "", intent.description or ""
        if want.startswith(got) and len(got) < len(want):
            rest = want[len(got):].lstrip()
            cut_at = rest.split("\n", 1)[0][:40]
            if re.match(r"(?i)^(user|assistant|human|context|commentary)\s*:", rest) or (
                    v.frontmatter == "retried"):
                return (f"cut-at-user-line: the description stops after {utf16_len(got)} of "
                        f"{utf16_len(want)} characters, at {cut_at!r} (YAML read that line as a "
                        "key of its own)")
            return (f"description-differs: the description stops after {utf16_len(got)} of "
                    f"{utf16_len(want)} characters, at {cut_at!r}")
        return "description-differs: the description is not the text written"
    if v.tools != intent.tools or v.disallowed_tools != intent.disallowed_tools:
        return (f"tools-differ: Claude Code gives it {_tools_str(v.tools)}, not "
                f"{_tools_str(intent.tools)}")
    return "description-differs: read differently"


def _tools_str(tools: list[str] | None) -> str:
    return "all tools" if tools is None else (", ".join(repr(t) for t in tools) or "no tools")


def _fix_for_reason(reason: str, intent: Intent | None) -> str:
    if intent is None:
        return "start the file with a --- line, then name: and description:, then ---"
    if reason.startswith("no frontmatter"):
        return "`ctxtui fix` moves the --- fence to the very first line"
    if reason.startswith("frontmatter is not valid YAML"):
        return ("`ctxtui fix` rewrites the frontmatter so it parses (a | block for a description "
                "with examples, quotes where needed)")
    if "missing \"name\"" in reason:
        return "add a name: line (ctxtui cannot guess the name you want)" if not intent.name \
            else "`ctxtui fix` rewrites the frontmatter so the name is read"
    if "missing \"description\"" in reason:
        return "add a description: line" if not intent.description \
            else "`ctxtui fix` rewrites the frontmatter so the description is read"
    if "not text" in reason:
        return "`ctxtui fix` quotes the value"
    if reason.startswith("name "):
        return "`ctxtui fix` renames it (no ':' or leading '-', at most 256 characters)"
    return "see the reason"


def _fix_for_difference(code: str) -> str:
    return {
        "cut-at-user-line": "`ctxtui fix` writes the description as a | block with the examples",
        "tools-differ": "`ctxtui fix` writes tools as one quoted, comma-separated list",
        "name-differs": "`ctxtui fix` quotes the name",
    }.get(code, "`ctxtui fix` rewrites the description as written")
