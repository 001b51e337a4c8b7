"""Named hot sets ("backend", "testing", "release") kept in the workspace config.

``use`` is a migration to lazy loading with that hot set, so it can be rolled back.
"""

from __future__ import annotations

import json

from ctxtui.core import strategies
from ctxtui.core.config import WORKSPACE_CONFIG_NAME, ConfigError, decode_workspace_config
from ctxtui.core.errors import WorkspaceError
from ctxtui.core.history import Entry
from ctxtui.core.workspace import Workspace


def profiles(ws: Workspace) -> dict[str, list[str]]:
    """Saved profiles by name."""
    return dict(ws.config.profiles)


def save(ws: Workspace, name: str, personas: list[str] | None = None) -> list[str]:
    """Save the current hot set (pins left out) or the given names as a profile."""
    if not name or not name.replace("-", "").replace("_", "").isalnum():
        raise WorkspaceError(f"profile name {name!r} must be letters, digits, - or _")
    path = ws.settings.workspace / WORKSPACE_CONFIG_NAME
    with ws.transaction(f"save profile {name}", library=True) as tx:
        names = personas if personas is not None else [n for n in ws.hot_names() if n not in ws.pinned]
        unknown = [n for n in names if n not in ws.library.by_name]
        if unknown:
            raise WorkspaceError(f"not in the library: {', '.join(unknown)}")
        raw_bytes = tx.read(path)
        try:
            raw = json.loads(raw_bytes.decode("utf-8")) if raw_bytes is not None else {}
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise ConfigError(f"{path}: not valid JSON; fix it before saving a profile") from None
        if not isinstance(raw, dict):
            raise ConfigError(f"{path}: must be a JSON object")
        profiles_ = raw.setdefault("profiles", {})
        if not isinstance(profiles_, dict):
            raise ConfigError(f"{WORKSPACE_CONFIG_NAME}: profiles must be an object")
        profiles_[name] = names
        decode_workspace_config(raw)
        tx.write(path, (json.dumps(raw, indent=2) + "\n").encode())
    return names


def use(ws: Workspace, name: str, reason: str = "", dry_run: bool = False, force: bool = False) -> strategies.Plan | Entry:
    """Switch to a profile's hot set (lazy loading); returns the plan on a dry run. Like any
    lazy plan it is refused when it costs more than eager, unless ``force``."""
    saved = profiles(ws)
    if name not in saved:
        raise WorkspaceError(f"no profile {name!r}; saved: {', '.join(saved) or 'none'}")
    plan = strategies.plan(ws, "lazy_loading", hot=saved[name], reason=reason or f"profile {name}", kind="profile",
                           force=force)
    return plan if dry_run else strategies.apply(ws, plan)
