"""The Textual app. Build it with :func:`ctxtui.tui.app.make_app` (the CLI, ``run_test()`` and
snapshot tests all do), which starts reading the first rows before Textual is imported."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from textual import events, work
from textual.app import App
from textual.worker import Worker, WorkerState

from ctxtui.core.config import Settings, save_setting
from ctxtui.tui.actions import bindings, bound_keys, check_keymap
from ctxtui.tui.commands import CtxCommands
from ctxtui.tui.first_view import FirstRows
from ctxtui.tui.key_relay import split_alt
from ctxtui.tui.screens.main import MainScreen
from ctxtui.tui.themes import THEME_VARIABLES, load_themes

EARLY_KEYS_MAX_SECONDS = 10.0
"""Keys typed before the main screen is up wait for it at most this long."""


class CtxApp(App):
    """ctxtui's terminal UI."""

    CSS_PATH = "app.tcss"
    TITLE = "ctxtui"
    COMMANDS = App.COMMANDS | {CtxCommands}
    BINDINGS = bindings("app")

    def __init__(self, settings: Settings, *, watch_files: bool | None = None, remember_theme: bool = True,
                 first_rows: FirstRows | None = None) -> None:
        check_keymap(settings.keymap)  # before anything is built: one clear line, not a bad UI
        super().__init__()
        self.settings = settings
        self.first_rows = first_rows
        """The helper reading the panes' first rows (None: the main screen reads them itself)."""
        self.live_reload = settings.watch if watch_files is None else watch_files
        self.remember_theme = remember_theme
        self._stop_watch = asyncio.Event()
        loaded = load_themes()
        for theme in loaded.themes:
            self.register_theme(theme)
        self.theme_problems = loaded.problems
        names = {t.name for t in loaded.themes} | set(self.available_themes)
        self._set_first_theme(
            settings.theme if settings.theme in names else "ctxtui-dark" if "ctxtui-dark" in names else "textual-dark")
        self.sub_title = str(settings.workspace)
        if settings.keymap:
            self.set_keymap(settings.keymap)
        self._bound_keys = bound_keys(settings.keymap)
        self._early_keys: list[events.Key] | None = []
        """Keys typed before the main screen could take them (None once they were handed on)."""
        self._early_until = 0.0

    async def on_event(self, event: events.Event) -> None:
        """Keys typed while the app starts wait for the main screen, then are handed on in
        order; escape typed right before a letter (read by the terminal as one Alt chord) is
        two keys."""
        if isinstance(event, events.Key) and not event.is_forwarded:
            if self._early_keys is not None:
                self._early_keys.append(event)
                return
            if (keys := split_alt(event, self._bound_keys)) is not None:
                for key in keys:
                    await super().on_event(key)
                return
        await super().on_event(event)

    async def take_early_keys(self) -> None:
        """The main screen is ready (or the wait was long enough): hand on the keys typed
        before, in order, ahead of any typed since (this runs in the app's own queue)."""
        keys, self._early_keys = self._early_keys or [], None
        for key in keys:
            await self.on_event(key)

    async def _early_keys_due(self) -> None:
        """Hand the early keys on if the main screen has not: while it is on its way (pushed,
        not mounted yet: a loaded machine) they wait a little more, never past
        :data:`EARLY_KEYS_MAX_SECONDS` (the keys of an empty screen would be lost)."""
        main = self._main()
        if self._early_keys is not None and main is not None and not main.is_mounted \
                and time.monotonic() < self._early_until:
            self.set_timer(0.25, self._early_keys_due)
            return
        await self.take_early_keys()

    def _set_first_theme(self, name: str) -> None:
        """The theme before the first frame. Assigning ``self.theme`` here would make Textual
        parse and apply the whole stylesheet a second time (its theme watcher refreshes the
        CSS); before the first parse, giving the stylesheet the theme's variables is enough.
        What the watcher does besides (pinned Textual 8.2.8) is done here."""
        self.set_reactive(App.theme, name)
        theme = self.current_theme
        classes = {c: False for c in self.classes if c.startswith("-theme-")}
        self.update_classes({**classes, f"-theme-{theme.name}": True, "-dark-mode": theme.dark,
                             "-light-mode": not theme.dark}, update=False)
        self._refresh_truecolor_filter(self.ansi_theme)
        self.stylesheet.set_variables(self.get_css_variables())

    def get_theme_variable_defaults(self) -> dict[str, str]:
        """Defaults for ctxtui's own theme variables, so every theme can be used."""
        return dict(THEME_VARIABLES)

    def on_mount(self) -> None:
        self._early_until = time.monotonic() + EARLY_KEYS_MAX_SECONDS
        self.set_timer(2.0, self._early_keys_due)
        self.push_screen(MainScreen(self.settings, self.first_rows))
        self.first_rows = None  # the screen owns it now
        for problem in self.theme_problems:
            self.notify(problem, title="Theme skipped", severity="warning", markup=False)
        if self.live_reload:
            self.run_worker(self._watch_recursive(), group="watch", exit_on_error=False)
            self.run_worker(self._watch_workspace_root(), group="watch", exit_on_error=False)

    def watch_theme(self, theme: str) -> None:
        if self.remember_theme and self.is_running:
            self._save_theme(theme)

    @work(thread=True, group="settings", exclusive=True, exit_on_error=False)
    def _save_theme(self, theme: str) -> None:
        """Remember the theme (file I/O stays off the UI thread; a failure goes to the handler)."""
        save_setting("theme", theme)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The app's own workers (theme saving, file watching) report a failure here, once.
        Each screen handles its own workers the same way."""
        if event.state != WorkerState.ERROR:
            return
        if event.worker.group == "settings":
            self.notify(f"Could not save the theme choice: {event.worker.error}", severity="warning", markup=False)
        elif event.worker.group == "watch":
            self.notify(f"Live reload stopped: {event.worker.error}; press r to reload", severity="warning", markup=False)

    def _main(self) -> MainScreen | None:
        return next((s for s in self.screen_stack if isinstance(s, MainScreen)), None)

    async def _changed(self, paths: set[Path]) -> None:
        """Files changed on disk: tell the main screen (a burst becomes one reload there)."""
        main = self._main()
        if main is not None:
            main.post_message(MainScreen.FilesChanged(frozenset(paths)))

    async def _watch_recursive(self) -> None:
        from ctxtui.tui import watch  # watchfiles and anyio: not needed for the first frame

        s = self.settings
        paths = [*s.libraries, s.agents_dir, s.user_agents_dir, s.workspace / ".claude" / "rules"]
        await watch.watch(paths, self._changed, self._stop_watch)

    async def _watch_workspace_root(self) -> None:
        from watchfiles import awatch

        from ctxtui.tui import watch

        root = self.settings.workspace
        names = {"CLAUDE.md", "CLAUDE.local.md", "hybrid-config.json"}
        async for changes in awatch(root, debounce=watch.DEBOUNCE_MS, step=watch.STEP_MS,
                                    stop_event=self._stop_watch, recursive=False):
            if any(Path(p).name in names for _, p in changes):
                await self._changed({Path(p) for _, p in changes})

    def on_unmount(self) -> None:
        self._stop_watch.set()  # let the watchers end cleanly (Textual's own quit action runs)
        if self.first_rows is not None:  # quit before the main screen was pushed
            self.first_rows.close()
