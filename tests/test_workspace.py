"""Hot/cold moves, refusals, the budget, and crash safety."""

from __future__ import annotations

import json
import os

import pytest

from conftest import crash_at, persona_text, snapshot_tree
from ctxtui.core import journal, tokens, verdicts
from ctxtui.core.config import load_settings
from ctxtui.core.workspace import CapError, Workspace, WorkspaceError


def test_activate_copies_library_bytes_and_deactivate_removes_them(settings, library):
    ws = Workspace(settings)
    assert ws.activate(["alpha", "beta"]) == ["alpha", "beta"]
    assert (settings.agents_dir / "alpha.md").read_bytes() == (library / "alpha.md").read_bytes()
    assert ws.hot_names() == ["alpha", "beta"]
    assert [p.name for p in ws.cold()] == ["delta", "epsilon", "gamma", "persona-manager"]
    ws.deactivate(["alpha"])
    assert not (settings.agents_dir / "alpha.md").exists()
    assert (library / "alpha.md").exists()
    assert not settings.cold_store.exists() or not any(settings.cold_store.iterdir())


def test_cap_is_enforced_and_nothing_changes(settings, library):
    ws = Workspace(settings)
    ws.activate(["alpha", "beta"])
    before = snapshot_tree(settings.workspace, library)
    with pytest.raises(CapError, match="the cap is 3"):
        ws.activate(["gamma", "delta"])
    assert snapshot_tree(settings.workspace, library) == before


def test_cap_comes_from_the_workspace_config(settings):
    (settings.workspace / "hybrid-config.json").write_text(json.dumps({"lazy_loading": {"max_active_personas": 1}}))
    ws = Workspace(settings)
    ws.activate(["alpha"])
    with pytest.raises(CapError):
        ws.activate(["beta"])


def test_unknown_and_invalid_personas_are_refused(settings, library):
    (library / "broken.md").write_text("no frontmatter")
    ws = Workspace(settings)
    with pytest.raises(WorkspaceError, match="no persona named 'nope'"):
        ws.activate(["nope"])
    with pytest.raises(WorkspaceError, match="cannot be activated"):
        ws.activate(["broken"])
    with pytest.raises(WorkspaceError, match="not hot"):
        ws.deactivate(["alpha"])
    assert not settings.agents_dir.exists() or not any(settings.agents_dir.iterdir())


def test_edited_hot_file_is_saved_to_cold_store_and_earlier_version_kept(settings, library):
    ws = Workspace(settings)
    ws.activate(["alpha"])
    hot = settings.agents_dir / "alpha.md"
    hot.write_text(persona_text("alpha", "edited in place"))
    ws.refresh()
    assert ws.find_hot("alpha").edited
    ws.deactivate(["alpha"])
    assert (settings.cold_store / "alpha.md").read_text() == persona_text("alpha", "edited in place")
    assert (library / "alpha.md").read_text().startswith("---\nname: alpha\ndescription: Use alpha")
    assert ws.library.get("alpha").description == "edited in place"  # cold store wins on names
    # edit again: the cold-store version is kept under versions/
    ws.activate(["alpha"])
    hot.write_text(persona_text("alpha", "second edit"))
    ws.deactivate(["alpha"])
    versions = list((settings.state_dir / "versions" / "alpha").iterdir())
    assert [v.read_text() for v in versions] == [persona_text("alpha", "edited in place")]


def test_hot_file_not_in_library_is_adopted_not_deleted(settings):
    settings.agents_dir.mkdir(parents=True)
    (settings.agents_dir / "mine.md").write_text(persona_text("mine", "hand written"))
    ws = Workspace(settings)
    assert "unmanaged" in ws.find_hot("mine").flags
    ws.deactivate(["mine"])
    assert (settings.cold_store / "mine.md").read_text() == persona_text("mine", "hand written")
    assert ws.library.get("mine") is not None


def test_symlinked_hot_file_is_left_alone(settings, tmp_path):
    settings.agents_dir.mkdir(parents=True)
    target = tmp_path / "t.md"
    target.write_text(persona_text("linked"))
    os.symlink(target, settings.agents_dir / "linked.md")
    ws = Workspace(settings)
    with pytest.raises(WorkspaceError, match="symlink"):
        ws.deactivate(["linked"])
    assert (settings.agents_dir / "linked.md").is_symlink()


def test_traversal_name_is_written_inside_the_agents_folder(settings, library):
    (library / "evil.md").write_text("---\nname: ../../outside\ndescription: sneaky\n---\n")
    ws = Workspace(settings)
    ws.activate(["../../outside"])
    files = [p.relative_to(settings.workspace).as_posix() for p in settings.workspace.rglob("*.md")]
    assert ".claude/agents/outside.md" in files
    assert not (settings.workspace.parent / "outside.md").exists()
    assert ws.hot_names() == ["../../outside"]


