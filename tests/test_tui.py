"""The TUI driven by Pilot: keys, multi-select, filter, drag and drop, cap refusal, undo,
live reload and themes. Every move must show up on disk (the core did it) and in the budget."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time

import pytest
from textual.worker import WorkerCancelled, WorkerFailed

from conftest import delegations, persona_text
from ctxtui.core import config
from ctxtui.core.config import load_settings
from ctxtui.tui.app import make_app
from ctxtui.tui.screens.main import MainScreen
from ctxtui.tui.widgets.budget_bar import BudgetBar
from ctxtui.tui.widgets.persona_list import PersonaList

SIZE = (140, 40)
WORKER_WAIT = 60.0  # seconds; generous for a loaded CI machine


async def settle(pilot, app) -> MainScreen:
    """Wait on the workers themselves until the screen shows a model and no I/O worker runs."""
    for _ in range(200):
        busy = [w for w in app.workers if w.group in ("io", "body", "load")]
        try:  # bounded: a worker that never ends fails the test instead of hanging the suite
            with contextlib.suppress(WorkerCancelled, WorkerFailed):  # a refusal is a failed worker
                # never an empty list: wait_for_complete([]) waits for *every* worker, and the
                # live gauge's follower runs until the app closes
                if busy:
                    await asyncio.wait_for(app.workers.wait_for_complete(busy), WORKER_WAIT)
        except asyncio.TimeoutError:
            raise AssertionError(f"workers still running after {WORKER_WAIT} s: "
                                 f"{[w.name for w in busy if w.is_running]}") from None
        await pilot.pause(0.02)  # with a delay: a bare pause() waits on every widget's queue
        screen = next((s for s in app.screen_stack if isinstance(s, MainScreen)), None)
        if screen is not None and screen.model is not None and not [w for w in app.workers if w.group in ("io", "load") and w.is_running]:
            await pilot.pause(0.05)
            return screen
    raise AssertionError("the app never settled")


def hot_files(settings) -> list[str]:
    return sorted(p.name for p in settings.agents_dir.glob("*.md")) if settings.agents_dir.exists() else []


async def open_analytics(pilot, app):
    """Press a and wait (bounded) until the usage table has rows; returns the table."""
    await pilot.press("a")
    for _ in range(200):
        await pilot.pause(0.05)
        if app.screen.query("#usage-table") and app.screen.query_one("#usage-table").row_count:
            break
    return app.screen.query_one("#usage-table")


def app_for(settings, **kw):
    return make_app(settings, watch_files=kw.pop("watch_files", False), remember_theme=kw.pop("remember_theme", False), **kw)


async def test_toggle_by_key_moves_the_file_and_updates_the_budget(settings):
    app = app_for(settings)
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot, app)
        before = screen.query_one(BudgetBar).budget.startup_tokens
        cold = screen.query_one("#cold", PersonaList)
        assert cold.current_name() == "alpha"
        await pilot.press("t")
        await settle(pilot, app)
        assert hot_files(settings) == ["alpha.md"]
        after = screen.query_one(BudgetBar).budget.startup_tokens
        assert after > before
        assert [r.name for r in screen.model.hot] == ["alpha"]


async def test_multi_select_then_move_all(settings):
    app = app_for(settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("space", "down", "space", "m")
        await settle(pilot, app)
        assert hot_files(settings) == ["alpha.md", "beta.md"]


async def test_filter_as_you_type_matches_name_and_description(settings):
    app = app_for(settings)
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot, app)
        await pilot.press("slash", *"number 3")
        await pilot.pause(0.1)
        cold = screen.query_one("#cold", PersonaList)
        assert [r.name for r in cold.rows_by_key.values()] == ["delta"]
        await pilot.press("enter", "t")
        await settle(pilot, app)
        assert hot_files(settings) == ["delta.md"]


async def drag(pilot, source: str, target: str, row: int = 0) -> None:
    """Press on a row of the source list, move past the threshold, release over the target."""
    y = row + 1  # header line
    await pilot.mouse_down(source, offset=(4, y))
    await pilot.hover(source, offset=(8, y + 1))
    await pilot.hover(target, offset=(6, 2))
    await pilot.mouse_up(target, offset=(6, 2))


async def test_drag_from_cold_to_hot_and_back(settings):
    app = app_for(settings)
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot, app)
        await drag(pilot, "#cold", "#hot", row=1)
        await settle(pilot, app)
        assert hot_files(settings) == ["beta.md"]
        assert not screen.query("#drag-ghost")
        assert app.mouse_captured is None
        await drag(pilot, "#hot", "#cold", row=0)
        await settle(pilot, app)
        assert hot_files(settings) == []


async def test_drop_over_the_cap_is_refused_with_a_notification(settings):
    settings.agents_dir.mkdir(parents=True)
    app = app_for(settings)
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot, app)
        await pilot.press("space", "down", "space", "down", "space", "m")
        await settle(pilot, app)
        assert len(hot_files(settings)) == 3
        await drag(pilot, "#cold", "#hot", row=0)
        await settle(pilot, app)
        assert len(hot_files(settings)) == 3
        assert any("cap is 3" in n.message for n in app._notifications)
        assert screen.query_one("#hot-title").render().plain.startswith("Hot 3 / 3")


async def test_escape_cancels_a_drag_and_releases_the_mouse(settings):
    app = app_for(settings)
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot, app)
        await pilot.mouse_down("#cold", offset=(4, 1))
        await pilot.hover("#cold", offset=(9, 3))
        cold = screen.query_one("#cold", PersonaList)
        assert cold.dragging and screen.query("#drag-ghost")
        await pilot.press("escape")
        assert not cold.dragging and app.mouse_captured is None and not screen.query("#drag-ghost")
        await pilot.mouse_up("#hot", offset=(6, 2))
        await settle(pilot, app)
        assert hot_files(settings) == []


async def test_undo_reverses_the_last_move(settings):
    app = app_for(settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("t")
        await settle(pilot, app)
        assert hot_files(settings) == ["alpha.md"]
        await pilot.press("u")
        await settle(pilot, app)
        assert hot_files(settings) == []


async def test_live_reload_shows_a_file_written_by_another_program(settings):
    app = app_for(settings, watch_files=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot, app)
        cold = screen.query_one("#cold", PersonaList)
        await pilot.press("down", "down")
        selected = cold.current_name()
        settings.agents_dir.mkdir(parents=True, exist_ok=True)
        # Wait for the watcher itself, not a fixed pause: it starts in a worker after mount and
        # misses what changed before it ran. A new folder each second until one is reported.
        shown, end, n = screen.model, time.monotonic() + 30, 0
        while screen.model is shown and time.monotonic() < end:
            (settings.agents_dir / f"probe-{n}").mkdir()
            n += 1
            step = time.monotonic() + 1
            while screen.model is shown and time.monotonic() < step:
                await pilot.pause(0.05)
        assert screen.model is not shown, "the watcher never reported a change"
        (settings.agents_dir / "outsider.md").write_text(persona_text("outsider", "Written by Claude Code"))
        end = time.monotonic() + 30
        while time.monotonic() < end:
            await pilot.pause(0.05)
            if screen.model and "outsider" in [r.name for r in screen.model.hot]:
                break
        assert "outsider" in [r.name for r in screen.model.hot]
        assert "unmanaged" in screen.model.hot[0].flags
        assert cold.current_name() == selected  # selection kept across the reload


async def test_theme_switch_is_applied_and_remembered(settings):
    app = app_for(settings, remember_theme=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        assert app.theme == "ctxtui-dark"
        app.theme = "ctxtui-high-contrast"
        await until(lambda: config.settings_file().exists())  # saved by a worker thread
    saved = json.loads(config.settings_file().read_text())
    assert saved["theme"] == "ctxtui-high-contrast"
    app2 = app_for(load_settings(workspace=settings.workspace, library_dirs=settings.library_dirs))
    assert app2.theme == "ctxtui-high-contrast"


async def test_broken_user_theme_is_reported_and_skipped(settings):
    themes = config.config_dir() / "themes"
    themes.mkdir(parents=True)
    (themes / "bad.json").write_text('{"name": "bad", "primary": "not-a-colour"}')
    (themes / "mine.json").write_text('{"name": "mine", "primary": "#123456"}')
    app = app_for(settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        assert "mine" in app.available_themes and "bad" not in app.available_themes
        assert any("bad.json" in n.message for n in app._notifications)


async def test_help_and_preview_screens_open_and_close(settings):
    app = app_for(settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("question_mark")
        await pilot.pause(0.1)
        assert type(app.screen).__name__ == "HelpScreen"
        await pilot.press("escape")
        await pilot.press("p")
        await until(lambda: type(app.screen).__name__ == "PreviewScreen")
        assert type(app.screen).__name__ == "PreviewScreen"
        await pilot.press("w")
        await settle(pilot, app)
        assert "<!-- ctxtui:begin -->" in (settings.workspace / "CLAUDE.md").read_text()


async def test_strategy_switch_and_rollback_from_the_ui(settings):
    app = app_for(settings)
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot, app)
        screen.request_migration("eager")
        await until(lambda: type(app.screen).__name__ == "ConfirmScreen")
        await pilot.press("y")
        await settle(pilot, app)
        assert len(hot_files(settings)) == 5 and screen.model.strategy == "eager"
        screen.request_rollback(None)
        await pilot.pause(0.1)
        await pilot.press("y")
        await settle(pilot, app)
        assert hot_files(settings) == [] and len(screen.model.history) == 2


@pytest.mark.parametrize("quit_key", ["q", "ctrl+q"])
async def test_clean_quit(settings, quit_key):
    app = app_for(settings, watch_files=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press(quit_key)
        await asyncio.sleep(0.1)
        assert app._exit  # the app asked to exit
    assert app.return_code == 0


async def test_analytics_screen_shows_usage_and_applies_auto_optimise(settings, tmp_path):
    transcripts = delegations(tmp_path / "transcripts", ["beta", "beta", "gamma"], "review number {i}")
    s = load_settings(workspace=settings.workspace, library_dirs=settings.library_dirs, transcripts_dir=transcripts)
    app = app_for(s)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        table = await open_analytics(pilot, app)
        assert table.row_count == 2 and table.get_row_at(0)[0] == "beta"
        await pilot.press("o")
        await pilot.pause(0.2)
        await pilot.press("y")
        await settle(pilot, app)
        # five tiny personas are cheaper hot: the guard refuses and the TUI offers to force it
        for _ in range(100):
            if "apply anyway" in str(getattr(app.screen, "title_text", "")):
                break
            await pilot.pause(0.05)
        assert "apply anyway" in app.screen.title_text and "cheaper hot" in app.screen.body
        assert hot_files(s) == []
        await pilot.press("y")
        await settle(pilot, app)
        assert hot_files(s) == ["beta.md", "gamma.md", "persona-manager.md"]


async def test_sort_cycles_to_tokens_and_last_used(settings):
    from ctxtui.analytics.events import EventStore

    EventStore.default().record(settings.workspace, "delta", "activate")
    app = app_for(settings)
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot, app)
        cold = screen.query_one("#cold", PersonaList)
        names = lambda: [r.name for r in cold.rows_by_key.values()]  # noqa: E731
        assert names()[:2] == ["alpha", "beta"]
        await pilot.press("s")
        by_tokens = sorted(screen.model.cold, key=lambda r: (-r.startup, r.name.lower()))
        assert names() == [r.name for r in by_tokens]
        await pilot.press("s")
        assert cold.sort_by == "last used" and names()[0] == "delta"


async def test_bindings_can_be_remapped_by_id(workspace, library):
    s = load_settings(workspace=workspace, library_dirs=[library], keymap={"toggle": "x"})
    app = app_for(s)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("x")
        await settle(pilot, app)
        assert hot_files(s) == ["alpha.md"]


async def test_user_scope_agents_are_shown_but_not_moved(settings):
    settings.user_agents_dir.mkdir(parents=True)
    (settings.user_agents_dir / "global.md").write_text(persona_text("global-helper", "in every project"))
    app = app_for(settings)
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot, app)
        hot = screen.query_one("#hot", PersonaList)
        assert [r.name for r in hot.rows_by_key.values()] == ["global-helper"]
        assert "user scope" in str(screen.query_one("#hot-title").render())
        hot.focus()
        await pilot.press("t")
        await settle(pilot, app)
        assert any("user scope" in n.message for n in app._notifications)
        assert (settings.user_agents_dir / "global.md").exists()


def test_a_keymap_that_names_an_unknown_action_or_removes_quit_is_refused(workspace, library):
    from ctxtui.core.errors import CtxtuiError

    for keymap, words in (({"tog": "x"}, "unknown action 'tog'"), ({"quit": ""}, "Quit needs a key"),
                          ({"toggle": "q"}, "both")):
        s = load_settings(workspace=workspace, library_dirs=[library], keymap=keymap)
        with pytest.raises(CtxtuiError, match=words) as info:
            app_for(s)
        assert "\n" not in str(info.value)


def test_cli_refuses_a_bad_keymap_with_one_line(capsys, workspace, library):
    from ctxtui.cli import main

    config.save_setting("keymap", {"quit": ""})
    assert main(["-w", str(workspace), "-l", str(library)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "keymap.quit" in err and "Traceback" not in err


async def test_a_remapped_key_shows_in_footer_help_and_palette(workspace, library):
    from ctxtui.tui.commands import CtxCommands

    s = load_settings(workspace=workspace, library_dirs=[library], keymap={"toggle": "x", "sort": "ctrl+o"})
    app = app_for(s)
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot, app)
        footer_keys = {b.binding.id: key for key, b in screen.active_bindings.items()}
        assert footer_keys["toggle"] == "x" and footer_keys["sort"] == "ctrl+o"
        entries = {title: help_text for title, _, help_text in CtxCommands(screen)._entries()}
        assert entries["Toggle"].endswith("[x]") and "^o" in entries["Sort"]
        await pilot.press("question_mark")
        await pilot.pause(0.1)
        text = app.screen.query_one("Markdown")._markdown
        assert "| `x` | move the persona under the cursor" in text
        assert "`t`" not in text.split("| Key | Action |")[1].split("move the persona")[0]


async def test_cold_pane_is_exactly_the_cores_cold_list(settings, library):
    from ctxtui.core.workspace import Workspace

    (library / "broken.md").write_text("no frontmatter at all\n")
    (library / "sub").mkdir()
    (library / "sub" / "alpha.md").write_text(persona_text("alpha", "A duplicate name"))
    app = app_for(settings)
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot, app)
        shown = sorted(r.name for r in screen.model.cold)
    assert shown == sorted(p.name for p in Workspace(settings).cold())


async def test_a_burst_of_file_events_is_one_reload(settings):
    app = app_for(settings)
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot, app)
        loads = []
        original = screen._model
        screen._model = lambda: (loads.append(1), original())[1]
        for _ in range(20):
            screen.post_message(MainScreen.FilesChanged())
        await settle(pilot, app)
        assert 1 <= len(loads) <= 2  # queued events coalesce; an event during a load adds one


async def test_a_failing_operation_is_reported_once_and_the_app_keeps_running(settings):
    app = app_for(settings)
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot, app)

        def boom(ws):
            raise OSError("disk on fire")

        screen.run_core("never", boom)
        await settle(pilot, app)
        messages = [n.message for n in app._notifications if "disk on fire" in n.message]
        assert messages == ["Refused: disk on fire"]
        await pilot.press("t")
        await settle(pilot, app)
        assert hot_files(settings) == ["alpha.md"]


def _own_names(cls) -> set[str]:
    """Methods, properties and ``self.x =`` attributes a class of ours defines."""
    import ast
    import inspect

    names = {n for n, v in vars(cls).items() if callable(v) or isinstance(v, property)}
    for node in ast.walk(ast.parse(inspect.getsource(cls))):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        for t in targets:
            if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self":
                names.add(t.attr)
    return names


def test_members_do_not_shadow_textual(settings):
    """Our methods and attributes never replace one of Textual's (``lock``, ``visible``…)."""
    from textual.app import App
    from textual.reactive import Reactive
    from textual.screen import Screen
    from textual.widgets import DataTable

    from ctxtui.tui.application import CtxApp
    from ctxtui.tui.screens.analytics import AnalyticsScreen
    from ctxtui.tui.widgets.strategy import HistoryList, StrategySwitcher

    allowed = {"BINDINGS", "CSS_PATH", "TITLE", "COMMANDS", "DEFAULT_CSS", "can_focus", "can_focus_children",
               "check_action"}  # Textual's hooks, there to be overridden
    pairs = ((MainScreen, Screen()), (AnalyticsScreen, Screen()), (PersonaList, DataTable()),
             (HistoryList, DataTable()), (StrategySwitcher, Screen()), (CtxApp, App()))
    for cls, base in pairs:
        theirs = set(dir(base))
        clash = {n for n in _own_names(cls) - allowed if not n.startswith("_") and n in theirs
                 and not isinstance(getattr(type(base), n, None), Reactive)  # setting a reactive is its use
                 and not n.startswith(("on_", "watch_", "compose", "get_theme_variable_defaults"))}
        assert not clash, f"{cls.__name__} shadows {sorted(clash)}"
    assert "lock" in dir(Screen()) and "visible" in dir(DataTable())  # what the check protects


