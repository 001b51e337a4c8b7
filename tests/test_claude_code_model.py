"""Claude Code's loader rules, one behaviour per test (the conformance suite checks the whole)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from ctxtui.core.claude_code import (
    agent_files,
    effective_agents,
    listing_line,
    load_agent,
    parse_frontmatter,
    profile_for,
    profiles,
)
from ctxtui.core.claude_code.agents import split_tools

OLD = profile_for("2.1.112")
NEW = profile_for("2.1.332")



@pytest.fixture(autouse=True)
def _no_claude_config_dir(monkeypatch):
    """A developer's own CLAUDE_CONFIG_DIR must not change where user agents are read."""
    monkeypatch.delenv("CLAUDE_CONFIG_DIR", raising=False)

def agent(text: str, profile=OLD):
    return load_agent("x.md", text.encode(), profile)


def test_profile_for_picks_the_newest_profile_at_or_below_the_version():
    assert profile_for("2.1.112").version == "2.1.112"
    assert profile_for("2.1.200 (Claude Code)").version == "2.1.112"
    assert profile_for("2.1.332").version == "2.1.332"
    assert profile_for("3.0.0").version == "2.1.332"
    assert profile_for("1.0.0").version == "2.1.112"
    assert profile_for(None).version == profiles()[-1].version
    assert profile_for("not a version").version == profiles()[-1].version


def test_every_profile_ships_its_builtin_lines_and_fixed_token_sizes():
    for p in profiles():
        assert p.builtin_names("interactive"), p.version
        assert "general-purpose" in p.builtin_names("print")
        assert p.fixed_tokens["interactive"]["system_total"] > 1000


def test_a_blank_line_before_the_fence_means_no_frontmatter():
    v = agent("\n---\nname: a\ndescription: b\n---\n")
    assert not v.loaded and v.frontmatter == "none"


def test_yaml_that_fails_is_retried_with_quoted_values():
    v = agent("---\nname: a\ndescription: Use when: things happen\n---\n")
    assert v.loaded and v.frontmatter == "retried"
    assert v.description == "Use when: things happen"


def test_yaml_that_fails_after_quoting_is_skipped():
    v = agent('---\nname: a\ndescription: "open\n---\n')
    assert not v.loaded and v.frontmatter == "failed"


def test_duplicate_keys_fail_on_node_and_last_wins_on_bun():
    text = "---\nname: a\ndescription: one\ndescription: two\n---\n"
    assert not agent(text, OLD).loaded
    assert agent(text, NEW).description == "two"


def test_literal_backslash_n_becomes_a_newline():
    assert agent("---\nname: a\ndescription: x\\ny\n---\n").description == "x\ny"


def test_yaml_12_keeps_yes_and_dates_as_text():
    v = agent("---\nname: 2024-01-01\ndescription: yes\n---\n")
    assert (v.name, v.description) == ("2024-01-01", "yes")


def test_non_string_name_is_skipped_not_replaced_by_the_file_name():
    v = agent("---\nname: 12\ndescription: d\n---\n")
    assert not v.loaded and "name" in v.reason


def test_newer_versions_reject_colons_leading_dashes_and_long_names():
    for name in ('"a:b"', '"a\uff1ab"', '"-a"', "n" * 257):
        text = f"---\nname: {name}\ndescription: d\n---\n"
        assert agent(text, OLD).loaded
        assert not agent(text, NEW).loaded


def test_newer_versions_skip_files_over_one_mebibyte():
    text = "---\nname: big\ndescription: d\n---\n" + "x" * (1024 * 1024)
    assert agent(text, OLD).loaded
    v = agent(text, NEW)
    assert not v.loaded and "limit" in v.reason


def test_a_byte_order_mark_hides_the_frontmatter_only_on_node():
    text = "\ufeff---\nname: a\ndescription: d\n---\n"
    assert not agent(text, OLD).loaded
    assert agent(text, NEW).loaded


def test_tools_split_on_commas_and_spaces_outside_parentheses():
    assert split_tools(["Read, Grep Bash(git a, b) X"]) == ["Read", "Grep", "Bash(git a, b)", "X"]


