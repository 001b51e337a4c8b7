"""Migrations, rollback, fallback, profiles, the Claude settings file, and crash recovery."""

from __future__ import annotations

import json

import pytest

from conftest import crash_at, snapshot_tree
from ctxtui.core import journal, profiles, strategies
from ctxtui.core.history import History
from ctxtui.core.workspace import Workspace

VALIDATED = {"baseline": "lazy_loading", "heldout_prompts": 120, "model_score": 0.82, "baseline_score": 0.8,
             "metric": "task success"}


def register(settings, healthy=True, personas=("alpha", "beta"), validation=VALIDATED):
    reg = settings.workspace / "models" / "fine-tuned.json"
    reg.parent.mkdir(parents=True, exist_ok=True)
    reg.write_text(json.dumps({"models": [{"name": "ft:acme-1", "personas": list(personas), "healthy": healthy,
                                           "validation": validation}]}))


def test_eager_makes_everything_hot_and_lazy_respects_the_cap(settings):
    ws = Workspace(settings)
    strategies.migrate(ws, "eager", reason="baseline")
    assert sorted(ws.hot_names()) == ["alpha", "beta", "delta", "epsilon", "gamma"]
    assert ws.strategy == "eager"
    strategies.migrate(ws, "lazy_loading", hot=["gamma", "delta"], force=True)
    assert ws.hot_names() == ["delta", "gamma", "persona-manager"]
    with pytest.raises(strategies.StrategyError, match="exceed the cap"):
        strategies.plan(ws, "lazy_loading", hot=["alpha", "beta", "gamma"])


def test_dry_run_plan_changes_nothing_and_reports_tokens(settings):
    ws = Workspace(settings)
    before = snapshot_tree(settings.workspace)
    plan = strategies.plan(ws, "eager")
    assert snapshot_tree(settings.workspace) == before
    assert plan.tokens_after > plan.tokens_before and len(plan.activate) == 5
    assert plan.to_json()["changes"]


def test_from_mismatch_is_refused(settings):
    with pytest.raises(strategies.StrategyError, match="not eager"):
        strategies.plan(Workspace(settings), "lazy_loading", from_="eager")


def test_fine_tuned_writes_model_and_keeps_other_settings(settings):
    register(settings)
    local = settings.workspace / ".claude" / "settings.local.json"
    local.parent.mkdir(parents=True)
    local.write_text('{"permissions": {"allow": ["Bash(ls)"]}}')
    ws = Workspace(settings)
    strategies.migrate(ws, "hybrid", hot=["gamma"], force=True)
    data = json.loads(local.read_text())
    assert data == {"permissions": {"allow": ["Bash(ls)"]}, "model": "ft:acme-1"}
    assert "alpha" not in ws.hot_names() and "gamma" in ws.hot_names()
    block = (settings.workspace / "CLAUDE.md").read_text()
    assert "ft:acme-1" in block and "`alpha`" not in block.split("Cold")[-1]
    strategies.migrate(ws, "lazy_loading", force=True)
    assert json.loads(local.read_text()) == {"permissions": {"allow": ["Bash(ls)"]}}


def test_unhealthy_model_falls_back_to_lazy_with_reason(settings):
    register(settings, healthy=False)
    ws = Workspace(settings)
    entry = strategies.migrate(ws, "fine_tuned", reason="try it", force=True)
    assert entry.to_strategy == "lazy_loading" and "unhealthy" in entry.reason
    assert ws.strategy == "lazy_loading"


def test_missing_model_is_refused_without_fallback(settings):
    (settings.workspace / "hybrid-config.json").write_text('{"fine_tuning": {"fallback_enabled": false}}')
    ws = Workspace(settings)
    before = snapshot_tree(settings.workspace)
    with pytest.raises(strategies.StrategyError, match="fallback is disabled"):
        strategies.migrate(ws, "fine_tuned")
    assert snapshot_tree(settings.workspace) == before


def test_adaptive_picks_by_mode(settings):
    register(settings)
    (settings.workspace / "hybrid-config.json").write_text('{"context_management": {"mode": "experimental"}}')
    ws = Workspace(settings)
    assert strategies.plan(ws, "adaptive").to_strategy == "fine_tuned"
    (settings.workspace / "hybrid-config.json").write_text('{"context_management": {"mode": "production"}}')
    ws.refresh()
    assert strategies.plan(ws, "adaptive").to_strategy == "lazy_loading"