async def test_a_theme_that_cannot_be_saved_is_reported_once(settings):
    config.settings_file().mkdir(parents=True)  # a folder where the settings file should be
    app = app_for(settings, remember_theme=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        app.theme = "ctxtui-high-contrast"
        await until(lambda: any("theme" in n.message for n in app._notifications))
        assert app.theme == "ctxtui-high-contrast" and app.is_running
        assert len([n for n in app._notifications if "Could not save the theme" in n.message]) == 1


# ---------------------------------------------------------------- fitting the terminal

def test_middle_ellipsis_keeps_the_end_that_tells_names_apart():
    from ctxtui.tui.text import middle_ellipsis

    a = middle_ellipsis("backend-api-security-backend-architect", 20)
    b = middle_ellipsis("backend-api-security-backend-security-coder", 20)
    assert len(a) == len(b) == 20 and "…" in a
    assert a.endswith("-architect") and b.endswith("ecurity-coder") and a != b
    assert middle_ellipsis("short", 20) == "short"


def _cell_marks(pane: PersonaList) -> set[str]:
    return {r.name for key, r in pane.rows_by_key.items() if pane.get_cell(key, "mark") == "●"}


async def test_refused_multi_move_keeps_marks_on_screen_equal_to_the_selection(settings):
    app = app_for(settings)
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot, app)
        cold = screen.query_one("#cold", PersonaList)
        await pilot.press("space", "down", "space", "down", "space", "down", "space", "m")  # 4 > cap 3
        await settle(pilot, app)
        assert hot_files(settings) == []
        assert cold.marked == _cell_marks(cold) == {"alpha", "beta", "delta", "epsilon"}  # sorted by name
        await pilot.press("space", "m")  # unmark epsilon: three fit
        await settle(pilot, app)
        assert len(hot_files(settings)) == 3
        assert cold.marked == _cell_marks(cold) == set()


