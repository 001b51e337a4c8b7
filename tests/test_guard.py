"""The net-savings guard: a lazy, hybrid or auto-optimised plan whose agent lines plus block
cost more than eager is refused unless forced; eager and activate never are; every figure
is the budget's managed part (the block included)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import persona_text, snapshot_tree
from ctxtui.analytics import optimize
from ctxtui.cli import main
from ctxtui.core import profiles, strategies
from ctxtui.core.config import load_settings
from ctxtui.core.workspace import Workspace


def run(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def big_library(root: Path, n: int, words: int = 30) -> Path:
    """``n`` personas with descriptions of about ``words`` words (a real library's size)."""
    root.mkdir()
    for i in range(n):
        desc = f"Expert {i}" + "".join(f" topic{i}-{w}" for w in range(words)) + "."
        (root / f"p{i:03d}.md").write_text(persona_text(f"p{i:03d}", desc, f"You are expert {i}.\n"))
    return root


def test_lazy_on_a_small_library_is_refused_and_changes_nothing(settings):
    ws = Workspace(settings)
    plan = strategies.plan(ws, "lazy_loading", hot=["alpha"])
    budget = ws.budget()
    assert plan.eager_tokens == budget.eager_startup_tokens  # the budget's figure, not a second rule
    assert plan.tokens_after > plan.eager_tokens and plan.net_saving < 0
    assert plan.refusal and "cheaper hot" in plan.refusal and f"{plan.eager_tokens:,} for eager" in plan.refusal
    assert plan.pays_above is not None and plan.pays_above > len(ws.library.eager())
    def files():  # ctxtui's own lock file aside
        return {k: v for k, v in snapshot_tree(settings.workspace).items() if not k.endswith("/lock")}

    before = files()
    with pytest.raises(strategies.NetCostError, match="--force"):
        strategies.apply(ws, plan)
    assert files() == before
    assert strategies.history(ws) == []


def test_force_switches_anyway_and_the_figure_matches_the_budget_after(settings):
    ws = Workspace(settings)
    entry = strategies.migrate(ws, "lazy_loading", hot=["alpha"], force=True)
    assert ws.strategy == "lazy_loading"
    assert entry.tokens_after == ws.budget().startup_tokens  # the block the plan counted is the one written


def test_eager_and_activate_are_never_refused(settings):
    ws = Workspace(settings)
    assert strategies.plan(ws, "eager").refusal is None
    strategies.migrate(ws, "eager")
    ws2 = Workspace(settings)
    strategies.migrate(ws2, "lazy_loading", hot=[], force=True)
    ws2.activate(["alpha"])  # activate is bound by the cap only
    assert "alpha" in ws2.hot_names()


def test_lazy_on_a_large_library_pays_and_is_allowed(tmp_path, workspace):
    ws = Workspace(load_settings(workspace=workspace, library_dirs=[big_library(tmp_path / "big", 80)]))
    plan = strategies.plan(ws, "lazy_loading", hot=["p000"])
    assert plan.refusal is None and plan.net_saving > 0
    assert plan.tokens_after <= plan.eager_tokens


def test_default_density_is_the_richest_that_still_beats_eager(tmp_path, workspace):
    # 30 personas with one-line descriptions: by size the default is "full", whose index
    # lines (description and path) cost more than the agent lines they replace
    ws = Workspace(load_settings(workspace=workspace, library_dirs=[big_library(tmp_path / "lib30", 30, words=0)]))
    full = strategies.plan(ws, "lazy_loading", hot=[], density="full")
    assert full.refusal is not None  # an explicit density is kept, and refused when it does not pay
    chosen = strategies.plan(ws, "lazy_loading", hot=[])
    assert chosen.density != "full" and chosen.refusal is None
    assert chosen.tokens_after <= chosen.eager_tokens


def test_profile_use_and_auto_optimize_are_guarded(settings):
    ws = Workspace(settings)
    profiles.save(ws, "one", ["alpha"])
    with pytest.raises(strategies.NetCostError):
        profiles.use(ws, "one")
    prop = optimize.Proposal(["alpha"], [], ws.cap, ws.cap, 100.0)
    with pytest.raises(strategies.NetCostError):
        optimize.apply(ws, prop)
    assert strategies.history(ws) == []
    assert optimize.apply(ws, prop, force=True).kind == "optimize"


def test_cli_refuses_in_one_line_and_dry_run_json_shows_the_net_effect(capsys, library, workspace):
    code, out, err = run(capsys, "migrate", "--to", "lazy_loading", "-l", library, "-w", workspace)
    assert code == 1 and err.count("\n") == 1 and "cheaper hot" in err and "Traceback" not in err
    code, out, _ = run(capsys, "migrate", "--to", "lazy_loading", "--dry-run", "--json", "-l", library, "-w", workspace)
    data = json.loads(out)
    assert data["net_saving"] == data["eager_tokens"] - data["tokens_after"] < 0 and data["refusal"]
    code, out, _ = run(capsys, "migrate", "--to", "lazy_loading", "--force", "-l", library, "-w", workspace)
    assert code == 0


def test_preview_json_shows_the_net_effect_before_writing(capsys, library, workspace):
    code, out, _ = run(capsys, "claude-md", "--json", "-l", library, "-w", workspace)
    data = json.loads(out)
    assert data["net_saving"] == data["eager_tokens"] - data["managed_tokens"]
    assert data["managed_tokens"] >= data["block_tokens"]


def test_claude_md_write_and_profile_honour_json(capsys, library, workspace):
    code, out, _ = run(capsys, "claude-md", "--write", "--json", "-l", library, "-w", workspace)
    assert code == 0 and json.loads(out)["written"] is True
    code, out, _ = run(capsys, "profile", "save", "one", "--personas", "alpha", "--json", "-l", library, "-w", workspace)
    assert json.loads(out) == {"profile": "one", "personas": ["alpha"]}
    code, out, _ = run(capsys, "profile", "use", "one", "--dry-run", "--json", "-l", library, "-w", workspace)
    assert json.loads(out)["plan"]["refusal"]
    code, out, _ = run(capsys, "profile", "use", "one", "--force", "--json", "-l", library, "-w", workspace)
    assert code == 0 and "alpha" in json.loads(out)["hot"]


def test_with_no_library_the_advice_counts_the_projects_own_agents(tmp_path, workspace):
    """One agent of the project's own and no library: lazy loading pays only with many more
    personas, never 'above ~1' (the figure used to be the library size plus one)."""
    agents = workspace / ".claude" / "agents"
    agents.mkdir(parents=True)
    (agents / "solo.md").write_text(persona_text("solo", "Does the one thing this project needs."))
    empty = tmp_path / "empty-lib"
    empty.mkdir()
    ws = Workspace(load_settings(workspace=workspace, library_dirs=[empty]))
    plan = strategies.plan(ws, "lazy_loading")
    assert plan.refusal and "your 1 persona is cheaper hot" in plan.refusal
    assert plan.pays_above is not None and plan.pays_above > 2
    assert f"pays above ~{plan.pays_above} personas" in plan.refusal
