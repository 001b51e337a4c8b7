"""The whole startup context against the requests Claude Code really sent (no Node, no network).

Captures: scripts/claude_code/startup_shapes.py -> tests/data/claude_code/startup/.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ctxtui.core import startup, tokens

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "claude_code" / "startup"
sys.path.insert(0, str(HERE.parent / "scripts" / "claude_code"))

from export_startup import message_texts, request_total  # noqa: E402

SHAPES = json.loads((DATA / "shapes.json").read_text(encoding="utf-8"))["shapes"]
VERSIONS = sorted(p.name for p in DATA.iterdir() if p.is_dir())
ENTRIES = {"p": "print", "interactive": "interactive"}


def build(root: Path, shape: str) -> tuple[Path, Path]:
    """The shape's project (its own git root) and its home (``~/`` files) under ROOT."""
    proj, home = root / "repo", root / "home"
    proj.mkdir()
    home.mkdir()
    for rel, text in SHAPES[shape].items():
        path = home / rel[2:] if rel.startswith("~/") else proj / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    subprocess.run(["git", "init", "-q", str(proj)], check=True)
    return proj, home


def captured(version: str, entry: str, shape: str) -> dict:
    return json.loads((DATA / version / f"{entry}_{shape}.json").read_text(encoding="utf-8"))


def request_text(body: dict) -> str:
    parts = [s["text"] for s in body["system"]] + [t.get("description", "") for t in body["tools"]]
    return "\n".join(parts + [t for _, t in message_texts(body)])


CASES = [(v, e, s) for v in VERSIONS for e in ENTRIES for s in SHAPES]


def test_every_supported_version_has_captures_and_fixed_figures():
    assert VERSIONS == ["2.1.112", "2.1.332"]
    for v in VERSIONS:
        assert startup.fixed_figures(v)["provenance"]["version"] == v
        for s in SHAPES:
            for e in ENTRIES:
                assert (DATA / v / f"{e}_{s}.json").is_file()


@pytest.mark.parametrize(("version", "entry", "shape"), CASES)
def test_whole_startup_total_is_within_3pct_of_the_captured_request(tmp_path, version, entry,
                                                                     shape):
    proj, home = build(tmp_path, shape)
    acc = startup.account(proj, home, version=version, entrypoint=ENTRIES[entry],
                          managed_dir=tmp_path / "etc", env={})
    measured = request_total(captured(version, entry, shape)["body"])
    assert abs(acc.total - measured) <= 0.03 * measured, (acc.total, measured)


@pytest.mark.parametrize(("version", "entry"), [(v, e) for v in VERSIONS for e in ENTRIES])
def test_each_project_line_is_sent_exactly_as_modelled(tmp_path, version, entry):
    """Agent, skill and command lines: the model's text is in the request, byte for byte."""
    from ctxtui.core import skills
    from ctxtui.core.claude_code import effective_agents, profile_for

    proj, home = build(tmp_path, "skills")
    text = request_text(captured(version, entry, "skills")["body"])
    prof = profile_for(version)
    agents = effective_agents(proj, prof, home=home, env={})
    assert len(agents.listed) == 5
    for v in agents.listed:
        assert v.line in text
    acc = startup.account(proj, home, version=version, entrypoint=ENTRIES[entry],
                          managed_dir=tmp_path / "etc", env={})
    listed = [i for i in acc.items if i.kind in ("skill", "command")]
    assert sorted(i.label for i in listed) == ["release-notes", "review", "todo"]
    custom = skills.project_skills(proj, None)
    assert {s.name for s in custom} == {"release-notes", "db-migrate"}
    for s in custom:
        line = f"- {s.name}: {s.text}"
        assert (line in text) == s.model_invocable
    assert "- ship:" not in text  # disable-model-invocation command


def test_the_empty_project_matches_exactly_and_items_partition_it(tmp_path):
    for version in VERSIONS:
        for entry, key in ENTRIES.items():
            root = tmp_path / f"{version}-{entry}"
            root.mkdir()
            proj, home = build(root, "empty")
            acc = startup.account(proj, home, version=version, entrypoint=key,
                                  managed_dir=root / "etc", env={})
            assert acc.total == request_total(captured(version, entry, "empty")["body"])
            assert all(i.basis == "version-data" for i in acc.items)
            assert acc.managed == 0


