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


async def test_tui_adaptive_with_usage_plans_the_usage_proposal_and_u_undoes_it(settings, tmp_path):
    """With usage of this project, Adaptive in the TUI is the CLI's proposal (hot set and
    tiers), not the context mode's pick; u steps back over it byte for byte."""
    import json

    from test_tui_undo_migrations import project_files, wait_for

    from ctxtui.core.config import load_settings
    from ctxtui.core.history import History

    proj = tmp_path / "transcripts" / "-proj"
    proj.mkdir(parents=True)
    lines = []
    for i, persona in enumerate(["beta", "beta", "gamma"]):
        base = {"cwd": str(settings.workspace.absolute()), "sessionId": "s1"}
        lines.append(base | {"type": "user", "timestamp": "2026-11-01T10:00:00Z", "message": {"content": f"review {i}"}})
        lines.append(base | {"type": "assistant", "requestId": f"r{i}", "timestamp": "2026-11-01T10:00:01Z", "message": {
            "id": f"m{i}", "content": [{"type": "tool_use", "id": f"t{i}", "name": "Task",
                                        "input": {"subagent_type": persona, "prompt": "go"}}]}})
    (proj / "s.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    s = load_settings(workspace=settings.workspace, library_dirs=settings.library_dirs,
                      transcripts_dir=tmp_path / "transcripts")
    before = project_files(s)
    app = app_for(s)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await switch_in_the_tui(pilot, app, "Adaptive")
        confirm = await confirm_screen(pilot, app)
        assert "(asked: adaptive)" in confirm.title_text
        assert "no usage of this project" not in confirm.body
        assert "add .claude/agents/ for beta" in confirm.body
        assert "costs more than eager" in confirm.body  # five tiny personas: said before the yes
        await pilot.press("y")
        await wait_for(pilot, lambda: "apply anyway" in str(getattr(app.screen, "title_text", "")), "the guard")
        await pilot.press("y")
        await wait_for(pilot, lambda: (s.agents_dir / "beta.md").is_file(), "the adaptive proposal applied")
        await settle(pilot, app)
        assert History(s).entries()[-1].reason == "adaptive proposal from the TUI"
        await pilot.press("u")
        await wait_for(pilot, lambda: project_files(s) == before, "the undo")
