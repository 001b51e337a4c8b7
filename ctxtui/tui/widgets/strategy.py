"""Strategy switcher and migration history list."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Label, Select

from ctxtui.core.entry_words import describe
from ctxtui.tui.actions import bindings
from ctxtui.tui.key_relay import LateKeyRelay
from ctxtui.tui.text import cell, cells, end_ellipsis

if TYPE_CHECKING:
    from ctxtui.core.history import Entry

STRATEGY_LABELS = {
    "eager": "Eager (all hot)",
    "lazy_loading": "Lazy loading",
    "fine_tuned": "Fine-tuned",
    "hybrid": "Hybrid",
    "adaptive": "Adaptive",
}


class StrategySwitcher(Vertical):
    """A Select of strategies; posts Requested when the user picks a different one.

    No blank row: until the applied strategy is known (the side column can be mounted before
    the workspace is read) the one entry says so, and picking it does nothing."""

    @dataclass
    class Requested(Message):
        """The user asked to migrate."""

        strategy: str

    UNKNOWN = "reading…"

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._current = ""

    def compose(self) -> ComposeResult:
        yield Label("Strategy", classes="pane-title")
        yield Select([(self.UNKNOWN, "")], allow_blank=False, id="strategy-select")

    def set_current(self, strategy: str) -> None:
        """Show the applied strategy without triggering a migration."""
        select: Select[str] = self.query_one(Select)
        with select.prevent(Select.Changed):
            if not self._current:  # the strategies, now that one of them can be selected
                select.set_options([(v, k) for k, v in STRATEGY_LABELS.items()])
            self._current = strategy
            select.value = strategy

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        # A change still queued when set_current showed another value is stale: only what the
        # Select shows now is the user's pick.
        if (isinstance(event.value, str) and event.value and event.value != self._current
                and event.value == event.select.value):
            self.post_message(self.Requested(event.value))


class HistoryList(LateKeyRelay, DataTable):
    """Past migrations; Enter on an entry asks to roll back to it."""

    BINDINGS = bindings("history")
    _FIXED = (("id", 4), ("Δ tokens", 8), ("time", 5))
    """The short columns beside the reason, and their widths."""

    @dataclass
    class RollbackRequested(Message):
        """The user asked to roll back to an entry."""

        entry_id: str

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._entries: dict[str, Entry] = {}
        self._reason_width = 0

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self._add_columns()

    def _add_columns(self) -> None:
        # The reason after the id, as wide as the pane leaves it beside the short columns: in
        # the side column it is what a person reads.
        self.add_column("id", key="id", width=4)
        self.add_column("reason", key="reason", width=max(self._reason_width, 6))
        self.add_column("Δ tokens", key="Δ tokens", width=8)
        self.add_column("time", key="time", width=5)

    def _fit(self) -> int:
        """Cells for the reason: the longest in full when it fits, else what the pane leaves."""
        fixed = sum(w for _, w in self._FIXED) + 2 * self.cell_padding * (len(self._FIXED) + 1)
        room = self.scrollable_content_region.width - fixed - 1
        longest = max((cells(self._reason(e)) for e in self._entries.values()), default=6)
        return max(12, min(longest, room))

    def _reason(self, e: Entry) -> str:
        """The reason, after the strategy switch when there was one (most changes keep it); for
        an undo, what it undid (``core.entry_words``) and a reason of the user's own."""
        undone = self._entries.get(e.undoes) if e.undoes else None
        if undone is not None:
            own = f" ({e.reason})" if e.reason and not e.reason.startswith("undo") else ""
            return f"undid: {describe(undone)}{own}"
        switch = f"{e.from_strategy} → {e.to_strategy}: " if e.from_strategy != e.to_strategy else ""
        return switch + (e.reason or e.kind)

    def show(self, entries: list[Entry]) -> None:
        """Newest first, each reason cut to the pane with an ellipsis."""
        self._entries = {e.id: e for e in entries}
        width = self._fit()
        if width != self._reason_width:
            self._reason_width = width
            self.clear(columns=True)
            self._add_columns()
        else:
            self.clear()
        for e in reversed(entries):
            self.add_row(e.id[:4], cell(end_ellipsis(self._reason(e), width)), f"{e.token_delta:>+8,}",
                         e.time[11:16], key=e.id)

    def on_resize(self) -> None:
        if self._entries and self._fit() != self._reason_width:
            self.show(list(self._entries.values()))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(self.RollbackRequested(event.row_key.value))