def test_a_local_mcp_server_is_listed_as_unknown_never_invented(tmp_path):
    proj, home = build(tmp_path, "mcp")
    acc = startup.account(proj, home, version="2.1.112", managed_dir=tmp_path / "etc", env={})
    servers = [i for i in acc.items if i.kind == "mcp-server"]
    assert [(s.tokens, s.basis, s.scope) for s in servers] == [(None, "unknown", "project")]
    assert acc.unknown == servers
    assert acc.to_json()["unknown_items"] == 1


def test_recorded_tool_names_measure_deferred_mcp_tools(tmp_path):
    """2.1.332 lists MCP tools by name until ToolSearch loads them: names give the cost."""
    proj, home = build(tmp_path, "mcp")
    body = captured("2.1.332", "p", "mcp")["body"]
    names = ["mcp__tiny__list_deploys", "mcp__tiny__lookup_ticket", "mcp__tiny__ping"]
    assert all(n in request_text(body) for n in names)
    transcript = tmp_path / "s.jsonl"
    transcript.write_text("not json\n" + json.dumps({"type": "attachment", "attachment": {
        "type": "deferred_tools_delta", "addedNames": ["CronCreate", *names]}}) + "\n")
    from ctxtui.core import mcp

    recorded = mcp.recorded_tools(transcript)
    assert recorded == {"tiny": names}
    before = startup.account(proj, home, version="2.1.332", entrypoint="print",
                             managed_dir=tmp_path / "etc", env={})
    after = startup.account(proj, home, version="2.1.332", entrypoint="print",
                            managed_dir=tmp_path / "etc", env={}, mcp_recorded=recorded)
    server = next(i for i in after.items if i.kind == "mcp-server")
    via_file = startup.account(proj, home, version="2.1.332", entrypoint="print",
                               managed_dir=tmp_path / "etc", env={}, transcript=transcript)
    assert via_file.total == after.total
    assert server.basis == "measured"
    assert server.tokens == sum(tokens.count("\n" + n) for n in names)
    measured = request_total(body)
    assert abs(after.total - measured) < abs(before.total - measured)


def test_managed_is_agent_lines_plus_the_block_and_json_shape(tmp_path):
    proj, home = build(tmp_path, "memory")
    acc = startup.account(proj, home, version="2.1.332", managed_dir=tmp_path / "etc", env={},
                          block_tokens=40)
    agent_tokens = sum(i.tokens or 0 for i in acc.items if i.kind == "agent")
    assert agent_tokens > 0
    assert acc.managed == agent_tokens + 40
    assert acc.managed < acc.total
    data = acc.to_json()
    assert data["total"] == acc.total and data["managed"] == acc.managed
    assert {"kind", "label", "source", "tokens", "basis", "scope", "managed"} <= set(
        data["items"][0])
    assert sum(data["by_kind"].values()) == acc.total
    one = next(i.label for i in acc.items if i.kind == "agent")
    hot_only = startup.account(proj, home, version="2.1.332", managed_dir=tmp_path / "etc",
                               env={}, hot_names=frozenset({one}))
    assert [i.label for i in hot_only.items if i.managed] == [one]


def test_suggestions_split_what_ctxtui_can_do_from_what_only_the_user_can(tmp_path):
    proj, home = build(tmp_path, "skills")
    for version in VERSIONS:
        acc = startup.account(proj, home, version=version, managed_dir=tmp_path / "etc",
                              env={}, block_tokens=150)
        by = {(s.item, s.by, s.action.split(" ")[0]) for s in acc.suggestions}
        agents = [i for i in acc.items if i.kind == "agent"]
        assert (f"{len(agents)} custom agents", "ctxtui", "move") in by
        whole = next(s for s in acc.suggestions if s.item == f"{len(agents)} custom agents")
        assert whole.saving == sum(a.tokens for a in agents)
        for a in agents:
            assert (a.label, "ctxtui", "move") in by
            assert next(s.saving for s in acc.suggestions if s.item == a.label) == a.tokens
        assert ("ctxtui CLAUDE.md block", "ctxtui", "trim") in by
        assert any(s.by == "user" and s.item.startswith("MCP tiny") for s in acc.suggestions)
        name_only = [s for s in acc.suggestions if "name-only" in s.action]
        assert bool(name_only) == (version == "2.1.332")  # skillOverrides came later
        savings = [s.saving for s in acc.suggestions]
        assert savings == sorted(savings, reverse=True)


