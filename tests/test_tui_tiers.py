"""Tiers in the TUI: each persona's tier is shown, and ``i`` changes it with the operation
``ctxtui tier`` runs (``core.tiers.set_tier``); ``u`` undoes it byte for byte."""

from __future__ import annotations

import json
import time
from pathlib import Path

from conftest import snapshot_tree
from ctxtui.core.workspace import Workspace
from ctxtui.tui.app import make_app
from ctxtui.tui.screens.main import MainScreen
from ctxtui.tui.widgets.persona_list import PersonaList
from tests_support import wait_ready

SIZE = (140, 40)
LOCAL = Path(".claude/settings.local.json")


def tree(settings) -> dict[str, bytes]:
    """Every file of the project and the library, byte for byte (ctxtui's own folder left out:
    its history records the undo too, and it keeps the originals it converted)."""
    files = snapshot_tree(settings.workspace, *settings.library_dirs)
    own = str(settings.state_dir) + "/"
    return {p: b for p, b in files.items() if not p.startswith(own)}


async def until(pilot, cond, what: str, timeout: float = 20.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, f"{what} never happened"
        await pilot.pause(0.05)


def row_flags(screen: MainScreen, pane: str, name: str) -> tuple[str, ...]:
    lst = screen.query_one(f"#{pane}", PersonaList)
    return next(r.flags for r in lst.rows_by_key.values() if r.name == name)


async def choose_tier(pilot, key: str) -> None:
    await pilot.press("i")
    await until(pilot, lambda: type(pilot.app.screen).__name__ == "TierScreen", "the tier chooser")
    await pilot.press(key)
    await until(pilot, lambda: isinstance(pilot.app.screen, MainScreen), "closing the chooser")


async def test_a_cold_persona_becomes_a_skill_and_undo_restores_every_byte(settings):
    before = tree(settings)
    app = make_app(settings, watch_files=False, remember_theme=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        screen = app.screen
        assert isinstance(screen, MainScreen)
        assert screen.query_one("#cold", PersonaList).current_name() == "alpha"
        assert screen.model is not None and screen.model.tiers["alpha"] == "file"
        await choose_tier(pilot, "s")
        await until(pilot, lambda: Workspace(settings).tier_of("alpha") == "skill", "the skill tier")
        await wait_ready(pilot)
        skill = settings.workspace / ".claude" / "skills" / "alpha" / "SKILL.md"
        assert skill.is_file() and "context: fork" in skill.read_text()
        await until(pilot, lambda: "skill" in row_flags(screen, "cold", "alpha"), "the skill flag")
        assert screen.model.tiers["alpha"] == "skill"
        await pilot.press("u")
        await until(pilot, lambda: Workspace(settings).tier_of("alpha") == "file", "the undo")
        await wait_ready(pilot)
        assert tree(settings) == before
        assert row_flags(screen, "cold", "alpha") == ()


async def test_a_hot_persona_is_hidden_by_a_deny_rule_beside_the_users_settings(settings):
    Workspace(settings).activate(["beta"])
    local = settings.workspace / LOCAL
    user_bytes = b'{\r\n\t"permissions": {"deny": ["Read(./.env)"]}\r\n}'
    local.write_bytes(user_bytes)
    before = tree(settings)
    app = make_app(settings, watch_files=False, remember_theme=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        screen = app.screen
        await pilot.press("tab")
        assert screen.query_one("#hot", PersonaList).current_name() == "beta"
        await choose_tier(pilot, "h")
        await until(pilot, lambda: "Agent(beta)" in local.read_text(), "the deny rule")
        await wait_ready(pilot)
        assert json.loads(local.read_bytes())["permissions"]["deny"] == ["Read(./.env)", "Agent(beta)"]
        assert (settings.agents_dir / "beta.md").is_file()  # the file stays
        await until(pilot, lambda: "hidden" in row_flags(screen, "hot", "beta"), "the hidden flag")
        assert screen.model.listed == 0  # a hidden agent takes no slot under the cap
        await pilot.press("u")
        await until(pilot, lambda: local.read_bytes() == user_bytes, "the undo")
        await wait_ready(pilot)
        assert tree(settings) == before


async def test_the_tui_and_the_cli_make_the_same_change(settings, tmp_path, library):
    """One command path: the same files as ``ctxtui tier gamma skill`` in a twin project."""
    import argparse

    from ctxtui.cli import tier as cli_tier
    from ctxtui.core.config import load_settings

    twin = tmp_path / "twin"
    twin.mkdir()
    twin_settings = load_settings(workspace=twin, library_dirs=[library])
    cli_tier.run(argparse.Namespace(names=["gamma"], tier="skill", reason="", json=False), twin_settings)
    app = make_app(settings, watch_files=False, remember_theme=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        screen = app.screen
        cold = screen.query_one("#cold", PersonaList)
        for _ in range(5):
            if cold.current_name() == "gamma":
                break
            await pilot.press("down")
        assert screen.query_one("#cold", PersonaList).current_name() == "gamma"
        await choose_tier(pilot, "s")
        await until(pilot, lambda: Workspace(settings).tier_of("gamma") == "skill", "the skill tier")
        await wait_ready(pilot)

    def skills(root: Path) -> dict[str, bytes]:
        base = root / ".claude" / "skills"
        return {str(p.relative_to(base)): p.read_bytes() for p in base.rglob("*") if p.is_file()}

    assert skills(settings.workspace) == skills(twin) and skills(twin)


async def test_a_refused_tier_change_is_reported_and_changes_nothing(settings):
    ws = Workspace(settings)
    ws.activate(["alpha", "beta"])
    from ctxtui.core.tiers import set_tier

    set_tier(ws, ["alpha", "beta"], "hidden")  # hidden: no slot; the cap can fill again
    ws = Workspace(settings)
    ws.activate(["gamma", "delta", "epsilon"][: ws.cap])
    before = tree(settings)
    app = make_app(settings, watch_files=False, remember_theme=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        await pilot.press("tab")
        screen = app.screen
        assert screen.query_one("#hot", PersonaList).current_name() == "alpha"
        await choose_tier(pilot, "f")  # showing it again would go over the cap
        await until(pilot, lambda: any("cap" in str(n.message) for n in app._notifications), "the refusal")
        await wait_ready(pilot)
        assert tree(settings) == before


async def test_u_steps_back_over_the_newest_change_as_ctxtui_undo_does(settings):
    """A change made outside the TUI after the TUI's tier change is the newest: u steps back
    over it (as `ctxtui undo` would), then u again steps back over the tier change."""
    app = make_app(settings, watch_files=False, remember_theme=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        screen = app.screen
        assert isinstance(screen, MainScreen)
        await choose_tier(pilot, "s")
        await until(pilot, lambda: Workspace(settings).tier_of("alpha") == "skill", "the skill tier")
        await wait_ready(pilot)
        Workspace(settings).activate(["beta"])  # another ctxtui, say Claude's persona-manager
        await pilot.press("u")
        await until(pilot, lambda: not (settings.agents_dir / "beta.md").exists(), "the undo of beta")
        await wait_ready(pilot)
        assert Workspace(settings).tier_of("alpha") == "skill"
        await pilot.press("u")
        await until(pilot, lambda: Workspace(settings).tier_of("alpha") == "file", "the undo")
