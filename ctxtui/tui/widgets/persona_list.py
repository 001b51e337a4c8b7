"""A pane of personas: keyboard selection, multi-select, sorting, and drag and drop.

Textual has no built-in drag and drop. A drag starts when the pointer moves a few cells with
the button held; the list captures the mouse, a ghost label follows the pointer, and on
release ``screen.get_widget_at`` finds the pane under it. Escape cancels; the mouse is
always released.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from rich.text import Text
from textual import events
from textual.coordinate import Coordinate
from textual.dom import DOMNode
from textual.message import Message
from textual.widgets import DataTable, Label
from textual.widgets.data_table import RowKey

from ctxtui.core.display import printable
from ctxtui.tui.actions import bindings
from ctxtui.tui.key_relay import LateKeyRelay
from ctxtui.tui.model import Row
from ctxtui.tui.text import cell, cells, end_ellipsis, middle_ellipsis

DRAG_THRESHOLD = 2
_STARTUP_W, _FULL_W, _USED_W = 7, 6, 8
_FLAGS_MAX = 18
"""Cells a row's flags may take after its name (``skipped by Claude Code`` is cut)."""
_NAME_MIN = 12
"""Cells a flagged row's name keeps however long its flags are."""
SORTS = ("name", "tokens", "last used")
"""The worker group in which the screen reads transcripts for the last-used times."""
READING = "reading…"


def ago(when: float, now: float | None = None) -> str:
    """A short "last used" figure: ``5m``, ``3h``, ``12d``, or ``never``."""
    if when <= 0:
        return "never"
    secs = max(0.0, (now if now is not None else time.time()) - when)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if secs >= size:
            return f"{int(secs // size)}{unit} ago"
    return "now"


