"""The workspace's Claude Code settings (``.claude/settings.local.json``): ``model`` and the
deny rules that hide agents (``permissions.deny``).

Every other key is left exactly as it was. A file that is not a JSON object is never
rewritten: the user gets one line naming it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ctxtui.core.errors import WorkspaceError
from ctxtui.core.json_shape import dump, shape_of, split_bom
from ctxtui.core.safe_io import NotAJsonObject, json_object, read_regular

MAX_BYTES = 16 * 1024 * 1024


def settings_path(workspace: Path) -> Path:
    """Where Claude Code reads local project settings."""
    return workspace / ".claude" / "settings.local.json"


def read_bytes(path: Path) -> bytes | None:
    """The file's bytes (bounded, regular files only); None when absent."""
    try:
        return read_regular(path, MAX_BYTES)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise WorkspaceError(f"{path}: cannot read ({exc.strerror or exc})") from None


def parse(path: Path, raw: bytes | None) -> dict[str, Any]:
    """The settings object from bytes; {} when absent. A broken file is an error."""
    if raw is None:
        return {}
    try:
        return json_object(split_bom(raw)[1])
    except NotAJsonObject as exc:
        raise WorkspaceError(f"{path} is {exc}; fix it before ctxtui changes it") from None


def read(path: Path) -> dict[str, Any]:
    """The settings object; {} when absent. A broken file is an error, never overwritten."""
    return parse(path, read_bytes(path))


def with_model(path: Path, model: str | None, managed: set[str], raw: bytes | None | bool = True) -> bytes | None:
    """New bytes with ``model`` set (or removed when None and ctxtui had set it), or None if
    nothing changes. ``managed`` holds model names ctxtui may remove. ``raw`` is the file's
    bytes as the plan read them (default: read now)."""
    data_raw: bytes | None = read_bytes(path) if raw is True else raw  # type: ignore[assignment]
    data = parse(path, data_raw)
    current = data.get("model")
    if model is not None and current == model:
        return None
    if model is None and (not isinstance(current, str) or current not in managed):
        return None
    new = dict(data)
    if model is None:
        del new["model"]
    else:
        new["model"] = model
    return dump(new, shape_of(data_raw))


# ---------------------------------------------------------------- deny rules (hidden tier)
#
# Claude Code 2.1.112 (cli.js): a permission rule string ``Tool(content)`` is parsed by
# ``h2`` (first unescaped "(", last unescaped ")" which must end the string; content unescaped
# ``\( \) \\``), the tool name mapped through the legacy aliases (``Task`` -> ``Agent``), and
# ``QK8`` drops from the Agent tool's listing (and refuses to launch) every agent whose type
# equals the content of a deny rule for ``Agent``, from any settings source.

AGENT_TOOL = "Agent"
LEGACY_AGENT_TOOL = "Task"


def agent_rule(name: str) -> str:
    """The deny rule that hides an agent: ``Agent(NAME)`` with ``\\ ( )`` escaped."""
    escaped = name.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return f"{AGENT_TOOL}({escaped})"


def _unescaped(text: str, ch: str, last: bool) -> int:
    rng = range(len(text) - 1, -1, -1) if last else range(len(text))
    for i in rng:
        if text[i] == ch:
            n, j = 0, i - 1
            while j >= 0 and text[j] == "\\":
                n, j = n + 1, j - 1
            if n % 2 == 0:
                return i
    return -1


def denied_agent(rule: Any) -> str | None:
    """The agent a deny rule hides (``Agent(x)`` or legacy ``Task(x)``), else None."""
    if not isinstance(rule, str):
        return None
    start, end = _unescaped(rule, "(", False), _unescaped(rule, ")", True)
    if start <= 0 or end != len(rule) - 1 or end <= start:
        return None
    if rule[:start] not in (AGENT_TOOL, LEGACY_AGENT_TOOL):
        return None
    content = rule[start + 1 : end]
    if content in ("", "*"):
        return None  # the whole tool, not one agent
    return content.replace("\\(", "(").replace("\\)", ")").replace("\\\\", "\\")


def denied_agents(data: dict[str, Any]) -> set[str]:
    """Agents hidden by a settings object's ``permissions.deny``."""
    perms = data.get("permissions")
    deny = perms.get("deny") if isinstance(perms, dict) else None
    if not isinstance(deny, list):
        return set()
    return {n for n in map(denied_agent, deny) if n is not None}


def with_deny(path: Path, raw: bytes | None, hide: set[str], show: set[str]) -> bytes | None:
    """New settings bytes with ``Agent(NAME)`` denied for ``hide`` and every deny rule of an
    agent in ``show`` removed (``Agent`` or ``Task``); every other key and rule kept, in
    order. None when nothing changes. A broken file is a WorkspaceError, never rewritten."""
    data = parse(path, raw)
    perms = data.get("permissions", {})
    if not isinstance(perms, dict):
        raise WorkspaceError(f"{path}: permissions is not an object; fix it first")
    deny = perms.get("deny", [])
    if not isinstance(deny, list):
        raise WorkspaceError(f"{path}: permissions.deny is not a list; fix it first")
    new_deny = [r for r in deny if denied_agent(r) not in show]
    have = {denied_agent(r) for r in new_deny}
    new_deny += [agent_rule(n) for n in sorted(hide) if n not in have]
    if new_deny == deny:
        return None
    new_perms = dict(perms)
    if new_deny or "deny" in perms and deny == []:
        new_perms["deny"] = new_deny
    else:
        new_perms.pop("deny", None)
    new = dict(data)
    if new_perms or "permissions" in data and perms == {}:
        new["permissions"] = new_perms
    else:
        new.pop("permissions", None)
    return dump(new, shape_of(raw))
