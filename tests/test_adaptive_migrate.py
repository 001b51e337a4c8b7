"""The adaptive strategy applied: hot set and tiers in one journalled change, confirmed by the
user, rolled back byte for byte; and deactivating a hidden persona."""

from __future__ import annotations

import json
import random
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from router_corpus import _Writer

from conftest import crash_at, snapshot_tree
from ctxtui.cli import main
from ctxtui.core import claude_settings, strategies
from ctxtui.core.tiers import set_tier
from ctxtui.core.workspace import Workspace

LOCAL = Path(".claude/settings.local.json")
USER_SETTINGS = b'{\r\n\t"model": "opus",\r\n\t"permissions": {"deny": ["Read(./.env)"]}\r\n}'


def managed(ws: Workspace) -> dict[str, bytes]:
    """Every project file a user sees change, and ctxtui's state."""
    root = ws.settings.workspace
    tree = snapshot_tree(root / ".claude" / "agents", root / ".claude" / "skills")
    for extra in (root / LOCAL, root / "CLAUDE.md", ws.state_dir / "state.json"):
        if extra.exists():
            tree[str(extra)] = extra.read_bytes()
    return tree


def _denied(ws: Workspace) -> set[str]:
    path = ws.settings.workspace / LOCAL
    return claude_settings.denied_agents(claude_settings.read(path)) if path.exists() else set()


def _settings(ws: Workspace) -> dict:
    return json.loads((ws.settings.workspace / LOCAL).read_bytes())


@pytest.fixture
def busy(settings):
    """alpha, beta and gamma hot; the user's own settings.local.json with CRLF and tabs."""
    (settings.workspace / LOCAL).parent.mkdir(parents=True, exist_ok=True)
    (settings.workspace / LOCAL).write_bytes(USER_SETTINGS)
    ws = Workspace(settings)
    strategies.migrate(ws, "lazy_loading", hot=["alpha", "beta"], force=True)
    return Workspace(settings)


def test_a_plan_of_tiers_applies_in_one_change_and_rolls_back_byte_for_byte(busy):
    ws = busy
    before = managed(ws)
    plan = strategies.plan(ws, "adaptive", hot=["gamma"], force=True,
                           tiers={"alpha": "hidden", "beta": "skill", "gamma": "file", "delta": "file"})
    assert plan.to_strategy == "lazy_loading" and plan.tier_moves == {"alpha": "hidden", "beta": "skill"}
    assert plan.activate == ["gamma"] and plan.deactivate == []  # alpha and beta are the tiers' moves
    assert "tier alpha: hidden" in plan.changes() and plan.to_json()["tier_moves"]["beta"] == "skill"
    entry = strategies.apply(ws, plan)
    ws = Workspace(ws.settings)
    assert ws.tier_of("alpha") == "hidden" and ws.tier_of("beta") == "skill"
    assert [h.name for h in ws.visible_hot() if h.name != "persona-manager"] == ["gamma"]
    assert _denied(ws) == {"alpha"} and ws.find_hot("beta") is None
    assert (ws.settings.workspace / ".claude/skills/beta/SKILL.md").is_file()
    assert entry.changes and any("tier beta" in c for c in entry.changes)
    strategies.undo(ws)
    assert managed(Workspace(ws.settings)) == before


def test_a_second_plan_brings_personas_back_from_hidden_and_skill(busy):
    ws = busy
    strategies.migrate(ws, "adaptive", hot=["alpha"], force=True, tiers={"alpha": "hidden", "beta": "skill"})
    ws = Workspace(ws.settings)
    before = managed(ws)
    # hidden -> cold file (the deny rule goes), skill -> hot file (the original bytes come back)
    strategies.migrate(ws, "adaptive", hot=["beta"], force=True, tiers={"alpha": "file", "beta": "file"})
    ws = Workspace(ws.settings)
    assert ws.tier_of("alpha") == "file" and ws.find_hot("alpha") is None and "alpha" not in _denied(ws)
    assert ws.find_hot("beta") is not None and ws.tier_of("beta") == "file"
    assert not (ws.settings.workspace / ".claude/skills/beta").exists()
    assert _settings(ws) == json.loads(USER_SETTINGS)  # only ctxtui's rule went
    assert "tiers" not in json.loads((ws.state_dir / "state.json").read_bytes())
    strategies.undo(ws)
    assert managed(Workspace(ws.settings)) == before


