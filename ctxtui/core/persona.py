"""Persona files: frontmatter parsing, lenient repair, and the problems found on the way.

A persona (Claude Code subagent) is a markdown file whose YAML frontmatter between ``---``
lines names it. Real libraries break YAML in predictable ways (unquoted ``: `` inside a
description, ``<example>`` blocks with literal ``\\n``, conversation lines such as ``user:``
running on after the description). We recover what can be recovered and say so; parsing
never raises.

Files come from libraries written by others, so reading is bounded: regular files only,
at most ``MAX_FILE_BYTES`` each (Claude Code 2.1.112 loads agent files of any size; 8 MiB
is far above any real persona and keeps a hostile file from costing more than a moment),
and YAML is loaded without aliases (a 340-byte alias bomb expands to gigabytes) and no
deeper than ``MAX_YAML_DEPTH``. A refused file becomes an invalid persona with one reason.
"""

from __future__ import annotations

import hashlib
import re
import textwrap
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from types import ModuleType
from typing import Any

#: The safe loader, chosen when YAML is first loaded (PyYAML is imported then: a run whose
#: personas all come from the index never pays for it): libyaml's, several times faster, else
#: the pure-Python one.
_Loader: Any = None

MAX_FILE_BYTES = 8 * 1024 * 1024
MAX_YAML_DEPTH = 64
KNOWN_FIELDS = ("name", "description", "tools", "model", "color")
# Lines inside a description that look like "key: value" but are conversation, not fields.
_CONVERSATION_KEYS = {
    "user", "assistant", "human", "ai", "context", "commentary", "example", "examples",
    "note", "notes", "input", "output", "response", "q", "a", "e.g", "i.e", "claude",
}
_FIELD_LINE = re.compile(r"^([A-Za-z_][A-Za-z0-9_-]*)[ \t]*:(?:[ \t]+(.*)|[ \t]*)$")
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")


class Status(str, Enum):
    """How well a persona file parsed."""

    OK = "ok"
    REPAIRED = "repaired"
    INVALID = "invalid"


@dataclass(slots=True)  # a library holds thousands: no per-object __dict__
class Persona:
    """One persona file as read from disk, with what Claude Code would see of it."""

    path: Path
    name: str
    description: str = ""
    tools: list[str] | None = None
    model: str | None = None
    color: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    body: str = ""
    status: Status = Status.OK
    problems: list[str] = field(default_factory=list)
    sha256: str = ""
    body_sha: str = ""
    size: int = 0
    startup_tokens: int = 0
    full_tokens: int = 0
    is_symlink: bool = False

    @property
    def problem(self) -> str:
        """The first problem as one line, or an empty string."""
        return self.problems[0] if self.problems else ""

    @property
    def startup_text(self) -> str:
        """The exact text counted as startup tokens (see :func:`startup_entry`)."""
        return startup_entry(self.name, self.description, self.tools)

    @property
    def safe_stem(self) -> str:
        """A file stem for this persona that can never leave the agents folder."""
        return safe_stem(self.name)

    @property
    def usable(self) -> bool:
        """Whether Claude Code could load this persona (ok or repaired)."""
        return self.status is not Status.INVALID


def startup_entry(name: str, description: str, tools: list[str] | None) -> str:
    """One line of the "available agent types" list in Claude Code's Agent/Task tool.

    Claude Code renders each hot agent as ``- NAME: DESCRIPTION (Tools: T1, T2)``, with
    ``All tools`` when the persona does not restrict them. This is what a hot persona costs
    in the main context before it is ever invoked.
    """
    tool_text = ", ".join(tools) if tools else "All tools"
    return f"- {name}: {description} (Tools: {tool_text})"


def safe_stem(name: str) -> str:
    """Turn a persona name into a file stem with no separators, dots-only parts or oddities."""
    stem = _UNSAFE_NAME.sub("-", name).strip(".-") or "persona"
    return stem[:120]


def name_problem(name: str) -> str | None:
    """Why a name is unsafe as a file name, or None."""
    if "/" in name or "\\" in name:
        return f"name {name!r} contains a path separator; it is written as {safe_stem(name)}.md"
    if ".." in name:
        return f"name {name!r} contains '..'; it is written as {safe_stem(name)}.md"
    if _UNSAFE_NAME.search(name):
        return f"name {name!r} has characters unsafe in file names; it is written as {safe_stem(name)}.md"
    return None


