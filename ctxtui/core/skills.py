"""Skills Claude Code lists at startup, and the listing rules of each version.

Skills come from ``SKILL.md`` in ``.claude/skills/<dir>/`` (project, then ``~/.claude/skills``);
custom slash commands (core.slash_commands) join the same listing. The listing ("The following
skills are available for use with the Skill tool:") has a budget in characters: the model's
context window x characters per token (2.1.112: 4; 2.1.332: 3 for most models) x
``skillListingBudgetFraction`` (default 0.01: 8,000 for 200k in 2.1.112), or
``SLASH_COMMAND_TOOL_CHAR_BUDGET``; a description is cut at ``skillListingMaxDescChars``
(1,536). Past the budget, 2.1.112 shortens every non-bundled description to an equal share (bare
names below 20 characters) and ignores ``skillOverrides``; 2.1.332 keeps bundled and
``name-only`` entries, keeps full descriptions for the most-used skills while they fit and
collapses the rest to bare names, and honours ``skillOverrides`` (``off`` and
``user-invocable-only`` leave the listing, ``name-only`` lists the bare name).
"""

from __future__ import annotations

import math
import os
import re
import time
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ctxtui.core import inputs
from ctxtui.core.claude_code import parse_frontmatter, profile_for
from ctxtui.core.safe_io import UnsafeReadError, read_regular

FILE_CAP = 1024 * 1024
MAX_FILES = 2000
DEFAULT_FRACTION = 0.01
CHARS_PER_TOKEN = 4
DEFAULT_MAX_DESC = 1536
MIN_SHARE = 20
_FENCE = re.compile(r"^---[ \t]*\r?\n(?:.*?\r?\n)?---[ \t]*(?:\r?\n|$)", re.S)


@dataclass
class Skill:
    """One entry Claude Code may list: a skill, a custom slash command or a bundled one."""

    name: str
    description: str
    path: str
    kind: str
    """``skill``, ``command`` or ``bundled`` (Claude Code's own, fixed per version)."""
    scope: str = "project"
    model_invocable: bool = True
    """False: ``disable-model-invocation: true`` (typed by the user only, never listed)."""
    when_to_use: str = ""

    @property
    def text(self) -> str:
        """The description as listed: ``description - when_to_use``."""
        return f"{self.description} - {self.when_to_use}" if self.when_to_use else self.description


@dataclass(frozen=True)
class ListingRules:
    """How one Claude Code generation builds the skill listing."""

    version: str
    honours_overrides: bool
    priority_collapse: bool
    """Past the budget: keep the most-used full, collapse the rest (else: equal shares)."""


RULES = (ListingRules("2.1.112", False, False), ListingRules("2.1.332", True, True))


def rules_for(version: str | None) -> ListingRules:
    """The listing rules of the agent profile matching VERSION (between two generations: the
    older one's, the newest generation known not to be newer)."""
    chosen = tuple(int(p) for p in profile_for(version).version.split("."))
    older = [r for r in RULES if tuple(int(p) for p in r.version.split(".")) <= chosen]
    return older[-1] if older else RULES[0]


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def read_entry(path: Path, name: str, kind: str, scope: str) -> Skill | None:
    """One skill or command file as Claude Code reads it; None when it cannot be read."""
    try:
        text = read_regular(path, FILE_CAP).decode("utf-8", "replace")
    except (OSError, UnsafeReadError):
        return None
    fm = parse_frontmatter(text, profile_for(None)).data
    m = _FENCE.match(text)
    body = text[m.end():] if m else text
    desc = fm.get("description")
    if not isinstance(desc, str) or not desc.strip():
        first = next((ln.strip() for ln in body.splitlines() if ln.strip()), "")
        desc = re.sub(r"^#+\s*", "", first)
    when = fm.get("when_to_use") or fm.get("when-to-use") or ""
    if kind == "skill" and isinstance(fm.get("name"), str) and fm["name"].strip():
        name = fm["name"].strip()
    return Skill(name=name, description=str(desc).strip(), path=str(path), kind=kind,
                 scope=scope, model_invocable=not _truthy(fm.get("disable-model-invocation")),
                 when_to_use=str(when).strip() if isinstance(when, str) else "")


def skill_files(folder: Path, scope: str) -> list[Skill]:
    """Skills in FOLDER (``<folder>/<dir>/SKILL.md``), sorted by folder name."""
    out: list[Skill] = []
    try:
        dirs = sorted(d for d in folder.iterdir() if d.is_dir())[:MAX_FILES]
    except OSError:
        return out
    for d in dirs:
        entry = read_entry(d / "SKILL.md", d.name, "skill", scope)
        if entry is not None:
            out.append(entry)
    return out