def test_a_plan_of_tiers_only_goes_with_lazy_loading(busy):
    with pytest.raises(strategies.StrategyError, match="adaptive or lazy_loading"):
        strategies.plan(busy, "eager", tiers={"alpha": "hidden"})
    with pytest.raises(strategies.StrategyError, match="unknown tier"):
        strategies.plan(busy, "adaptive", hot=[], tiers={"alpha": "cold"})


# ---------------------------------------------------------------- deactivate of a hidden persona


def test_deactivating_a_hidden_persona_takes_its_deny_rule_with_it(busy):
    ws = busy
    set_tier(ws, ["alpha"], "hidden")
    ws = Workspace(ws.settings)
    assert _denied(ws) == {"alpha"}
    assert ws.deactivate(["alpha"]) == ["alpha"]
    ws = Workspace(ws.settings)
    assert ws.find_hot("alpha") is None and ws.tier_of("alpha") == "file"
    assert _settings(ws) == json.loads(USER_SETTINGS)
    assert "alpha" not in ws.tier_records
    # and back: activated again, it is listed, not hidden by a stale rule
    ws.activate(["alpha"])
    ws = Workspace(ws.settings)
    assert "alpha" in {h.name for h in ws.visible_hot()}


def test_deactivating_a_hidden_persona_removes_a_settings_file_ctxtui_created(settings):
    ws = Workspace(settings)
    set_tier(ws, ["alpha"], "hidden")  # no settings.local.json before: ctxtui creates it
    assert (settings.workspace / LOCAL).exists()
    Workspace(settings).deactivate(["alpha"])
    assert not (settings.workspace / LOCAL).exists()


def test_a_deny_rule_in_the_shared_settings_is_left_to_the_team(busy):
    ws = busy
    shared = ws.settings.workspace / ".claude" / "settings.json"
    shared.write_bytes(b'{"permissions": {"deny": ["Agent(beta)"]}}\n')
    ws = Workspace(ws.settings)
    assert ws.tier_of("beta") == "hidden"
    ws.deactivate(["beta"])
    assert shared.read_bytes() == b'{"permissions": {"deny": ["Agent(beta)"]}}\n'
    assert (ws.settings.workspace / LOCAL).read_bytes() == USER_SETTINGS  # not even rewritten
    assert Workspace(ws.settings).find_hot("beta") is None


@pytest.mark.parametrize("point", ["staged", "step:1", "placed"])
def test_a_crash_deactivating_a_hidden_persona_ends_all_or_nothing(busy, point):
    ws = busy
    set_tier(ws, ["alpha"], "hidden")
    ws = Workspace(ws.settings)
    before = managed(ws)
    with crash_at(point):
        ws.deactivate(["alpha"])
    ws = Workspace(ws.settings)  # the next start finishes or discards it
    if point == "staged":
        assert managed(ws) == before
    else:
        assert ws.find_hot("alpha") is None and "alpha" not in _denied(ws) and "alpha" not in ws.tier_records


@pytest.mark.parametrize("point", ["staged", "step:2"])
def test_a_crash_mid_adaptive_change_ends_all_or_nothing(busy, point):
    ws = busy
    before = managed(ws)
    with crash_at(point):
        strategies.migrate(ws, "adaptive", hot=["gamma"], force=True, tiers={"alpha": "hidden", "beta": "skill"})
    ws = Workspace(ws.settings)
    if point == "staged":
        assert managed(ws) == before
    else:
        assert ws.tier_of("alpha") == "hidden" and ws.tier_of("beta") == "skill" and ws.find_hot("gamma")
        strategies.undo(ws)
        assert managed(Workspace(ws.settings)) == before


# ---------------------------------------------------------------- the CLI: proposal and confirmation