async def test_filter_shows_matches_of_total_in_the_cold_title(settings):
    app = app_for(settings)
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot, app)
        title = screen.query_one("#cold-title")
        total = len(screen.model.cold)
        assert title.render().plain.startswith(f"Cold ({total})")
        await pilot.press("slash", *"alph")
        await pilot.pause(0.1)
        assert title.render().plain.startswith(f"Cold (1 of {total})")


async def test_last_used_sort_shows_a_last_used_column(settings):
    app = app_for(settings)
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot, app)
        cold = screen.query_one("#cold", PersonaList)
        assert "used" not in [c.value for c in cold.columns]
        await pilot.press("s", "s")
        await pilot.pause(0.1)
        assert cold.sort_by == "last used"
        assert "used" in [c.value for c in cold.columns]
        assert all(cold.get_cell(k, "used") == "never" for k in cold.rows_by_key)


async def test_home_end_and_pages_move_the_cursor(settings):
    app = app_for(settings)
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot, app)
        cold = screen.query_one("#cold", PersonaList)
        await pilot.press("end")
        assert cold.cursor_row == cold.row_count - 1
        await pilot.press("home")
        assert cold.cursor_row == 0
        await pilot.press("pagedown")
        assert cold.cursor_row == cold.row_count - 1  # a handful of rows: one page
        await pilot.press("pageup")
        assert cold.cursor_row == 0


