"""Named hot sets ("backend", "testing", "release") kept in the workspace config.

``use`` is a migration to lazy loading with that hot set, so it can be rolled back.
"""

from __future__ import annotations

import json

from ctxtui.core import journal, strategies
from ctxtui.core.config import WORKSPACE_CONFIG_NAME, validate_workspace_config
from ctxtui.core.history import Entry
from ctxtui.core.workspace import Workspace, WorkspaceError


def profiles(ws: Workspace) -> dict[str, list[str]]:
    """Saved profiles by name."""
    return dict(ws.config.get("profiles", {}))


def save(ws: Workspace, name: str, personas: list[str] | None = None) -> list[str]:
    """Save the current hot set (pins left out) or the given names as a profile."""
    if not name or not name.replace("-", "").replace("_", "").isalnum():
        raise WorkspaceError(f"profile name {name!r} must be letters, digits, - or _")
    names = personas if personas is not None else [n for n in ws.hot_names() if n not in ws.pinned]
    unknown = [n for n in names if n not in ws.library.by_name]
    if unknown:
        raise WorkspaceError(f"not in the library: {', '.join(unknown)}")
    path = ws.settings.workspace / WORKSPACE_CONFIG_NAME
    raw = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    raw.setdefault("profiles", {})[name] = names
    validate_workspace_config(raw)
    with journal.locked(ws.state_dir):
        tx = journal.Transaction(ws.state_dir, f"save profile {name}")
        tx.write(path, (json.dumps(raw, indent=2) + "\n").encode(), expect=journal.file_sha256(path))
        tx.commit()
    ws.refresh()
    return names


def use(ws: Workspace, name: str, reason: str = "", dry_run: bool = False) -> strategies.Plan | Entry:
    """Switch to a profile's hot set (lazy loading); returns the plan on a dry run."""
    saved = profiles(ws)
    if name not in saved:
        raise WorkspaceError(f"no profile {name!r}; saved: {', '.join(saved) or 'none'}")
    plan = strategies.plan(ws, "lazy_loading", hot=saved[name], reason=reason or f"profile {name}", kind="profile")
    return plan if dry_run else strategies.apply(ws, plan)