def _transcripts(root: Path, cwd: str, sessions: int = 12) -> Path:
    """Sessions in the project ``cwd``: alpha asked for in most, beta now and then."""
    rng = random.Random(5)
    t = datetime(2026, 5, 1, 9, tzinfo=timezone.utc)
    folder = root / "".join(c if c.isalnum() else "-" for c in cwd)
    folder.mkdir(parents=True)
    for n in range(sessions):
        sid = str(uuid.UUID(int=rng.getrandbits(128)))
        w = _Writer(rng, cwd, sid, "2.1.70", t + timedelta(hours=10 * n))
        for i in range(4):
            w.user(f"please look at the parser, step {i}")
            w.assistant([{"type": "text", "text": "Looking."}])
            if i == 0:
                w.call("alpha", f"please look at the parser, step {i}")
            if i == 1 and n % 4 == 0:
                w.call("beta", f"please look at the parser, step {i}")
        (folder / f"{sid}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in w.records))
    return root


def run(capsys, *args: object) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def project(busy, tmp_path):
    root = _transcripts(tmp_path / "transcripts", str(busy.settings.workspace.absolute()))
    lib = busy.settings.library_dirs[0]
    return busy, ["-w", busy.settings.workspace, "-l", lib, "migrate", "--to", "adaptive", "--transcripts", root]


def test_adaptive_dry_run_shows_the_proposal_with_reasons_and_tokens(capsys, project):
    ws, argv = project
    before = managed(ws)
    code, out, _ = run(capsys, *argv, "--dry-run", "--json")
    assert code == 0
    data = json.loads(out)
    prop = data["proposal"]
    assert "alpha" in prop["hot"] and set(prop["tiers"]) >= {"alpha", "beta", "gamma", "delta", "epsilon"}
    assert all(d["reason"] for d in prop["decisions"]) and prop["startup_before"] >= prop["startup_after"]
    assert data["plan"]["to"] == "lazy_loading" and data["plan"]["requested"] == "adaptive"
    assert managed(Workspace(ws.settings)) == before
    code, out, _ = run(capsys, *argv, "--dry-run")
    assert code == 0 and "Adaptive proposal" in out and "alpha" in out


def test_adaptive_without_yes_and_no_terminal_refuses_in_one_line(capsys, project):
    ws, argv = project
    before = managed(ws)
    code, out, err = run(capsys, *argv)
    assert code != 0 and "--yes" in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert managed(Workspace(ws.settings)) == before


def test_adaptive_asks_at_a_terminal_and_a_no_changes_nothing(capsys, project, monkeypatch):
    ws, argv = project
    before = managed(ws)
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("sys.stdout.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    code, out, _ = run(capsys, *argv)
    assert code == 1 and "nothing changed" in out and "Adaptive proposal" in out
    assert managed(Workspace(ws.settings)) == before


def test_adaptive_with_yes_applies_the_proposal_and_undo_restores_it(capsys, project):
    ws, argv = project
    before = managed(ws)
    code, out, _ = run(capsys, *argv, "--dry-run", "--json")
    proposed = json.loads(out)["proposal"]
    code, out, err = run(capsys, *argv, "--yes", "--force", "--json")  # a tiny library: eager is cheaper
    assert code == 0, err
    ws = Workspace(ws.settings)
    for name, tier in proposed["tiers"].items():
        assert ws.tier_of(name) == tier
        assert (ws.find_hot(name) is not None and name not in ws.denied) == (name in proposed["hot"])
    code, _, err = run(capsys, "-w", ws.settings.workspace, "undo")
    assert code == 0, err
    assert managed(Workspace(ws.settings)) == before


def test_adaptive_without_usage_falls_back_to_the_context_mode(capsys, busy, tmp_path):
    empty = tmp_path / "none"
    empty.mkdir()
    code, out, _ = run(capsys, "-w", busy.settings.workspace, "-l", busy.settings.library_dirs[0],
                       "migrate", "--to", "adaptive", "--transcripts", empty, "--dry-run", "--json")
    assert code == 0
    assert any("context mode" in n for n in json.loads(out)["notes"])


def test_auto_optimize_on_usage_and_router_is_the_same_proposal_and_asks_the_same(capsys, project):
    ws, argv = project
    root = argv[argv.index("--transcripts") + 1]
    base = ["-w", ws.settings.workspace, "-l", ws.settings.library_dirs[0], "auto-optimize",
            "--based-on", "usage_and_router", "--transcripts", root]
    before = managed(ws)
    code, out, _ = run(capsys, *argv, "--dry-run", "--json")
    migrate = json.loads(out)["proposal"]
    code, out, _ = run(capsys, *base, "--dry-run", "--json")
    assert code == 0 and json.loads(out)["proposal"] == migrate
    code, _, err = run(capsys, *base)
    assert code != 0 and "--yes" in err and len(err.strip().splitlines()) == 1
    assert managed(Workspace(ws.settings)) == before
    code, out, err = run(capsys, *base, "--yes", "--force", "--json")
    assert code == 0, err
    assert json.loads(out)["entry"]["kind"] == "optimize"


def test_a_hot_file_outside_the_library_can_stay_hot_in_a_plan(busy):
    ws = busy
    (ws.settings.agents_dir / "local-only.md").write_text("---\nname: local-only\ndescription: Mine alone.\n---\n\nBody.\n")
    ws = Workspace(ws.settings)
    before = managed(ws)
    strategies.migrate(ws, "adaptive", hot=["local-only", "alpha"], force=True,
                       tiers={"local-only": "file", "alpha": "file", "beta": "hidden"})
    ws = Workspace(ws.settings)
    assert {"local-only", "alpha"} <= {h.name for h in ws.visible_hot()} and ws.tier_of("beta") == "hidden"
    strategies.undo(ws)
    assert managed(Workspace(ws.settings)) == before


# ---------------------------------------------------------------- the proposal decided under the lock


def _editor_adds_epsilon(ws: Workspace) -> bytes:
    """An editor copies epsilon into .claude/agents (so the proposal would now hide it in place)."""
    data = (ws.settings.library_dirs[0] / "epsilon.md").read_bytes().replace(b"You are", b"You, edited, are")
    (ws.settings.agents_dir / "epsilon.md").write_bytes(data)
    return data


def test_a_change_between_proposal_and_lock_is_refused_and_kept(busy, tmp_path):
    from ctxtui.cli.strategies import adaptive_proposal

    ws = busy
    root = _transcripts(tmp_path / "transcripts", str(ws.settings.workspace.absolute()))
    prop = adaptive_proposal(ws, ws.settings, root)
    assert prop is not None and prop.tiers["epsilon"] == "file" and "epsilon" not in prop.hot
    shown = strategies.plan(ws, "adaptive", hot=prop.hot, tiers=prop.tiers, decide=prop.decide, force=True)
    edited = _editor_adds_epsilon(ws)  # after the proposal was shown, before apply takes the lock
    after_edit = managed(Workspace(ws.settings))
    with pytest.raises(strategies.StrategyError, match="changed after the proposal.*epsilon hidden"):
        strategies.apply(ws, shown)
    assert managed(Workspace(ws.settings)) == after_edit
    assert (ws.settings.agents_dir / "epsilon.md").read_bytes() == edited


def test_an_unchanged_project_applies_the_proposal_decided_again_under_the_lock(busy, tmp_path):
    from ctxtui.cli.strategies import adaptive_proposal

    ws = busy
    root = _transcripts(tmp_path / "transcripts", str(ws.settings.workspace.absolute()))
    prop = adaptive_proposal(ws, ws.settings, root)
    assert prop is not None
    calls: list[str] = []

    def decide(w: Workspace) -> tuple[list[str], dict[str, str]]:
        calls.append("locked" if w._holding_lock else "unlocked")
        return prop.decide(w)

    entry = strategies.apply(ws, strategies.plan(ws, "adaptive", hot=prop.hot, tiers=prop.tiers,
                                                 decide=decide, force=True))
    assert calls == ["locked"] and entry.id
    ws = Workspace(ws.settings)
    assert all(ws.tier_of(n) == t for n, t in prop.tiers.items())


def test_a_change_while_the_user_confirms_is_refused_in_one_line(capsys, project, monkeypatch):
    ws, argv = project
    edited: list[bytes] = []

    def answer(prompt: str) -> str:
        edited.append(_editor_adds_epsilon(ws))  # lands while the user reads the proposal
        return "y"

    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("sys.stdout.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", answer)
    before_answer = managed(ws)
    code, out, err = run(capsys, *argv, "--force")
    assert code != 0 and "changed after the proposal" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    expected = {**before_answer, str(ws.settings.agents_dir / "epsilon.md"): edited[0]}
    assert managed(Workspace(ws.settings)) == expected


def test_adaptive_without_usage_still_applies_only_with_a_yes(capsys, busy, tmp_path):
    empty = tmp_path / "none"
    empty.mkdir()
    before = managed(busy)
    base = ["-w", busy.settings.workspace, "-l", busy.settings.library_dirs[0],
            "migrate", "--to", "adaptive", "--transcripts", empty]
    code, _, err = run(capsys, *base)  # no terminal here, no --yes
    assert code != 0 and "--yes" in err
    assert managed(Workspace(busy.settings)) == before
    code, _, err = run(capsys, *base, "--yes", "--force")  # --force: past the net-savings guard
    assert code == 0, err  # with the yes it goes ahead (here: already on what it picked)