class PersonaList(LateKeyRelay, DataTable):
    """One pane (cold or hot). Posts messages; never changes files itself."""

    BINDINGS = bindings("list")

    @dataclass
    class Toggled(Message):
        """The user asked to move one persona to the other pane."""

        pane: PersonaList
        name: str

    @dataclass
    class Dropped(Message):
        """Personas were dragged from this pane and dropped on another."""

        source: PersonaList
        target: PersonaList
        names: list[str]

    @dataclass
    class Highlighted(Message):
        """The cursor moved to a persona."""

        pane: PersonaList
        name: str | None

    def __init__(self, side: str, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.side = side
        self.rows_by_key: dict[str, Row] = {}
        self.all_rows: list[Row] = []
        self.marked: set[str] = set()
        self.sort_by = "name"
        self.filter_text = ""
        self._press: tuple[int, int, str] | None = None
        self._dragging: list[str] | None = None
        self._ghost: Label | None = None
        self.name_width = 0
        """Cells given to the name column (set from the pane width; 0 before the first layout)."""
        self._layout_key: tuple[int, bool] | None = None
        self._reading = False
        """Whether the used cells say :data:`READING` (the screen is still reading usage)."""
        self._shown_sort = self.sort_by

    def on_mount(self) -> None:
        self._add_columns()

    def _add_columns(self) -> None:
        # Numbers first: names in real libraries are long, and the counts must stay in view.
        self.add_column("", key="mark", width=1)
        self.add_column("startup", key="startup", width=_STARTUP_W)
        self.add_column("full", key="full", width=_FULL_W)
        if self.sort_by == "last used":
            self.add_column("used", key="used", width=_USED_W)
        # A row's flags follow its name in the same column: most rows have none, and a column
        # of their own would take its widest flag's cells from every name.
        self.add_column("name", key="name", width=max(self.name_width, 4))

    def _fit(self) -> tuple[int, bool]:
        """Name width for the pane's width: every name (and its flags) in full when they fit,
        else the most the pane allows (a middle ellipsis keeps the end)."""
        used = self.sort_by == "last used"
        columns = 4 + used
        fixed = 1 + _STARTUP_W + _FULL_W + (_USED_W if used else 0)
        room = self.scrollable_content_region.width - fixed - 2 * self.cell_padding * columns - 1
        longest = max((cells(r.name) + (1 + min(cells(" ".join(r.flags)), _FLAGS_MAX) if r.flags else 0)
                       for r in self.rows_by_key.values()), default=4)
        return max(4, min(longest, room)), used

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        # Every column here has a fixed width and every row one line, so Textual's measuring
        # of each new cell (most of a 5,000-row first paint) would only set widths it ignores.
        # Pinned Textual (8.2.8): the rest of the method (the virtual size) still runs.
        new_rows = list(new_rows)
        rows = self.rows
        if any(c.auto_width for c in self.columns.values()) or any(
                k in rows and rows[k].auto_height for k in new_rows):
            super()._update_dimensions(new_rows)
        else:
            super()._update_dimensions(())

    def on_resize(self) -> None:
        if self._fit() != self._layout_key:
            self._rebuild()

    def _rebuild(self) -> None:
        """Rebuild columns and rows for the current width and sort (cursor and marks kept)."""
        current = self.current_key()
        self._layout_key = self._fit()
        self.name_width = self._layout_key[0]
        self.clear(columns=True)
        self._add_columns()
        for r in self.rows_by_key.values():
            self.add_row(*self._cells(r), key=r.key)
        if current in self.rows_by_key:
            self.move_cursor(row=self.get_row_index(current), animate=False)

    # ---------------------------------------------------------------- data down

    def filtered(self, rows: list[Row]) -> list[Row]:
        """Rows after the filter (name and description) and the sort."""
        needle = self.filter_text.lower()
        out = [r for r in rows if not needle or needle in r.name.lower() or needle in r.description.lower()]
        key = {
            "name": lambda r: r.name.lower(),
            "tokens": lambda r: (-r.startup, r.name.lower()),
            "last used": lambda r: (-r.last_used, r.name.lower()),
        }[self.sort_by]
        return sorted(out, key=key)

    def show(self, rows: list[Row]) -> None:
        """Replace the rows, keeping the cursor on the same persona and the scroll position."""
        current = self.current_key()
        scroll = self.scroll_y
        at_top = self.cursor_row == 0 and scroll == 0
        self.all_rows = rows
        shown = self.filtered(rows)
        old = self.rows_by_key
        self.rows_by_key = {r.key: r for r in shown}
        self.marked &= {r.name for r in shown}
        if not self.size.width:
            # Not laid out yet (the first rows can come before the first layout): names would
            # be cut to nothing. The first resize builds the rows at the pane's width.
            self._layout_key = None
            return
        resorted, self._shown_sort = self._shown_sort != self.sort_by, self.sort_by
        kept = [k for k in old if k in self.rows_by_key]
        same_columns = self._layout_key is not None and self._layout_key[1] == (self.sort_by == "last used")
        if same_columns and kept == list(self.rows_by_key) and all(old[k] == self.rows_by_key[k] for k in kept):
            # Only removals (the common toggle): drop those rows instead of rebuilding 1,000.
            for key in old.keys() - self.rows_by_key.keys():
                self.remove_row(key)
            for key, r in self.rows_by_key.items():
                mark = "●" if r.name in self.marked else ""
                if self.get_cell(key, "mark") != mark:
                    self.update_cell(key, "mark", mark)
        elif self._fit() != self._layout_key:
            self._rebuild()
        else:
            self.clear()
            for r in shown:
                self.add_row(*self._cells(r), key=r.key)
        if resorted or at_top:
            # A new sort shows its top (the latest used, the largest), not the old place; a list
            # seen from its top stays there (the last-used times arriving reorder it).
            self.move_cursor(row=0, animate=False, scroll=False)
            self.scroll_to(y=0, animate=False)
            return
        if current in self.rows_by_key:
            self.move_cursor(row=self.get_row_index(current), animate=False, scroll=False)
        self.scroll_to(y=scroll, animate=False)

    def _cells(self, r: Row) -> tuple:
        # Plain strings padded to the fixed column widths: a Text per cell costs more than the
        # rest of a 5,000-row first paint. Only flagged rows carry style.
        row: tuple = ("●" if r.name in self.marked else "", f"{r.startup:>{_STARTUP_W},}",
                      f"{r.full:>{_FULL_W},}")
        if self.sort_by == "last used":
            row += (self._used(r),)
        return (*row, self._name_cell(r))

    def _name_cell(self, r: Row) -> str | Text:
        """The name, and its flags after it; cut to the column, the flags last."""
        width = self.name_width
        if not r.flags:
            return cell(middle_ellipsis(r.name, width) if width else r.name)
        flags = " ".join(r.flags)
        if width:  # the flags keep their place, up to _FLAGS_MAX cells; the name gives way first
            flags = end_ellipsis(flags, min(_FLAGS_MAX, max(width - 1 - min(cells(r.name), _NAME_MIN), 1)))
        name = middle_ellipsis(r.name, width - 1 - cells(flags)) if width else r.name
        text = Text(printable(name) + " ")
        text.append(flags, style="bold red" if "invalid" in r.flags else "bold $warning")
        return text

    def _used(self, r: Row) -> str:
        return READING if self._reading and r.last_used <= 0 else ago(r.last_used)

    # ---------------------------------------------------------------- usage still being read

    def usage_reading(self, reading: bool) -> None:
        """The screen starts or ends reading usage: a row not used yet says :data:`READING`
        until then, not "never" (the read can take a while on a large history)."""
        if reading == self._reading:
            return
        self._reading = reading
        if "used" not in self.columns:
            return
        for key, r in self.rows_by_key.items():
            if r.last_used <= 0:
                self.update_cell(key, "used", self._used(r))

    def refresh_marks(self) -> None:
        """Make the marks on screen match :attr:`marked` (after a move cleared or kept them)."""
        for key, r in self.rows_by_key.items():
            mark = "●" if r.name in self.marked else ""
            if self.get_cell(key, "mark") != mark:
                self.update_cell(key, "mark", mark)

    def refilter(self) -> None:
        """Re-apply filter and sort to the last rows shown."""
        self.show(self.all_rows)

    def current_key(self) -> str | None:
        """Row key under the cursor."""
        if not self.row_count:
            return None
        try:
            return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except Exception:  # noqa: BLE001 - empty or stale table
            return None

    def current_name(self) -> str | None:
        """Persona name under the cursor."""
        key = self.current_key()
        return self.rows_by_key[key].name if key in self.rows_by_key else None

    def selected_names(self) -> list[str]:
        """Marked personas, or the one under the cursor."""
        if self.marked:
            return sorted(self.marked)
        name = self.current_name()
        return [name] if name else []

    # ---------------------------------------------------------------- keyboard

    def action_mark(self) -> None:
        """Mark or unmark the persona under the cursor (multi-select)."""
        name = self.current_name()
        if name is None:
            return
        self.marked ^= {name}
        key = self.current_key()
        if key is not None:
            self.update_cell(key, "mark", "●" if name in self.marked else "")

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        key = event.row_key.value if event.row_key else None
        row = self.rows_by_key.get(key) if key else None
        self.post_message(self.Highlighted(self, row.name if row else None))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        row = self.rows_by_key.get(event.row_key.value or "")
        if row is not None:
            self.post_message(self.Toggled(self, row.name))

    # ---------------------------------------------------------------- mouse drag

    def _row_at(self, event: events.MouseEvent) -> str | None:
        offset = event.get_content_offset(self)
        if offset is None:
            return None
        index = offset.y + int(self.scroll_y) - (1 if self.show_header else 0)
        if 0 <= index < self.row_count:
            key = self.coordinate_to_cell_key(Coordinate(index, 0)).row_key.value
            return self.rows_by_key[key].name if key in self.rows_by_key else None
        return None

    def on_mouse_down(self, event: events.MouseDown) -> None:
        name = self._row_at(event)
        if name is not None and event.button == 1:
            self._press = (event.screen_x, event.screen_y, name)

    def on_mouse_move(self, event: events.MouseMove) -> None:
        if self._press is None:
            return
        x, y, name = self._press
        if self._dragging is None:
            if abs(event.screen_x - x) + abs(event.screen_y - y) < DRAG_THRESHOLD:
                return
            self._dragging = sorted(self.marked) if name in self.marked else [name]
            self.capture_mouse()
            self.add_class("-dragging")
            label = ", ".join(self._dragging) if len(self._dragging) < 4 else f"{len(self._dragging)} personas"
            self._ghost = Label(f"⇄ {printable(label)}", id="drag-ghost", markup=False)
            self.screen.mount(self._ghost)
        if self._ghost is not None:
            self._ghost.styles.offset = (event.screen_x + 1, event.screen_y)
        self._highlight_target(event.screen_x, event.screen_y)

    def _target_at(self, x: int, y: int) -> PersonaList | None:
        try:
            widget, _ = self.screen.get_widget_at(x, y)
        except Exception:  # noqa: BLE001 - outside every widget
            return None
        node: DOMNode | None = widget
        while node is not None:
            if isinstance(node, PersonaList):
                return node
            pane = getattr(node, "drop_pane", None)  # a pane container forwards to its list
            if isinstance(pane, PersonaList):
                return pane
            node = node.parent
        return None

    def _highlight_target(self, x: int, y: int) -> None:
        target = self._target_at(x, y)
        for pane in self.screen.query(PersonaList):
            pane.set_class(pane is target and pane is not self, "-drop-target")

    def on_mouse_up(self, event: events.MouseUp) -> None:
        dragging = self._dragging
        target = self._target_at(event.screen_x, event.screen_y) if dragging else None
        self.cancel_drag()
        if dragging and target is not None and target is not self:
            self.post_message(self.Dropped(self, target, dragging))

    def cancel_drag(self) -> None:
        """End a drag (drop, Escape or focus loss): release the mouse, remove the ghost."""
        self._press = None
        was = self._dragging is not None
        self._dragging = None
        if was:
            self.release_mouse()
        self.remove_class("-dragging")
        for pane in self.screen.query(PersonaList):
            pane.remove_class("-drop-target")
        if self._ghost is not None:
            self._ghost.remove()
            self._ghost = None

    @property
    def dragging(self) -> bool:
        """Whether a drag is in progress."""
        return self._dragging is not None

    def on_key(self, event: events.Key) -> None:
        if event.key == "escape" and self.dragging:
            event.stop()
            self.cancel_drag()
