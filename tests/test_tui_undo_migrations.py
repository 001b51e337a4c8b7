"""The TUI's u is ``ctxtui undo``: it steps back over the newest recorded change, whatever made
it (a strategy switch, an auto-optimise, a tier change, a move), through the same core
operation, byte for byte, and it refuses where the CLI refuses (an edited file is never
overwritten)."""

from __future__ import annotations

from test_tui import SIZE, app_for, hot_files, open_analytics, settle

from conftest import delegations, persona_text
from ctxtui.core import strategies
from ctxtui.core.config import Settings, load_settings
from ctxtui.core.history import History
from ctxtui.core.workspace import Workspace


def project_files(settings: Settings) -> dict[str, bytes]:
    """Every file of the project but ctxtui's own folder (history, journal, cold store)."""
    root = settings.workspace
    state = settings.state_dir
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and not p.is_relative_to(state)}


def crlf_project(settings: Settings) -> None:
    """A project with a CRLF CLAUDE.md and one hot agent file written with CRLF line ends."""
    (settings.workspace / "CLAUDE.md").write_bytes(b"# My project\r\n\r\nUse tabs.\r\n")
    settings.agents_dir.mkdir(parents=True)
    (settings.agents_dir / "alpha.md").write_bytes(
        persona_text("alpha", "Use alpha for task number 0.", "You are alpha.\n").replace("\n", "\r\n").encode())


async def wait_for(pilot, check, what: str, tries: int = 400) -> None:
    for _ in range(tries):
        if check():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"never happened: {what}")


async def confirm_screen(pilot, app):
    await wait_for(pilot, lambda: type(app.screen).__name__ == "ConfirmScreen", "the confirmation")
    return app.screen


async def switch_in_the_tui(pilot, app, label: str) -> None:
    """g, then pick LABEL in the open switcher with the arrow keys and enter."""
    from textual.widgets import Select

    await pilot.press("g")
    await settle(pilot, app)
    select = app.screen.query_one("#strategy-select", Select)
    await wait_for(pilot, lambda: select.expanded, "the open switcher")
    overlay = select.query_one("SelectOverlay")
    for _ in range(10):
        option = overlay.get_option_at_index(overlay.highlighted) if overlay.highlighted is not None else None
        if option is not None and str(option.prompt) == label:
            break
        await pilot.press("up")
    await pilot.press("enter")


async def test_u_undoes_a_strategy_switch_made_in_the_tui_byte_for_byte(settings):
    crlf_project(settings)
    before = project_files(settings)
    app = app_for(settings)
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot, app)
        await switch_in_the_tui(pilot, app, "Eager (all hot)")
        confirm = await confirm_screen(pilot, app)
        assert "→ eager" in confirm.title_text
        assert confirm.body.startswith("startup tokens ")  # what it costs before the list of files
        await pilot.press("y")
        await wait_for(pilot, lambda: len(hot_files(settings)) == 5, "the switch to eager")
        await settle(pilot, app)
        assert screen.model.strategy == "eager"
        await pilot.press("u")
        await wait_for(pilot, lambda: project_files(settings) == before, "the undo")
        await settle(pilot, app)
        assert screen.model.strategy != "eager"
        assert not [n for n in app._notifications if n.severity == "error"]
    assert project_files(settings) == before  # CRLF kept, nothing else left behind
    entries = History(settings).entries()
    assert entries[-1].kind == "undo" and entries[-1].undoes == entries[-2].id


async def test_u_undoes_what_the_cli_would_undo_the_newest_entry_made_anywhere(settings):
    """A change recorded outside the TUI (another ctxtui, Claude's persona-manager) is the
    newest: u steps back over it, as `ctxtui undo` would; u again steps back further."""
    app = app_for(settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("t")  # alpha hot, from the TUI
        await wait_for(pilot, lambda: hot_files(settings) == ["alpha.md"], "the move")
        await settle(pilot, app)
        Workspace(settings).activate(["beta"])  # elsewhere
        await pilot.press("u")
        await wait_for(pilot, lambda: hot_files(settings) == ["alpha.md"] and len(History(settings).entries()) == 3,
                       "the undo of beta")
        await settle(pilot, app)
        await pilot.press("u")
        await wait_for(pilot, lambda: hot_files(settings) == [], "the undo of alpha")
        await settle(pilot, app)


async def test_u_refuses_like_the_cli_when_a_file_was_edited_since(settings):
    strategies.migrate(Workspace(settings), "eager", reason="test")
    edited = settings.agents_dir / "beta.md"
    edited.write_bytes(edited.read_bytes() + b"\nMy own note.\n")
    before = project_files(settings)
    app = app_for(settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("u")
        await wait_for(pilot, lambda: any("changed outside ctxtui" in str(n.message) for n in app._notifications),
                       "the refusal")
        await settle(pilot, app)
        assert project_files(settings) == before  # the edit is still there, nothing restored
    assert History(settings).entries()[-1].kind == "migrate"


async def test_u_undoes_an_auto_optimise_applied_from_the_analytics_screen(settings, tmp_path):
    s = load_settings(workspace=settings.workspace, library_dirs=settings.library_dirs,
                      transcripts_dir=delegations(tmp_path / "transcripts", ["beta", "beta", "gamma"]))
    crlf_project(s)
    before = project_files(s)
    app = app_for(s)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await open_analytics(pilot, app)
        await pilot.press("o")
        await confirm_screen(pilot, app)
        await pilot.press("y")
        # five tiny personas are cheaper hot: the net-savings guard asks first
        await wait_for(pilot, lambda: "apply anyway" in str(getattr(app.screen, "title_text", "")), "the guard")
        await pilot.press("y")
        await wait_for(pilot, lambda: "beta.md" in hot_files(s), "the auto-optimise")
        await settle(pilot, app)
        assert History(s).entries()[-1].kind == "optimize"
        await pilot.press("u")
        await wait_for(pilot, lambda: project_files(s) == before, "the undo")
        await settle(pilot, app)
    assert project_files(s) == before
    assert History(s).entries()[-1].undoes is not None