def test_predictor_feeds_the_live_gauge(tmp_path):
    proj, home = build(tmp_path, "agents")
    predict = startup.predictor(proj, home, version="2.1.112", factor=1.1,
                                managed_dir=tmp_path / "etc", env={})
    acc = startup.account(proj, home, version="2.1.112", managed_dir=tmp_path / "etc", env={})
    assert predict() == round(acc.total * 1.1)


def test_unknown_entrypoint_is_refused(tmp_path):
    with pytest.raises(ValueError):
        startup.account(tmp_path, None, entrypoint="sdk")


@pytest.mark.parametrize("version", VERSIONS)
def test_an_output_style_adds_its_section_and_2_1_112_drops_the_coding_instructions(tmp_path,
                                                                                     version):
    totals = {}
    for shape in ("agents", "style", "style_keep"):
        root = tmp_path / shape
        root.mkdir()
        proj, home = build(root, shape)
        acc = startup.account(proj, home, version=version, managed_dir=root / "etc", env={})
        totals[shape] = acc
    style = next(i for i in totals["style"].items if i.kind == "output-style")
    assert style.label == "Output style Terse" and style.tokens and style.tokens > 20
    assert style.source.endswith("terse.md")
    prompt = {k: next(i.tokens for i in a.items if i.kind == "system-prompt")
              for k, a in totals.items()}
    assert prompt["style_keep"] == prompt["agents"]
    assert (prompt["style"] < prompt["agents"]) == (version == "2.1.112")


def test_a_builtin_output_style_is_unknown_not_guessed(tmp_path):
    proj, home = build(tmp_path, "agents")
    (proj / ".claude" / "settings.json").write_text('{"outputStyle": "Explanatory"}')
    acc = startup.account(proj, home, version="2.1.332", managed_dir=tmp_path / "etc", env={})
    style = next(i for i in acc.items if i.kind == "output-style")
    assert (style.tokens, style.basis) == (None, "unknown")


def test_budget_json_reports_the_whole_startup_and_compares_the_managed_part(tmp_path):
    from ctxtui.core.budget import Budget

    proj, home = build(tmp_path, "memory")
    acc = startup.account(proj, home, version="2.1.332", managed_dir=tmp_path / "etc", env={})
    plain = Budget(items=[], startup_tokens=300, eager_startup_tokens=1200, window=200_000,
                   target=5000, factor=1.0)
    assert plain.to_json()["startup_tokens"]["total"] == 300  # unchanged without the account
    whole = Budget(items=[], startup_tokens=acc.managed, eager_startup_tokens=4 * acc.managed,
                   window=200_000, target=5000, factor=1.25, whole=acc.to_json())
    data = whole.to_json()
    assert data["startup_tokens"]["total"] == acc.total
    assert data["startup_tokens"]["managed"] == acc.managed
    assert data["startup_tokens"]["estimated_claude"] == round(acc.total * 1.25)
    assert data["reduction_pct"] == 75.0
    assert data["context_left"] == 200_000 - round(acc.total * 1.25)
    assert len(data["startup_tokens"]["items"]) == len(acc.items)
    assert data["startup_context"]["by_kind"] == acc.by_kind()


@pytest.mark.parametrize(("version", "entry"), [(v, e) for v in VERSIONS for e in ENTRIES])
def test_skill_listing_past_the_budget_is_line_for_line_what_claude_code_sent(tmp_path,
                                                                              version, entry):
    """90 skills: 2.1.112 shares its 8,000 characters out; 2.1.332 (1M window, 3 chars per
    token) keeps the most-used and the first that fit full, collapses the rest, honours
    ``skillOverrides``."""
    from ctxtui.core import mcp
    from ctxtui.core.claude_code.agents import user_config_dir

    proj, home = build(tmp_path, "skills_many")
    body = captured(version, entry, "skills_many")["body"]
    sent = [ln for ln in request_text(body).split("\n") if ln.startswith("- skill-")]
    claude_home = user_config_dir(home, {})
    settings = mcp.merged_settings(mcp.settings_files(proj, claude_home, tmp_path / "etc"))
    listed = startup.skill_listing(proj, home, claude_home, version, ENTRIES[entry], settings,
                                   {})
    mine = [ls.line for ls in listed if ls.skill.kind == "skill"]
    assert sorted(mine) == sorted(sent)
    collapsed = {ls.skill.name for ls in listed if ls.collapsed}
    if version == "2.1.332":
        assert "skill-02" not in {ls.skill.name for ls in listed}  # skillOverrides: off
        assert {"skill-01", "skill-89"} <= collapsed
        assert not {"skill-30", "skill-31"} & collapsed  # most used stay full
    else:
        assert not collapsed and all(ln.endswith("\u2026") for ln in mine)


