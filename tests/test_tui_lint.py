"""Lint and fix from the TUI: the findings ``ctxtui lint`` prints, ``x`` fixes them after a
confirmation showing the dry run (``ctxtui fix --all``), and ``u`` restores every byte."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from conftest import snapshot_tree
from ctxtui.core import fix_op
from ctxtui.core.config import load_settings
from ctxtui.core.workspace import Workspace
from ctxtui.tui.app import make_app
from ctxtui.tui.screens.main import MainScreen
from tests_support import wait_ready

MESSY = Path(__file__).parent / "data" / "messy_library"


def messy_settings(tmp_path: Path):
    lib = tmp_path / "outside-lib"
    shutil.copytree(MESSY, lib)
    project = tmp_path / "project"
    agents = project / ".claude" / "agents"
    agents.mkdir(parents=True)
    for name in ("db-migrator.md", "good-plain.md"):
        shutil.copy(lib / name, agents / name)
    return load_settings(workspace=project, library_dirs=[lib])


def user_files(settings) -> dict[str, bytes]:
    return snapshot_tree(settings.agents_dir, settings.cold_store, *settings.library_dirs)


async def until(pilot, cond, what: str, timeout: float = 20.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, f"{what} never happened"
        await pilot.pause(0.05)


async def test_lint_screen_lists_the_findings_then_fix_and_undo_restore_every_byte(tmp_path):
    settings = messy_settings(tmp_path)
    expected = fix_op.lint_workspace(Workspace(settings))
    need = [f for f in expected if f.lint.needs_fix]
    assert need  # the messy library has files Claude Code reads differently
    before = user_files(settings)
    app = make_app(settings, watch_files=False, remember_theme=False)
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_ready(pilot)
        await pilot.press("f")
        await until(pilot, lambda: type(app.screen).__name__ == "LintScreen", "the lint screen")
        text = str(app.screen.query_one("#lint-text").render())
        assert f"{len(expected)} agent files: {len(need)} need a fix" in text
        for f in need:
            assert str(f.path) in text and f.lint.findings[0].fix[:40] in text
        await pilot.press("x")
        await until(pilot, lambda: type(app.screen).__name__ == "ConfirmScreen", "the confirmation")
        assert "db-migrator.md" in app.screen.body  # the dry run, before anything is written
        assert user_files(settings) == before
        await pilot.press("y")
        await until(pilot, lambda: isinstance(app.screen, MainScreen)
                    and b"description: |-" in (settings.agents_dir / "db-migrator.md").read_bytes(), "the fix")
        await wait_ready(pilot)
        assert b"description: |-" in (settings.agents_dir / "db-migrator.md").read_bytes()
        # hot files are fixed in place (library files outside the project get fixed copies)
        assert not any(f.lint.needs_fix for f in fix_op.lint_workspace(Workspace(settings)) if f.where == "hot")
        await pilot.press("u")
        await until(pilot, lambda: user_files(settings) == before, "the undo")