def test_rollback_restores_bytes_and_undo_twice_goes_two_changes_back(settings):
    claude = settings.workspace / "CLAUDE.md"
    claude.write_bytes(b"# mine\r\n")
    ws = Workspace(settings)
    ws.activate(["alpha"])

    def tree():
        return snapshot_tree(settings.workspace / ".claude" / "agents") | {"md": claude.read_bytes()}

    start = tree()
    strategies.migrate(ws, "eager")
    after_eager = tree()
    strategies.migrate(ws, "lazy_loading", hot=["beta"], force=True)
    strategies.rollback(ws)  # --reason is optional
    assert tree() == after_eager
    strategies.undo(ws)
    assert tree() == start  # a second undo goes one further back, not a toggle
    strategies.undo(ws)  # the activate is a recorded change too
    assert "alpha.md" not in tree()
    with pytest.raises(strategies.StrategyError, match="nothing left to undo"):
        strategies.undo(ws)
    kinds = [(e.kind, e.to_strategy) for e in strategies.history(ws)]
    assert kinds == [("activate", "lazy_loading"), ("migrate", "eager"), ("migrate", "lazy_loading"),
                     ("undo", "eager"), ("undo", "lazy_loading"), ("undo", "lazy_loading")]


def test_rollback_by_id_restores_the_state_before_it_and_by_strategy_the_latest_state_on_it(settings):
    ws = Workspace(settings)
    ws.activate(["beta"])
    e1 = strategies.migrate(ws, "lazy_loading", hot=["alpha"], force=True)
    strategies.migrate(ws, "eager")
    strategies.rollback(ws, entry_id=e1.id[:4].lstrip("0"), reason="by number")
    assert ws.hot_names() == ["beta"]  # the state before entry 1, not after it
    strategies.rollback(ws, to="eager", reason="by strategy")
    assert len(ws.hot_names()) == 5
    with pytest.raises(strategies.StrategyError, match="no history entry"):
        strategies.rollback(ws, entry_id="99", reason="x")


def test_profiles_save_use_and_roll_back(settings):
    ws = Workspace(settings)
    ws.activate(["beta", "gamma"])
    assert profiles.save(ws, "backend") == ["beta", "gamma"]
    assert json.loads((settings.workspace / "hybrid-config.json").read_text())["profiles"] == {"backend": ["beta", "gamma"]}
    profiles.save(ws, "testing", ["delta"])
    profiles.use(ws, "testing", force=True)
    assert ws.hot_names() == ["delta", "persona-manager"]
    strategies.rollback(ws, reason="back")
    assert ws.hot_names() == ["beta", "gamma"]
    with pytest.raises(strategies.WorkspaceError, match="no profile"):
        profiles.use(ws, "nope")


def test_activate_in_lazy_updates_the_block_in_the_chosen_density(settings):
    ws = Workspace(settings)
    strategies.migrate(ws, "lazy_loading", hot=["alpha"], density="names", force=True)
    ws.activate(["beta"])
    block = (settings.workspace / "CLAUDE.md").read_text()
    assert "`beta`" in block.split("Cold")[0]
    assert "by category" in block and "- **general**: delta, epsilon, gamma" in block


@pytest.mark.parametrize("point", ["staged", "step:0", "step:3", "step:6"])
def test_migration_interrupted_after_snapshot_is_completed_or_undone(settings, library, point):
    (settings.workspace / "CLAUDE.md").write_text("mine\n")
    ws = Workspace(settings)
    ws.activate(["alpha"])
    (settings.agents_dir / "alpha.md").write_text("---\nname: alpha\ndescription: edited\n---\n")
    before = snapshot_tree(settings.workspace / ".claude" / "agents") | {"md": (settings.workspace / "CLAUDE.md").read_bytes()}

    with crash_at(point):
        strategies.migrate(ws, "lazy_loading", hot=["beta"], force=True)
    ws2 = Workspace(settings)
    assert not journal.pending(settings.state_dir)
    entries = [e for e in strategies.history(ws2) if e.kind != "activate"]
    if point == "staged":
        assert entries == [] and snapshot_tree(settings.workspace / ".claude" / "agents") | {"md": (settings.workspace / "CLAUDE.md").read_bytes()} == before
    else:
        assert len(entries) == 1 and ws2.hot_names() == ["beta", "persona-manager"]
        assert (settings.cold_store / "alpha.md").read_text().endswith("edited\n---\n")
        strategies.rollback(ws2, reason="crash test")
        assert snapshot_tree(settings.workspace / ".claude" / "agents") | {"md": (settings.workspace / "CLAUDE.md").read_bytes()} == before