@pytest.mark.parametrize("entry", list(ENTRIES))
def test_a_recording_transcript_measures_the_first_request_exactly(tmp_path, entry):
    """2.1.332 writes the request into the transcript: system and tools become measured, and
    the recorded total is the captured request's total."""
    from ctxtui.core.first_request import first_request

    transcript = DATA / "2.1.332" / f"{entry}_skills.transcript.jsonl"
    body = captured("2.1.332", entry, "skills")["body"]
    rec = first_request(transcript)
    assert rec is not None and rec.version == "2.1.332" and rec.prompt == "hello"
    proj, home = build(tmp_path, "skills")
    acc = startup.account(proj, home, version="2.1.332", entrypoint=ENTRIES[entry],
                          managed_dir=tmp_path / "etc", env={}, transcript=transcript)
    assert acc.measured_total == request_total(body)
    bases = {i.kind: i.basis for i in acc.items}
    assert bases["system-prompt"] == bases["builtin-tools"] == "measured"
    system = next(i.tokens for i in acc.items if i.kind == "system-prompt")
    assert system == sum(tokens.count(s["text"]) for s in body["system"])
    server = next(i for i in acc.items if i.kind == "mcp-server")
    # -p waits for MCP servers, so their deferred names were recorded; the interactive first
    # request went out while the server was still connecting, so its tools stay unknown
    assert server.basis == ("measured" if entry == "p" else "unknown")
    assert abs(acc.total - acc.measured_total) <= 0.03 * acc.measured_total
    assert acc.to_json()["measured_total"] == acc.measured_total


def test_transcripts_without_a_recorded_request_give_none(tmp_path):
    from ctxtui.core.first_request import first_request

    t = tmp_path / "old.jsonl"
    t.write_text('{"type":"user","message":{"role":"user","content":"hi"}}\n'
                 '{"type":"api-request","shapeHash":"missing","tail":["x"]}\n[1,2]\n{bad\n')
    assert first_request(t) is None
    assert first_request(tmp_path / "absent.jsonl") is None
    proj, home = build(tmp_path, "agents")
    acc = startup.account(proj, home, version="2.1.112", managed_dir=tmp_path / "etc", env={},
                          transcript=t)
    assert acc.measured_total is None
    assert all(i.basis != "measured" for i in acc.items)


def test_a_transcript_of_another_version_is_measured_but_keeps_this_versions_figures(tmp_path):
    """The newest session may come from an older or newer Claude Code: its total is still what
    it measured, but its system prompt and tools do not replace this version's figures."""
    transcript = DATA / "2.1.332" / "p_skills.transcript.jsonl"
    proj, home = build(tmp_path, "skills")
    acc = startup.account(proj, home, version="2.1.112", entrypoint="print",
                          managed_dir=tmp_path / "etc", env={}, transcript=transcript)
    assert acc.measured_version == "2.1.332" and acc.measured_total
    bases = {i.kind: i.basis for i in acc.items}
    assert bases["system-prompt"] == bases["builtin-tools"] == "version-data"


def test_the_first_request_is_found_in_a_transcript_longer_than_the_head(tmp_path, monkeypatch):
    """A long session is read from its start only (whole lines), never refused for its size."""
    from ctxtui.core import first_request as fr

    src = (DATA / "2.1.332" / "p_skills.transcript.jsonl").read_bytes()
    big = tmp_path / "long.jsonl"
    filler = b'{"type":"assistant","message":{"content":"' + b"x" * 1000 + b'"}}\n'
    big.write_bytes(src + filler * 200)
    monkeypatch.setattr(fr, "HEAD_BYTES", len(src) + 500)  # cuts inside a filler line
    rec = fr.first_request(big)
    assert rec is not None and rec.total() == fr.first_request(
        DATA / "2.1.332" / "p_skills.transcript.jsonl").total()


