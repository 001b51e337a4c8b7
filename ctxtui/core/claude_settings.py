"""The workspace's Claude Code settings (``.claude/settings.local.json``): only ``model``.

Every other key is left exactly as it was.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ctxtui.core.workspace import WorkspaceError


def settings_path(workspace: Path) -> Path:
    """Where Claude Code reads local project settings."""
    return workspace / ".claude" / "settings.local.json"


def read(path: Path) -> dict[str, Any]:
    """The settings object; {} when absent. A broken file is an error, never overwritten."""
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise WorkspaceError(f"{path} is not valid JSON ({exc}); fix it before switching strategy") from None
    if not isinstance(data, dict):
        raise WorkspaceError(f"{path} is not a JSON object")
    return data


def with_model(path: Path, model: str | None, managed: set[str]) -> bytes | None:
    """New bytes with ``model`` set (or removed when None and ctxtui had set it), or None if
    nothing changes. ``managed`` holds model names ctxtui may remove."""
    data = read(path)
    current = data.get("model")
    if model is not None and current == model:
        return None
    if model is None and (current is None or current not in managed):
        return None
    new = dict(data)
    if model is None:
        del new["model"]
    else:
        new["model"] = model
    return (json.dumps(new, indent=2) + "\n").encode()
