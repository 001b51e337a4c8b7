"""Rollback semantics a person predicts: undo steps back one change at a time, --id restores
the state before that change, --to the most recent earlier state on a strategy, and a change
that changes nothing is not recorded."""

from __future__ import annotations

import json

import pytest

from conftest import snapshot_tree
from ctxtui.cli import main
from ctxtui.core import strategies
from ctxtui.core.history import History
from ctxtui.core.workspace import Workspace


def run(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def agents(settings):
    return snapshot_tree(settings.agents_dir) | {"md": (settings.workspace / "CLAUDE.md").read_bytes()
                                                 if (settings.workspace / "CLAUDE.md").exists() else b""}


def three_changes(settings):
    """Start, then eager, then lazy with beta, then lazy with gamma; the tree at each step."""
    ws = Workspace(settings)
    ws.activate(["alpha"])
    trees = [agents(settings)]
    strategies.migrate(ws, "eager")
    trees.append(agents(settings))
    strategies.migrate(ws, "lazy_loading", hot=["beta"], force=True)
    trees.append(agents(settings))
    strategies.migrate(ws, "lazy_loading", hot=["gamma"], force=True)
    trees.append(agents(settings))
    return ws, trees


def test_cli_undo_steps_back_one_change_at_a_time(capsys, settings):
    _, trees = three_changes(settings)
    common = ["-l", settings.library_dirs[0], "-w", settings.workspace]
    for expected in (trees[2], trees[1], trees[0]):
        code, out, err = run(capsys, "undo", *common)
        assert code == 0, err
        assert agents(settings) == expected
    code, out, err = run(capsys, "undo", *common)  # the first activate is a change too
    assert code == 0, err
    assert "alpha.md" not in snapshot_tree(settings.agents_dir) if settings.agents_dir.exists() else True
    code, _, err = run(capsys, "undo", *common)
    assert code == 1 and "nothing left to undo" in err


def test_plain_rollback_needs_no_reason_and_is_undo(capsys, settings):
    _, trees = three_changes(settings)
    common = ["-l", settings.library_dirs[0], "-w", settings.workspace]
    assert run(capsys, "rollback", *common)[0] == 0
    assert run(capsys, "rollback", *common)[0] == 0
    assert agents(settings) == trees[1]  # two changes back, not a toggle


def test_undo_after_a_new_change_undoes_that_change(settings):
    ws, trees = three_changes(settings)
    strategies.undo(ws)
    assert agents(settings) == trees[2]
    strategies.migrate(ws, "eager")
    strategies.undo(ws)
    assert agents(settings) == trees[2]
    strategies.undo(ws)
    assert agents(settings) == trees[1]


def test_rollback_by_id_restores_the_state_before_that_change(settings):
    ws, trees = three_changes(settings)
    second = strategies.history(ws)[2]  # [0] is the first activate
    strategies.rollback(ws, entry_id=second.id)
    assert agents(settings) == trees[1]


def test_rollback_to_a_strategy_restores_its_most_recent_earlier_state(settings):
    ws, trees = three_changes(settings)
    strategies.rollback(ws, to="eager")
    assert agents(settings) == trees[1]
    strategies.rollback(ws, to="lazy_loading")
    assert agents(settings) == trees[3]  # the latest lazy state, not an older one


def test_no_op_changes_are_not_recorded(capsys, settings):
    ws, _ = three_changes(settings)
    count = len(strategies.history(ws))
    with pytest.raises(strategies.NothingToChange):
        strategies.migrate(ws, "lazy_loading", hot=["gamma"], force=True)
    last = strategies.history(ws)[-1]
    strategies.undo(ws)  # back to the state before the last change
    with pytest.raises(strategies.NothingToChange):
        strategies.rollback(ws, entry_id=last.id)  # that very state: nothing to do
    assert len(strategies.history(ws)) == count + 1
    count += 1
    code, out, _ = run(capsys, "migrate", "--to", "lazy_loading", "--hot", "beta", "--force",
                       "-l", settings.library_dirs[0], "-w", settings.workspace)
    assert code == 0 and "nothing to change" in out
    assert len(strategies.history(ws)) == count


def test_entries_written_before_undo_existed_stay_readable_and_undoable(settings):
    ws, trees = three_changes(settings)
    history = History(settings)
    for p in history.entries_dir.glob("*.json"):
        data = json.loads(p.read_text())
        data.pop("undoes")
        p.write_text(json.dumps(data))
    assert len(strategies.history(ws)) == 4  # the activate and three migrations
    strategies.undo(ws)
    assert agents(settings) == trees[2]


def test_a_malformed_undoes_field_is_quarantined_not_trusted(settings):
    ws, _ = three_changes(settings)
    history = History(settings)
    p = sorted(history.entries_dir.glob("*.json"))[0]
    data = json.loads(p.read_text())
    data["undoes"] = ["not", "a", "string"]
    p.write_text(json.dumps(data))
    assert len(strategies.history(ws)) == 3


def test_undo_never_overwrites_an_edit_made_after_the_change_without_force(capsys, settings):
    """An editor (or Claude Code) changed CLAUDE.md and a hot agent after the last change:
    undo refuses in one line and changes nothing; --force goes ahead and the edits stay in
    history, so rolling back the undo brings them back byte for byte."""
    ws, _ = three_changes(settings)
    claude = settings.workspace / "CLAUDE.md"
    claude.write_bytes(claude.read_bytes() + b"NOTE from me\r\n")
    agent = next(settings.agents_dir.glob("gamma*.md"))
    agent.write_bytes(agent.read_bytes() + b"\nedit\n")
    edited = agents(settings)
    common = ["-l", settings.library_dirs[0], "-w", settings.workspace]
    state_before = snapshot_tree(History(settings).root)
    code, _, err = run(capsys, "undo", *common)
    assert code == 1 and "changed outside ctxtui" in err and "--force" in err
    assert err.count("\n") == 1 and agents(settings) == edited
    assert snapshot_tree(History(settings).root) == state_before  # a refusal keeps no blob of the edit
    code, _, err = run(capsys, "undo", "--force", *common)
    assert code == 0, err
    assert agents(settings) != edited
    forced = strategies.history(Workspace(settings))[-1]
    strategies.rollback(Workspace(settings), entry_id=forced.id)
    assert agents(settings) == edited


def test_an_edit_the_rollback_would_not_touch_does_not_block_it(settings):
    ws, trees = three_changes(settings)
    notes = settings.workspace / ".claude" / "agents" / "zz-notes.md"  # a file ctxtui never had
    strategies.undo(ws)
    notes.write_text("---\nname: zz\ndescription: mine\n---\n")
    with pytest.raises(strategies.EditedSince):
        strategies.undo(Workspace(settings))  # it would remove the new file: refused
    notes.unlink()
    strategies.undo(Workspace(settings))
    assert agents(settings) == trees[1]


def test_activate_and_deactivate_are_recorded_changes_undo_steps_back_over(settings):
    ws = Workspace(settings)
    ws.activate(["alpha"])
    ws.deactivate(["alpha"])
    kinds = [e.kind for e in strategies.history(ws)]
    assert kinds == ["activate", "deactivate"]
    strategies.undo(ws)
    assert ws.hot_names() == ["alpha"]
    strategies.undo(ws)
    assert ws.hot_names() == []


def test_undoing_a_skill_tier_and_init_leaves_no_empty_folders(settings):
    from ctxtui.core.project_init import init
    from ctxtui.core.tiers import set_tier

    ws = Workspace(settings)
    init(ws, settings.library_dirs[0])
    set_tier(Workspace(settings), ["beta"], "skill")
    assert (settings.workspace / ".claude" / "skills" / "beta").is_dir()
    strategies.undo(Workspace(settings))
    assert not (settings.workspace / ".claude" / "skills" / "beta").exists()
    strategies.undo(Workspace(settings))
    assert not (settings.workspace / ".claude" / "commands").exists()


def test_an_edit_absorbed_into_a_later_change_is_not_lost_by_undoing_further_back(settings):
    """activate A; the user edits CLAUDE.md below the block; activate B (its before holds the
    edit); undo, undo: the second undo steps the block back and keeps the edit in place; undoing
    the migration that created the file leaves only the edit."""
    ws = Workspace(settings)
    strategies.migrate(ws, "lazy_loading", force=True)
    claude = settings.workspace / "CLAUDE.md"
    migrated = claude.read_bytes()
    ws.activate(["alpha"])
    claude.write_bytes(claude.read_bytes() + b"MY RULE\r\n")
    ws.activate(["beta"])
    strategies.undo(Workspace(settings))
    assert b"MY RULE\r\n" in claude.read_bytes()
    strategies.undo(Workspace(settings))
    assert claude.read_bytes() == migrated + b"MY RULE\r\n"
    strategies.undo(Workspace(settings))
    assert claude.read_bytes() == b"MY RULE\r\n"


def test_an_agent_edit_absorbed_into_a_later_change_still_refuses_undoing_further_back(settings):
    ws = Workspace(settings)
    ws.activate(["alpha"])
    agent = next(settings.agents_dir.glob("alpha*.md"))
    agent.write_bytes(agent.read_bytes() + b"MY EDIT\n")
    ws.activate(["beta"])
    strategies.undo(Workspace(settings))
    with pytest.raises(strategies.EditedSince, match="alpha"):
        strategies.undo(Workspace(settings))
    assert agent.read_bytes().endswith(b"MY EDIT\n")
