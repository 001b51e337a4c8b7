"""The main screen: cold and hot panes, budget bar, detail, strategy and history.

Widgets post messages up; this screen runs core operations in thread workers (one at a
time, under a lock) and pushes a fresh :class:`~ctxtui.tui.model.Model` down. No file I/O
happens on the UI thread. A failed worker is reported in one place,
:meth:`MainScreen.on_worker_state_changed`.

Start-up paints the rows first: a helper forked by ``make_app`` reads them
(:mod:`ctxtui.tui.first_view`); when they are already there at mount they go into the first
frame (read from its pipe, as a minimal app reads its data in ``on_mount``), else a worker
waits for them. The workspace this screen works through is read after that frame, and the
side column (detail, strategy, history) is mounted after it too. Modules only some actions
need (the core, the strategies, the preview and help screens) are imported when used;
transcripts are read after the first frame.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import events, on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.notifications import Notification, Notify, SeverityLevel
from textual.screen import Screen
from textual.widgets import Header, Input, Label
from textual.worker import Worker, WorkerState, get_current_worker

from ctxtui.core.config import Settings, WorkspaceConfig
from ctxtui.core.errors import CtxtuiError
from ctxtui.tui.actions import bindings
from ctxtui.tui.model import Model, PaneRows, build_model, last_used
from ctxtui.tui.screens.confirm import ConfirmScreen
from ctxtui.tui.text import end_ellipsis
from ctxtui.tui.widgets.budget_bar import BudgetBar
from ctxtui.tui.widgets.detail import PersonaDetail
from ctxtui.tui.widgets.filter_input import FilterInput
from ctxtui.tui.widgets.fit_footer import FitFooter
from ctxtui.tui.widgets.persona_list import SORTS, PersonaList
from ctxtui.tui.widgets.strategy import HistoryList, StrategySwitcher

if TYPE_CHECKING:
    from ctxtui.analytics.optimize import Proposal
    from ctxtui.core.strategies import Plan
    from ctxtui.core.workspace import Workspace
    from ctxtui.tui.first_view import FirstRows
    from ctxtui.tui.widgets.gauge import ContextGauge

#: Below this many columns the panes stack alone and the side column (detail, strategy,
#: history) opens only on demand; at and above it, names of 47 characters show in full.
NARROW_BELOW = 120
DENSITY_CYCLE: tuple[str | None, ...] = (None, "full", "names", "search")

#: Failures the user caused or can fix (a refusal, a file problem, a held lock): one notification.
USER_ERRORS = (CtxtuiError, OSError, TimeoutError)


class DropPane(Vertical):
    """A pane container; dropping anywhere on it drops on its list."""

    drop_pane: PersonaList | None = None


class MainScreen(Screen):
    """Steer the hot set and watch the budget."""

    BINDINGS = bindings("main")
    AUTO_FOCUS = "#cold"  # never the filter: a key typed while the app starts is a key, not text

    @dataclass
    class ModelReady(Message):
        """A worker built a fresh model."""

        model: Model
        note: str = ""

    @dataclass
    class FirstRowsRead(Message):
        """The first-rows helper answered (None: it could not; the screen reads itself)."""

        rows: PaneRows | None

    @dataclass
    class FilesChanged(Message):
        """Files changed on disk. A burst still queued becomes one message, so one reload."""

        paths: frozenset[Path] = frozenset()

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, MainScreen.FilesChanged)

    @dataclass
    class Recorded(Message):
        """A change was recorded in history (its personas' marks are cleared; ``u`` steps
        back over it, as over any entry, through ``strategies.undo``)."""

        entry_id: str
        names: list[str] = field(default_factory=list)

    @dataclass
    class BodyLoaded(Message):
        """The body of the highlighted persona was read."""

        name: str
        body: str

    @dataclass
    class Moved(Message):
        """Personas moved between panes (their marks are cleared)."""

        to_hot: bool
        names: list[str] = field(default_factory=list)

    def __init__(self, settings: Settings, first_rows: FirstRows | None = None) -> None:
        super().__init__()
        self.settings = settings
        self._first_rows = first_rows
        """The helper reading the panes' first rows while the app starts (``tui.first_view``)."""
        self._cold_total = 0
        self._side_ready = False
        """The side column's widgets are mounted (:meth:`_mount_side`)."""
        self._side_lock = asyncio.Lock()
        self._problems_shown: set[str] = set()
        """Recovery lines the first rows already showed (the full read may repeat them)."""
        self.ws: Workspace | None = None
        self.model: Model | None = None
        self.ws_lock = threading.Lock()
        """One core operation at a time (Textual's own ``Widget.lock`` is left alone)."""
        self._detail_shown: tuple | None = None
        self._detail_queued = False
        self.invoked_at: dict[str, float] = {}
        """When each persona was last invoked in a session (from the usage analysis)."""
        self._auto_timer: Any = None
        self.density: str | None = None
        """Cold index density for preview and write (None: the core picks by library size)."""
        self.gauge: ContextGauge | None = None
        """The live context gauge, mounted after the first frame."""
        self._roots: list[Path] = []
        """``Workspace.library_roots()`` as last loaded (read in the load worker)."""
        self._extra_roots: list[Path] = []
        self._roots_stop: asyncio.Event | None = None
        self._fresh = False
        """The project had no ctxtui state when the screen first read it: offer ``init``."""
        self._said: Notification | None = None
        """The notice :meth:`say` showed last (the next one replaces it)."""

    # ---------------------------------------------------------------- layout

    def compose(self) -> ComposeResult:
        # Cold above hot (one Tab apart), each as wide as names need; the side column holds
        # what a narrow terminal can do without.
        yield Header()
        with Horizontal(id="panes"):
            with Vertical(id="lists"):
                cold_pane = DropPane(id="cold-pane")
                with cold_pane:
                    yield Label("Cold", id="cold-title", classes="pane-title")
                    yield FilterInput(placeholder="/ filter name or description", id="filter", leave_to="#cold")
                    cold = PersonaList("cold", id="cold")
                    yield cold
                cold_pane.drop_pane = cold
                hot_pane = DropPane(id="hot-pane")
                with hot_pane:
                    yield Label("Hot", id="hot-title", classes="pane-title")
                    hot = PersonaList("hot", id="hot")
                    yield hot
                hot_pane.drop_pane = hot
            yield Vertical(id="side")  # filled after the first frame with rows (_mount_side)
        yield BudgetBar(id="budget")
        footer = FitFooter()
        # Sized before it is mounted: a change after would compose its keys once more.
        narrow = self.app.size.width < NARROW_BELOW
        footer.set_reactive(FitFooter.narrow, narrow)
        footer.set_reactive(FitFooter.fit_width, self.app.size.width)
        yield footer

    async def _mount_side(self) -> None:
        """Fill the side column (detail, strategy, history) once the rows are on screen, so the
        first frame does not wait for its widgets; or at once, when a key asks for it first."""
        async with self._side_lock:
            if self._side_ready or not self.is_attached:
                return
            await self.query_one("#side").mount_all([
                PersonaDetail(id="detail"), StrategySwitcher(id="strategy"),
                Label("History (enter rolls back)", classes="pane-title"), HistoryList(id="history")])
            self._side_ready = True
        if self.model is not None:
            self.query_one(StrategySwitcher).set_current(self.model.strategy)
            self.query_one(HistoryList).show(self.model.history)
            self._show_detail()

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#cold", PersonaList))
        take = getattr(self.app, "take_early_keys", None)
        if take is not None:  # keys typed while the app started: now they find their widgets
            self.app.call_after_refresh(take)
        self._fit_layout(self.app.size.width)
        helper = self._first_rows
        if helper is not None and helper.at_hand():
            # The rows are there already (a small library): take them into this frame, as a
            # minimal app reads its data in on_mount, instead of drawing empty panes first.
            self._first_rows = None
            self.on_main_screen_first_rows_read(self.FirstRowsRead(helper.result()))
        elif helper is not None:
            self._read_first_rows()
        else:
            self.load()

    def on_resize(self, event: events.Resize) -> None:
        self._fit_layout(event.size.width)

    def _fit_layout(self, width: int) -> None:
        narrow = width < NARROW_BELOW
        self.set_class(narrow, "-narrow")
        footer = self.query_one(FitFooter)
        footer.narrow, footer.fit_width = narrow, width
        if self.gauge is not None:  # one line in a small terminal
            self.gauge.compact = narrow

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        # In a narrow terminal the side column replaces the lists while it has focus.
        in_side = any(node.id == "side" for node in event.widget.ancestors_with_self)
        self.set_class(in_side, "-side-open")

    def _schedule_auto_optimize(self, config: WorkspaceConfig) -> None:
        """With lazy_loading.auto_optimize on, propose (never apply) every interval."""
        from ctxtui.core.config import interval_seconds

        if self._auto_timer is not None or not config.lazy_loading.auto_optimize:
            return
        seconds = interval_seconds(config.lazy_loading.auto_optimize_interval)
        self._auto_timer = self.set_interval(seconds, self.propose_hot_set)

    @work(thread=True, group="analytics", exclusive=True, exit_on_error=False)
    def propose_hot_set(self) -> None:
        """Compute a usage-based proposal; tell the user if it differs from the hot set."""
        from ctxtui.analytics import optimize
        from ctxtui.analytics.transcript_cache import default_folder
        from ctxtui.analytics.transcripts import read_all

        if not self.settings.transcripts.exists() or self.ws is None:
            return
        sessions, _ = read_all(self.settings.transcripts, cache=default_folder())
        with self.ws_lock:
            prop = optimize.propose(self.ws, sessions, priced=False)  # a notice: no plan needed
            current = sorted(self.ws.hot_names())
        if sorted(prop.hot) != current and sessions:
            self.app.call_from_thread(
                self.notify,
                f"Usage suggests hot: {', '.join(prop.hot)} (covers {prop.coverage_pct}%). Press a to review.",
                title="Auto-optimise", timeout=15,
            )

    def say(self, message: str, *, severity: SeverityLevel = "information", timeout: float = 5) -> None:
        """Tell how an action went in one notice that takes the place of the one before: a key
        pressed again and again (u, t, d) never stacks notices over the lists. Untrusted text
        in MESSAGE is shown as text (no markup). On the UI thread (``call_from_thread`` from a
        worker)."""
        if self._said is not None:
            # Expired, not removed: wherever its Notify is (queued or shown), the app drops it
            # the next time it lists its notifications, which the Notify below makes it do.
            self._said.timeout = 0
        if severity == "information":  # a refusal or a warning is read whole, however long
            message = self._fit_notice(message)
        self._said = Notification(message, "", severity, timeout, markup=False)
        self.app.post_message(Notify(self._said))

    def _fit_notice(self, message: str) -> str:
        """MESSAGE cut (``…``) to the lines between the lists and the footer (the live gauge
        and the budget bar), where the notice is shown (app.tcss: half the screen wide)."""
        import textwrap

        rows = self.query_one(BudgetBar).outer_size.height
        if self.gauge is not None and self.gauge.display:
            rows += self.gauge.outer_size.height
        width = max(self.size.width // 2 - 3, 10)  # the toast's edge and padding
        text = " ".join(message.split())
        # As the toast wraps: at spaces, a word longer than a line folded where the line ends.
        lines = textwrap.wrap(text, width, break_on_hyphens=False)
        rows = max(rows, 1)
        if len(lines) <= rows:
            return message
        start = 0
        for line in lines[:rows - 1]:  # where the last row's text starts in TEXT
            start = text.index(line, start) + len(line)
        return "\n".join([*lines[:rows - 1], end_ellipsis(text[start:].lstrip(), width)])

    # ---------------------------------------------------------------- workers

    @work(thread=True, group="usage", exclusive=True, exit_on_error=False)
    def read_usage(self) -> None:
        """Read transcripts once for the last-used sort, then rebuild the model."""
        root = self.settings.transcripts
        if not root.exists() or self.ws is None:
            return
        from ctxtui.analytics.transcript_cache import default_folder
        from ctxtui.analytics.workspace_usage import last_used_times, read_sessions, workspace_usage

        worker = get_current_worker()
        read = read_sessions(root, lambda: worker.is_cancelled, cache=default_folder())
        if read is None:  # the app is closing
            return
        sessions, stats = read
        with self.ws_lock:
            self.invoked_at = last_used_times(workspace_usage(self.ws, sessions, stats))
            model = self._model() if self.invoked_at else None
        if model is not None:
            self.post_message(self.ModelReady(model))

    def _model(self) -> Model:
        ws = self._workspace()
        return build_model(ws, last_used(self.settings.workspace, self.invoked_at))

    @work(thread=True, group="io", exit_on_error=False)
    def _read_first_rows(self) -> None:
        """Wait for the helper's rows (they are read on the other core while Textual starts)."""
        helper, self._first_rows = self._first_rows, None
        if helper is not None:
            self.post_message(self.FirstRowsRead(helper.result()))

    @work(thread=True, group="load", exclusive=True, exit_on_error=False)
    def load(self, note: str = "") -> None:
        """Index the library (or re-read it) and post a model (with NOTE to say, if any). A
        newer load cancels an older one that is still waiting for the lock, so a burst of
        reloads does the work once. Its own group: exclusive cancels every worker of the
        group, and a move or an undo waiting for the lock must never be dropped by a reload."""
        worker = get_current_worker()
        with self.ws_lock:
            if worker.is_cancelled:
                return
            if self.ws is None:
                ws = self._workspace()
            else:
                ws = self.ws
                ws.refresh()
            model = self._model()
            self._roots = ws.library_roots()
        self.post_message(self.ModelReady(model, note))

    def _workspace(self) -> Workspace:
        """The workspace (with :attr:`ws_lock` held), read now when no load has read it yet:
        a key pressed while only the first rows are on screen waits for it here."""
        from ctxtui.core.workspace import Workspace  # after the first frame: not a start-up import

        if self.ws is None:
            self._fresh = self._not_set_up()
            ws = Workspace(self.settings)
            if ws.config.analytics.track_usage:
                self._attach_events(ws)
            self.ws = ws
        return self.ws

    def _attach_events(self, ws: Workspace) -> None:
        from ctxtui.analytics.events import EventStore

        try:
            store = EventStore.default()
        except Exception:  # noqa: BLE001 - tracking is best effort, never blocks a move
            return
        ws.listeners.append(lambda action, persona, data: store.record(self.settings.workspace, persona, action, data))

    @work(thread=True, group="io", exit_on_error=False)
    def run_core(self, label: str, fn: Callable[[Workspace], object],
                 moved: tuple[bool, list[str]] | None = None) -> None:
        """Run one core operation, then post the new model (a refusal goes to the handler)."""
        with self.ws_lock:
            ws = self._workspace()
            fn(ws)
            model = self._model()
        if moved is not None:
            self.post_message(self.Moved(*moved))
        self.post_message(self.ModelReady(model, label))

    @work(thread=True, group="body", exclusive=True, exit_on_error=False)
    def load_body(self, name: str) -> None:
        """Read a persona body for the detail pane."""
        from ctxtui.core.library import read_body

        model = self.model
        persona = model.personas.get(name) if model else None
        if persona is not None:
            self.post_message(self.BodyLoaded(name, read_body(persona)))

    # ---------------------------------------------------------------- messages

    def on_main_screen_first_rows_read(self, message: FirstRowsRead) -> None:
        """Paint the helper's rows, then read the workspace once they are on screen (its read
        would otherwise hold the interpreter while the first frame is drawn)."""
        rows = message.rows
        if rows is None or self.model is not None:
            self.load()
            return
        self._show_panes(rows)
        for line in rows.problems:
            self.notify(line, title="Recovered", timeout=8, markup=False)
        self._problems_shown.update(rows.problems)
        self.call_after_refresh(self._after_first_rows)

    async def _after_first_rows(self) -> None:
        await self._mount_side()
        self.load()

    def _show_panes(self, m: PaneRows | Model) -> None:
        """Rows, pane titles and the cap warning (from the full model or the first rows)."""
        cold = self.query_one("#cold", PersonaList)
        hot = self.query_one("#hot", PersonaList)
        cold.show(m.cold)
        hot.show(m.hot + m.user_hot)
        self._cold_total = len(m.cold)
        self._cold_title()
        over = m.listed > m.cap  # the cap counts what Claude Code lists (Workspace.visible_hot)
        user = f"  (+{len(m.user_hot)} user scope)" if m.user_hot else ""
        unlisted = len(m.hot) - m.listed
        unlisted_text = f"  (+{unlisted} not listed by Claude Code)" if unlisted else ""
        self.query_one("#hot-title", Label).update(
            f"Hot {m.listed} / {m.cap}" + ("  over the cap" if over else "") + unlisted_text + user)
        self.query_one("#hot-pane").set_class(over, "-over-cap")

    def on_main_screen_model_ready(self, message: ModelReady) -> None:
        first = self.model is None
        m = self.model = message.model
        self._show_panes(m)
        self.query_one(BudgetBar).budget = m.budget
        if self._side_ready:
            self.query_one(StrategySwitcher).set_current(m.strategy)
            self.query_one(HistoryList).show(m.history)
        if self.ws is not None:
            self._schedule_auto_optimize(self.ws.config)
        for line in m.problems:
            if line not in self._problems_shown:
                self.notify(line, title="Recovered", timeout=8, markup=False)
        m.problems.clear()
        self._problems_shown.clear()
        if message.note:
            self.say(message.note, timeout=3)
        self._show_detail()
        self._watch_library_roots(self._roots)
        if first and self._fresh:
            self.notify("This project is not set up for ctxtui yet: press I to set it up "
                        "(ctxtui init; one recorded change, u undoes it)", title="First run", timeout=12, markup=False)
        if first:  # transcripts can be large: read them once the rows are on screen
            self.call_after_refresh(self._mount_side)
            self.call_after_refresh(self.read_usage)
            self.call_after_refresh(self._mount_gauge)

    def _mount_gauge(self) -> None:
        """Mount the live context gauge above the budget bar, after the first frame: its
        modules (watchfiles, the transcript model) are imported only now."""
        from ctxtui.tui.widgets.gauge import gauge_for

        if not self.is_attached or not self.app.is_running:
            return  # quit before the first frame was done: nothing to mount into
        if self.gauge is None:
            self.gauge = gauge_for(self.settings, id="gauge")
            self.gauge.compact = self.has_class("-narrow")
            self.mount(self.gauge, before=self.query_one(BudgetBar))

    def _watch_library_roots(self, roots: list[Path]) -> None:
        """With live reload on, also watch the library folders the workspace reads that the
        app's watcher (which starts before the workspace is read, from the settings) does not:
        those a project's ``hybrid-config.json`` names. Restarted when they change."""
        extra = [r for r in roots if r not in self.settings.libraries]
        if extra == self._extra_roots or not getattr(self.app, "live_reload", False):
            return
        self._extra_roots = extra
        if self._roots_stop is not None:
            self._roots_stop.set()
        self._roots_stop = None
        if extra:
            self._roots_stop = asyncio.Event()
            self.run_worker(self._watch_roots(extra, self._roots_stop), group="watch-library", exit_on_error=False)

    async def _watch_roots(self, roots: list[Path], stop: asyncio.Event) -> None:
        from ctxtui.tui import watch

        async def changed(paths: set[Path]) -> None:
            self.post_message(self.FilesChanged(frozenset(paths)))

        await watch.watch(roots, changed, stop)

    def on_unmount(self) -> None:
        if self._roots_stop is not None:
            self._roots_stop.set()
        if self._first_rows is not None:  # closed before its rows were asked for
            self._first_rows.close()
            self._first_rows = None

    def on_main_screen_files_changed(self, message: FilesChanged) -> None:
        self.load()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Every failed worker of this screen ends here: nothing changed, the user is told once.
        The usage read's start and end are told to the lists (their used cells say reading…)."""
        if event.worker.group == "usage":
            for pane in self.query(PersonaList):
                pane.usage_reading(event.state in (WorkerState.PENDING, WorkerState.RUNNING))
        if event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        if event.worker.group == "watch-library":
            self.notify(f"Live reload of the library stopped: {error}; press r to reload", severity="warning", markup=False)
        elif event.worker.group == "usage":
            self.notify(f"Could not read transcripts: {error}", title="Usage", severity="warning", timeout=6, markup=False)
        elif isinstance(error, USER_ERRORS):
            from ctxtui.core.strategies import EditedSince

            if isinstance(error, EditedSince):  # no --force here: say where it is
                text = (f"{error.refusal}; in a shell, `ctxtui undo --force` (or `rollback --id N --force`) "
                        "overwrites it, and the edit stays in history")
            else:
                text = str(error)
            self.say(f"Refused: {text}", severity="error", timeout=6)
        else:  # a bug: say what, keep the app (every write is journalled) and log the traceback
            self.log.error(event.worker, error)
            self.notify(f"{type(error).__name__}: {error}", title="Unexpected error", severity="error", timeout=10, markup=False)
        if self.model is not None and self._side_ready:  # e.g. a refused migration: the switcher shows the applied one
            self.query_one(StrategySwitcher).set_current(self.model.strategy)

    def on_main_screen_moved(self, message: Moved) -> None:
        for pane in self.query(PersonaList):  # only a move that happened clears its marks
            pane.marked -= set(message.names)
            pane.refresh_marks()

    def on_main_screen_recorded(self, message: Recorded) -> None:
        for pane in self.query(PersonaList):  # like a move: the change done clears its marks
            pane.marked -= set(message.names)
            pane.refresh_marks()

    def on_main_screen_body_loaded(self, message: BodyLoaded) -> None:
        if self._side_ready and self.model and message.name in self.model.personas and self._focused_name() == message.name:
            self.query_one(PersonaDetail).show(self.model.personas[message.name], message.body,
                                               self.model.verdicts.get(message.name),
                                               self.model.tiers.get(message.name))

    @on(PersonaList.Highlighted)
    def _highlighted(self, message: PersonaList.Highlighted) -> None:
        if message.pane.has_focus:
            self._show_detail()

    @on(PersonaList.Toggled)
    def _toggled(self, message: PersonaList.Toggled) -> None:
        self.move([message.name], to_hot=message.pane.side == "cold")

    @on(PersonaList.Dropped)
    def _dropped(self, message: PersonaList.Dropped) -> None:
        self.move(message.names, to_hot=message.target.side == "hot")

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        cold = self.query_one("#cold", PersonaList)
        cold.filter_text = event.value
        cold.refilter()
        self._cold_title()

    def _cold_title(self) -> None:
        """``Cold (shown of total)`` while filtering, the sort, and the density if chosen."""
        if self.model is None and not self._cold_total:
            return
        cold = self.query_one("#cold", PersonaList)
        total = self._cold_total
        count = f"{len(cold.rows_by_key)} of {total}" if cold.filter_text else f"{total}"
        density = f"  density: {self.density}" if self.density else ""
        self.query_one("#cold-title", Label).update(f"Cold ({count})  sort: {cold.sort_by}{density}")

    @on(StrategySwitcher.Requested)
    def _strategy_requested(self, message: StrategySwitcher.Requested) -> None:
        self.request_migration(message.strategy)

    @on(HistoryList.RollbackRequested)
    def _rollback_requested(self, message: HistoryList.RollbackRequested) -> None:
        self.request_rollback(message.entry_id)

    # ---------------------------------------------------------------- one command path

    def move(self, names: list[str], to_hot: bool) -> None:
        """Activate or deactivate through the core (which enforces the cap)."""
        names = [n for n in names if n]
        if not names:
            return
        if to_hot:
            self.run_core(f"activated {', '.join(names)}", lambda ws: ws.activate(names), (True, names))
        else:
            self.run_core(f"deactivated {', '.join(names)}", lambda ws: ws.deactivate(names), (False, names))

    def request_migration(self, strategy: str) -> None:
        """Plan in a worker, confirm with the user, then apply."""
        self._plan_then_confirm(strategy)

    @work(thread=True, group="io", exit_on_error=False)
    def _plan_then_confirm(self, strategy: str) -> None:
        """Plan as ``ctxtui migrate --to STRATEGY`` does: Adaptive is this project's usage
        proposal, or, with no usage, the context mode's pick with the CLI's note."""
        from ctxtui.core import strategies

        if strategy == "adaptive":
            self._plan_adaptive_then_confirm()
            return
        with self.ws_lock:
            ws = self._workspace()
            plan = strategies.plan(ws, strategy, reason="from the TUI")
        self._confirm_plan_from_worker(plan)

    def _plan_adaptive_then_confirm(self) -> None:
        from ctxtui.analytics.adaptive_choice import adaptive_proposal, plan_adaptive, router_model
        from ctxtui.analytics.transcript_cache import default_folder
        from ctxtui.analytics.transcripts import read_all

        root = self.settings.transcripts  # read, and the router trained, before the lock: moves need not wait
        sessions = read_all(root, cache=default_folder())[0] if root.exists() else []
        if any(s.invocations for s in sessions):
            router_model(self.settings, root)
        with self.ws_lock:
            ws = self._workspace()
            prop = adaptive_proposal(ws, self.settings, root, sessions=sessions)
            plan = plan_adaptive(ws, prop, reason="adaptive proposal from the TUI" if prop else "from the TUI")
        self._confirm_plan_from_worker(plan)

    def _confirm_plan_from_worker(self, plan: Plan) -> None:
        # what it costs first: a switch to eager lists hundreds of files
        body = f"startup tokens {plan.tokens_before:,} → {plan.tokens_after:,}"
        body += "".join(f"\nnote: {n}" for n in plan.notes)
        if plan.refusal:  # said before the yes; the yes then asks to apply anyway
            body += f"\ncosts more than eager: {plan.refusal}"
        body += "\n\n" + "\n".join(plan.changes()[:15] or ["nothing to change"])
        if len(plan.changes()) > 15:
            body += f"\n… {len(plan.changes()) - 15} more"
        self.app.call_from_thread(self._confirm_plan, plan, body)

    def _confirm_plan(self, plan: Plan, body: str) -> None:
        from ctxtui.core import strategies

        def switch(force: bool = False) -> None:
            if force:  # strategies.apply plans again from the request, under the lock
                plan.request = {**plan.request, "force": True}

            def apply(ws: Workspace) -> None:
                try:
                    strategies.apply(ws, plan)
                except strategies.NetCostError as exc:
                    self.app.call_from_thread(self._offer_force, str(exc), lambda: switch(force=True))
                    raise

            self.run_core(f"switched to {plan.to_strategy}", apply)

        def done(ok: bool | None) -> None:
            if ok:
                switch()
            elif self.model and self._side_ready:
                self.query_one(StrategySwitcher).set_current(self.model.strategy)

        self.app.push_screen(ConfirmScreen(f"Switch {plan.heading()}?", body), done)

    def request_rollback(self, entry_id: str | None = None) -> None:
        """Confirm, then restore an entry (or undo the last one)."""
        from ctxtui.core import strategies

        what = f"entry {entry_id}" if entry_id else "the last migration"

        def done(ok: bool | None) -> None:
            if ok:
                self.run_core(
                    f"rolled back to {what}",
                    lambda ws: strategies.rollback(ws, entry_id=entry_id, reason="from the TUI"),
                )

        self.app.push_screen(ConfirmScreen(f"Roll back to {what}?", "Files are restored byte for byte (text written outside ctxtui's block in CLAUDE.md since is kept); the rollback is recorded and can itself be rolled back."), done)

    # ---------------------------------------------------------------- actions

    def _focused_list(self) -> PersonaList:
        focused = self.focused
        if isinstance(focused, PersonaList):
            return focused
        return self.query_one("#cold", PersonaList)

    def _focused_name(self) -> str | None:
        return self._focused_list().current_name()

    def _show_detail(self) -> None:
        """Show the focused persona in the detail pane after the next frame: rendering
        markdown is the slowest thing on screen, and rows and cursor must not wait for it."""
        if not self._detail_queued:
            self._detail_queued = True
            self.call_after_refresh(self._render_detail)

    def _render_detail(self) -> None:
        self._detail_queued = False
        if not self._side_ready:
            return  # shown when the side column is mounted
        name = self._focused_name()
        detail = self.query_one(PersonaDetail)
        persona = self.model.personas.get(name) if (name and self.model) else None
        tier = self.model.tiers.get(persona.name) if (persona and self.model) else None
        shown = (persona.name, persona.sha256, persona.problems, tier) if persona else None
        if shown == self._detail_shown:
            return  # rendering markdown is the slowest thing on screen: only when it changed
        self._detail_shown = shown
        if persona is None:
            detail.show(None)
            return
        detail.show(persona, "…", self.model.verdicts.get(persona.name) if self.model else None, tier)
        self.load_body(persona.name)

    def action_move_current(self) -> None:
        """Move the persona under the cursor to the other pane."""
        pane = self._focused_list()
        name = pane.current_name()
        if name:
            self.move([name], to_hot=pane.side == "cold")

    def action_move_selected(self) -> None:
        """Move every selected persona in the focused pane."""
        pane = self._focused_list()
        names = pane.selected_names()
        # Marks are cleared when the move is done (on_main_screen_moved): a refused move keeps
        # them, on screen and in the selection alike.
        self.move(names, to_hot=pane.side == "cold")

    def action_undo(self) -> None:
        """Step back over the newest recorded change, exactly as ``ctxtui undo`` does (one core
        operation, ``strategies.undo``): a move, tier change, strategy switch, auto-optimise, fix
        or setup; again goes one further back. It refuses as the CLI refuses: a file edited
        since ctxtui's last change is never overwritten."""
        from ctxtui.core import strategies
        from ctxtui.core.entry_words import describe
        from ctxtui.core.history import History

        def undo(ws: Workspace) -> None:
            entry = strategies.undo(ws, reason="undo from the TUI")
            undone = History(ws.settings).get(entry.undoes) if entry.undoes else None
            what = describe(undone) if undone is not None else entry.notes[0].removeprefix("restored ")
            self.app.call_from_thread(self.say, f"Undone: {what}", timeout=6)

        self.run_core("", undo)

    def action_choose_tier(self) -> None:
        """Choose the tier of the selected personas (else the one under the cursor)."""
        from ctxtui.tui.screens.tier import TierScreen

        pane = self._focused_list()
        names = pane.selected_names() or [n for n in [pane.current_name()] if n]
        if not names or self.model is None:
            return

        def done(tier: str | None) -> None:
            if tier:
                self.set_tier(names, tier)

        self.app.push_screen(TierScreen(names, self.model.tiers), done)

    def set_tier(self, names: list[str], tier: str) -> None:
        """Move personas to a tier: ``core.tiers.set_tier``, the operation ``ctxtui tier`` runs."""
        from ctxtui.core.tiers import set_tier

        def apply(ws: Workspace) -> None:
            result = set_tier(ws, names, tier)  # the reason says what changed (as the CLI's)
            if result.entry:
                self.post_message(self.Recorded(result.entry, [c.name for c in result.changed]))
            said = "; ".join([f"tier of {', '.join(names)}: {tier}", *result.notes])
            if result.notes:  # a kept edit is news: said whole
                self.app.call_from_thread(partial(self.say, said, severity="warning", timeout=8))
            else:
                self.app.call_from_thread(self.say, said, timeout=3)

        self.run_core("", apply)  # said in apply, with the notes: a later note would replace them

    def action_filter(self) -> None:
        """Focus the cold pane's filter."""
        # A priority binding, and at once, not after the queue (Widget.focus defers): keys typed
        # right after the slash are handed out after it, to the filter, not the list's bindings.
        flt = self.query_one("#filter", Input)
        self.set_focus(flt)
        flt.select_all()  # now, not when the focus event comes: what is typed next replaces it

    def action_focus_pane(self, step: int) -> None:
        """Tab through the focusable widgets but the filter: the hot list's next is the cold
        list (or the side column), so ``tab t`` moves a persona instead of typing a t."""
        chain = [w for w in self.focus_chain if w.id != "filter"]
        if not chain:
            return
        current = self.focused
        if current in chain:
            target = chain[(chain.index(current) + step) % len(chain)]
        else:  # in the filter: on to its list, or back before it
            target = chain[0] if step > 0 else chain[-1]
        self.set_focus(target)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """In the filter, the filter's own key is text (its binding runs first: a priority)."""
        if action == "filter" and self.focused is not None and self.focused.id == "filter":  # not has_focus: it
            # follows the focus events, which may still be queued behind the keys
            return None  # shown, dimmed; the key goes on to the filter
        return True

    def action_cycle_sort(self) -> None:
        """Sort both panes by name, tokens, then last used."""
        for pane in self.query(PersonaList):
            pane.sort_by = SORTS[(SORTS.index(pane.sort_by) + 1) % len(SORTS)]
            pane.refilter()
        self._cold_title()

    def action_cycle_density(self) -> None:
        """Cycle the cold index density the preview and the write use (auto, full, names, search)."""
        self.density = DENSITY_CYCLE[(DENSITY_CYCLE.index(self.density) + 1) % len(DENSITY_CYCLE)]
        self._cold_title()
        self.say(f"CLAUDE.md density: {self.density or 'auto (by library size)'}; p previews, w writes", timeout=4)

    @work(thread=True, group="io", exit_on_error=False)
    def action_preview(self) -> None:
        """Open the CLAUDE.md preview (built in a worker)."""
        from ctxtui.core import strategies
        from ctxtui.tui.screens.preview import PreviewScreen

        with self.ws_lock:
            ws = self._workspace()
            pv = strategies.preview(ws, self.density)

        def done(write: bool | None) -> None:
            if write:
                self.action_write_claude_md()

        self.app.call_from_thread(self.app.push_screen, PreviewScreen(pv), done)

    def action_write_claude_md(self) -> None:
        """Write the generated block into CLAUDE.md (atomic, through the core)."""
        from ctxtui.core import strategies

        self.run_core("CLAUDE.md written", lambda ws: strategies.write_preview(ws, self.density))

    async def action_focus_strategy(self) -> None:
        """Open the strategy switcher."""
        from textual.widgets import Select

        await self._mount_side()  # asked before the first rows: the keys after it wait for it
        self.add_class("-side-open")  # in a narrow terminal the side column is shown first
        select = self.query_one("#strategy-select", Select)
        # at once, not after a refresh: the keys typed right after g (down, enter) are for it
        self.set_focus(select)
        select.action_show_overlay()

    async def action_focus_history(self) -> None:
        """Focus the history list."""
        await self._mount_side()
        self.add_class("-side-open")
        self.set_focus(self.query_one(HistoryList))  # at once: an enter typed right after h is for it

    def action_toggle_gauge(self) -> None:
        """Show or hide the live context gauge (it keeps following while hidden)."""
        if self.gauge is not None:
            self.gauge.display = not self.gauge.display

    def action_reload(self) -> None:
        """Re-read everything from disk (and say so: nothing may look different)."""
        self.load(note="Reloaded from disk")

    def action_help(self) -> None:
        """Show the key reference (built from the action table and the keymap)."""
        from ctxtui.tui.screens.help import HelpScreen

        self.app.push_screen(HelpScreen(self.settings.keymap))

    def _not_set_up(self) -> bool:
        """No ctxtui state and no hybrid-config.json: ``ctxtui init`` never ran here (and the
        folder is a project, not the home folder whose .claude is the user scope)."""
        from ctxtui.core.config import WORKSPACE_CONFIG_NAME
        from ctxtui.core.project_init import home_problem

        s = self.settings
        return (not s.state_dir.exists() and not (s.workspace / WORKSPACE_CONFIG_NAME).exists()
                and home_problem(s) is None)

    @work(thread=True, group="io", exit_on_error=False)
    def action_init_project(self) -> None:
        """Show what ``ctxtui init`` would do here, then do it on confirmation."""
        from ctxtui.core.project_init import init

        library = self.settings.library_dirs[0] if self.settings.library_dirs else None
        with self.ws_lock:  # what init would change, planned by init itself (nothing written)
            ws = self._workspace()
            planned = init(ws, library, dry_run=True)
        if not planned.changes:
            self.app.call_from_thread(self.say, "This project is set up for ctxtui already: nothing to change")
            return
        lines = [*planned.changes, *planned.notes, "\nOne change in history: u undoes it byte for byte."]

        def apply(ws: Workspace) -> None:
            from ctxtui.core.project_init import init

            result = init(ws, library, reason="from the TUI")
            ws.refresh()  # the recorded library is read from now on
            if result.entry:
                self.post_message(self.Recorded(result.entry))

        def done(ok: bool | None) -> None:
            if ok:
                self._fresh = False
                self.run_core("project set up (ctxtui init)", apply)

        self.app.call_from_thread(
            self.app.push_screen, ConfirmScreen(f"Set up {self.settings.workspace.name} for ctxtui?", "\n".join(lines)),
            done)

    @work(thread=True, group="io", exit_on_error=False)
    def action_lint(self) -> None:
        """Lint the project's agent files (``ctxtui lint``) in a worker, then show the findings."""
        from ctxtui.core import fix_op
        from ctxtui.tui.screens.lint import LintScreen

        with self.ws_lock:
            ws = self._workspace()
            files = fix_op.lint_workspace(ws)

        def done(fix: bool | None) -> None:
            if fix:
                self._plan_fixes()

        self.app.call_from_thread(self.app.push_screen, LintScreen(files), done)

    @work(thread=True, group="io", exit_on_error=False)
    def _plan_fixes(self) -> None:
        """The dry run of ``ctxtui fix --all``, shown for confirmation before anything is written."""
        from ctxtui.core import fix_op

        with self.ws_lock:
            ws = self._workspace()
            plan = fix_op.apply_fixes(ws, None, dry_run=True)
        lines = [f"fix {i.source}" + ("" if i.dest in (None, i.source) else f" as a copy in the cold store: {i.dest}")
                 for i in plan.written]
        lines += [f"cannot fix {i.source}: {i.result.reason}" for i in plan.items if i.result.status == "cannot"]
        body = "\n".join(lines[:15] or ["nothing to change"])
        if len(lines) > 15:
            body += f"\n… {len(lines) - 15} more"
        self.app.call_from_thread(self._confirm_fixes, len(plan.written), body)

    def _confirm_fixes(self, count: int, body: str) -> None:
        from ctxtui.core import fix_op

        def apply(ws: Workspace) -> None:
            report = fix_op.apply_fixes(ws, None)
            if report.entry is not None:
                self.post_message(self.Recorded(report.entry.id))

        def done(ok: bool | None) -> None:
            if ok:
                self.run_core(f"fixed {count} agent file(s); u undoes it", apply)

        if not count:
            self.say(f"Nothing fixed: {body}", severity="warning", timeout=8)  # why each file was not: whole
            return
        self.app.push_screen(ConfirmScreen(f"Fix {count} agent file(s)?", body), done)

    def action_startup_chart(self) -> None:
        """Open the chart of the whole startup context (the budget already on screen)."""
        from ctxtui.tui.screens.startup import StartupScreen

        if self.model is not None:
            self.app.push_screen(StartupScreen(self.model.budget.whole))

    def action_analytics(self) -> None:
        """Open the analytics screen; a proposal it returns is applied as a migration here."""
        from ctxtui.tui.screens.analytics import AnalyticsScreen

        def done(proposal: Proposal | None) -> None:
            if proposal is not None:
                self.apply_proposal(proposal)

        self.app.push_screen(AnalyticsScreen(self.settings), done)

    def apply_proposal(self, proposal: Proposal, force: bool = False) -> None:
        """Apply a usage-based hot set (a recorded migration that can be rolled back). When the
        net-savings guard refuses it, say why and offer to apply it anyway."""
        from ctxtui.analytics import optimize
        from ctxtui.core.strategies import NetCostError

        def apply(ws: Workspace) -> None:
            try:
                optimize.apply(ws, proposal, force=force)
            except NetCostError as exc:
                self.app.call_from_thread(self._offer_force, str(exc), lambda: self.apply_proposal(proposal, force=True))
                raise

        self.run_core("applied the auto-optimised hot set", apply)

    def _offer_force(self, why: str, again: Callable[[], None]) -> None:
        """The net-savings guard refused: say why and offer to do it anyway (AGAIN, forced)."""

        def done(yes: bool | None) -> None:
            if yes:
                again()
            elif self.model and self._side_ready:
                self.query_one(StrategySwitcher).set_current(self.model.strategy)

        self.app.push_screen(ConfirmScreen("Costs more than eager: apply anyway?", why), done)

    def action_cancel(self) -> None:
        """Cancel a drag, clear the filter or close the side column."""
        for pane in self.query(PersonaList):
            if pane.dragging:
                pane.cancel_drag()
                return
        if self.has_class("-side-open"):
            self.query_one("#cold", PersonaList).focus()
            return
        flt = self.query_one("#filter", Input)
        if flt.value:
            flt.value = ""
        if flt.has_focus:  # escape leaves the filter: q, t and s are keys again, not text
            self.set_focus(self.query_one("#cold", PersonaList))
