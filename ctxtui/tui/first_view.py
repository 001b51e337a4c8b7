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
import gc
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
FRAME_BYTES = 4 * 2**20
"""Rows up to this size (about 10,000 personas) that are ready when the screen mounts are
taken into its first frame (:meth:`FirstRows.at_hand`)."""
_HEADER = 8


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
    """A helper may be forked here and now (see the module docstring): as for any fork
    (:func:`ctxtui.analytics.forked.can_fork`), and not on macOS."""
    from ctxtui.analytics import forked

    return sys.platform != "darwin" and forked.can_fork()


class FirstRows:
    """A forked helper reading the panes' rows; :meth:`result` waits for them."""

    def __init__(self, pid: int, fd: int) -> None:
        self.pid = pid
        self._fd: int | None = fd
        self._lock = threading.Lock()
        self._size: int | None = None
        """The answer's size, once its header was read (0: the helper failed)."""

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
            gc.freeze()  # the collector leaves what both share alone: fewer pages copied on write
            pid = os.fork()
        except OSError:
            gc.unfreeze()
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
                view = memoryview(len(payload).to_bytes(_HEADER, "big") + payload)
                while view:
                    view = view[os.write(write_fd, view):]
                code = 0
            finally:
                os._exit(code)
        os.close(write_fd)
        return cls(pid, read_fd)

    def at_hand(self, limit: int = FRAME_BYTES) -> bool:
        """The helper has its answer (or ended), and the answer is at most LIMIT bytes:
        :meth:`result` then only reads what is being written from memory (never waits for
        the helper to work), so the UI thread may call it."""
        import select

        fd = self._fd
        if fd is None:
            return True
        try:
            if self._size is None and not select.select([fd], [], [], 0)[0]:
                return False
            return self._header(fd) <= limit
        except (OSError, ValueError):
            return True

    def _header(self, fd: int) -> int:
        if self._size is None:
            head = self._read(fd, _HEADER)
            self._size = int.from_bytes(head, "big") if len(head) == _HEADER else 0
        return self._size

    @staticmethod
    def _read(fd: int, size: int) -> bytes:
        """SIZE bytes, fewer at the end of the pipe."""
        chunks: list[bytes] = []
        while size > 0:
            chunk = os.read(fd, min(size, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            size -= len(chunk)
        return b"".join(chunks)

    def result(self) -> PaneRows | None:
        """The helper's rows (waits for them: from a worker thread, unless :meth:`at_hand`),
        or None when it failed or :meth:`close` came first. Called once; the helper is reaped."""
        with self._lock:
            fd, self._fd = self._fd, None
        if fd is None:
            return None
        try:
            size = self._header(fd)
            payload = self._read(fd, size) if 0 < size <= MAX_BYTES else b""
        except OSError:
            payload = b""
        finally:
            os.close(fd)
            self._reap()
        if not payload or len(payload) != size:
            return None
        try:
            from ctxtui.tui.model import PaneRows

            rows = pickle.loads(payload)
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
        gc.unfreeze()  # nothing is shared any more: the collector may look at everything again
