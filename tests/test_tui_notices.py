"""The main screen at 80x24 with a real library's longest names: ``u`` says what it undid in
one notice that replaces the last and never covers the lists; a row's flags never take cells
from every other name; history reasons end in an ellipsis; the strategy switcher has no blank
row; an Alt chord the keymap binds, typed in the filter, leaves it and does its action.

Every wait is on the effect itself (a file, a notice, a focus), bounded: never a fixed pause
standing in for "the key was handled"."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from test_tui import _queue_at_once, app_for, hot_files, settle
from textual.widgets._toast import Toast, ToastRack

from conftest import WSHOBSON
from ctxtui.core import strategies
from ctxtui.core.config import load_settings
from ctxtui.core.tiers import set_tier
from ctxtui.core.workspace import Workspace
from ctxtui.tui.text import cells, end_ellipsis, middle_ellipsis
from ctxtui.tui.widgets.persona_list import PersonaList
from ctxtui.tui.widgets.strategy import STRATEGY_LABELS, HistoryList

NARROW = (80, 24)
#: The longest persona names of the wshobson library (47 and 46 characters), by plugin/agent.
LONGEST = {
    "performance-testing-review": "performance-engineer",
    "observability-monitoring": "observability-engineer",
    "frontend-mobile-development": "frontend-developer",
    "database-cloud-optimization": "database-optimizer",
}
PERF, OBS, FRONT, DB = (f"{p}-{a}" for p, a in LONGEST.items())


@pytest.fixture
def long_settings(tmp_path: Path, workspace: Path):
    """A library of the four real personas with the longest names."""
    lib = tmp_path / "longest"
    lib.mkdir()
    for plugin, agent in LONGEST.items():
        source = WSHOBSON / "plugins" / plugin / "agents" / f"{agent}.md"
        if not source.is_file():
            pytest.skip(f"corpus not found: {source}")
        shutil.copy(source, lib / f"{plugin}-{agent}.md")
    return load_settings(workspace=workspace, library_dirs=[lib], include_user_scope=False)


async def until(pilot, cond, what: str, timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, f"never happened: {what}"
        await pilot.pause(0.05)


def shown(app) -> list[Toast]:
    """The toasts on the main screen now."""
    return list(app.screen.get_child_by_type(ToastRack).query(Toast))


def said(app, prefix: str) -> list[str]:
    return [str(n.message) for n in app._notifications if str(n.message).startswith(prefix)]


def name_cell(pane: PersonaList, name: str) -> str:
    key = next(k for k, r in pane.rows_by_key.items() if r.name == name)
    return str(pane.get_row(key)[-1])


@pytest.mark.parametrize("size", [NARROW, (200, 50)])
async def test_undo_says_what_it_undid_in_one_notice_that_never_covers_the_lists(long_settings, size):
    ws = Workspace(long_settings)
    ws.activate([PERF, OBS])
    ws.activate([FRONT])
    app = app_for(long_settings)
    async with app.run_test(size=size, notifications=True) as pilot:
        screen = await settle(pilot, app)
        await pilot.press("u")
        await until(pilot, lambda: said(app, "Undone"), "the first undo's notice")
        assert said(app, "Undone") == [f"Undone: moved {FRONT} to hot"]
        await pilot.press("u")
        await until(pilot, lambda: hot_files(long_settings) == [], "the second undo")
        await until(pilot, lambda: said(app, "Undone: moved perf"), "the second notice")
        [second] = said(app, "Undone")  # in place of the first
        if size == NARROW:  # 2 x 47 characters of names: more than the rows under the lists hold
            assert second.endswith("…") and len(second.splitlines()) <= 3
        else:
            assert second == f"Undone: moved {PERF}, {OBS} to hot"
        await until(pilot, lambda: len(shown(app)) == 1, "one toast on screen")
        toast = shown(app)[0]
        assert toast._notification.message == second
        for pane in ("#cold-pane", "#hot-pane", "#side"):
            assert not toast.region.overlaps(screen.query_one(pane).region), f"the notice covers {pane}"
        assert screen.get_widget_at(1, screen.query_one("#budget").region.y)[0].id == "budget"  # its start in view


async def test_undo_of_a_strategy_switch_names_the_switch(settings):
    strategies.migrate(Workspace(settings), "eager", reason="test")
    app = app_for(settings)
    async with app.run_test(size=NARROW) as pilot:
        await settle(pilot, app)
        await pilot.press("u")
        await until(pilot, lambda: said(app, "Undone"), "the undo's notice")
        assert said(app, "Undone") == ["Undone: strategy switch lazy_loading → eager"]


async def test_a_key_pressed_again_and_again_keeps_one_notice(settings):
    app = app_for(settings)
    async with app.run_test(size=NARROW, notifications=True) as pilot:
        await settle(pilot, app)

        def third_said() -> bool:
            return any("density: search" in str(n.message) for n in app._notifications._notifications.values())

        for _ in range(3):
            await pilot.press("d")  # each press says the density it chose: full, names, search
        await until(pilot, third_said, "the third notice")
        # The two before it were expired by it (not left to their own timeout), whatever the clock.
        ours = [n for n in app._notifications._notifications.values() if "density" in str(n.message)]
        assert [n.timeout > 0 for n in ours] == [False] * (len(ours) - 1) + [True]
        await until(pilot, lambda: len(shown(app)) <= 1 and all(
            "density: search" in str(t._notification.message) for t in shown(app)), "the notices replaced on screen")


async def test_a_flag_takes_cells_from_its_own_row_only(long_settings):
    ws = Workspace(long_settings)
    ws.activate([PERF, OBS, DB])
    set_tier(ws, [OBS], "hidden")
    app = app_for(long_settings)
    async with app.run_test(size=NARROW) as pilot:
        screen = await settle(pilot, app)
        hot = screen.query_one("#hot", PersonaList)
        await until(pilot, lambda: hot.name_width and hot.rows_by_key, "the hot rows at the pane's width")
        assert name_cell(hot, PERF) == PERF and name_cell(hot, DB) == DB  # in full: 47 cells fit at 80
        flagged = name_cell(hot, OBS)
        assert flagged.endswith(" hidden") and cells(flagged) <= hot.name_width
        assert "…" in flagged  # 47 + " hidden" do not fit: the name gives way, its end kept
        assert flagged.split(" ")[0].endswith("observability-engineer")
        assert list(hot.columns) == ["mark", "startup", "full", "name"]  # no flags column


async def test_history_reasons_are_cut_with_an_ellipsis_to_the_pane(long_settings):
    Workspace(long_settings).activate([PERF, OBS])
    app = app_for(long_settings)
    async with app.run_test(size=NARROW) as pilot:
        screen = await settle(pilot, app)
        await pilot.press("h")
        history = screen.query_one(HistoryList)
        await until(pilot, lambda: history.has_focus and history.row_count, "the history list")
        reason = str(history.get_row_at(0)[1])
        width = history.columns[next(k for k in history.columns if k.value == "reason")].width
        assert reason.startswith("activate performance-testing-") and reason.endswith("…")
        assert cells(reason) == width <= history.scrollable_content_region.width


async def test_the_strategy_switcher_lists_only_strategies_with_the_current_one_chosen(settings):
    from textual.widgets import Select
    from textual.widgets._select import SelectOverlay

    app = app_for(settings)
    async with app.run_test(size=NARROW) as pilot:
        screen = await settle(pilot, app)
        await pilot.press("g")
        select = screen.query_one("#strategy-select", Select)
        await until(pilot, lambda: select.expanded, "the open switcher")
        overlay = select.query_one(SelectOverlay)
        prompts = [str(overlay.get_option_at_index(i).prompt) for i in range(overlay.option_count)]
        assert prompts == list(STRATEGY_LABELS.values())  # no blank or prompt row
        assert select.value == screen.model.strategy == "lazy_loading"
        assert prompts[overlay.highlighted] == STRATEGY_LABELS["lazy_loading"]
        await pilot.press("escape")
        await until(pilot, lambda: not select.expanded, "the switcher closed")
        assert type(app.screen).__name__ == "MainScreen"  # closing it asked for no migration


async def test_a_bound_alt_chord_typed_in_the_filter_leaves_it_and_does_its_action(workspace, library):
    s = load_settings(workspace=workspace, library_dirs=[library], keymap={"undo": "alt+u"})
    Workspace(s).activate(["alpha"])
    app = app_for(s)
    async with app.run_test(size=NARROW) as pilot:
        screen = await settle(pilot, app)
        flt = screen.query_one("#filter")
        await pilot.press("slash", "z", "z")
        await until(pilot, lambda: flt.value == "zz", "the filter typed")
        await _queue_at_once(app, "alt+u")  # escape and u typed at once: one chord, bound to undo
        await until(pilot, lambda: hot_files(s) == [], "the undo")
        assert flt.value == "" and not flt.has_focus  # no u typed: the filter was left


def test_ellipses_count_cells_wide_characters_included():
    name = "データベース最適化エージェント"  # 15 characters, 30 cells
    for width in range(1, 31):
        for cut in (middle_ellipsis(name, width), end_ellipsis(name, width)):
            assert sum(2 if ord(c) > 0x2E80 else 1 for c in cut) <= width
            assert cut == name or cut.count("…") == 1
    assert middle_ellipsis(name, 9).endswith("ト") and end_ellipsis(name, 9).startswith("デ")
    assert middle_ellipsis(name, 30) == name == end_ellipsis(name, 30)


async def test_the_history_says_what_each_undo_undid(settings):
    Workspace(settings).activate(["alpha"])
    app = app_for(settings)
    async with app.run_test(size=NARROW) as pilot:
        screen = await settle(pilot, app)
        await pilot.press("u")
        await until(pilot, lambda: hot_files(settings) == [], "the undo")
        await settle(pilot, app)
        await pilot.press("h")
        history = screen.query_one(HistoryList)
        await until(pilot, lambda: history.has_focus and history.row_count == 2, "the history list")
        assert [str(history.get_row_at(i)[1]) for i in range(2)] == ["undid: moved alpha to hot", "activate alpha"]
