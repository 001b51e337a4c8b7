"""Helpers shared by the TUI tests."""

from __future__ import annotations


async def wait_ready(pilot) -> None:
    """Wait until the main screen shows a model and its live gauge, and no I/O worker runs,
    then one more frame."""
    from ctxtui.tui.screens.main import MainScreen

    app = pilot.app
    for _ in range(300):
        await pilot.pause(0.02)
        main = next((s for s in app.screen_stack if isinstance(s, MainScreen)), None)
        busy = [w for w in app.workers if w.group in ("io", "body", "load") and w.is_running]
        if main is not None and main.model is not None and main.gauge is not None and not busy:
            await pilot.pause(0.1)
            return
    raise AssertionError("the app never settled")
