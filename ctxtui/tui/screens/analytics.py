"""The analytics screen: usage per persona as bars, pairs, triggers, and auto-optimise.

The analysis is :func:`ctxtui.analytics.workspace_usage.workspace_usage`, the one ``ctxtui
analyze`` prints. Applying the proposal is not done here: the screen dismisses with the
proposal and the main screen applies it through its one command path.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, Header, Label, Static
from textual.worker import Worker, WorkerState

from ctxtui.analytics import optimize
from ctxtui.analytics.transcript_cache import default_folder
from ctxtui.analytics.transcripts import read_all
from ctxtui.analytics.usage import Analysis
from ctxtui.analytics.workspace_usage import workspace_usage
from ctxtui.core.config import Settings
from ctxtui.core.workspace import Workspace
from ctxtui.tui.actions import bindings
from ctxtui.tui.screens.confirm import ConfirmScreen
from ctxtui.tui.text import cell


def bar(value: int, top: int, width: int = 24) -> str:
    """A text bar scaled to the largest value."""
    n = round(width * value / top) if top else 0
    return "█" * n + "·" * (width - n)


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
        with Horizontal(id="analytics-body"):
            with Vertical():
                yield Label("Invocations per persona", classes="pane-title")
                yield DataTable(id="usage-table", cursor_type="row")
            with Vertical():
                yield Label("Used together (lift)", classes="pane-title")
                yield DataTable(id="pairs-table", cursor_type="row")
                yield Label("Trigger words", classes="pane-title")
                yield DataTable(id="triggers-table", cursor_type="row")
        with Horizontal(id="analytics-actions"):
            yield Button("Auto-optimise hot set (o)", id="optimize", variant="primary", disabled=True)
            yield Static("", id="proposal", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#usage-table", DataTable).add_columns("persona", "uses", "sessions", "", "last used")
        self.query_one("#pairs-table", DataTable).add_columns("a", "b", "sessions", "lift")
        self.query_one("#triggers-table", DataTable).add_columns("persona", "terms")
        self.load()

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
        usage = self.query_one("#usage-table", DataTable)
        usage.clear()
        top = max((p.invocations for p in a.personas), default=0)
        for p in a.personas:
            usage.add_row(cell(p.name + ("" if p.in_library else " (built-in)")), str(p.invocations), str(p.sessions),
                          bar(p.invocations, top), p.last_used[:10])
        pairs = self.query_one("#pairs-table", DataTable)
        pairs.clear()
        for pair in a.pairs[:20]:
            pairs.add_row(cell(pair.a), cell(pair.b), str(pair.sessions), f"{pair.lift:.2f}")
        trig = self.query_one("#triggers-table", DataTable)
        trig.clear()
        for name, ts in a.triggers.items():
            trig.add_row(cell(name), cell(", ".join(t.term for t in ts[:5])))
        button = self.query_one("#optimize", Button)
        button.disabled = self.proposal is None
        if self.proposal:
            self.query_one("#proposal", Static).update(
                f"proposal: {', '.join(self.proposal.hot)} · covers {self.proposal.coverage_pct}% · suggested cap {self.proposal.suggested_cap}"
            )

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
