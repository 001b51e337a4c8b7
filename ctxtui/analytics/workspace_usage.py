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
    Session,
    parse_time,
    read_session,
    transcript_files,
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


def read_sessions(root: Path, should_stop: Callable[[], bool]) -> tuple[list[Session], ReadStats] | None:
    """Every session under ``root`` like ``read_all(root)``, file by file, or None as soon as
    ``should_stop()`` is true (the TUI quits mid-read without waiting for a large history)."""
    stats = ReadStats()
    sessions = []
    for project, path in transcript_files(root):
        if should_stop():
            return None
        s = read_session(path, stats, project)
        if s.prompts or s.invocations or s.usage.total:  # the filter of read_all
            sessions.append(s)
    return sessions, stats
