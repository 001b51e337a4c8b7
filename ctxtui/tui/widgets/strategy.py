"""Strategy switcher and migration history list."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Label, Select

from ctxtui.tui.actions import bindings
from ctxtui.tui.key_relay import LateKeyRelay
from ctxtui.tui.text import cell

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
    """A Select of strategies; posts Requested when the user picks a different one."""

    @dataclass
    class Requested(Message):
        """The user asked to migrate."""

        strategy: str

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._current = ""

    def compose(self) -> ComposeResult:
        yield Label("Strategy", classes="pane-title")
        yield Select([(v, k) for k, v in STRATEGY_LABELS.items()], allow_blank=True, id="strategy-select",
                     prompt="strategy")

    def set_current(self, strategy: str) -> None:
        """Show the applied strategy without triggering a migration."""
        self._current = strategy
        select = self.query_one(Select)
        with select.prevent(Select.Changed):
            select.value = strategy

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        if isinstance(event.value, str) and event.value != self._current:
            self.post_message(self.Requested(event.value))


class HistoryList(LateKeyRelay, DataTable):
    """Past migrations; Enter on an entry asks to roll back to it."""

    BINDINGS = bindings("history")

    @dataclass
    class RollbackRequested(Message):
        """The user asked to roll back to an entry."""

        entry_id: str

    def on_mount(self) -> None:
        self.cursor_type = "row"
        # The reason first after the id: in the side column it is what a person reads, and
        # the columns after it may run off the pane's edge.
        for col in ("id", "reason", "from → to", "Δ tokens", "time"):
            self.add_column(col, key=col)

    def show(self, entries: list[Entry]) -> None:
        """Newest first."""
        self.clear()
        for e in reversed(entries):
            self.add_row(e.id[:4], cell((e.reason or e.kind)[:40]), f"{e.from_strategy} → {e.to_strategy}",
                         f"{e.token_delta:+,}", e.time[11:16], key=e.id)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(self.RollbackRequested(event.row_key.value))
