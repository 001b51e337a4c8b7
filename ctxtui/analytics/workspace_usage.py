"""One workspace's usage: the analysis ``ctxtui analyze`` prints and the TUI shows.

Both faces call :func:`workspace_usage`, so the CLI and the analytics screen cannot drift; the
main screen's "last used" sort reads :func:`last_used_times` of the same analysis.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ctxtui.analytics.transcripts import (
    ReadStats,
    ReadStopped,
    Session,
    parse_time,
    start_read,
)
from ctxtui.analytics.usage import Analysis, analyze

if TYPE_CHECKING:
    from ctxtui.core.workspace import Workspace


def workspace_usage(ws: Workspace, sessions: list[Session], stats: ReadStats | None = None) -> Analysis:
    """Usage of the workspace's library and hot set in these sessions."""
    return analyze(sessions, set(ws.library.by_name), set(ws.hot_names()), stats)


def last_used_times(analysis: Analysis) -> dict[str, float]:
    """When each persona was last invoked, as POSIX seconds (personas never used are left out)."""
    return {p.name: parse_time(p.last_used).timestamp() for p in analysis.personas if p.last_used}


def read_sessions(root: Path, should_stop: Callable[[], bool], *, cache: Path | None = None,
                  ) -> tuple[list[Session], ReadStats] | None:
    """Every session under ``root`` like ``read_all(root, cache=cache)``, file by file, or None
    as soon as ``should_stop()`` is true (the TUI quits mid-read without waiting for a large
    history)."""
    try:
        return start_read(root, cache=cache, should_stop=should_stop).result()
    except ReadStopped:
        return None
