"""The panes' first rows, read by a forked helper while the app starts.

The rows are what a person waits for, and reading them (the library index, Claude Code's
verdict on each file, the listing lines) takes about as long as importing and starting
Textual. So :func:`ctxtui.tui.app.make_app` forks before it imports Textual: the child reads
the rows through the same core calls the screen uses (:func:`ctxtui.tui.model.pane_rows`) and
sends them back on a pipe, on the second core; the screen paints them, then reads the
workspace it works through. No Textual here, and nothing is shared but the pipe.

Anything unusual falls back to reading in the app, as without a helper: no ``fork`` (Windows),
macOS (forking there is unsafe once system frameworks are loaded), threads already running
(a forked child would inherit their locks held), or a helper that fails for any reason (the
screen's own read then reports the error).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import sys
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ctxtui.core.config import Settings
    from ctxtui.tui.model import PaneRows

MAX_BYTES = 256 * 2**20
"""More than this from the helper is not rows (100,000 personas take about 40 MB)."""


def _rows(settings: Settings) -> PaneRows:
    """In the helper: the panes' rows, as the screen's own read builds them, except that a
    verdict remembered for the bytes the index hashed is taken without reading the file again
    (the index has just checked it by its size and time; the screen's read, a moment later,
    reads every file and shows any change)."""
    from ctxtui.core.verdicts import remembered
    from ctxtui.core.workspace import Workspace
    from ctxtui.tui.model import last_used, pane_rows

    ws = Workspace(settings)
    shown = [*(h.persona for h in [*ws.hot, *ws.user_hot]), *ws.cold()]
    known = remembered(shown, ws.claude_code.profile)
    return pane_rows(ws, last_used(settings.workspace), lambda p: known.get(str(p.path)) or ws.verdict(p))


def can_fork() -> bool:
    """A helper may be forked here and now (see the module docstring)."""
    return (hasattr(os, "fork") and sys.platform != "darwin" and not sys.platform.startswith("win")
            and threading.active_count() == 1)


class FirstRows:
    """A forked helper reading the panes' rows; :meth:`result` waits for them."""

    def __init__(self, pid: int, fd: int) -> None:
        self.pid = pid
        self._fd: int | None = fd
        self._lock = threading.Lock()

    @classmethod
    def start(cls, settings: Settings) -> FirstRows | None:
        """Fork the helper (None when this process must not fork: then the app reads itself)."""
        if not can_fork():
            return None
        try:
            read_fd, write_fd = os.pipe()
        except OSError:
            return None
        try:
            pid = os.fork()
        except OSError:
            os.close(read_fd)
            os.close(write_fd)
            return None
        if pid == 0:  # the helper: never returns, never runs the parent's exit handlers
            code = 1
            try:
                os.close(read_fd)
                try:
                    payload = pickle.dumps(_rows(settings), protocol=pickle.HIGHEST_PROTOCOL)
                except BaseException:  # noqa: BLE001 - the app's own read reports it
                    payload = b""
                view = memoryview(payload)
                while view:
                    view = view[os.write(write_fd, view):]
                code = 0
            finally:
                os._exit(code)
        os.close(write_fd)
        return cls(pid, read_fd)

    def result(self) -> PaneRows | None:
        """The helper's rows (blocks; call from a worker thread), or None when it failed or
        :meth:`close` came first. Called once; the helper is reaped."""
        with self._lock:
            fd, self._fd = self._fd, None
        if fd is None:
            return None
        chunks: list[bytes] = []
        size = 0
        try:
            while size <= MAX_BYTES:
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
        except OSError:
            chunks = []
        finally:
            os.close(fd)
            self._reap()
        if not chunks or size > MAX_BYTES:
            return None
        try:
            from ctxtui.tui.model import PaneRows

            rows = pickle.loads(b"".join(chunks))
        except Exception:  # noqa: BLE001 - a garbled answer: the app reads itself
            return None
        return rows if isinstance(rows, PaneRows) else None

    def close(self) -> None:
        """Not wanted any more (the app quit first): the helper ends at its next write."""
        with self._lock:
            fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)
            threading.Thread(target=self._reap, name="ctxtui-first-rows-reaper", daemon=True).start()

    def _reap(self) -> None:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)