def test_two_personas_with_one_safe_stem_get_distinct_files(settings, library):
    (library / "x1.md").write_text("---\nname: a/b\ndescription: one\n---\n")
    (library / "x2.md").write_text("---\nname: a?b\ndescription: two\n---\n")
    ws = Workspace(settings)
    ws.activate(["a/b", "a?b"])
    assert sorted(p.name for p in settings.agents_dir.iterdir()) == ["a-b-2.md", "a-b.md"]


def test_user_scope_clash_is_reported_and_project_wins(settings, library):
    user_agents = settings.user_agents_dir
    user_agents.mkdir(parents=True)
    (user_agents / "alpha.md").write_text(persona_text("alpha", "user copy"))
    (user_agents / "solo.md").write_text(persona_text("solo", "only in user scope"))
    ws = Workspace(settings)
    ws.activate(["alpha"])
    assert any("overridden by the project" in c for c in ws.clashes)
    budget = ws.budget()
    agents = [(i.label, i.scope) for i in budget.items if i.kind == "agent"]
    assert agents == [("alpha", "project"), ("solo", "user")]
    no_user = Workspace(load_settings(workspace=settings.workspace, library_dirs=settings.library_dirs, include_user_scope=False))
    assert [i.label for i in no_user.budget().items if i.kind == "agent"] == ["alpha"]


def test_budget_itemises_memory_and_agents_against_eager(settings):
    (settings.workspace / "CLAUDE.md").write_text("Project rules. @notes.md\n")
    (settings.workspace / "notes.md").write_text("Some notes here.\n")
    ws = Workspace(settings)
    ws.activate(["alpha"])
    b = ws.budget()
    kinds = [(i.kind, i.scope) for i in b.items]
    # memory as Claude Code sends it: the text added once, then each file with its header
    assert kinds == [("memory", "fixed"), ("memory", "project"), ("memory", "import"), ("agent", "project")]
    assert sum(i.tokens for i in b.items if i.kind == "memory") == ws.memory.sent_tokens
    # the managed part: agent lines plus ctxtui's block; eager: every library line instead
    alpha = ws.verdict(ws.library.get("alpha"))
    assert b.items[-1].tokens == verdicts.line_tokens(alpha) == tokens.count("\n" + alpha.line)
    block = b.startup_tokens - b.items[-1].tokens
    assert block >= 0
    lib_agents = sum(verdicts.line_tokens(ws.verdict(p)) for p in ws.library.eager())
    assert b.eager_startup_tokens == lib_agents
    assert 0 < b.reduction_pct < 100
    # the whole startup: Claude Code's fixed text too, every item summed
    assert b.total_tokens == sum(i["tokens"] or 0 for i in b.whole["items"]) > b.startup_tokens + 1000
    assert b.context_left == b.window - round(b.total_tokens * b.factor)


def test_concurrent_edit_between_plan_and_commit_is_refused(settings, monkeypatch):
    ws = Workspace(settings)
    ws.activate(["alpha"])
    hot = settings.agents_dir / "alpha.md"
    real_plan = ws.plan_deactivate

    def plan_then_someone_edits(names, tx, state):
        out = real_plan(names, tx, state)
        hot.write_text("edited by another program while we planned")
        return out

    monkeypatch.setattr(ws, "plan_deactivate", plan_then_someone_edits)
    with pytest.raises(journal.ConflictError, match="changed on disk"):
        ws.deactivate(["alpha"])
    assert hot.read_text() == "edited by another program while we planned"


@pytest.mark.parametrize("point", ["staged", "step:0", "step:1"])
def test_crash_in_the_middle_recovers_with_no_file_lost(settings, library, point):
    ws = Workspace(settings)
    ws.activate(["alpha"])
    (settings.agents_dir / "alpha.md").write_text(persona_text("alpha", "precious edit"))

    with crash_at(point):
        ws.deactivate(["alpha"])
    ws2 = Workspace(settings)  # next start recovers
    assert not journal.pending(settings.state_dir)
    contents = [p.read_text() for p in settings.workspace.rglob("*.md")]
    assert any("precious edit" in c for c in contents)
    if point == "staged":  # manifest never written: nothing changed
        assert ws2.hot_names() == ["alpha"] and ws2.recovered[0].startswith("discarded")
    else:  # manifest durable: rolled forward
        assert ws2.hot_names() == [] and ws2.recovered[0].startswith("completed")
        assert (settings.cold_store / "alpha.md").read_text() == persona_text("alpha", "precious edit")


