"""Adaptive with no usage says so, in the CLI's words, in the TUI's confirmation too; the
cap note counts the pins that take slots before the hot personas."""

from __future__ import annotations

from test_tui import SIZE, app_for, settle
from test_tui_undo_migrations import confirm_screen, switch_in_the_tui

from ctxtui.analytics.adaptive_choice import picked_by_mode
from ctxtui.core import strategies
from ctxtui.core.workspace import Workspace


async def test_tui_adaptive_without_usage_says_what_was_asked_and_why_it_picked(settings):
    assert not settings.transcripts.exists()
    app = app_for(settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await switch_in_the_tui(pilot, app, "Adaptive")
        confirm = await confirm_screen(pilot, app)
        picked = strategies.resolve(Workspace(settings), "adaptive")
        assert confirm.title_text == f"Switch lazy_loading → {picked} (asked: adaptive)?"
        assert picked_by_mode(picked) in confirm.body  # the CLI's note, from the one source
        await pilot.press("n")


def test_cli_adaptive_without_usage_prints_the_same_note(settings, capsys):
    from ctxtui.cli import main

    code = main(["-w", str(settings.workspace), "-l", str(settings.library_dirs[0]),
                 "migrate", "--to", "adaptive", "--dry-run"])
    out = capsys.readouterr().out
    picked = strategies.resolve(Workspace(settings), "adaptive")
    assert code == 0 and "(asked: adaptive)" in out
    assert picked_by_mode(picked) in " ".join(out.split())


def test_cap_note_counts_the_pins_planned_with_the_hot_personas(settings):
    settings.agents_dir.mkdir(parents=True)
    for i in range(3):
        (settings.agents_dir / f"own{i}.md").write_text(f"---\nname: own{i}\ndescription: mine {i}\n---\nbody {i}\n")
    ws = Workspace(settings)
    assert ws.cap == 3 and ws.pinned == ["persona-manager"]
    plan = strategies.plan(ws, "lazy_loading", force=True)
    note = next(n for n in plan.notes if "do not fit the cap" in n)
    assert note.startswith("4 personas (1 pinned) do not fit the cap of 3; 3 go cold.")
    assert plan.hot_after == ["persona-manager"]
