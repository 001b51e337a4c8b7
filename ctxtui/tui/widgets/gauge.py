"""The live context gauge pane: what the project's active Claude Code session uses now.

Data down, messages up: a thread worker follows the transcript (``ctxtui.analytics.live``)
and posts ``ContextGauge.Updated``; the widget only renders the snapshot it is given. With no
folder (or ``follow_files=False``) nothing is watched and ``show()`` pushes snapshots in.

The follower thread ends when the pane is unmounted *or* the app stops running, whichever
comes first: Textual does not wait for thread workers, but ``asyncio.run`` joins the executor's
threads when the loop closes, so a follower still blocked in the watcher would hold the exit.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import work
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from ctxtui.analytics.live import (
    GaugeSnapshot,
    LiveGauge,
    Predictor,
    WindowPolicy,
    follow,
    safe_text,
    session_folder,
    workspace_prediction,
)
from ctxtui.core.config import Settings

WARNING_MARGIN = 20_000
"""Claude Code warns this many tokens before the autocompact point; so do we."""
BAR_WIDTH = 30


def _bar(snap: GaugeSnapshot, width: int) -> str:
    used = min(1.0, snap.context_tokens / max(snap.window, 1))
    cells = ["█" if i < round(used * width) else "░" for i in range(width)]
    if snap.autocompact_at is not None:
        cells[min(width - 1, int(snap.autocompact_at / max(snap.window, 1) * width))] = "┃"
    return "".join(cells)


def gauge_text(snap: GaugeSnapshot | None, error: str = "", compact: bool = False) -> Text:
    """The gauge as rich text (pure: used by the widget and its tests). ``compact`` is one line
    under 80 columns, for a small terminal."""
    if error:
        return Text(f"Live gauge stopped: {error}", style="bold")
    if snap is None:
        return Text("No Claude Code session yet for this project", style="dim")
    if compact:
        return Text.assemble(
            ("Context ", "bold"), (_bar(snap, 16), "bold"),
            f" {snap.context_tokens:,}/{snap.window:,} ({snap.percent_used}%)  ",
            *((("autocompact in ", "dim"), f"{snap.until_autocompact:,}") if snap.autocompact_at is not None
              else (("autocompact off", "dim"),)),
        )
    text = Text.assemble(  # four short lines: the pane may sit in a narrow column
        ("Context ", "bold"), (_bar(snap, BAR_WIDTH), "bold"),
        f" {snap.context_tokens:,} / {snap.window:,} ({snap.percent_used}%)",
        "\n",
        ("Autocompact ", "dim"),
        f"{snap.autocompact_at:,} ({snap.until_autocompact:,} left)" if snap.autocompact_at is not None else "off",
        "  ", ("growth ", "dim"), f"{snap.growth_per_turn:,.0f}/turn",
        f" (~{snap.turns_to_autocompact} turns left)" if snap.turns_to_autocompact is not None else "",
        "\n",
        ("Turns ", "dim"), f"{snap.turns}  ", ("requests ", "dim"), f"{snap.requests}  ",
        ("compactions ", "dim"), f"{snap.compactions}  ",
        ("session ", "dim"), safe_text(snap.session[:8]), " ", safe_text(snap.model[:40]),
        "\n",
        ("Startup ", "dim"), f"{snap.startup_tokens:,} measured" if snap.startup_tokens else "not measured yet",
        f" · {snap.predicted_startup_tokens:,} predicted" if snap.predicted_startup_tokens is not None else "",
    )
    if snap.subagents:
        text.append("\nSubagents ", style="dim")
        text.append("  ".join(
            f"{safe_text(s.persona[:64])} ×{s.runs} {s.tokens:,} tokens"
            + (f" (+{s.running_tokens:,} running)" if s.running else "")
            for s in snap.subagents[:8]))
    return text


class _Stop:
    """The follower's stop condition: the pane's own event, or the app no longer running.

    watchfiles polls ``is_set()`` every step, so the thread ends within a step of Textual's
    shutdown starting (``App._running`` is cleared before any screen is pruned).
    """

    def __init__(self, event: threading.Event, running: Callable[[], bool]) -> None:
        self.event = event
        self.running = running

    def is_set(self) -> bool:
        return self.event.is_set() or not self.running()


class ContextGauge(Static):
    """Context used by the active session, the window and autocompact point, turns, subagents."""

    DEFAULT_CSS = """
    ContextGauge { height: auto; padding: 0 1; }
    ContextGauge.-warning { color: $warning; }
    ContextGauge.-over { color: $error; }
    """

    snapshot: reactive[GaugeSnapshot | None] = reactive(None, always_update=True)
    compact: reactive[bool] = reactive(False)
    """One line instead of four (a small terminal)."""

    @dataclass
    class Updated(Message):
        """The followed session changed (posted by the follower worker)."""

        snapshot: GaugeSnapshot | None

    def __init__(self, folder: Path | None = None, *, policy: WindowPolicy | None = None,
                 predict: Predictor | None = None, follow_files: bool = True, **kwargs) -> None:
        super().__init__("", **kwargs)
        self.folder = folder
        self.policy = policy
        self.predict = predict
        self.follow_files = follow_files
        self._stop = threading.Event()
        self._error = ""

    def on_mount(self) -> None:
        self.watch_snapshot(None)
        if self.folder is not None and self.follow_files:
            app = self.app  # captured here: the worker thread has no active app of its own
            self._follow(self.folder, _Stop(self._stop, lambda: app.is_running))

    def on_unmount(self) -> None:
        self._stop.set()

    def stop_following(self) -> None:
        """End the follower thread (it stops within one watcher step)."""
        self._stop.set()

    @work(thread=True, exclusive=True, exit_on_error=False, group="context-gauge")
    def _follow(self, folder: Path, stop: _Stop) -> None:
        live = LiveGauge(folder, self.policy, self.predict)
        for snap in follow(live, stop):
            if stop.is_set():  # the loop may be closing: nothing to post to
                return
            self.post_message(self.Updated(snap))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "context-gauge" and event.state == WorkerState.ERROR:
            self._error = str(event.worker.error) or type(event.worker.error).__name__
            self.watch_snapshot(self.snapshot)

    def on_context_gauge_updated(self, message: Updated) -> None:
        message.stop()
        self.snapshot = message.snapshot

    def show(self, snapshot: GaugeSnapshot | None) -> None:
        """Display a snapshot (data down, for screens that follow the session themselves)."""
        self.snapshot = snapshot

    def watch_snapshot(self, snap: GaugeSnapshot | None) -> None:
        near = snap is not None and snap.autocompact_at is not None and snap.context_tokens >= snap.autocompact_at - WARNING_MARGIN
        over = snap is not None and snap.autocompact_at is not None and snap.context_tokens >= snap.autocompact_at
        self.set_class(near and not over, "-warning")
        self.set_class(over, "-over")
        self.update(gauge_text(snap, self._error, self.compact))

    def watch_compact(self) -> None:
        self.watch_snapshot(self.snapshot)


def gauge_for(settings: Settings, **kwargs: Any) -> ContextGauge:
    """The pane for a project: it follows the project's session folder (``$CLAUDE_CONFIG_DIR``
    respected) and predicts with ctxtui's whole startup total."""
    return ContextGauge(session_folder(settings), predict=workspace_prediction(settings), **kwargs)