def test_snapshots_are_content_addressed(settings):
    ws = Workspace(settings)
    strategies.migrate(ws, "eager")
    strategies.migrate(ws, "lazy_loading", force=True)
    strategies.migrate(ws, "eager")
    h = History(settings)
    blobs = list(h.blobs.iterdir())
    assert len(blobs) == len({b.read_bytes() for b in blobs})


def test_first_migration_of_an_overfull_hot_folder_keeps_only_pins_and_adopts_the_rest(settings):
    settings.agents_dir.mkdir(parents=True)
    for i in range(6):
        (settings.agents_dir / f"own{i}.md").write_text(f"---\nname: own{i}\ndescription: mine {i}\n---\nbody {i}\n")
    ws = Workspace(settings)
    plan = strategies.plan(ws, "lazy_loading", force=True)
    assert plan.hot_after == ["persona-manager"] and any("do not fit the cap" in n for n in plan.notes)
    strategies.apply(ws, plan)
    assert sorted(p.name for p in settings.cold_store.iterdir()) == [f"own{i}.md" for i in range(6)]
    assert {f"own{i}" for i in range(6)} <= set(ws.library.by_name)


def test_a_hot_set_that_fits_is_kept_when_switching_to_lazy(settings):
    settings.agents_dir.mkdir(parents=True)
    (settings.agents_dir / "mine.md").write_text("---\nname: mine\ndescription: hand made\n---\n")
    ws = Workspace(settings)
    ws.activate(["alpha"])
    assert strategies.plan(ws, "lazy_loading").hot_after == ["persona-manager", "alpha", "mine"]


def test_block_lists_personas_adopted_by_the_same_migration(settings):
    settings.agents_dir.mkdir(parents=True)
    for i in range(5):
        (settings.agents_dir / f"own{i}.md").write_text(f"---\nname: own{i}\ndescription: mine {i}\n---\nbody {i}\n")
    ws = Workspace(settings)
    strategies.migrate(ws, "lazy_loading", density="full", force=True)
    block = (settings.workspace / "CLAUDE.md").read_text()
    for i in range(5):
        assert f"- `own{i}`: mine {i} — .claude/ctxtui/cold/own{i}.md" in block
    assert strategies.preview(ws, "full").changed is False  # the plan matched what landed


def test_deactivating_an_unmanaged_file_in_lazy_lists_it_in_the_block(settings):
    ws = Workspace(settings)
    strategies.migrate(ws, "lazy_loading", hot=[], density="full", force=True)
    settings.agents_dir.mkdir(parents=True, exist_ok=True)
    (settings.agents_dir / "mine.md").write_text("---\nname: mine\ndescription: hand made\n---\n")
    ws.refresh()
    ws.deactivate(["mine"])
    assert "- `mine`: hand made — .claude/ctxtui/cold/mine.md" in (settings.workspace / "CLAUDE.md").read_text()



def test_a_hot_file_that_is_a_link_stays_in_place_through_every_migration(settings, tmp_path):
    """README: hot agent files that are links are left in place. A migration that would send
    them cold keeps them hot instead (with a note), and undo leaves the link as it was."""
    outside = tmp_path / "shared-agents" / "linked.md"
    outside.parent.mkdir()
    outside.write_text("---\nname: linked\ndescription: A linked agent.\n---\nbody\n")
    ws = Workspace(settings)
    strategies.migrate(ws, "eager")
    link = settings.agents_dir / "linked.md"
    link.symlink_to(outside)
    plan = strategies.plan(Workspace(settings), "lazy_loading", force=True)
    assert "linked" not in plan.deactivate and "linked" in plan.hot_after
    assert any("links stay in place" in n for n in plan.notes)
    strategies.migrate(Workspace(settings), "lazy_loading", force=True)
    assert link.is_symlink() and link.resolve() == outside
    strategies.undo(Workspace(settings))
    assert link.is_symlink() and outside.read_text().startswith("---\nname: linked")
