"""ctxtui's own usage events (activate, deactivate, migrate...) in a local SQLite store."""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ctxtui.core.config import data_dir


@dataclass(frozen=True)
class Event:
    """One thing ctxtui did in a workspace."""

    time: float
    workspace: str
    persona: str
    action: str
    data: dict[str, Any]


class EventStore:
    """Append-only event log."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(str(path), check_same_thread=False, timeout=10)
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS events(time REAL, workspace TEXT, persona TEXT, action TEXT, data TEXT)"
        )

    @classmethod
    def default(cls) -> EventStore:
        """The store under the user data folder (``$CTXTUI_DATA_DIR`` overrides)."""
        return cls(data_dir() / "events.sqlite")

    def record(self, workspace: Path | str, persona: str, action: str, data: dict[str, Any] | None = None) -> None:
        """Append one event now."""
        with self.db:
            self.db.execute(
                "INSERT INTO events VALUES (?,?,?,?,?)",
                (time.time(), str(workspace), persona, action, json.dumps(data or {}, default=str)),
            )

    def events(self, workspace: Path | str | None = None) -> list[Event]:
        """Events in time order, optionally for one workspace."""
        sql = "SELECT time, workspace, persona, action, data FROM events"
        params: tuple[str, ...] = ()
        if workspace is not None:
            sql, params = sql + " WHERE workspace=?", (str(workspace),)
        rows = self.db.execute(sql + " ORDER BY time", params)
        return [Event(t, w, p, a, json.loads(d)) for t, w, p, a, d in rows]