def parse_persona(path: Path, data: bytes, *, is_symlink: bool = False) -> Persona:
    """Parse persona bytes. Never raises: problems are recorded on the result."""
    persona = Persona(path=path, name=path.stem, size=len(data), is_symlink=is_symlink)
    if not data.strip():
        return _invalid(persona, "empty file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        text = data.decode("utf-8", errors="replace")
        persona.status = Status.REPAIRED
        persona.problems.append(
            f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "undecodable bytes read as U+FFFD"
        )
    text = text.lstrip("\ufeff")
    split = split_frontmatter(text)
    if split is None:
        return _invalid(persona, "no YAML frontmatter (the file must start with a --- line)")
    fm_text, body, notes = split
    if fm_text is None:
        return _invalid(persona, "frontmatter opened with --- but never closed")
    persona.body = body
    persona.body_sha = hashlib.sha256(body.strip().encode()).hexdigest()
    for note in notes:
        _repair(persona, note)
    fields, reason = load_frontmatter(fm_text)
    if fields is None:
        return _invalid(persona, reason or "frontmatter unreadable")
    if reason:
        _repair(persona, reason)
    _apply_fields(persona, fields)
    return persona


def split_frontmatter(text: str) -> tuple[str | None, str, list[str]] | None:
    """Split text into (frontmatter, body, notes). None if there is no frontmatter at all.

    Tolerates blank lines before the opening ``---`` and indented fences, noting both.
    Returns frontmatter None when the opening fence has no closing one.
    """
    lines = text.splitlines(keepends=True)
    notes: list[str] = []
    i = 0
    while i < len(lines) and not lines[i].strip():
        i += 1
    if i >= len(lines) or lines[i].strip() != "---":
        return None
    if i > 0:
        notes.append("frontmatter starts after blank line(s)")
    if lines[i] != lines[i].lstrip():
        notes.append("frontmatter fence is indented")
    for j in range(i + 1, len(lines)):
        if lines[j].strip() == "---":
            fm = "".join(lines[i + 1 : j])
            body = "".join(lines[j + 1 :])
            return fm, body, notes
    return None, "", notes


def _yaml() -> ModuleType:
    """PyYAML, imported on first use, with :data:`_Loader` chosen."""
    global _Loader
    import yaml

    if _Loader is None:
        _Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # no CSafeLoader: no libyaml
    return yaml


class UnsafeYamlError(ValueError):
    """YAML that ctxtui refuses to load (aliases, extreme nesting)."""


def load_yaml(text: str) -> Any:
    """``yaml.load`` with the safe loader, refusing aliases and nesting deeper than
    ``MAX_YAML_DEPTH`` before anything is constructed. Raises ``yaml.YAMLError`` or
    :class:`UnsafeYamlError`."""
    yaml = _yaml()
    if "*" not in text and sum(map(text.count, ":-?[{")) <= MAX_YAML_DEPTH:
        # No alias without a `*`, and every mapping or sequence opens at a `:`, `-`, `?`, `[`
        # or `{` of its own: the checking pass (twice the cost of loading) cannot refuse it.
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - safe loader
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, yaml.AliasEvent):
                raise UnsafeYamlError(
                    f"uses the YAML alias *{event.anchor}; aliases are not expanded "
                    "(a few bytes of them can expand to gigabytes)"
                )
            if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                depth += 1
                if depth > MAX_YAML_DEPTH:
                    raise UnsafeYamlError(f"nested more than {MAX_YAML_DEPTH} levels deep")
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                depth -= 1
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - safe loader
    except RecursionError:
        raise UnsafeYamlError(f"nested more than {MAX_YAML_DEPTH} levels deep") from None


def load_frontmatter(fm_text: str) -> tuple[dict[str, Any] | None, str | None]:
    """Load frontmatter as a dict: (fields, repair reason) or (None, invalid reason)."""
    error = ""
    what = "is not valid YAML"
    yaml = _yaml()
    try:
        loaded = load_yaml(fm_text)
        if isinstance(loaded, dict) and all(isinstance(k, str) for k in loaded):
            return loaded, None
        if loaded is None:
            return None, "frontmatter is empty"
        error = f"frontmatter is a {type(loaded).__name__}, not a mapping"
    except UnsafeYamlError as exc:
        what, error = "was refused", str(exc)
    except yaml.YAMLError as exc:
        error = _yaml_error_line(exc)
    fields = _lenient_fields(fm_text)
    if not fields or not ({"name", "description"} & fields.keys()):
        return None, f"frontmatter {what} and could not be recovered ({error})"
    return fields, f"frontmatter {what} ({error}); recovered {len(fields)} field(s) line by line"


