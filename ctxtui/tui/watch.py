"""Watching files with watchfiles, for live reload.

``awatch`` debounces 1,600 ms by default; we use 50 ms so a change shows within a fraction
of a second. The watcher only posts a message: the screen decides what to reload.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

from watchfiles import Change, awatch

DEBOUNCE_MS = 50
STEP_MS = 20
_IGNORED_PARTS = {"journal", "history", ".git", "__pycache__"}


def watched_paths(paths: list[Path]) -> list[Path]:
    """Existing folders to watch (a missing one is watched through its nearest parent)."""
    out: list[Path] = []
    for p in paths:
        while not p.exists() and p.parent != p:
            p = p.parent
        if p not in out:
            out.append(p)
    return out


def relevant(changes: set[tuple[Change, str]]) -> set[Path]:
    """Changed paths that matter: markdown and JSON, not ctxtui's own journal or history."""
    out = set()
    for _, path in changes:
        p = Path(path)
        if _IGNORED_PARTS & set(p.parts) or p.name.endswith(".tmp") or p.name.startswith("."):
            continue
        if p.suffix in (".md", ".json") or p.is_dir():
            out.add(p)
    return out


async def watch(paths: list[Path], on_change: Callable[[set[Path]], Awaitable[None] | None],
                stop: asyncio.Event) -> None:
    """Call ``on_change`` with the relevant changed paths until ``stop`` is set."""
    async for changes in awatch(*watched_paths(paths), debounce=DEBOUNCE_MS, step=STEP_MS,
                                stop_event=stop, recursive=True):
        hits = relevant(changes)
        if hits:
            result = on_change(hits)
            if asyncio.iscoroutine(result):
                await result