async def test_density_key_cycles_the_block_density_used_by_the_preview(settings):
    app = app_for(settings)
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot, app)
        await pilot.press("d")
        assert screen.density == "full"
        assert "density: full" in screen.query_one("#cold-title").render().plain
        await pilot.press("p")
        for _ in range(100):
            await pilot.pause(0.02)
            if type(app.screen).__name__ == "PreviewScreen":
                break
        assert app.screen.preview.density == "full"


async def test_at_80x24_panes_stack_the_side_hides_and_the_footer_keeps_quit(settings):
    from textual.widgets._footer import FooterKey

    app = app_for(settings)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await settle(pilot, app)
        assert screen.has_class("-narrow")
        assert not screen.query_one("#side").display
        cold, hot = screen.query_one("#cold"), screen.query_one("#hot")
        assert cold.region.y < hot.region.y and cold.region.width == hot.region.width
        keys = [k for k in screen.query(FooterKey) if k.region.width]
        assert "quit" in [k.action for k in keys]
        assert all(k.region.right <= 80 for k in keys)
        await pilot.press("tab")
        assert app.focused is hot  # the hot pane is one Tab away
        await pilot.press("h")
        await pilot.pause(0.1)
        assert screen.query_one("#side").display and app.focused is screen.query_one("#history")
        await pilot.press("escape")
        await pilot.pause(0.1)
        assert not screen.query_one("#side").display and app.focused is cold


