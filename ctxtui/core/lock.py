"""The workspace lock: one ctxtui changes a project at a time.

Portable (``filelock``: ``fcntl`` on POSIX, ``msvcrt`` on Windows), re-entrant within a
thread, and bounded: a second ctxtui waits up to ``timeout`` seconds, then gets one line.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from ctxtui.core.errors import BusyError

if TYPE_CHECKING:  # filelock is imported when a lock is first taken (read commands never do)
    from filelock import FileLock

DEFAULT_TIMEOUT = float(os.environ.get("CTXTUI_LOCK_TIMEOUT", "30"))
_locks: dict[str, FileLock] = {}
_guard = threading.Lock()


def _lock_for(path: Path) -> FileLock:
    key = str(path.absolute())
    with _guard:
        lock = _locks.get(key)
        if lock is None:
            from filelock import FileLock

            # one object per file: filelock counts re-entry per thread on it, and another
            # thread opens its own descriptor, so threads exclude each other too
            lock = _locks[key] = FileLock(key, preserve_lock_file=True)
        return lock


@contextlib.contextmanager
def locked(state_dir: Path, timeout: float | None = None) -> Iterator[None]:
    """Hold the lock of a workspace's state folder (created if missing)."""
    state_dir.mkdir(parents=True, exist_ok=True)
    lock = _lock_for(state_dir / "lock")
    from filelock import Timeout

    try:
        lock.acquire(timeout=DEFAULT_TIMEOUT if timeout is None else timeout)
    except Timeout:
        raise BusyError(
            f"another ctxtui is changing this project ({state_dir / 'lock'}); try again"
        ) from None
    try:
        yield
    finally:
        lock.release()


def held(state_dir: Path) -> bool:
    """Whether this thread holds the workspace lock."""
    lock = _locks.get(str((state_dir / "lock").absolute()))
    return lock is not None and lock.is_locked and lock.lock_counter > 0