def project_skills(cwd: Path, claude_home: Path | None) -> list[Skill]:
    """Project then user skills (a name defined twice is listed once: the first)."""
    found = skill_files(cwd / ".claude" / "skills", "project")
    if claude_home is not None:
        found += skill_files(claude_home / "skills", "user")
    first: dict[str, Skill] = {}
    for s in found:
        first.setdefault(s.name, s)
    return list(first.values())


def usage_score(usage: Mapping[str, Any] | None, name: str, now: float | None = None) -> float:
    """Claude Code's ranking of a skill: uses x max(0.5 ^ (days since last use / 7), 0.1)."""
    rec = (usage or {}).get(name)
    if not isinstance(rec, dict):
        return 0.0
    count, last = rec.get("usageCount"), rec.get("lastUsedAt")
    if not isinstance(count, (int, float)) or not isinstance(last, (int, float)):
        return 0.0
    if now is None:
        inputs.note_clock()  # the ranking decays with time: no cached status may keep it
    days = ((now if now is not None else time.time()) * 1000 - last) / 86_400_000
    return float(count) * max(math.pow(0.5, days / 7), 0.1)


def budget_chars(window: int = 200_000, fraction: float | None = None,
                 env: Mapping[str, str] | None = None,
                 chars_per_token: int = CHARS_PER_TOKEN) -> int:
    """The listing's character budget: window x chars per token x fraction (default 1%)."""
    env = os.environ if env is None else env
    try:
        forced = int(env.get("SLASH_COMMAND_TOOL_CHAR_BUDGET", "") or 0)
    except ValueError:
        forced = 0
    if forced > 0:
        return forced
    frac = fraction if isinstance(fraction, (int, float)) and fraction > 0 else DEFAULT_FRACTION
    return max(1, math.floor(window * chars_per_token * frac))


def width(text: str) -> int:
    """Terminal width of TEXT as Claude Code measures listing entries (``string-width``):
    wide and full-width characters count 2, combining and format characters 0."""
    if text.isascii():
        return len(text)
    n = 0
    for ch in text:
        if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
            continue
        n += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return n


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "\u2026"


@dataclass
class ListedSkill:
    """One line of the listing as it will be sent."""

    skill: Skill
    line: str
    collapsed: bool = False
    """Shown as a bare name (over the budget, or ``name-only``)."""
    full_line: str = ""
    """The line it would have with its description."""


def listing(entries: list[Skill], rules: ListingRules, *, budget: int,
            overrides: Mapping[str, Any] | None = None, usage: Mapping[str, Any] | None = None,
            max_desc: int = DEFAULT_MAX_DESC, now: float | None = None) -> list[ListedSkill]:
    """The listing's lines for ENTRIES (bundled ones included), by RULES."""
    shown: list[tuple[Skill, bool]] = []
    for s in entries:
        if not s.model_invocable:
            continue
        mode = (overrides or {}).get(s.name, "on") if rules.honours_overrides else "on"
        if mode in ("off", "user-invocable-only"):
            continue
        shown.append((s, mode == "name-only"))
    full = [f"- {s.name}" if bare else f"- {s.name}: {_cut(s.text, max_desc)}" for s, bare in shown]
    out = [ListedSkill(s, f, bare, f) for (s, bare), f in zip(shown, full, strict=True)]
    if sum(map(width, full)) + max(len(full) - 1, 0) <= budget:
        return out
    fixed = {i for i, (s, bare) in enumerate(shown) if bare or s.kind == "bundled"}
    free = [i for i in range(len(shown)) if i not in fixed]
    if not free:
        return out
    if rules.priority_collapse:
        used = sum(width(full[i]) if i in fixed else width(shown[i][0].name) + 2
                   for i in range(len(shown))) + len(shown) - 1
        room = budget - used
        free.sort(key=lambda i: -usage_score(usage, shown[i][0].name, now))
        for i in free:
            extra = width(full[i]) - (width(shown[i][0].name) + 2)
            if extra <= room:
                room -= extra
            else:
                out[i].line, out[i].collapsed = f"- {shown[i][0].name}", True
        return out
    room = budget - sum(width(full[i]) + 1 for i in fixed)
    names = sum(width(shown[i][0].name) + 4 for i in free) + len(free) - 1
    share = (room - names) // len(free)
    for i in free:
        s = shown[i][0]
        if share < MIN_SHARE:
            out[i].line, out[i].collapsed = f"- {s.name}", True
        else:
            out[i].line = f"- {s.name}: {_cut(_cut(s.text, max_desc), share)}"
    return out
