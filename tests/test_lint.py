"""lint: Claude Code's verdict per version against what the author of each file meant."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import WSHOBSON, persona_text
from ctxtui.core import fix_op
from ctxtui.core.claude_code import profiles
from ctxtui.core.config import load_settings
from ctxtui.core.lint import describe_versions, lint_bytes, read_intent
from ctxtui.core.workspace import Workspace

MESSY = Path(__file__).parent / "data" / "messy_library"


def lint(name: str):
    return lint_bytes(name, (MESSY / name).read_bytes())


def codes(result) -> set[str]:
    return {f.code for f in result.findings}


def finding(result, code: str):
    return next(f for f in result.findings if f.code == code)


def test_examples_under_the_description_are_skipped_by_every_version():
    r = lint("perf-tuner.md")
    skipped = finding(r, "skipped")
    assert skipped.severity == "error" and skipped.versions == []  # all versions
    assert not any(v.loaded for v in r.verdicts.values())
    assert "not valid YAML" in skipped.message and "ctxtui fix" in skipped.fix
    assert r.needs_fix


def test_the_authors_reading_keeps_the_conversation_inside_the_description():
    intent = read_intent((MESSY / "perf-tuner.md").read_bytes())
    assert intent is not None and intent.name == "perf-tuner"
    assert 'user: "I\'ve added the checkout flow, can you check it?"' in intent.description
    assert intent.description.startswith("Use this agent when")
    assert intent.description.rstrip().endswith("</example>")
    assert intent.tools is None  # no tools line: all tools


def test_tools_in_odd_forms_are_read_as_meant():
    assert read_intent((MESSY / "devops-helper.md").read_bytes()).tools == ["Bash", "Read"]
    assert read_intent((MESSY / "api-architect.md").read_bytes()).tools == ["Read", "Write", "WebFetch"]
    git = read_intent((MESSY / "git-helper.md").read_bytes())
    assert git.tools == ["Bash(git log:*)", "Bash(git diff:*)", "Read"]


def test_a_description_cut_at_a_user_line_is_reported_with_where_it_stops():
    r = lint("db-migrator.md")
    assert all(v.loaded for v in r.verdicts.values())  # it loads, after the quoting retry
    cut = finding(r, "cut-at-user-line")
    assert cut.severity == "warning" and "user: \"Add a last_login column" in cut.message
    got = r.verdicts["2.1.332"].description
    assert got == "Use this agent for schema migrations. Example: the user asks to add a column"
    assert r.intent.description.startswith(got) and len(r.intent.description) > len(got)


def test_version_specific_rules_name_the_versions():
    bom = finding(lint("bom-file.md"), "skipped")
    assert describe_versions(bom.versions) == "before 2.1.239"
    colon = finding(lint("namespaced.md"), "name-rejected")
    assert describe_versions(colon.versions) == "2.1.218+"
    dash = finding(lint("dash-name.md"), "name-rejected")
    assert describe_versions(dash.versions) == "2.1.172+"
    dup = lint("dup-key-name.md")
    assert describe_versions(finding(dup, "skipped").versions) == "before 2.1.113"
    assert "duplicate-key" in codes(dup)
    tools = finding(lint("mobile-dev.md"), "tools-differ")
    assert describe_versions(tools.versions) == "before 2.1.146"


def test_three_dashes_inside_a_value_end_the_frontmatter_early():
    r = lint("dashes.md")
    assert all(v.loaded for v in r.verdicts.values())
    assert r.verdicts["2.1.332"].description == "Formats markdown"
    assert "description-differs" in codes(r) and r.needs_fix


def test_notes_only_files_do_not_need_a_fix():
    yes = lint("yes-agent.md")
    assert codes(yes) == {"yaml11"} and not yes.needs_fix
    assert "a boolean" in finding(yes, "yaml11").message
    sql = lint("sql-expert.md")
    assert codes(sql) == {"literal-newline", "retried"} and not sql.needs_fix
    assert "\n<example>" in sql.verdicts["2.1.112"].description  # \n became a line break


@pytest.mark.parametrize("name", ["good-block.md", "good-plain.md", "good-folded.md"])
def test_files_that_load_as_written_get_no_findings(name):
    r = lint(name)
    assert r.findings == [] and not r.needs_fix


def test_a_file_without_name_or_description_says_to_add_one():
    assert "add a name" in finding(lint("nameless-helper.md"), "skipped").fix
    assert "add a description" in finding(lint("no-description.md"), "skipped").fix
    assert read_intent(b"just text, no frontmatter\n") is None


def test_over_the_size_limit_is_skipped_by_newer_versions_only():
    data = persona_text("big", "A big one.").encode() + b"x" * (1024 * 1024 + 10)
    r = lint_bytes("big.md", data)
    over = finding(r, "over-size-limit")
    assert describe_versions(over.versions) == "2.1.196+"
    assert r.verdicts["2.1.112"].loaded and not r.verdicts["2.1.332"].loaded


def test_one_profile_can_be_chosen():
    r = lint_bytes("x.md", (MESSY / "namespaced.md").read_bytes(), (profiles()[0],))
    assert list(r.verdicts) == ["2.1.112"] and r.findings == []


@pytest.mark.skipif(not WSHOBSON.is_dir(), reason="wshobson corpus not available")
def test_wshobson_library_has_nothing_to_report():
    files = sorted(WSHOBSON.glob("plugins/*/agents/*.md"))
    assert len(files) > 100
    for f in files:
        r = lint_bytes(str(f), f.read_bytes())
        assert r.findings == [], (f, r.findings)
        assert all(v.loaded for v in r.verdicts.values())


def test_workspace_lint_reports_a_shadowed_duplicate_name(workspace, library):
    agents = workspace / ".claude" / "agents"
    agents.mkdir(parents=True)
    (agents / "a.md").write_text(persona_text("twin", "First."))
    (agents / "b.md").write_text(persona_text("twin", "Second."))
    ws = Workspace(load_settings(workspace=workspace, library_dirs=[library]))
    files = {f.path.name: f for f in fix_op.lint_workspace(ws) if f.where == "hot"}
    dup = [f for f in files.values() if "duplicate-name" in codes(f.lint)]
    assert [f.path.name for f in dup] == ["a.md"]  # the last in path order wins (2.1.330+)
    assert str(agents / "b.md") in finding(dup[0].lint, "duplicate-name").message


def test_lint_of_unknown_name_is_refused(workspace, library):
    ws = Workspace(load_settings(workspace=workspace, library_dirs=[library]))
    with pytest.raises(fix_op.FixError, match="no agent file named nope"):
        fix_op.lint_workspace(ws, ["nope"])


def run_cli(argv):
    import argparse

    from ctxtui.cli import lint as cli_lint

    parser = argparse.ArgumentParser()
    cli_lint.register(parser.add_subparsers(dest="command"))
    return cli_lint.run(parser.parse_args(argv))


def test_cli_lint_exit_code_and_json(workspace, capsys):
    rc = run_cli(["lint", "-w", str(workspace), "-l", str(MESSY), "--json"])
    data = json.loads(capsys.readouterr().out)
    assert rc == 1 and data["needs_fix"] == 26 and len(data["files"]) == 36
    by_path = {Path(f["path"]).name: f for f in data["files"]}
    assert by_path["good-plain.md"]["findings"] == [] and by_path["good-plain.md"]["loads_in"]
    assert by_path["perf-tuner.md"]["loads_in"] == []


def test_cli_lint_clean_library_exits_zero(workspace, library, capsys):
    assert run_cli(["lint", "-w", str(workspace), "-l", str(library)]) == 0
    assert "0 need a fix" in capsys.readouterr().out


def test_cli_bad_version_is_one_line(workspace, library, capsys):
    assert run_cli(["lint", "-w", str(workspace), "-l", str(library), "--claude-version", "x"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a version" in err


def test_thousand_deep_flow_nesting_is_linted_in_a_moment():
    """2 KB of ``[[[…]]]`` made the pure YAML parser spend seconds per profile (lint parses a
    file once per version and reading); past MAX_FLOW_DEPTH it is refused before parsing."""
    from ctxtui.core.claude_code import yaml_js

    deep = f"---\nname: deep\ndescription: d\nx: {'[' * 1000}{']' * 1000}\n---\nbody\n".encode()
    assert lint_bytes("deep.md", deep).findings
    with pytest.raises(yaml_js.JsYamlError, match="nested more than"):
        yaml_js.parse(f"x: {'[' * 1000}{']' * 1000}\n", duplicate_keys_error=True)
    shallow = yaml_js.parse(f"x: {'[' * 40}1{']' * 40}\n", duplicate_keys_error=True)
    assert shallow["x"] == [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]
