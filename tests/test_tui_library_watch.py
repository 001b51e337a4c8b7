"""Live reload watches the library folders the workspace really reads (``Workspace.library_roots``),
including those a project's hybrid-config.json names."""

from __future__ import annotations

import json
import time

from conftest import persona_text
from ctxtui.core.config import load_settings
from ctxtui.tui.app import make_app
from tests_support import wait_ready


async def test_a_persona_added_to_the_configured_library_shows_up(tmp_path, workspace):
    lib = tmp_path / "team-library"
    lib.mkdir()
    (lib / "alpha.md").write_text(persona_text("alpha"))
    (workspace / "hybrid-config.json").write_text(json.dumps({"library": ["../team-library"]}))
    settings = load_settings(workspace=workspace)
    # every folder the app's watcher names exists, so none is watched through a parent that
    # happens to hold the team library
    for folder in (settings.cold_store, settings.agents_dir, settings.user_agents_dir,
                   workspace / ".claude" / "rules"):
        folder.mkdir(parents=True, exist_ok=True)
    assert lib.resolve() not in [p.resolve() for p in settings.libraries]  # the app's own watcher misses it
    app = make_app(settings, watch_files=True, remember_theme=False)
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_ready(pilot)
        screen = app.screen
        assert "alpha" in [r.name for r in screen.model.cold]

        def seen() -> bool:
            return any(r.name.startswith("newcomer-") for r in screen.model.cold)

        # the watcher starts in a worker: write until one write is seen (bounded)
        end, n = time.monotonic() + 30, 0
        while time.monotonic() < end and not seen():
            (lib / f"newcomer-{n}.md").write_text(persona_text(f"newcomer-{n}", "Added by a teammate"))
            n += 1
            step = time.monotonic() + 1
            while time.monotonic() < step and not seen():
                await pilot.pause(0.05)
        assert any(r.name.startswith("newcomer-") for r in screen.model.cold)