async def test_the_command_palette_opens_lists_every_action_and_runs_one(settings):
    """ctrl+p shows the actions with their keys (a key like "/" is text, not markup)."""
    from textual.command import CommandList, CommandPalette

    app = app_for(settings)
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot, app)
        await pilot.press("ctrl+p")
        await until(lambda: isinstance(app.screen, CommandPalette))
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"filter")
        await until(lambda: app.screen.query_one(CommandList).highlighted is not None)  # the search has listed it
        await pilot.press("enter")
        await settle(pilot, app)
        assert app.is_running and app.screen is screen


async def test_escape_leaves_the_filter_so_keys_are_keys_again(settings):
    app = app_for(settings)
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot, app)
        await pilot.press("slash", "b", "e")
        flt = screen.query_one("#filter")
        assert flt.has_focus and flt.value == "be"
        await pilot.press("escape")
        assert flt.value == "" and not flt.has_focus
        await pilot.press("slash")
        assert flt.has_focus
        await pilot.press("escape")  # an empty filter: escape leaves it too
        assert not flt.has_focus
        await pilot.press("q")
        await until(lambda: not app.is_running)
        assert not app.is_running


async def _queue_at_once(app, *keys: str) -> None:
    """Queue ``keys`` at once, as a terminal delivers keys typed faster than a frame (a pilot's
    press waits for each key to be handled)."""
    from textual import events

    chars = {"slash": "/", "space": " "}
    for key in keys:
        char = key[-1] if key.startswith("alt+") else chars.get(key, key if len(key) == 1 else None)
        app.post_message(events.Key(key, char))


