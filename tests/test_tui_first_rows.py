"""The first rows: read by a forked helper while the app starts, painted before the workspace
is read, the side column mounted after them. Keys pressed meanwhile are kept, and a helper
that fails or is not wanted changes nothing the user sees."""

from __future__ import annotations

import os
import time

import pytest
from test_tui import SIZE, settle
from textual.widgets import Input, Select

from ctxtui.core.workspace import Workspace
from ctxtui.tui import first_view
from ctxtui.tui.app import make_app
from ctxtui.tui.model import last_used, pane_rows
from ctxtui.tui.screens.main import MainScreen
from ctxtui.tui.widgets.persona_list import PersonaList
from ctxtui.tui.widgets.strategy import HistoryList


@pytest.fixture
def needs_fork() -> None:
    """The helper is forked only where that is safe (Linux and the like, no thread running)."""
    if not first_view.can_fork():
        pytest.skip("no fork here, or a thread is running")


def app_for(settings, **kw):
    return make_app(settings, watch_files=False, remember_theme=False, **kw)


def test_the_helpers_rows_are_the_rows_the_workspace_gives(settings, needs_fork):
    helper = first_view.FirstRows.start(settings)
    assert helper is not None
    rows = helper.result()
    with pytest.raises(ChildProcessError):  # reaped: no zombie left behind
        os.waitpid(helper.pid, os.WNOHANG)
    assert rows == pane_rows(Workspace(settings), last_used(settings.workspace))
    assert {"alpha", "beta", "delta", "epsilon", "gamma"} <= {r.name for r in rows.cold}
    assert helper.result() is None  # asked once


def test_rows_at_hand_are_only_those_small_enough_for_the_first_frame(settings, needs_fork):
    helper = first_view.FirstRows.start(settings)
    assert helper is not None
    for _ in range(3000):  # the helper has its answer when its header can be read
        if helper.at_hand():
            break
        time.sleep(0.01)
    assert helper.at_hand()
    assert not helper.at_hand(limit=10)  # too large: the screen reads it in a worker instead
    assert helper.result() == pane_rows(Workspace(settings), last_used(settings.workspace))


def test_a_helper_that_fails_answers_none_and_leaves_no_process(settings, needs_fork, monkeypatch):
    def broken(_settings):
        raise RuntimeError("boom")

    monkeypatch.setattr(first_view, "_rows", broken)  # forked after this: the helper has it too
    helper = first_view.FirstRows.start(settings)
    assert helper is not None
    assert helper.result() is None


def test_a_helper_closed_unread_ends(settings, needs_fork):
    helper = first_view.FirstRows.start(settings)
    assert helper is not None
    helper.close()
    assert helper.result() is None
    for _ in range(500):  # the reaper thread waits for it
        if not _alive(helper.pid):
            break
        time.sleep(0.01)
    assert not _alive(helper.pid)


def _alive(pid: int) -> bool:
    try:
        return os.waitpid(pid, os.WNOHANG) == (0, 0)
    except ChildProcessError:
        return False


@pytest.mark.parametrize("first_rows", [True, False], ids=["helper", "no-helper"])
async def test_the_app_shows_the_same_rows_with_or_without_the_helper(settings, first_rows):
    app = app_for(settings, first_rows=first_rows)
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot, app)
        cold = screen.query_one("#cold", PersonaList)
        expected = sorted(p.name for p in Workspace(settings).cold())
        assert [r.name for r in cold.rows_by_key.values()] == expected
        assert screen.query_one(HistoryList) is not None  # the side column was mounted


async def test_the_app_reads_itself_when_the_helper_fails(settings, monkeypatch):
    def broken(_settings):
        raise RuntimeError("boom")

    monkeypatch.setattr(first_view, "_rows", broken)
    app = app_for(settings)
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot, app)
        assert [r.name for r in screen.model.cold] == sorted(p.name for p in Workspace(settings).cold())
        assert not [n for n in app._notifications if n.severity == "error"]


async def test_a_side_column_key_pressed_at_once_runs_when_the_column_is_there(settings):
    app = app_for(settings)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("g")  # the strategy switcher, before the side column is mounted
        screen = await settle(pilot, app)
        await pilot.pause(0.1)
        select = screen.query_one("#strategy-select", Select)
        assert select.expanded and screen.focused is not None
        assert select in screen.focused.ancestors_with_self


async def test_keys_after_an_early_side_column_key_act_after_it(settings):
    app = app_for(settings)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("g", "escape")  # open the switcher, then close it: in that order
        screen = await settle(pilot, app)
        await pilot.pause(0.1)
        select = screen.query_one("#strategy-select", Select)
        assert not select.expanded
        assert select in screen.focused.ancestors_with_self


async def test_filter_typed_before_the_rows_arrive_applies_to_them(settings):
    app = app_for(settings)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash", "b", "e", "t", "enter")
        screen = await settle(pilot, app)
        assert screen.query_one("#filter", Input).value == "bet"
        cold = screen.query_one("#cold", PersonaList)
        assert [r.name for r in cold.rows_by_key.values()] == ["beta"]
        assert cold.has_focus


async def test_quitting_at_once_ends_cleanly(settings):
    app = app_for(settings)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+q")
    assert app.return_code in (0, None)


async def test_a_move_asked_before_the_workspace_is_read_reads_it_first(settings, monkeypatch):
    if not first_view.can_fork():
        pytest.skip("the first rows come from the helper only where it can fork")
    monkeypatch.setattr(MainScreen, "load", lambda self: None)  # the screen's own read never starts
    app = app_for(settings)
    async with app.run_test(size=SIZE) as pilot:
        screen = next(s for s in app.screen_stack if isinstance(s, MainScreen))
        cold = screen.query_one("#cold", PersonaList)
        for _ in range(1000):  # the helper's rows
            if cold.row_count:
                break
            await pilot.pause(0.01)
        assert cold.current_name() == "alpha" and screen.ws is None and screen.model is None
        await pilot.press("t")
        screen = await settle(pilot, app)
        assert sorted(p.name for p in settings.agents_dir.glob("*.md")) == ["alpha.md"]
        assert [r.name for r in screen.model.hot] == ["alpha"]
        assert not [n for n in app._notifications if n.severity == "error"]


async def test_rows_given_before_the_first_layout_are_built_once_at_the_panes_width():
    from textual.app import App

    from ctxtui.tui.model import Row

    rows = [Row(f"k{i}", f"a-long-persona-name-{i:02d}", 10, 100, (), "d") for i in range(3)]
    built: list[str] = []

    class Counting(PersonaList):
        def add_row(self, *cells, **kw):
            built.append(str(cells[-1]))
            return super().add_row(*cells, **kw)

    class OneList(App):
        def compose(self):
            yield Counting("cold", id="cold")

        def on_mount(self) -> None:  # before the first layout, as the first rows can come
            self.query_one(PersonaList).show(rows)

    app = OneList()
    async with app.run_test(size=(100, 20)) as pilot:
        await pilot.pause(0.05)
        table = app.query_one(PersonaList)
        assert [table.get_row_at(i)[-1] for i in range(3)] == [r.name for r in rows]
    assert built == [r.name for r in rows]  # once, never cut to a width of nothing first
