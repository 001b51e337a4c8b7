"""The footer keeps Quit on screen: new actions go to help and the palette, not the footer.
(Between 120 and ~136 columns Textual's footer still cuts Quit off: the narrow footer starts at 119.)"""

from __future__ import annotations

import pytest
from textual.widgets._footer import FooterKey

from ctxtui.tui.app import make_app
from tests_support import wait_ready


@pytest.mark.parametrize("width", [80, 140])
async def test_quit_stays_in_the_footer(settings, width):
    app = make_app(settings, watch_files=False, remember_theme=False)
    async with app.run_test(size=(width, 30)) as pilot:
        await wait_ready(pilot)
        keys = [k for k in app.screen.query(FooterKey) if k.region.width and k.region.right <= width]
        assert "quit" in [k.action for k in keys] or "app.quit" in [k.action for k in keys]
