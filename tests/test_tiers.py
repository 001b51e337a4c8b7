"""Tiers per persona (file, hidden, skill): one journalled change each, rolled back byte for byte."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as settings_
from hypothesis import strategies as st

from conftest import persona_text, snapshot_tree
from ctxtui.core import claude_settings, journal, strategies, verdicts
from ctxtui.core.errors import CapError, ConflictError, WorkspaceError
from ctxtui.core.tiers import set_tier
from ctxtui.core.workspace import Workspace

LOCAL = Path(".claude/settings.local.json")


def managed(ws: Workspace) -> dict[str, bytes]:
    """Every file ctxtui's user can see change (ctxtui's own folder left out)."""
    root = ws.settings.workspace
    tree = snapshot_tree(root / ".claude" / "agents", root / ".claude" / "skills")
    for extra in (root / LOCAL, root / "CLAUDE.md"):
        if extra.exists():
            tree[str(extra)] = extra.read_bytes()
    return tree


def test_hidden_adds_a_deny_rule_beside_the_users_own_and_rollback_removes_it(settings):
    ws = Workspace(settings)
    ws.activate(["alpha"])
    local = settings.workspace / LOCAL
    user_bytes = b'{\r\n\t"model": "opus",\r\n\t"permissions": {"allow": ["Bash(ls)"], "deny": ["Read(./.env)"]},\r\n\t"env": {"A": "\xc3\xa9"}\r\n}'
    local.write_bytes(user_bytes)
    before = managed(ws)
    res = set_tier(ws, ["alpha"], "hidden")
    assert [(c.name, c.before, c.after) for c in res.changed] == [("alpha", "file", "hidden")]
    data = json.loads(local.read_bytes())
    assert data["permissions"] == {"allow": ["Bash(ls)"], "deny": ["Read(./.env)", "Agent(alpha)"]}
    assert data["model"] == "opus" and data["env"] == {"A": "é"}
    assert (settings.agents_dir / "alpha.md").exists()  # the file stays
    assert ws.tier_of("alpha") == "hidden" and "alpha" not in [i.label for i in ws.budget().items]
    strategies.rollback(ws)
    assert managed(ws) == before and local.read_bytes() == user_bytes


def test_file_again_removes_only_the_agents_rules_and_a_settings_file_ctxtui_made(settings):
    ws = Workspace(settings)
    ws.activate(["alpha"])
    set_tier(ws, ["alpha", "beta"], "hidden")  # beta was cold: its file is placed, hidden
    local = settings.workspace / LOCAL
    assert claude_settings.denied_agents(json.loads(local.read_bytes())) == {"alpha", "beta"}
    set_tier(ws, ["alpha", "beta"], "file")
    assert not local.exists()  # ctxtui created it for its rules alone
    assert ws.tier_of("alpha") == ws.tier_of("beta") == "file" and set(ws.hot_names()) >= {"alpha", "beta"}


def test_legacy_task_rule_reads_as_hidden_and_is_removed_by_file(settings):
    ws = Workspace(settings)
    ws.activate(["alpha"])
    local = settings.workspace / LOCAL
    local.write_text(json.dumps({"permissions": {"deny": ["Task(alpha)", "Agent(*)", "Bash(rm:*)"]}}))
    ws.refresh()
    assert ws.tier_of("alpha") == "hidden"
    set_tier(ws, ["alpha"], "file")
    assert json.loads(local.read_text())["permissions"]["deny"] == ["Agent(*)", "Bash(rm:*)"]


def test_deny_rule_escapes_parentheses_as_claude_code_parses_them():
    rule = claude_settings.agent_rule("odd(name)\\x")
    assert rule == "Agent(odd\\(name\\)\\\\x)"
    assert claude_settings.denied_agent(rule) == "odd(name)\\x"
    assert claude_settings.denied_agent("Agent") is None and claude_settings.denied_agent("Agent(*)") is None


@pytest.mark.parametrize("crlf", [False, True])
def test_skill_round_trip_is_byte_exact(settings, crlf):
    ws = Workspace(settings)
    original = persona_text("alpha", "Use alpha: for parsing.", "You are alpha.\n", tools="Read, Grep", model="haiku")
    raw = (original.replace("\n", "\r\n") if crlf else original).encode() + b"\xff trailing, no newline"
    (settings.agents_dir).mkdir(parents=True)
    (settings.agents_dir / "alpha.md").write_bytes(raw)
    ws.refresh()
    set_tier(ws, ["alpha"], "skill")
    skill = settings.workspace / ".claude" / "skills" / "alpha" / "SKILL.md"
    text = skill.read_text()
    assert not (settings.agents_dir / "alpha.md").exists() and ws.tier_of("alpha") == "skill"
    head = text.split("---")[1]
    for line in ('name: "alpha"', 'description: "Use alpha: for parsing."', "context: fork",
                 "agent: general-purpose", 'model: "haiku"', 'allowed-tools: "Read, Grep"'):
        assert line in head.splitlines()
    assert "You are alpha." in text
    set_tier(ws, ["alpha"], "file")
    assert (settings.agents_dir / "alpha.md").read_bytes() == raw
    assert not skill.parent.exists() and ws.tier_of("alpha") == "file"


def test_every_tier_change_rolls_back_byte_for_byte(settings):
    ws = Workspace(settings)
    ws.activate(["alpha", "beta"])
    (settings.workspace / LOCAL).write_text('{"permissions": {"deny": ["WebFetch"]}}\n')
    seen = [managed(ws)]
    for names, tier in ((["alpha"], "skill"), (["beta"], "hidden"), (["gamma"], "skill"), (["alpha", "beta"], "file")):
        set_tier(ws, names, tier)
        seen.append(managed(ws))
    for want in reversed(seen[:-1]):
        strategies.rollback(ws)  # undo the last change (a rollback is an entry too: undo by id)
        assert managed(ws) == want
        entries = strategies.history(ws)
        # drop the rollback and the entry it undid from the "last" position
        (settings.state_dir / "history" / "entries" / f"{entries[-1].id}.json").unlink()
        (settings.state_dir / "history" / "entries" / f"{entries[-2].id}.json").unlink()


def test_an_edit_to_settings_during_a_tier_change_is_never_lost(settings):
    ws = Workspace(settings)
    ws.activate(["alpha"])
    local = settings.workspace / LOCAL
    local.write_text('{"permissions": {"deny": []}}\n')
    edited = b'{"permissions": {"deny": ["Read(./secrets)"]}, "editor": true}\n'

    def editor(point: str) -> None:
        if point == "checked":  # after the plan, before anything moved
            local.write_bytes(edited)

    journal.set_fault_hook(editor)
    try:
        with pytest.raises(ConflictError):
            set_tier(ws, ["alpha"], "hidden")
    finally:
        journal.set_fault_hook(None)
    assert local.read_bytes() == edited  # the editor's bytes stay; nothing of ours landed
    assert ws.tier_of("alpha") == "file"
    set_tier(ws, ["alpha"], "hidden")  # planned again from the edited file: both kept
    assert json.loads(local.read_bytes())["permissions"]["deny"] == ["Read(./secrets)", "Agent(alpha)"]
    assert json.loads(local.read_bytes())["editor"] is True


def test_an_edited_skill_is_kept_when_converted_back(settings):
    ws = Workspace(settings)
    set_tier(ws, ["gamma"], "skill")
    skill = settings.workspace / ".claude" / "skills" / "gamma" / "SKILL.md"
    skill.write_text(skill.read_text() + "\nmy note\n")
    res = set_tier(ws, ["gamma"], "file")
    assert any("was edited" in n for n in res.notes)
    kept = list((settings.state_dir / "versions" / "gamma").glob("SKILL-*.md"))
    assert len(kept) == 1 and kept[0].read_text().endswith("my note\n")


def test_plugin_and_unknown_agents(settings):
    ws = Workspace(settings)
    with pytest.raises(WorkspaceError, match="can only be hidden"):
        set_tier(ws, ["tools:linter"], "skill")
    set_tier(ws, ["tools:linter"], "hidden")
    assert ws.tier_of("tools:linter") == "hidden"
    with pytest.raises(WorkspaceError, match="no persona named"):
        set_tier(ws, ["nobody"], "hidden")
    with pytest.raises(WorkspaceError, match="unknown tier"):
        set_tier(ws, ["alpha"], "cold")


def test_file_tier_respects_the_cap_but_hidden_files_take_no_slot(settings):
    ws = Workspace(settings)
    cap = ws.cap
    names = ["alpha", "beta", "gamma", "delta", "epsilon"][: cap + 1]
    set_tier(ws, names, "hidden")  # more than the cap: hidden costs nothing
    assert len(ws.visible_hot()) == 0
    tree = managed(ws)
    with pytest.raises(CapError, match=f"the cap is {cap}") as refused:
        set_tier(ws, names, "file")
    assert f"making {', '.join(names)} a hot file" in str(refused.value)  # names, not a count
    assert managed(ws) == tree  # refused as a whole: nothing changed


def test_broken_settings_file_is_refused_and_untouched(settings):
    ws = Workspace(settings)
    ws.activate(["alpha"])
    local = settings.workspace / LOCAL
    local.write_bytes(b"{broken")
    with pytest.raises(WorkspaceError, match="not valid JSON"):
        set_tier(ws, ["alpha"], "hidden")
    assert local.read_bytes() == b"{broken"


def test_budget_counts_a_skill_as_one_listing_line(settings):
    ws = Workspace(settings)
    ws.activate(["epsilon"])
    agent_tokens = verdicts.line_tokens(ws.find_hot("epsilon").claude_code)  # its listing line
    before = ws.budget().startup_tokens
    set_tier(ws, ["epsilon"], "skill")
    items = [i for i in ws.budget().items if i.kind == "skill"]
    assert [i.label for i in items] == ["epsilon"] and items[0].tokens > 0
    assert ws.budget().startup_tokens == before - agent_tokens + items[0].tokens


def test_two_tier_changes_at_once_serialise(settings):
    ws1, ws2 = Workspace(settings), Workspace(settings)
    errors: list[Exception] = []

    def run(ws: Workspace, name: str, tier: str) -> None:
        try:
            set_tier(ws, [name], tier)
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(ws1, "alpha", "hidden")),
               threading.Thread(target=run, args=(ws2, "beta", "hidden"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    data = json.loads((settings.workspace / LOCAL).read_text())
    assert sorted(data["permissions"]["deny"]) == ["Agent(alpha)", "Agent(beta)"]


def test_a_migration_leaves_hidden_and_skill_personas_alone(settings):
    ws = Workspace(settings)
    ws.activate(["alpha"])
    set_tier(ws, ["alpha"], "hidden")
    set_tier(ws, ["beta"], "skill")
    plan = strategies.plan(ws, "eager")
    assert "beta" not in plan.activate and "alpha" not in plan.deactivate
    strategies.apply(ws, plan)
    assert ws.tier_of("alpha") == "hidden" and ws.tier_of("beta") == "skill"
    strategies.migrate(ws, "lazy_loading", force=True)
    assert (settings.agents_dir / "alpha.md").exists() and ws.tier_of("alpha") == "hidden"


def test_cli_tier_prints_json_and_refuses_in_one_line(settings, capsys):
    import argparse

    from ctxtui.cli import tier as cli_tier
    from ctxtui.core.errors import CtxtuiError

    parser = argparse.ArgumentParser()
    cli_tier.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["tier", "alpha", "beta", "hidden", "--json"])
    assert cli_tier.run(args, settings) == 0
    out = json.loads(capsys.readouterr().out)
    assert [c["name"] for c in out["changed"]] == ["alpha", "beta"] and out["entry"]
    with pytest.raises(CtxtuiError) as exc:
        cli_tier.run(parser.parse_args(["tier", "x:y", "skill"]), settings)
    assert "\n" not in str(exc.value)


def test_a_crafted_tier_record_is_quarantined_never_followed(settings):
    ws = Workspace(settings)
    ws.activate(["alpha"])
    victim = settings.agents_dir / "alpha.md"
    state = json.loads((settings.state_dir / "state.json").read_text())
    state["tiers"] = {"alpha": {"tier": "skill", "skill": ".claude/agents/alpha.md", "kept": ".claude/ctxtui/tiers/a.md",
                                "sha256": "0" * 64, "source_sha": "0" * 64, "agent": ""}}
    (settings.state_dir / "state.json").write_text(json.dumps(state))
    ws.refresh()
    assert any("tier record" in line for line in ws.recovered)
    set_tier(ws, ["alpha"], "file")  # nothing to undo: alpha is a plain file
    assert victim.exists()


def test_a_linked_skills_folder_is_refused(settings, tmp_path):
    from ctxtui.core.errors import UnsafePathError

    ws = Workspace(settings)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (settings.workspace / ".claude").mkdir(exist_ok=True)
    (settings.workspace / ".claude" / "skills").symlink_to(outside)
    with pytest.raises(UnsafePathError):
        set_tier(ws, ["alpha"], "skill")
    assert list(outside.iterdir()) == []


@pytest.mark.parametrize("description", ["Plain.", "Has: colons, 'quotes' and \"doubles\"", "Line\\nbreak # hash", "é ünï 日本"])
def test_skill_frontmatter_reads_back_as_claude_codes_parser_reads_it(tmp_path, description):
    from ctxtui.core.claude_code import parse_frontmatter, profile_for
    from ctxtui.core.persona import parse_persona
    from ctxtui.core.tiers import skill_text

    src = persona_text("p", description.replace('"', "'"), "Body.\n", tools="Read, Bash(git:*)", model="sonnet")
    persona = parse_persona(tmp_path / "p.md", src.encode())
    text = skill_text(persona, "p")
    for version in ("2.1.112", None):
        fm = parse_frontmatter(text, profile_for(version)).data
        assert fm["context"] == "fork" and fm["agent"] == "general-purpose"
        assert (fm["name"], fm["description"], fm["model"]) == ("p", persona.description, "sonnet")
        assert fm["allowed-tools"] == "Read, Bash(git:*)"
    assert text.endswith("Body.\n")


def test_a_rule_in_the_shared_settings_is_reported_not_fought(settings):
    ws = Workspace(settings)
    ws.activate(["alpha"])
    (settings.workspace / ".claude" / "settings.json").write_text('{"permissions": {"deny": ["Agent(alpha)"]}}')
    ws.refresh()
    assert ws.tier_of("alpha") == "hidden"
    with pytest.raises(WorkspaceError, match="settings.json"):
        set_tier(ws, ["alpha"], "file")


@settings_(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.lists(st.sampled_from(["alpha", "beta", "gamma"]), min_size=1, max_size=2),
                          st.sampled_from(["file", "hidden", "skill"])), min_size=1, max_size=4))
def test_any_sequence_of_tier_changes_rolls_back_to_the_start(settings, steps):
    import shutil

    shutil.rmtree(settings.workspace / ".claude", ignore_errors=True)  # a fresh project per example
    (settings.workspace / LOCAL).parent.mkdir(parents=True)
    (settings.workspace / LOCAL).write_bytes(b'{"permissions":{"deny":["Bash(rm:*)"]},"x":1}')
    ws = Workspace(settings)
    start = managed(ws)
    done = 0
    for names, tier in steps:
        try:
            res = set_tier(ws, names, tier)
        except CapError:
            continue
        done += bool(res.entry)
    if done:  # restore the snapshot taken before the first change
        from ctxtui.core.history import History

        h = History(settings)
        with ws.transaction("restore start", library=True) as tx:
            h.snapshot(tx)
            h.restore_steps(strategies.history(ws)[0].before, tx)
    assert managed(ws) == start


@pytest.mark.parametrize("point", ["staged", "step:1", "aside", "placed"])
def test_a_crash_mid_skill_conversion_ends_all_or_nothing(settings, point):
    from conftest import crash_at

    ws = Workspace(settings)
    ws.activate(["alpha"])
    raw = (settings.agents_dir / "alpha.md").read_bytes()
    with crash_at(point):
        set_tier(ws, ["alpha"], "skill")
    ws = Workspace(settings)  # the next start finishes or discards it
    skill = settings.workspace / ".claude" / "skills" / "alpha" / "SKILL.md"
    if point == "staged":
        assert (settings.agents_dir / "alpha.md").read_bytes() == raw and not skill.exists()
        assert ws.tier_of("alpha") == "file"
    else:
        assert skill.exists() and not (settings.agents_dir / "alpha.md").exists()
        assert ws.tier_of("alpha") == "skill"
    set_tier(ws, ["alpha"], "file")
    assert (settings.agents_dir / "alpha.md").read_bytes() == raw


def test_activate_refuses_a_skill_rather_than_duplicate_it(settings):
    ws = Workspace(settings)
    set_tier(ws, ["beta"], "skill")
    with pytest.raises(WorkspaceError, match="is a skill now"):
        ws.activate(["beta"])
    assert not (settings.agents_dir / "beta.md").exists()


def test_tiers_lists_every_persona_with_its_tier(settings):
    ws = Workspace(settings)
    ws.activate(["alpha"])
    set_tier(ws, ["alpha"], "hidden")
    set_tier(ws, ["beta"], "skill")
    tiers = ws.tiers()
    assert (tiers["alpha"], tiers["beta"], tiers["gamma"]) == ("hidden", "skill", "file")


@pytest.mark.parametrize("version", ["2.1.112", "2.1.332"])
def test_tiers_match_what_claude_code_listed(tmp_path, version):
    """tests/data/claude_code/tiers/<version>.json: the real CLI, offline, on a project whose
    tiers ctxtui set (scripts/claude_code/capture_tiers.py). Rebuild it here and compare."""
    from ctxtui.core.config import load_settings

    data = json.loads((Path(__file__).parent / "data" / "claude_code" / "tiers" / f"{version}.json").read_text())
    project, lib = tmp_path / "p", tmp_path / "lib"
    (project / ".claude" / "agents").mkdir(parents=True)
    lib.mkdir()
    for n in ("alpha", "beta", "gamma", "delta"):
        text = f"---\nname: {n}\ndescription: Use {n} for task {n}.\ntools: Read, Grep\nmodel: haiku\n---\n\nYou are {n}.\n"
        (project / ".claude" / "agents" / f"{n}.md").write_text(text)
        (lib / f"{n}.md").write_text(text)
    ws = Workspace(load_settings(workspace=project, library_dirs=[lib], include_user_scope=False))
    set_tier(ws, ["alpha"], "hidden")
    set_tier(ws, ["gamma"], "skill")
    assert (project / ".claude" / "skills" / "gamma" / "SKILL.md").read_text() == data["skill_md"]
    local = project / LOCAL
    local.write_text(json.dumps(data["settings_local"]))  # adds the hand-written Task(beta)
    ws.refresh()
    listed = sorted(i.label for i in ws.budget().items if i.kind == "agent")
    assert listed == data["agents_listed"] == ["delta"]
    assert {n: ws.tier_of(n) for n in ("alpha", "beta", "gamma")} == {"alpha": "hidden", "beta": "hidden", "gamma": "skill"}
    gamma_line = next(line for line in data["listing_lines"] if line.startswith("- gamma:"))
    from ctxtui.core.tokens import count

    assert ws.skill_lines()[0][0] == "gamma" and ws.skill_lines()[0][2] == count(gamma_line)


def test_list_and_index_json_carry_each_personas_tier(settings, capsys):
    from ctxtui.cli import main

    ws = Workspace(settings)
    ws.activate(["alpha"])
    set_tier(ws, ["alpha"], "hidden")
    set_tier(ws, ["beta"], "skill")
    where = ["-l", str(settings.library_dirs[0]), "-w", str(settings.workspace)]
    assert main(["list", "--json", *where]) == 0
    listed = {p["name"]: p["tier"] for p in json.loads(capsys.readouterr().out)["personas"]}
    assert (listed["alpha"], listed["gamma"]) == ("hidden", "file")
    assert main(["index", "--json", *where]) == 0
    indexed = {p["name"]: p["tier"] for p in json.loads(capsys.readouterr().out)["personas"]}
    assert (indexed["alpha"], indexed["beta"], indexed["gamma"]) == ("hidden", "skill", "file")
    assert main(["list", *where]) == 0
    table = capsys.readouterr().out
    assert "tier" in table and "hidden" in table
    # each persona's startup figure is what it costs in its tier, as status counts it
    assert main(["list", "--json", *where]) == 0
    cost = {p["name"]: p["startup_tokens"] for p in json.loads(capsys.readouterr().out)["personas"]}
    from ctxtui.core import verdicts

    now = Workspace(settings)
    skill = {name: n for name, _, n in now.skill_lines()}
    gamma = verdicts.line_tokens(now.verdict(now.library.by_name["gamma"]))
    assert cost["alpha"] == 0 and cost["beta"] == skill["beta"] > 0 and cost["gamma"] == gamma > 0


def test_skill_lines_past_the_budget_share_it_equally_as_the_listing_model_does(tmp_path, library):
    from ctxtui.core import skills
    from ctxtui.core.config import load_settings
    from ctxtui.core.tokens import count

    project = tmp_path / "small-window"
    project.mkdir()
    # 1,500 tokens of window: a 60-character budget, far less than the three full lines
    ws = Workspace(load_settings(workspace=project, library_dirs=[library], window=1500))
    set_tier(ws, ["alpha", "beta", "gamma"], "skill")
    ws = Workspace(ws.settings)
    got = ws.skill_lines()
    assert [n for n, _, _ in got] == ["alpha", "beta", "gamma"]
    rules = skills.rules_for(ws.claude_code.version)
    budget = skills.budget_chars(1500, env={})
    entries = [skills.Skill(n, f"Use {n} for task number {i}.", "", "skill") for i, n in enumerate(["alpha", "beta", "gamma"])]
    lines = skills.listing(entries, rules, budget=budget)
    assert any(x.collapsed or x.line != x.full_line for x in lines)  # the budget did bite
    assert [t for _, _, t in got] == [count(x.line) for x in lines]
    if not rules.priority_collapse:  # 2.1.112: equal shares, bare names below 20 characters
        assert all(x.line == f"- {x.skill.name}" for x in lines)


def test_a_hidden_persona_is_never_listed_as_hot_in_the_block(settings):
    """Claude Code cannot launch a denied agent: the block must not tell Claude it is loaded."""
    from ctxtui.core import strategies
    from ctxtui.core.claude_md import block_span

    ws = Workspace(settings)
    strategies.migrate(ws, "lazy_loading", hot=["alpha", "beta"], force=True)
    set_tier(Workspace(settings), ["alpha"], "hidden")
    text = (settings.workspace / "CLAUDE.md").read_text()
    span = block_span(text)
    assert span is not None
    block = text[span[0]:span[1]]
    hot_part = block.split("Cold")[0]
    assert "`beta`" in hot_part and "`alpha`" not in hot_part
    set_tier(Workspace(settings), ["alpha"], "file")
    text = (settings.workspace / "CLAUDE.md").read_text()
    span = block_span(text)
    assert span is not None and "`alpha`" in text[span[0]:span[1]].split("Cold")[0]


def test_the_last_skill_leaving_takes_the_skills_folder_with_it(settings):
    """tier skill then tier file (or undo) leaves the tree as it was: no empty .claude/skills."""
    ws = Workspace(settings)
    skills = settings.workspace / ".claude" / "skills"
    assert not skills.exists()
    set_tier(ws, ["alpha"], "skill")
    assert (skills / "alpha" / "SKILL.md").is_file()
    set_tier(Workspace(settings), ["alpha"], "file")
    assert not skills.exists()
    set_tier(Workspace(settings), ["beta"], "skill")
    strategies.undo(Workspace(settings))
    assert not skills.exists()
    (skills / "mine").mkdir(parents=True)  # a folder of the user's keeps it
    set_tier(Workspace(settings), ["beta"], "skill")
    set_tier(Workspace(settings), ["beta"], "file")
    assert (skills / "mine").is_dir()