def test_status_measures_the_projects_newest_session(tmp_path):
    """``status --json`` reads the project's newest transcript (where Claude Code writes it)
    and reports what its first request measured beside the prediction."""
    from ctxtui.core.config import Settings
    from ctxtui.core.sessions import project_transcripts
    from ctxtui.core.workspace import Workspace

    proj, home = build(tmp_path, "skills")
    claude_home = home / ".claude"
    folder = project_transcripts(claude_home / "projects", proj)
    folder.mkdir(parents=True)
    old = folder / "old.jsonl"
    old.write_text('{"type":"user","message":{"role":"user","content":"hi"}}\n')
    os.utime(old, (1, 1))
    shutil.copy(DATA / "2.1.332" / "p_skills.transcript.jsonl", folder / "new.jsonl")
    ws = Workspace(Settings(workspace=proj, claude_home=claude_home, claude_version="2.1.332"))
    whole = ws.budget().whole
    assert whole is not None
    body = captured("2.1.332", "p", "skills")["body"]
    assert whole["measured_total"] == request_total(body)
    assert whole["measured_version"] == "2.1.332"
    shown = ws.budget().to_json()["startup_context"]
    assert (shown["measured_total"], shown["measured_version"]) == (whole["measured_total"], "2.1.332")
    assert shown["measured_entrypoint"] == "print"  # the p_ capture is a -p session
    os.utime(folder / "new.jsonl", (1, 1))
    os.utime(old, None)  # the plain session is now the newest: nothing measured
    assert Workspace(Settings(workspace=proj, claude_home=claude_home,
                              claude_version="2.1.332")).budget().whole["measured_total"] is None


@pytest.mark.parametrize("entry", list(ENTRIES))
def test_the_recorded_entrypoint_decides_which_figures_a_transcript_replaces(tmp_path, entry):
    """A ``-p`` session measured for an interactive account (or the reverse) keeps its own
    billing header in the measured total and leaves the account's figures alone."""
    from ctxtui.core.first_request import first_request

    transcript = DATA / "2.1.332" / f"{entry}_skills.transcript.jsonl"
    rec = first_request(transcript)
    assert rec is not None and rec.entrypoint == ENTRIES[entry]
    other = "interactive" if entry == "p" else "print"
    proj, home = build(tmp_path, "skills")
    acc = startup.account(proj, home, version="2.1.332", entrypoint=other,
                          managed_dir=tmp_path / "etc", env={}, transcript=transcript)
    assert acc.measured_total == request_total(captured("2.1.332", entry, "skills")["body"])
    assert {i.kind: i.basis for i in acc.items}["system-prompt"] == "version-data"


@pytest.mark.parametrize("entry", list(ENTRIES))
def test_a_malformed_recorded_request_is_skipped_never_a_traceback(tmp_path, entry):
    """Every field of the request records replaced by a number, a list, a text or null: the
    transcript is read as recording no request (or a smaller one), never a crash."""
    from ctxtui.core.first_request import first_request

    lines = (DATA / "2.1.332" / f"{entry}_skills.transcript.jsonl").read_text().splitlines()
    proj, home = build(tmp_path, "skills")
    kinds = ("api-request-shape", "api-request-blob", "api-request")
    for n, line in enumerate(lines):
        rec = json.loads(line)
        if rec.get("type") not in kinds:
            continue
        paths = [(k,) for k in rec] + [(k, k2) for k, v in rec.items() if isinstance(v, dict) for k2 in v]
        for path in paths:
            for bad in (5, [7], "x", None, {"a": 1}):
                broken = json.loads(line)
                target = broken
                for key in path[:-1]:
                    target = target[key]
                target[path[-1]] = bad
                t = tmp_path / "t.jsonl"
                t.write_text("\n".join([*lines[:n], json.dumps(broken), *lines[n + 1:]]) + "\n")
                rec_ = first_request(t)
                if rec_ is not None:
                    rec_.total()
    acc = startup.account(proj, home, version="2.1.332", entrypoint=ENTRIES[entry],
                          managed_dir=tmp_path / "etc", env={}, transcript=t)
    assert acc.total > 0
