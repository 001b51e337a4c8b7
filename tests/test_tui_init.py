"""First run: a project with no ctxtui state is offered ``ctxtui init`` (never done unasked);
``I`` shows what it would do, ``y`` does it as one recorded change, ``u`` undoes it."""

from __future__ import annotations

import time

from conftest import snapshot_tree
from ctxtui.core.workspace import Workspace
from ctxtui.tui.app import make_app
from ctxtui.tui.screens.main import MainScreen
from tests_support import wait_ready

SIZE = (140, 40)


def project_files(settings) -> dict[str, bytes]:
    own = str(settings.state_dir) + "/"
    return {p: b for p, b in snapshot_tree(settings.workspace).items() if not p.startswith(own)}


async def until(pilot, cond, what: str, timeout: float = 20.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, f"{what} never happened"
        await pilot.pause(0.05)


def _offered(app) -> bool:
    return any("not set up" in str(n.message) for n in app._notifications)


async def test_a_fresh_project_is_offered_init_and_it_is_done_only_on_confirmation(settings):
    Workspace(settings)  # reading a project writes nothing of ctxtui's
    assert not settings.state_dir.exists()
    hot = settings.agents_dir
    hot.mkdir(parents=True)
    (hot / "mine.md").write_text("---\nname: mine\ndescription: My own agent.\n---\nBody.\n")
    before = project_files(settings)
    app = make_app(settings, watch_files=False, remember_theme=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        assert _offered(app)
        assert project_files(settings) == before  # offered, not done
        await pilot.press("I")
        await until(pilot, lambda: type(app.screen).__name__ == "ConfirmScreen", "the confirmation")
        body = app.screen.body
        assert "record library" in body and "adopt 1 project agent" in body
        await pilot.press("y")
        await until(pilot, lambda: isinstance(app.screen, MainScreen) and (settings.workspace / "hybrid-config.json").is_file(),
                    "init")
        await wait_ready(pilot)
        assert (settings.workspace / "hybrid-config.json").is_file()
        assert (settings.workspace / ".claude" / "commands" / "persona.md").is_file()
        await pilot.press("u")
        await until(pilot, lambda: project_files(settings) == before, "the undo")  # config too
        assert not (settings.workspace / ".claude" / "commands" / "persona.md").exists()


async def test_a_project_already_set_up_is_not_offered_init(settings):
    from ctxtui.core.project_init import init

    init(Workspace(settings), settings.library_dirs[0])
    app = make_app(settings, watch_files=False, remember_theme=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        await pilot.pause(0.2)
        assert not _offered(app)
