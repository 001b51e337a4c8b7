"""The analytics screen: usage per persona as bars, pairs, triggers, and auto-optimise.

The analysis is :func:`ctxtui.analytics.workspace_usage.workspace_usage`, the one ``ctxtui
analyze`` prints. Applying the proposal is not done here: the screen dismisses with the
proposal and the main screen applies it through its one command path.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.containers import Container, Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, Header, Label, Static
from textual.worker import Worker, WorkerState

from ctxtui.analytics import optimize
from ctxtui.analytics.transcript_cache import default_folder
from ctxtui.analytics.transcripts import read_all
from ctxtui.analytics.usage import Analysis, persona_source
from ctxtui.analytics.workspace_usage import workspace_usage
from ctxtui.core.claude_code.profiles import builtin_agent_names
from ctxtui.core.config import Settings
from ctxtui.core.display import printable
from ctxtui.core.workspace import Workspace
from ctxtui.tui.actions import bindings
from ctxtui.tui.screens.confirm import ConfirmScreen
from ctxtui.tui.text import cell, end_ellipsis, middle_ellipsis


def bar(value: int, top: int, width: int = 24) -> str:
    """A text bar scaled to the largest value."""
    n = round(width * value / top) if top else 0
    return "█" * n + "·" * (width - n)


def fit_words(head: str, words: list[str], width: int, lines: int) -> str:
    """HEAD then the WORDS (comma-separated), wrapped at word boundaries to WIDTH in at
    most LINES lines: words that do not fit are counted instead (``+4 more``)."""
    width = max(width, 8)
    for shown in range(len(words), -1, -1):
        more = [f"+{len(words) - shown} more"] if shown < len(words) else []
        text = head + ", ".join(words[:shown] + more)
        wrapped = textwrap.wrap(text, width, break_on_hyphens=False)
        if len(wrapped) <= lines or shown == 0:
            return "\n".join(wrapped[:lines])
    return ""  # pragma: no cover - the loop always returns


NARROW_BELOW = 120
"""Terminal width below which the panes stack (the main screen's narrow width too)."""
BAR_WIDTH = 24


@dataclass(frozen=True)
class Column:
    """A column of a :class:`FitTable`."""

    key: str
    label: str
    width: int
    """Cells of a fixed column; the least a name column is cut to."""
    cut: str = ""
    """``middle`` or ``end``: a text column that gets the room left, cut with an ellipsis;
    empty: a fixed column."""
    optional: bool = False
    """Shown only when every text column has its full width and room is left."""
    numeric: bool = False
    """Right-aligned (counts, ratios, dates)."""


class FitTable(DataTable):
    """A table that fits its width: fixed columns (the numbers) always in view, text columns
    share the rest and cut what does not fit with an ellipsis, optional columns only when
    there is room. Rows are given as plain strings and refitted on every resize."""

    def __init__(self, columns: list[Column], **kwargs) -> None:
        super().__init__(cursor_type="row", **kwargs)
        self.spec = columns
        self.raw: list[tuple[str, ...]] = []
        self._fitted: tuple[int, ...] | None = None

    def show(self, rows: list[tuple[str, ...]]) -> None:
        """Replace the rows (one string per column of the spec)."""
        self.raw = [tuple(printable(c) for c in row) for row in rows]
        self._fitted = None
        self._fill()

    def on_resize(self) -> None:
        self._fill()

    def widths(self, room: int) -> dict[str, int]:
        """Each shown column's width for ROOM cells (padding and scrollbar already taken)."""
        text = [c for c in self.spec if c.cut]
        longest = {c.key: max([len(c.label), *(len(row[self.spec.index(c)]) for row in self.raw)]) for c in text}
        fixed = [c for c in self.spec if not c.cut and not c.optional]
        pad = 2 * self.cell_padding
        left = room - sum(c.width + pad for c in fixed) - pad * len(text)
        out = {c.key: c.width for c in fixed}
        want = {c.key: max(longest[c.key], c.width) for c in text}
        # share the room: a column that needs less than its share leaves the rest to the others
        pending = sorted(text, key=lambda c: want[c.key])
        while pending:
            c = pending.pop(0)
            share = left // (len(pending) + 1)
            out[c.key] = max(c.width, min(want[c.key], share))
            left -= out[c.key]
        for c in self.spec:
            if c.optional and left >= c.width + pad:
                out[c.key] = c.width
                left -= c.width + pad
        return out

    def _fill(self) -> None:
        if not self.size.width:
            return
        room = self.size.width - self.styles.scrollbar_size_vertical
        widths = self.widths(room)
        key = tuple(widths.get(c.key, -1) for c in self.spec) + (len(self.raw),)
        if key == self._fitted:
            return
        self._fitted = key
        self.clear(columns=True)
        shown = [(i, c) for i, c in enumerate(self.spec) if c.key in widths]
        for _, c in shown:
            self.add_column(Text(c.label, justify="right" if c.numeric else "left"), key=c.key, width=widths[c.key])
        for row in self.raw:
            cells: list[str | Text] = []
            for i, c in shown:
                w = widths[c.key]
                value = row[i]
                if c.cut == "middle":
                    cells.append(cell(middle_ellipsis(value, w)))
                elif c.cut == "end":
                    cells.append(cell(end_ellipsis(value, w)))
                else:
                    cells.append(Text(value, justify="right") if c.numeric else cell(value))
            self.add_row(*cells)


USAGE_COLUMNS = [
    Column("persona", "persona", 12, cut="middle"),
    Column("uses", "uses", 5, numeric=True),
    Column("sessions", "sessions", 8, numeric=True),
    Column("source", "source", 14),
    Column("last", "last used", 10, numeric=True),
    Column("bar", "", BAR_WIDTH, optional=True),
]
PAIR_COLUMNS = [
    Column("a", "a", 8, cut="middle"),
    Column("b", "b", 8, cut="middle"),
    Column("sessions", "sess.", 5, numeric=True),
    Column("lift", "lift", 5, numeric=True),
]
TRIGGER_COLUMNS = [
    Column("persona", "persona", 8, cut="middle"),
    Column("terms", "terms", 4, cut="end"),
]


class ProposalLine(Static):
    """The auto-optimise proposal, wrapped at word boundaries to its width in three lines."""

    proposal: optimize.Proposal | None = None

    def set_proposal(self, proposal: optimize.Proposal | None) -> None:
        self.proposal = proposal
        self._wrap()

    def on_resize(self) -> None:
        self._wrap()

    def _wrap(self) -> None:
        p = self.proposal
        if p is None or not self.content_region.width:
            return
        head = f"Proposal (covers {p.coverage_pct}%, suggested cap {p.suggested_cap}): "
        self.update(fit_words(head, [printable(n) for n in p.hot], self.content_region.width, 3))


class AnalyticsScreen(Screen[optimize.Proposal | None]):
    """Reads transcripts in a worker; shows what is used, with whom, and after which words.

    Dismisses with the proposal the user confirmed (the caller applies it), or is popped.
    """

    BINDINGS = bindings("analytics")

    @dataclass
    class Loaded(Message):
        """Analysis finished."""

        analysis: Analysis
        proposal: optimize.Proposal | None

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.settings = settings
        self.proposal: optimize.Proposal | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(f"Reading transcripts in {self.settings.transcripts}…", id="analytics-summary", markup=False)
        with Container(id="analytics-body"):
            with Vertical(id="usage-pane"):
                yield Label("Invocations per persona", classes="pane-title")
                yield FitTable(USAGE_COLUMNS, id="usage-table")
            with Container(id="related-pane"):
                with Vertical(id="pairs-pane"):
                    yield Label("Used together (lift)", classes="pane-title")
                    yield FitTable(PAIR_COLUMNS, id="pairs-table")
                with Vertical(id="triggers-pane"):
                    yield Label("Trigger words", classes="pane-title")
                    yield FitTable(TRIGGER_COLUMNS, id="triggers-table")
        with Horizontal(id="analytics-actions"):
            yield Button("Auto-optimise hot set (o)", id="optimize", variant="primary", disabled=True)
            yield ProposalLine("", id="proposal", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.load()

    def on_resize(self, event: events.Resize) -> None:
        # Side by side when wide; in a narrow terminal the usage table takes the full width
        # (its numbers stay in view) with pairs and trigger words side by side below it.
        self.set_class(event.size.width < NARROW_BELOW, "-narrow")

    @work(thread=True, group="analytics", exit_on_error=False)
    def load(self) -> None:
        """Read and analyse transcripts off the UI thread (a failure is shown by the handler)."""
        ws = Workspace(self.settings)
        root = self.settings.transcripts
        sessions, stats = read_all(root, cache=default_folder()) if root.exists() else ([], None)
        analysis = workspace_usage(ws, sessions, stats)
        proposal = optimize.propose(ws, sessions) if sessions else None
        self.post_message(self.Loaded(analysis, proposal))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place a failed read is reported."""
        if event.state == WorkerState.ERROR and event.worker.group == "analytics":
            error = event.worker.error
            self.query_one("#analytics-summary", Static).update(f"Could not read transcripts: {error}")

    def on_analytics_screen_loaded(self, message: Loaded) -> None:
        a = message.analysis
        self.proposal = message.proposal
        if not self.settings.transcripts.exists():
            summary = f"No transcripts at {self.settings.transcripts} (set transcripts_dir in the settings file)"
        else:
            summary = (f"{a.sessions} sessions · {a.invocations} invocations · never used {len(a.never_used)} · "
                       f"hot but rarely used: {', '.join(a.hot_rarely_used) or 'none'}")
        self.query_one("#analytics-summary", Static).update(summary)
        top = max((p.invocations for p in a.personas), default=0)
        builtins = builtin_agent_names()
        self.query_one("#usage-table", FitTable).show([
            (p.name, str(p.invocations), str(p.sessions), persona_source(p, builtins), p.last_used[:10],
             bar(p.invocations, top, BAR_WIDTH))
            for p in a.personas])
        self.query_one("#pairs-table", FitTable).show([
            (pair.a, pair.b, str(pair.sessions), f"{pair.lift:.2f}") for pair in a.pairs[:20]])
        self.query_one("#triggers-table", FitTable).show([
            (name, ", ".join(t.term for t in ts[:5])) for name, ts in a.triggers.items()])
        button = self.query_one("#optimize", Button)
        button.disabled = self.proposal is None
        self.query_one("#proposal", ProposalLine).set_proposal(self.proposal)

    @on(Button.Pressed, "#optimize")
    def action_optimize(self) -> None:
        """Confirm, then apply the proposal as a migration (it can be rolled back)."""
        prop = self.proposal
        if prop is None:
            self.notify("No usage to optimise from yet", markup=False)
            return
        body = "\n".join(prop.reasons) + f"\n\nnew hot set: {', '.join(prop.hot)}"

        def done(ok: bool | None) -> None:
            if ok:
                self.dismiss(prop)

        self.app.push_screen(ConfirmScreen("Apply the auto-optimised hot set?", body), done)
