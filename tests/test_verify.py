"""verify: what a real Claude Code session recorded against ctxtui's prediction."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from conftest import persona_text
from ctxtui.analytics.live import project_dir_name
from ctxtui.analytics.verify import VerifyError, read_session, verify
from ctxtui.core.config import load_settings

DATA = Path(__file__).parent / "data"
TRANSCRIPTS = DATA / "claude_code" / "transcripts"
CAPTURED_ROOT = "/tmp/ctxtui-verify/repo"  # scripts/claude_code/verify_capture.py
AGENTS = ("good-plain.md", "good-block.md", "db-migrator.md", "perf-tuner.md")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The captured project rebuilt in tmp, with a factory that installs a transcript."""
    monkeypatch.delenv("CLAUDE_CONFIG_DIR", raising=False)
    root = tmp_path / "repo"
    agents = root / ".claude" / "agents"
    agents.mkdir(parents=True)
    (root / ".git").mkdir()  # stop Claude Code's walk up the ancestors, as in the capture
    for name in AGENTS:
        shutil.copy(DATA / "messy_library" / name, agents / name)
        os.utime(agents / name, (1_600_000_000, 1_600_000_000))  # before the captured session
    (root / "CLAUDE.md").write_bytes(b"# Project\nUse tabs.\n")
    (tmp_path / "emptylib").mkdir()  # an empty library: only the project's own agents count
    settings = load_settings(workspace=root, library_dirs=[tmp_path / "emptylib"])

    def install(version: str, edit=None) -> Path:
        text = (TRANSCRIPTS / f"{version}.jsonl").read_text(encoding="utf-8")
        text = text.replace(CAPTURED_ROOT, str(root))
        if edit is not None:
            text = "\n".join(json.dumps(edit(json.loads(line))) for line in text.splitlines())
        folder = settings.transcripts / project_dir_name(str(root.resolve()))
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "0000-session.jsonl"
        path.write_text(text, encoding="utf-8")
        return path

    return settings, install


def test_a_matching_session_agrees(project):
    settings, install = project
    install("2.1.332")
    r = verify(settings)
    assert r.version == "2.1.332" and r.profile == "2.1.332" and r.agents_recorded
    # perf-tuner is skipped by Claude Code, and ctxtui predicts that
    assert r.listed == r.predicted == ["db-migrator", "good-block", "good-plain"]
    assert r.missing == r.extra == r.differing_lines == []
    assert r.memory_recorded and r.memory_sent == [str(settings.workspace / "CLAUDE.md")]
    assert r.memory_missing == r.memory_extra == []
    assert r.measured == 1  # the stand-in API's usage (1 input token)
    assert r.predicted_total and r.predicted_total > 5000
    assert r.agrees and not any("changed after" in n for n in r.notes)


def test_an_agent_claude_code_did_not_list_is_a_silent_drop(project):
    settings, install = project
    install("2.1.332")
    (settings.agents_dir / "new-one.md").write_text(persona_text("new-one", "Added later."))
    r = verify(settings)
    assert r.missing == ["new-one"] and not r.agrees
    assert any("missing (silently dropped): new-one" in line for line in r.lines())


def test_an_agent_listed_but_not_predicted_is_extra_and_a_changed_line_differs(project):
    settings, install = project
    install("2.1.332")
    (settings.agents_dir / "good-plain.md").unlink()
    path = settings.agents_dir / "good-block.md"
    path.write_bytes(path.read_bytes().replace(b"Use this agent for reviews.", b"Reviews."))
    r = verify(settings)
    assert r.extra == ["good-plain"] and r.differing_lines == ["good-block"]


def test_usage_is_input_plus_cache_creation_plus_cache_read(project):
    settings, install = project

    def edit(rec):
        if rec.get("type") == "assistant":
            rec["message"]["usage"].update(input_tokens=7, cache_creation_input_tokens=20000,
                                           cache_read_input_tokens=300)
        return rec

    install("2.1.332", edit)
    assert verify(settings).measured == 20307


def test_an_older_version_does_not_record_the_listing_and_says_so(project):
    settings, install = project
    install("2.1.112")
    r = verify(settings)
    assert r.version == "2.1.112" and not r.agents_recorded and not r.memory_recorded
    assert r.predicted == ["db-migrator", "good-block", "good-plain"] and r.missing == []
    text = "\n".join(r.lines())
    assert "agents: not recorded" in text and "memory files: not recorded" in text


def test_no_session_is_one_clear_error(project, capsys):
    settings, _ = project
    with pytest.raises(VerifyError, match="no Claude Code session"):
        verify(settings)
    from test_lint import run_cli

    assert run_cli(["verify", "-w", str(settings.workspace)]) == 1
    assert capsys.readouterr().err.count("\n") == 1


def test_hostile_transcript_lines_are_skipped(tmp_path):
    path = tmp_path / "t.jsonl"
    good = (TRANSCRIPTS / "2.1.332.jsonl").read_bytes()
    path.write_bytes(b"not json\n" + b"[1,2]\n" + b'{"type":"attachment","attachment":'
                     b'{"type":"agent_listing_delta","addedTypes":[1,null,"ok"],"addedLines":5}}\n'
                     + b"[" * 100000 + b"\n" + good)
    rec = read_session(path)
    assert rec.agents is not None and "ok" in rec.agents and "db-migrator" in rec.agents
    assert rec.measured == 1


def test_cli_verify_json(project, capsys):
    settings, install = project
    install("2.1.332")
    from test_lint import run_cli

    assert run_cli(["verify", "-w", str(settings.workspace), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["agrees"] and data["listed"] == ["db-migrator", "good-block", "good-plain"]


def test_a_change_after_the_session_started_is_predicted_from_history(project):
    from ctxtui.core import fix_op
    from ctxtui.core.workspace import Workspace

    settings, install = project
    install("2.1.332")
    report = fix_op.apply_fixes(Workspace(settings), ["perf-tuner"])  # now it would load
    assert report.entry is not None
    r = verify(settings)
    assert r.predicted == ["db-migrator", "good-block", "good-plain"] and r.agrees
    assert any(f"history entry {report.entry.id}" in n for n in r.notes)


def test_an_edit_after_the_session_started_is_noted(project):
    settings, install = project
    install("2.1.332")
    (settings.agents_dir / "good-plain.md").touch()
    r = verify(settings)
    assert any("changed after the session started" in n for n in r.notes)