def _yaml_error_line(exc: Exception) -> str:
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    mark = getattr(exc, "problem_mark", None)
    return f"{problem}, line {mark.line + 1}" if mark is not None else str(problem)


def _lenient_fields(fm_text: str) -> dict[str, Any]:
    """Recover ``key: value`` fields line by line; unknown lines continue the previous value."""
    raw: dict[str, list[str]] = {}
    current: str | None = None
    for line in textwrap.dedent(fm_text.expandtabs(4)).splitlines():
        m = _FIELD_LINE.match(line)
        if m and m.group(1).lower() not in _CONVERSATION_KEYS and (
            m.group(1) in KNOWN_FIELDS or current is None or m.group(1) not in raw
        ):
            current = m.group(1)
            raw[current] = [m.group(2) or ""]
        elif current is not None:
            raw[current].append(line)
    return {key: _lenient_value(key, lines) for key, lines in raw.items()}


def _lenient_value(key: str, lines: list[str]) -> Any:
    refused = (_yaml().YAMLError, UnsafeYamlError)
    first, rest = lines[0].strip(), lines[1:]
    block = textwrap.dedent("\n".join(rest)).strip("\n")
    if first in {"|", "|-", "|+", ">", ">-", ">+"} or (not first and rest):
        try:
            value = load_yaml(f"{key}: {first}\n" + "\n".join("  " + r for r in rest))
            return value[key]
        except refused:
            return block
    if not rest or not block.strip():
        try:  # a quoted scalar or a flow list on one line
            value = load_yaml(f"v: {first}")["v"]
            if isinstance(value, (str, list, int, float, bool)) or value is None:
                return value if value is not None else ""
        except refused:
            pass
        return first
    return f"{first}\n{block}" if first else block


def _apply_fields(persona: Persona, fields: dict[str, Any]) -> None:
    name = fields.get("name")
    if name is None or (isinstance(name, str) and not name.strip()):
        _repair(persona, f"no name field; using the file name {persona.path.stem!r}")
    elif not isinstance(name, str):
        persona.name = str(name)
        _repair(persona, f"name is a {type(name).__name__}; read as text")
    else:
        persona.name = name.strip()
    desc = fields.get("description")
    if desc is None or (isinstance(desc, str) and not desc.strip()):
        _invalid(persona, "no description: Claude Code does not load an agent without one")
    else:
        persona.description = desc.strip() if isinstance(desc, str) else str(desc)
    persona.tools = _tools(fields.get("tools"), persona)
    for key in ("model", "color"):
        value = fields.get(key)
        if value is not None:
            setattr(persona, key, str(value))
    persona.extra = {k: v for k, v in fields.items() if k not in KNOWN_FIELDS}
    warning = name_problem(persona.name)
    if warning:
        persona.problems.append(warning)


def _tools(value: Any, persona: Persona) -> list[str] | None:
    if value is None or value == "" or value == "*":
        return None
    if isinstance(value, str):
        return [t.strip() for t in value.split(",") if t.strip()]
    if isinstance(value, list):
        return [str(t).strip() for t in value if str(t).strip()]
    _repair(persona, f"tools is a {type(value).__name__}; ignored")
    return None


def _repair(persona: Persona, reason: str) -> None:
    if persona.status is Status.OK:
        persona.status = Status.REPAIRED
    persona.problems.append(reason)


def _invalid(persona: Persona, reason: str) -> Persona:
    persona.status = Status.INVALID
    persona.problems.insert(0, reason)
    return persona


def oversize_persona(path: Path, size: int, *, is_symlink: bool = False) -> Persona:
    """A placeholder for a file too large to read."""
    mib = size / (1024 * 1024)
    return _invalid(
        Persona(path=path, name=path.stem, size=size, is_symlink=is_symlink),
        f"file is {mib:.1f} MiB, over the {MAX_FILE_BYTES // (1024 * 1024)} MiB limit; not read",
    )


def unreadable_persona(path: Path, reason: str, *, is_symlink: bool = False) -> Persona:
    """A placeholder for a file that could not be read at all."""
    return _invalid(Persona(path=path, name=path.stem, is_symlink=is_symlink), reason)
