"""ctxtui's UserPromptSubmit hook in ``.claude/settings.local.json``: pure planning.

Claude Code reads ``hooks`` as ``{EVENT: [{"matcher"?: str, "hooks": [{"type": "command",
"command": str, "timeout"?: seconds}]}]}`` and runs every matching command; several entries
per event are normal. Each function here takes the file's bytes and returns new bytes: our
entry is added or removed and nothing else changes (other hooks, other keys, key order,
indentation, line endings, a byte-order mark). Writing them is the caller's job, through the
journalled write path. A file that is not a JSON object, or whose ``hooks`` has an unexpected
shape, is refused with one line: we never rewrite what we do not understand.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from ctxtui.core.errors import CtxtuiError
from ctxtui.core.json_shape import Shape, dump, shape_of, split_bom

EVENT = "UserPromptSubmit"
DEFAULT_COMMAND = "ctxtui route --hook"
DEFAULT_TIMEOUT = 5
"""Seconds Claude Code waits for the hook; it answers in milliseconds or stays silent."""
_OURS = re.compile(r"(?:^|[\s/\\\"'])(?:ctxtui|claude-context)(?:\.exe)?[\"']?\s+route\s+--hook\b|\bctxtui\.route_hook\b")


class HookSettingsError(CtxtuiError, ValueError):
    """The settings file cannot be changed safely; nothing was planned."""


def is_ours(command: object) -> bool:
    """Whether a hook command is ctxtui's router hook."""
    return isinstance(command, str) and bool(_OURS.search(command))


def _parse(data: bytes) -> tuple[dict, Shape]:
    _, raw = split_bom(data)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise HookSettingsError("settings.local.json is not UTF-8; fix it before installing the hook") from None
    shape = shape_of(data)
    if not text.strip():
        return {}, shape
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise HookSettingsError(f"settings.local.json is not valid JSON ({exc.msg} at line {exc.lineno}); fix it first") from None
    except RecursionError:
        raise HookSettingsError("settings.local.json is nested too deeply to read; fix it first") from None
    if not isinstance(obj, dict):
        raise HookSettingsError("settings.local.json is not a JSON object; fix it first")
    return obj, shape


def parse_object(data: bytes) -> dict:
    """The settings object in the file's bytes ({} for an empty file); HookSettingsError
    when it is not a JSON object."""
    return _parse(data)[0]


def _groups(obj: dict, create: bool) -> list | None:
    hooks = obj.get("hooks")
    if hooks is None:
        if not create:
            return None
        hooks = obj["hooks"] = {}
    if not isinstance(hooks, dict):
        raise HookSettingsError('"hooks" in settings.local.json is not an object; fix it first')
    groups = hooks.get(EVENT)
    if groups is None:
        if not create:
            return None
        groups = hooks[EVENT] = []
    if not isinstance(groups, list):
        raise HookSettingsError(f'"hooks.{EVENT}" in settings.local.json is not a list; fix it first')
    return groups


def _entries(groups: list):
    """(group, index, entry) for every hook entry of the event."""
    for g in groups:
        if isinstance(g, dict) and isinstance(g.get("hooks"), list):
            for i, h in enumerate(g["hooks"]):
                yield g, i, h


def plan_install(data: bytes, command: str = DEFAULT_COMMAND, timeout: int = DEFAULT_TIMEOUT) -> bytes:
    """The settings bytes with our hook present (``data`` itself when it already is)."""
    obj, shape = _parse(data)
    groups = _groups(obj, create=True)
    assert groups is not None
    ours = [(g, i, h) for g, i, h in _entries(groups) if isinstance(h, dict) and is_ours(h.get("command"))]
    want = {"type": "command", "command": command, "timeout": timeout}
    if ours:
        if len(ours) == 1 and all(ours[0][2].get(k) == v for k, v in want.items()):
            return data
        first = ours[0]
        first[0]["hooks"][first[1]] = {**first[2], **want}
        emptied = []
        for g, _, h in ours[1:]:  # duplicates from an old install: keep exactly one
            g["hooks"].remove(h)
            if not g["hooks"]:
                emptied.append(g)
        groups[:] = [g for g in groups if not any(g is e for e in emptied)]
    else:
        groups.append({"hooks": [want]})
    return dump(obj, shape)


def plan_remove(data: bytes) -> bytes:
    """The settings bytes without our hook (``data`` itself when it is not there).

    Only what we added goes: a group left empty by the removal, then an empty event list and
    an empty ``hooks`` object. The user's own hooks in the same group stay.
    """
    obj, shape = _parse(data)
    groups = _groups(obj, create=False)
    if not groups:
        return data
    removed = False
    for g in list(groups):
        if not (isinstance(g, dict) and isinstance(g.get("hooks"), list)):
            continue
        keep = [h for h in g["hooks"] if not (isinstance(h, dict) and is_ours(h.get("command")))]
        if len(keep) != len(g["hooks"]):
            removed = True
            if keep:
                g["hooks"] = keep
            else:
                groups.remove(g)
    if not removed:
        return data
    hooks = obj["hooks"]
    if not groups:
        del hooks[EVENT]
    if not hooks:
        del obj["hooks"]
    return dump(obj, shape)


@dataclass(frozen=True)
class HookStatus:
    """What the settings say about our hook."""

    installed: bool
    command: str | None
    timeout: object
    other_hooks: int
    """Other commands on the same event (they run too)."""

    def to_json(self) -> dict:
        """JSON form (``hook status --json``)."""
        return dict(vars(self))


def status(data: bytes) -> HookStatus:
    """Whether our hook is installed, its command, and how many other prompt hooks there are."""
    obj, _ = _parse(data)
    groups = _groups(obj, create=False) or []
    ours = [h for _, _, h in _entries(groups) if isinstance(h, dict) and is_ours(h.get("command"))]
    others = sum(1 for _, _, h in _entries(groups) if not (isinstance(h, dict) and is_ours(h.get("command"))))
    first = ours[0] if ours else {}
    return HookStatus(bool(ours), first.get("command"), first.get("timeout"), others)
