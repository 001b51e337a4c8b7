"""Snapshot tests of the main screen, the CLAUDE.md preview and the help screen.

Fixed terminal size, file watching off, a fixed workspace path, the bundled library.
Update with ``pytest tests/test_snapshots.py --snapshot-update`` after a deliberate change.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from ctxtui.core.config import bundled_dir, load_settings
from ctxtui.tui.app import make_app

SIZE = (140, 40)
FIXED = Path("/tmp/ctxtui-snapshot-workspace")


@pytest.fixture
def snap_app(monkeypatch: pytest.MonkeyPatch):
    # History entries record the time of day, which the history list shows: a fixed clock.
    strftime = time.strftime
    monkeypatch.setattr(time, "strftime", lambda fmt, *t: "2026-01-02T03:04:05" if fmt == "%Y-%m-%dT%H:%M:%S" and not t
                        else strftime(fmt, *t))
    shutil.rmtree(FIXED, ignore_errors=True)
    FIXED.mkdir(parents=True)
    (FIXED / "CLAUDE.md").write_text("# Demo project\n\nUse the test-engineer for new tests.\n")
    # The library sits inside the fixed workspace so every path on screen is the same in any clone.
    shutil.copytree(bundled_dir("personas"), FIXED / "library")
    settings = load_settings(workspace=FIXED, library_dirs=[FIXED / "library"], include_user_scope=False)
    app = make_app(settings, watch_files=False, remember_theme=False)
    yield app
    shutil.rmtree(FIXED, ignore_errors=True)


async def _ready(pilot) -> None:
    from tests_support import wait_ready

    await wait_ready(pilot)


def test_main_screen(snap_compare, snap_app):
    async def run_before(pilot):
        await _ready(pilot)
        await pilot.press("down", "space", "down", "space", "m")
        await _ready(pilot)

    assert snap_compare(snap_app, terminal_size=SIZE, run_before=run_before)


def test_main_screen_at_80x24(snap_compare, snap_app):
    """Panes stacked, side column hidden, essential keys and Quit in the footer."""
    async def run_before(pilot):
        await _ready(pilot)
        await pilot.press("down", "space", "down", "space", "m")
        await _ready(pilot)
        pilot.app.clear_notifications()

    assert snap_compare(snap_app, terminal_size=(80, 24), run_before=run_before)


def test_preview_screen(snap_compare, snap_app):
    async def run_before(pilot):
        await _ready(pilot)
        await pilot.press("t")
        await _ready(pilot)
        pilot.app.clear_notifications()  # the move's toast times out on its own clock: not in the picture
        await pilot.press("p")
        await _ready(pilot)

    assert snap_compare(snap_app, terminal_size=SIZE, run_before=run_before)


def test_help_screen(snap_compare, snap_app):
    async def run_before(pilot):
        await _ready(pilot)
        await pilot.press("question_mark")
        await pilot.pause(0.2)

    assert snap_compare(snap_app, terminal_size=SIZE, run_before=run_before)
