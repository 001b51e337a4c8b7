"""The confirm dialog keeps its keys on screen however long the list of changes is."""

from __future__ import annotations

from textual.widgets import Button

from ctxtui.tui.app import make_app
from ctxtui.tui.screens.confirm import ConfirmScreen


async def test_a_long_change_list_scrolls_and_the_buttons_stay_visible(settings):
    app = make_app(settings, watch_files=False, remember_theme=False)
    body = "\n".join(f"remove .claude/agents/persona-{i:03d}.md (kept in cold storage) [x]" for i in range(300))
    async with app.run_test(size=(80, 24)) as pilot:
        answers: list[bool | None] = []
        app.push_screen(ConfirmScreen("Switch eager → lazy_loading?", body), answers.append)
        await pilot.pause()
        yes = app.screen.query_one("#yes", Button)
        assert yes.region.height > 0 and yes.region.bottom <= 24, yes.region
        assert "[x]" in str(app.screen.query_one("#confirm-body").render())  # text, not markup
        await pilot.press("y")
        await pilot.pause()
        assert answers == [True]
