"""A config file nested thousands of levels deep (a committed ``.claude/settings.json`` or
``.mcp.json`` in a cloned repository, a transcript line) reads as unusable, never as a
RecursionError traceback: read-only commands go on without it, write commands refuse in one
line."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctxtui.cli import main

DEEP = ('{"a":' * 5000 + "1" + "}" * 5000 + "\n").encode()


def run(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def home(tmp_path: Path, monkeypatch) -> Path:
    home = tmp_path / "home"
    (home / ".claude").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    return home


@pytest.mark.parametrize("where", [".claude/settings.json", ".claude/settings.local.json", ".mcp.json",
                                   "~/.claude.json", "~/.claude/settings.json"])
def test_deep_config_file_is_not_a_traceback(capsys, home, workspace, library, where):
    path = home / where[2:] if where.startswith("~/") else workspace / where
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(DEEP)
    common = ["-w", workspace, "-l", library, "--claude-home", home / ".claude"]
    code, out, err = run(capsys, "status", "--json", *common)
    assert code == 0 and "Traceback" not in err and out.startswith("{")
    code, _, err = run(capsys, "hook", "install", *common)
    assert "Traceback" not in err and "RecursionError" not in err
    if where == ".claude/settings.local.json":  # the file the hook edits: refused, untouched
        assert code == 1 and err.count("\n") == 1 and "nested too deeply" in err
        assert path.read_bytes() == DEEP


def test_deep_transcript_line_is_skipped(capsys, home, workspace, library):
    from ctxtui.core.sessions import project_transcripts

    folder = project_transcripts(home / ".claude" / "projects", workspace)
    folder.mkdir(parents=True)
    (folder / "s.jsonl").write_bytes(DEEP + b'{"type":"user","message":{"role":"user","content":"hi"}}\n')
    code, out, err = run(capsys, "status", "--json", "-w", workspace, "-l", library,
                         "--claude-home", home / ".claude")
    assert code == 0 and "Traceback" not in err