def test_a_star_token_means_all_tools_and_disallowed_tools_are_named():
    v = agent('---\nname: a\ndescription: d\ntools: [Read, "*"]\ndisallowedTools: Bash\n---\n')
    assert v.line == "- a: d (Tools: All tools except Bash)"


def test_listing_line_format():
    assert listing_line("n", "d", ["Read", "Write"], ["Write"]) == "- n: d (Tools: Read)"
    assert listing_line("n", "d", ["Read"], ["Read"]) == "- n: d (Tools: None)"
    assert listing_line("n", "d") == "- n: d (Tools: All tools)"


def test_yaml_alias_bombs_are_refused_quickly():
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 30):
        prev = f"*a{i - 1}"
        lines.append(f"a{i}: &a{i} [{', '.join([prev] * 10)}]")
    text = "---\nname: bomb\ndescription: d\n" + "\n".join(lines) + "\n---\n"
    start = time.perf_counter()
    fm = parse_frontmatter(text, OLD)
    assert time.perf_counter() - start < 2
    assert fm.status == "failed" and fm.data == {}


def test_every_md_file_at_any_depth_is_an_agent_file(tmp_path):
    agents = tmp_path / ".claude" / "agents"
    for rel in ("a.md", "README.md", ".h/b.md", "x/y/z.md", "c.txt", "d.MD"):
        (agents / rel).parent.mkdir(parents=True, exist_ok=True)
        (agents / rel).write_text("x")
    names = sorted(p.relative_to(agents).as_posix() for p in agent_files(agents, NEW))
    assert names == [".h/b.md", "README.md", "a.md", "x/y/z.md"]


def test_a_fifo_named_like_an_agent_is_skipped_without_blocking(tmp_path):
    agents = tmp_path / "repo" / ".claude" / "agents"
    agents.mkdir(parents=True)
    (tmp_path / "repo" / ".git").mkdir()
    import os

    os.mkfifo(agents / "pipe.md")
    got = effective_agents(tmp_path / "repo", NEW, home=tmp_path / "home")
    assert got.listed == []


def test_project_beats_user_and_nearest_folder_wins_only_in_newer_versions(tmp_path):
    def put(rel: str, desc: str) -> None:
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(f"---\nname: same\ndescription: {desc}\n---\n")

    (tmp_path / "repo" / ".git").mkdir(parents=True)
    put("home/.claude/agents/s.md", "user")
    put("repo/.claude/agents/s.md", "root")
    put("repo/sub/.claude/agents/s.md", "cwd")
    cwd = tmp_path / "repo" / "sub"
    assert effective_agents(cwd, OLD, home=tmp_path / "home").listed[0].description == "root"
    assert effective_agents(cwd, NEW, home=tmp_path / "home").listed[0].description == "cwd"


def test_claude_codes_own_warning_is_chars_over_four_above_15000(tmp_path):
    agents = tmp_path / "repo" / ".claude" / "agents"
    agents.mkdir(parents=True)
    (tmp_path / "repo" / ".git").mkdir()
    for i in range(16):
        (agents / f"a{i}.md").write_text(f"---\nname: a{i:02d}\ndescription: {'d' * 3996}\n---\n")
    got = effective_agents(tmp_path / "repo", NEW, home=tmp_path / "home")
    # "aNN: " + 3996 chars = 4001 chars -> round(1000.25) = 1000 tokens each.
    assert got.warning_tokens == 16 * 1000
    assert got.warns


@pytest.mark.parametrize("module", ["ctxtui.core.claude_code"])
def test_the_model_imports_neither_textual_nor_tiktoken(module):
    code = (f"import sys, {module}\n"
            "bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'tiktoken')]\n"
            "assert not bad, bad")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr


def test_fixed_texts_record_their_provenance():
    for p in profiles():
        data = Path(__file__).parent.parent / "ctxtui" / "core" / "claude_code"
        assert (data / f"fixed_{p.version}.json").is_file()
