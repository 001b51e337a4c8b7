"""The app factory, used by the CLI, ``run_test()`` and snapshot tests, so all three build the
same app. It starts reading the panes' first rows (``ctxtui.tui.first_view``) before it
imports Textual, so the two happen at once."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ctxtui.core.config import Settings

if TYPE_CHECKING:
    from ctxtui.tui.application import CtxApp


def make_app(settings: Settings, *, first_rows: bool = True, **kwargs: Any) -> CtxApp:
    """Build the app (KWARGS go to :class:`~ctxtui.tui.application.CtxApp`). With FIRST_ROWS,
    a forked helper reads the panes' rows while Textual starts, where forking is safe."""
    from ctxtui.tui.first_view import FirstRows

    helper = FirstRows.start(settings) if first_rows else None
    try:
        from ctxtui.tui.application import CtxApp

        return CtxApp(settings, first_rows=helper, **kwargs)
    except BaseException:
        if helper is not None:
            helper.close()
        raise


def run_app(settings: Settings) -> int:
    """Run the TUI until the user quits."""
    make_app(settings).run()
    return 0