def test_two_hot_files_with_one_name_are_both_kept_on_deactivate(settings):
    settings.agents_dir.mkdir(parents=True)
    (settings.agents_dir / "one.md").write_text(persona_text("twin", "first copy"))
    (settings.agents_dir / "two.md").write_text(persona_text("twin", "second copy"))
    ws = Workspace(settings)
    assert any("defined twice" in c for c in ws.clashes)
    ws.deactivate(["twin"])
    assert ws.hot_names() == []
    kept = sorted(p.read_text() for p in settings.cold_store.glob("*.md"))
    assert kept == sorted([persona_text("twin", "first copy"), persona_text("twin", "second copy")])


def test_budget_uses_the_calibration_factor_of_the_workspace_model(workspace, library):
    s = load_settings(workspace=workspace, library_dirs=[library], calibration={"sonnet": 1.2, "opus": 1.4})
    (workspace / "hybrid-config.json").write_text('{"models": {"production": "claude-opus-4-1"}}')
    b = Workspace(s).budget()
    assert b.factor == 1.4 and b.estimated_claude_tokens == round(b.total_tokens * 1.4)


def test_recovery_never_overwrites_a_file_edited_after_the_crash(settings, library):
    ws = Workspace(settings)
    ws.activate(["alpha"])
    hot = settings.agents_dir / "alpha.md"
    hot.write_text(persona_text("alpha", "edit before the crash"))

    with crash_at("step:0"):
        ws.deactivate(["alpha"])
    hot.write_text(persona_text("alpha", "edit after the crash"))  # the user kept working
    ws2 = Workspace(settings)
    assert hot.read_text() == persona_text("alpha", "edit after the crash")
    assert any("kept as it is" in line for line in ws2.recovered)
    assert (settings.state_dir / "conflicts").is_dir()
    # the version from before the crash was saved by the part that did run
    assert (settings.cold_store / "alpha.md").read_text() == persona_text("alpha", "edit before the crash")
    assert ws2.find_hot("alpha").edited


def test_recovery_keeps_a_pending_write_aside_when_the_target_changed(settings, library):
    ws = Workspace(settings)

    with crash_at("step:0"):
        ws.activate(["beta"])
    settings.agents_dir.mkdir(parents=True, exist_ok=True)
    (settings.agents_dir / "beta.md").write_text("written by Claude Code meanwhile")
    ws2 = Workspace(settings)
    assert (settings.agents_dir / "beta.md").read_text() == "written by Claude Code meanwhile"
    staged = [p.read_bytes() for p in (settings.state_dir / "conflicts").rglob("*.stage")]
    assert (library / "beta.md").read_bytes() in staged
    assert any("kept as it is" in line for line in ws2.recovered)


def test_a_name_declared_by_several_files_takes_one_slot_as_claude_code_lists_it_once(settings, library):
    """Two other programs wrote their own ``alpha``: Claude Code lists ``alpha`` once, so it
    counts once against the cap and another persona still fits."""
    ws = Workspace(settings)
    ws.activate(["alpha"])
    for n in (1, 2):
        (settings.agents_dir / f"alpha-copy{n}.md").write_text(persona_text("alpha", f"copy {n}"))
    ws.refresh()
    assert len(ws.hot) == 3 and [h.name for h in ws.visible_hot()] == ["alpha"]
    listed = [h.persona.path.name for h in ws.visible_hot()]
    assert listed == ["alpha.md"]  # the later path, the one Claude Code lists
    ws.activate(["beta", "gamma"])
    assert len(ws.visible_hot()) == ws.cap == 3


@pytest.mark.parametrize("entry,why", [("../../../../../../../../../..", "the filesystem root"),
                                       ("..", "a folder that holds this project"),
                                       (".", "a folder that holds this project")])
def test_a_config_naming_the_root_or_a_folder_holding_the_project_is_refused(workspace, entry, why):
    """A cloned repository's hybrid-config.json must not point the index at the whole disk."""
    (workspace / "hybrid-config.json").write_text(json.dumps({"library": [entry]}))
    with pytest.raises(WorkspaceError, match=why):
        Workspace(load_settings(workspace=workspace))


def test_a_recorded_library_that_went_missing_is_said_in_the_warnings(workspace, library):
    import os.path

    rel = os.path.relpath(library, workspace)
    (workspace / "hybrid-config.json").write_text(json.dumps({"library": [rel]}))
    assert not Workspace(load_settings(workspace=workspace)).budget().warnings
    library.rename(library.with_name("gone"))
    warnings = Workspace(load_settings(workspace=workspace)).budget().warnings
    assert any("is missing" in w and rel in w for w in warnings)


def test_an_unknown_name_is_said_as_such_even_when_the_cap_is_full(settings, library):
    ws = Workspace(settings)
    ws.activate(["alpha", "beta", "gamma"])
    with pytest.raises(WorkspaceError, match="no persona named 'nonexist'") as exc:
        ws.activate(["nonexist"])
    assert not isinstance(exc.value, CapError)
