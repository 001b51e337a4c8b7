"""Skill and slash-command listing rules per Claude Code version (read from 2.1.112's cli.js
and 2.1.332's embedded JavaScript)."""

from __future__ import annotations

import time
from pathlib import Path

from ctxtui.core import skills, slash_commands

R112, R332 = skills.rules_for("2.1.112"), skills.rules_for("2.1.332")


def sk(name: str, desc: str = "d" * 40, kind: str = "skill", **kw) -> skills.Skill:
    return skills.Skill(name, desc, f"/x/{name}", kind, **kw)


def test_budget_is_one_percent_of_the_window_in_chars_unless_overridden():
    assert skills.budget_chars(200_000, None, {}) == 8000
    assert skills.budget_chars(1_000_000, 0.02, {}) == 80_000
    assert skills.budget_chars(200_000, None, {"SLASH_COMMAND_TOOL_CHAR_BUDGET": "123"}) == 123
    assert skills.budget_chars(200_000, "junk", {"SLASH_COMMAND_TOOL_CHAR_BUDGET": "x"}) == 8000


def test_within_budget_every_entry_is_full_and_descriptions_are_capped():
    out = skills.listing([sk("a", "x" * 2000), sk("b", "short", when_to_use="when")], R112,
                         budget=10_000)
    assert out[0].line == "- a: " + "x" * 1535 + "\u2026"
    assert out[1].line == "- b: short - when"


def test_disable_model_invocation_is_never_listed():
    out = skills.listing([sk("a", model_invocable=False), sk("b")], R112, budget=8000)
    assert [o.skill.name for o in out] == ["b"]


def test_skill_overrides_only_from_2_1_332():
    entries = [sk("off"), sk("bare"), sk("uio"), sk("on")]
    ov = {"off": "off", "bare": "name-only", "uio": "user-invocable-only"}
    assert [o.line for o in skills.listing(entries, R332, budget=8000, overrides=ov)] == [
        "- bare", "- on: " + "d" * 40]
    assert len(skills.listing(entries, R112, budget=8000, overrides=ov)) == 4


def test_2_1_112_over_budget_shares_the_room_then_bare_names():
    entries = [sk("bundled", "b" * 50, kind="bundled")] + [sk(f"s{i}", "y" * 200) for i in range(4)]
    out = skills.listing(entries, R112, budget=400)
    assert out[0].line == "- bundled: " + "b" * 50
    # room = 400 - (61 + 1) = 338; names = 4 * (2 + 4) + 3 = 27; share = 311 // 4 = 77
    assert all(o.line == f"- s{i}: " + "y" * 76 + "\u2026" for i, o in enumerate(out[1:]))
    tight = skills.listing(entries, R112, budget=120)
    assert [o.line for o in tight[1:]] == ["- s0", "- s1", "- s2", "- s3"]
    assert all(o.collapsed for o in tight[1:])


def test_2_1_332_over_budget_keeps_the_most_used_and_collapses_the_rest():
    now = time.time()
    entries = [sk(f"s{i}", "y" * 100) for i in range(4)]
    usage = {"s2": {"usageCount": 9, "lastUsedAt": now * 1000},
             "s3": {"usageCount": 3, "lastUsedAt": now * 1000}}
    out = skills.listing(entries, R332, budget=260, usage=usage, now=now)
    full = {o.skill.name for o in out if not o.collapsed}
    assert full == {"s2", "s3"}
    assert [o.line for o in out if o.collapsed] == ["- s0", "- s1"]


def test_usage_score_decays_weekly_with_a_floor():
    now = 1_000_000.0
    week = 7 * 86_400_000
    usage = {"a": {"usageCount": 8, "lastUsedAt": now * 1000 - week},
             "b": {"usageCount": 8, "lastUsedAt": now * 1000 - 100 * week}, "c": "junk"}
    assert skills.usage_score(usage, "a", now) == 4.0
    assert skills.usage_score(usage, "b", now) == 0.8
    assert skills.usage_score(usage, "c", now) == 0.0


def test_commands_and_skills_are_read_from_their_folders(tmp_path: Path):
    cmds = tmp_path / ".claude" / "commands"
    (cmds / "ops").mkdir(parents=True)
    (cmds / "plain.md").write_text("# Heading line\nbody\n")
    (cmds / "ops" / "deploy.md").write_text("---\ndescription: Deploy it\n---\nDo it\n")
    (cmds / "quiet.md").write_text("---\ndisable-model-invocation: true\n---\nx\n")
    (cmds / "notes.txt").write_text("not a command")
    skill = tmp_path / ".claude" / "skills" / "folder-name"
    skill.mkdir(parents=True)
    (skill / "SKILL.md").write_text("---\nname: shown-name\ndescription: Does things\n---\n")
    got = [(c.name, c.description, c.model_invocable)
           for c in slash_commands.project_commands(tmp_path, None)]
    assert got == [("ops:deploy", "Deploy it", True), ("plain", "Heading line", True),
                   ("quiet", "x", False)]
    assert [(s.name, s.description) for s in skills.project_skills(tmp_path, None)] == [
        ("shown-name", "Does things")]


def test_entries_are_measured_in_terminal_columns():
    assert skills.width("abc") == 3
    assert skills.width("日本") == 4
    assert skills.width("e\u0301") == 1
    wide = [sk("a", "日" * 30, kind="bundled"), sk("b", "x" * 30)]
    # 30 wide characters are 60 columns: the pair no longer fits in 80
    assert not any(o.collapsed for o in skills.listing(wide, R332, budget=200))
    assert [o.collapsed for o in skills.listing(wide, R332, budget=80)] == [False, True]
