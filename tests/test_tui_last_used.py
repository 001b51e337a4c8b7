"""The last-used sort (s cycles name, tokens, last used): the column appears in both panes
whatever they hold, and while transcripts are still being read a row not used yet says so
instead of "never"."""

from __future__ import annotations

import asyncio
import threading

import pytest
from test_optimize_cost import usage
from test_tui import SIZE, app_for, settle

from ctxtui.analytics import workspace_usage
from ctxtui.core.config import load_settings
from ctxtui.tui.widgets.persona_list import READING, PersonaList


def used_cells(pane: PersonaList) -> list[str]:
    """The used column as shown, top to bottom ([] when the pane has no such column)."""
    if "used" not in pane.columns:
        return []
    return [str(pane.get_cell(key, "used")) for key in pane.rows_by_key]


async def sort_by_last_used(pilot, screen) -> None:
    while screen.query_one("#cold", PersonaList).sort_by != "last used":
        await pilot.press("s")


async def wait_until(pilot, check, what: str) -> None:
    for _ in range(200):
        if check():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"never happened: {what}")


async def test_one_hot_persona_gets_the_used_column(settings):
    settings.agents_dir.mkdir(parents=True)
    (settings.agents_dir / "beta.md").write_bytes((settings.library_dirs[0] / "beta.md").read_bytes())
    app = app_for(settings)
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot, app)
        hot = screen.query_one("#hot", PersonaList)
        assert [r.name for r in hot.rows_by_key.values()] == ["beta"]
        await sort_by_last_used(pilot, screen)
        await pilot.pause(0.05)
        assert used_cells(hot) == ["never"]
        await pilot.press("s")  # back to name: the column goes again
        await pilot.pause(0.05)
        assert "used" not in hot.columns


def held_history(settings, tmp_path, monkeypatch, invoked: list[str]):
    """Settings with one session invoking ``invoked``, whose usage read goes on (as on a large
    history) until the returned event is set."""
    s = load_settings(workspace=settings.workspace, library_dirs=settings.library_dirs,
                      transcripts_dir=usage(tmp_path, invoked))
    release = threading.Event()
    real = workspace_usage.read_sessions

    def slow_read(root, should_stop, *, cache=None):
        while not release.wait(0.02):
            if should_stop():
                return None
        return real(root, should_stop, cache=cache)

    monkeypatch.setattr(workspace_usage, "read_sessions", slow_read)
    return s, release


@pytest.mark.parametrize("invoked", [["gamma"], []], ids=["some-used", "none-used"])
async def test_rows_say_reading_until_usage_arrives(settings, tmp_path, monkeypatch, invoked):
    s, release = held_history(settings, tmp_path, monkeypatch, invoked)
    app = app_for(s)
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot, app)
        cold = screen.query_one("#cold", PersonaList)
        await sort_by_last_used(pilot, screen)
        await wait_until(pilot, lambda: set(used_cells(cold)) == {READING}, "every cold row says reading…")
        release.set()
        usage = [w for w in app.workers if w.group == "usage"]
        await asyncio.wait_for(app.workers.wait_for_complete(usage), 30)
        expected = {"gamma"} if invoked else set()
        await wait_until(pilot, lambda: READING not in used_cells(cold), "the reading… cells go")
        cells = dict(zip([r.name for r in cold.rows_by_key.values()], used_cells(cold), strict=True))
        assert {n for n, c in cells.items() if c != "never"} == expected
        assert all(c.endswith("ago") for n, c in cells.items() if n in expected)


async def test_a_new_sort_shows_its_top_rows(settings):
    app = app_for(settings)
    async with app.run_test(size=(100, 12)) as pilot:  # short: the cursor's row scrolls the pane
        screen = await settle(pilot, app)
        cold = screen.query_one("#cold", PersonaList)
        await pilot.press("end")
        await pilot.pause(0.05)
        assert cold.cursor_row == cold.row_count - 1
        await pilot.press("s")
        await pilot.pause(0.05)
        assert cold.cursor_row == 0 and cold.scroll_y == 0
        assert cold.current_name() == next(iter(cold.rows_by_key.values())).name


async def test_a_list_seen_from_its_top_stays_there_when_usage_arrives(settings, tmp_path, monkeypatch):
    s, release = held_history(settings, tmp_path, monkeypatch, ["epsilon", "delta"])
    app = app_for(s)
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot, app)
        cold = screen.query_one("#cold", PersonaList)
        await sort_by_last_used(pilot, screen)
        await pilot.pause(0.05)
        assert cold.current_name() == "alpha"  # by name while nothing is known
        release.set()
        await wait_until(pilot, lambda: [r.name for r in cold.rows_by_key.values()][:2] == ["delta", "epsilon"],
                         "the used rows first")
        await pilot.pause(0.1)
        assert cold.current_name() == "delta" and cold.scroll_y == 0