async def until(done, seconds: float = 10.0) -> bool:
    """Wait (bounded) until ``done()`` holds; whether it did. A key queued at once reaches its
    binding through several widgets' queues, and a worker runs on a thread: on a loaded machine
    that takes longer than any fixed pause, so a check waits for the effect itself."""
    end = time.monotonic() + seconds
    while not done():
        if time.monotonic() > end:
            return False
        await asyncio.sleep(0.02)
    return True


async def _filter_then_at_once(pilot, app, text: str, *keys: str):
    """Type a filter, then queue ``keys`` at once; the main screen."""
    screen = await settle(pilot, app)
    await pilot.press("slash", *text)
    await pilot.pause(0.1)
    await _queue_at_once(app, *keys)
    return screen


async def test_a_key_typed_right_after_enter_in_the_filter_acts_on_the_list(settings):
    app = app_for(settings)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _filter_then_at_once(pilot, app, "number 3", "enter", "t")
        await until(lambda: bool(hot_files(settings)))  # the keys are queued, not yet handled: wait for the move
        await settle(pilot, app)
        flt = screen.query_one("#filter")
        assert flt.value == "number 3" and not flt.has_focus
        assert hot_files(settings) == ["delta.md"]


async def test_a_key_typed_right_after_escape_in_the_filter_acts_on_the_list(settings):
    app = app_for(settings)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _filter_then_at_once(pilot, app, "zz", "escape", "q")
        await until(lambda: not app.is_running)
        assert screen.query_one("#filter").value == ""
        assert not app.is_running  # q quit the app: it was not typed into the filter


