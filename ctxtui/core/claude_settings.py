"""The workspace's Claude Code settings (``.claude/settings.local.json``): only ``model``.

Every other key is left exactly as it was. A file that is not a JSON object is never
rewritten: the user gets one line naming it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ctxtui.core.errors import WorkspaceError
from ctxtui.core.safe_io import read_regular

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
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise WorkspaceError(f"{path} is not UTF-8; fix it before switching strategy") from None
    except json.JSONDecodeError as exc:
        raise WorkspaceError(f"{path} is not valid JSON (line {exc.lineno}: {exc.msg}); fix it before switching strategy") from None
    except RecursionError:
        raise WorkspaceError(f"{path} is nested too deeply to read") from None
    if not isinstance(data, dict):
        raise WorkspaceError(f"{path} is not a JSON object ({type(data).__name__}); fix it before switching strategy")
    return data


def read(path: Path) -> dict[str, Any]:
    """The settings object; {} when absent. A broken file is an error, never overwritten."""
    return parse(path, read_bytes(path))


def with_model(path: Path, model: str | None, managed: set[str], raw: bytes | None | bool = True) -> bytes | None:
    """New bytes with ``model`` set (or removed when None and ctxtui had set it), or None if
    nothing changes. ``managed`` holds model names ctxtui may remove. ``raw`` is the file's
    bytes as the plan read them (default: read now)."""
    data = parse(path, read_bytes(path) if raw is True else raw)  # type: ignore[arg-type]
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
    return (json.dumps(new, indent=2) + "\n").encode()