async def test_a_filter_typed_right_after_the_slash_is_text_not_commands(settings):
    app = app_for(settings)
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot, app)
        await _queue_at_once(app, "slash", *"al")  # a, l: keys of the main screen, had they stayed commands
        flt = screen.query_one("#filter")
        await until(lambda: flt.value == "al")
        assert flt.has_focus and flt.value == "al" and app.screen is screen
        await _queue_at_once(app, "enter", "slash", "p", "q")  # a new filter typed at once after enter
        await until(lambda: flt.value == "pq")
        assert app.is_running and flt.value == "pq"  # the slash selects the old filter: typing replaces it
        await _queue_at_once(app, "slash")  # in the filter, the slash is text
        await until(lambda: flt.value == "pq/")
        assert flt.value == "pq/"


async def test_escape_and_a_letter_read_as_one_alt_chord_are_two_keys(settings):
    app = app_for(settings)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _filter_then_at_once(pilot, app, "zz", "alt+q")  # how a terminal reads escape q
        await until(lambda: not app.is_running)
        assert screen.query_one("#filter").value == ""
        assert not app.is_running


async def test_an_alt_chord_bound_in_the_keymap_stays_one_key(workspace, library):
    s = load_settings(workspace=workspace, library_dirs=[library], keymap={"toggle": "alt+x"})
    app = app_for(s)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await _queue_at_once(app, "alt+x")
        await until(lambda: bool(hot_files(s)))
        assert hot_files(s) == ["alpha.md"]


async def test_a_reload_right_after_a_move_never_drops_the_move(settings):
    app = app_for(settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        for _ in range(3):  # the move waits for the lock while the reload starts: both happen
            before = len(hot_files(settings))
            await _queue_at_once(app, "t", "r")
            await until(lambda: len(hot_files(settings)) > before)  # noqa: B023 - awaited here, in this turn
            await settle(pilot, app)
            assert len(hot_files(settings)) == before + 1


@pytest.mark.parametrize("keys", [("h", "enter"), ("g", "down", "enter")])
async def test_keys_typed_right_after_h_or_g_go_to_the_side_column_not_the_list(settings, keys):
    app = app_for(settings)
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot, app)
        await _queue_at_once(app, *keys)
        await until(lambda: screen.focused is not None and screen.focused.id not in ("cold", "hot", "filter"))
        await pilot.pause(0.2)
        await settle(pilot, app)
        assert screen.focused.id not in ("cold", "hot", "filter")  # the keys went to the side column
        assert hot_files(settings) == []  # enter did not reach the cold list (it would move alpha)


async def test_keys_typed_while_the_app_starts_wait_for_the_main_screen(settings, monkeypatch):
    from ctxtui.tui.application import CtxApp

    pushed = CtxApp.push_screen

    def later(self, screen, *args, **kwargs):  # a slow start: the main screen comes 0.4 s late
        self.set_timer(0.4, lambda: pushed(self, screen, *args, **kwargs))

    monkeypatch.setattr(CtxApp, "push_screen", later)
    app = app_for(settings)
    async with app.run_test(size=SIZE) as pilot:
        await _queue_at_once(app, "slash", *"al")  # typed while only the empty default screen is up
        await pilot.pause(0.1)
        monkeypatch.setattr(CtxApp, "push_screen", pushed)
        screen = await settle(pilot, app)
        await pilot.pause(0.2)
        flt = screen.query_one("#filter")
        assert app.screen is screen and flt.value == "al" and screen.focused is flt


async def test_tab_cycles_the_lists_and_never_lands_in_the_filter(settings):
    app = app_for(settings)
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot, app)
        seen = []
        for _ in range(6):
            await pilot.press("tab")
            seen.append(screen.focused.id if screen.focused else None)
        assert "filter" not in seen and {"cold", "hot"} <= set(seen)
        await pilot.press("shift+tab")
        assert screen.focused.id != "filter"
        screen.set_focus(screen.query_one("#hot"))
        await _queue_at_once(app, "tab", "t")  # from the hot pane: t moves a persona, it is not typed
        await until(lambda: bool(hot_files(settings)))
        await settle(pilot, app)
        assert screen.query_one("#filter").value == ""


async def test_r_says_it_reloaded(settings):
    app = app_for(settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("r")
        assert await until(lambda: any("Reloaded from disk" in n.message for n in app._notifications))
