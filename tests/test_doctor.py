"""``ctxtui doctor``: one line per check, with a fix for anything not ok."""

from __future__ import annotations

import argparse
import json
import os
import stat
from pathlib import Path

from ctxtui.analytics.doctor import (
    check_block,
    check_journal,
    check_library,
    check_path,
    check_version,
    run_checks,
)
from ctxtui.cli import project as cli_project
from ctxtui.core import strategies
from ctxtui.core.config import load_settings
from ctxtui.core.project_init import init
from ctxtui.core.workspace import Workspace
from tests.conftest import crash_at, persona_text


def _exe(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    exe = folder / "ctxtui"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    return exe


def test_ctxtui_only_inside_a_virtualenv_fails_with_the_install_command(tmp_path, monkeypatch):
    venv = tmp_path / "venv"
    _exe(venv / "bin")
    monkeypatch.setenv("VIRTUAL_ENV", str(venv))
    c = check_path(str(venv / "bin"))
    assert c.status == "fail" and "virtual environment" in c.detail
    assert "pipx install" in c.line() and "\n" not in c.line()


def test_ctxtui_on_a_plain_path_is_ok(tmp_path, monkeypatch):
    monkeypatch.setenv("VIRTUAL_ENV", str(tmp_path / "venv"))
    exe = _exe(tmp_path / "local" / "bin")
    c = check_path(os.pathsep.join([str(tmp_path / "venv" / "bin"), str(exe.parent)]))
    assert c.status == "ok" and c.detail == str(exe)


def test_missing_ctxtui_fails(tmp_path):
    assert check_path(str(tmp_path)).status == "fail"


def test_library_not_recorded_warns_recorded_and_missing_fails(workspace, library, home):
    ws = Workspace(load_settings(workspace=workspace))
    c = check_library(ws)
    assert c.status == "warn" and "ctxtui init --library" in c.fix
    init(ws, library)
    assert check_library(Workspace(load_settings(workspace=workspace))).status == "ok"
    library.rename(library.with_name("moved"))
    c = check_library(Workspace(load_settings(workspace=workspace)))
    assert c.status == "fail" and "../lib" in c.detail


def test_version_from_the_config_names_the_mid_session_behaviour(workspace, home):
    (workspace / "hybrid-config.json").write_text(json.dumps({"claude_version": "2.1.112"}))
    c = check_version(Workspace(load_settings(workspace=workspace)), probe_path=False)
    assert c.status == "ok" and "2.1.112" in c.detail and "/reload-plugins" in c.detail
    (workspace / "hybrid-config.json").write_text(json.dumps({"claude_version": "2.1.340"}))
    c = check_version(Workspace(load_settings(workspace=workspace)), probe_path=False)
    assert "mid-session" in c.detail


def test_no_version_anywhere_warns(workspace, home):
    c = check_version(Workspace(load_settings(workspace=workspace)), probe_path=False)
    assert c.status == "warn" and "claude_version" in c.fix


def test_an_interrupted_change_fails_the_journal_check(settings):
    ws = Workspace(settings)
    assert check_journal(ws).status == "ok"
    with crash_at("step:0"):
        ws.activate(["alpha"])
    c = check_journal(ws)
    assert c.status == "fail" and "interrupted" in c.detail


def test_block_missing_stale_malformed_and_current(settings, library):
    ws = Workspace(settings)
    assert check_block(ws).status == "warn"  # nothing applied yet: a hint, not a failure
    strategies.migrate(ws, "lazy_loading", hot=["alpha"], force=True)
    assert check_block(Workspace(settings)).status == "ok"
    (library / "zeta.md").write_text(persona_text("zeta", "New one."))
    c = check_block(Workspace(settings))
    assert c.status == "warn" and "out of date" in c.detail and c.fix == "ctxtui claude-md --write"
    md = settings.workspace / "CLAUDE.md"
    md.write_text(md.read_text().replace("<!-- ctxtui:end -->", ""))
    c = check_block(Workspace(settings))
    assert c.status == "fail" and "no end marker" in c.detail


def test_doctor_command_exits_1_on_a_failure_and_prints_one_line_per_check(settings, capsys, monkeypatch):
    monkeypatch.setenv("PATH", "")
    p = argparse.ArgumentParser()
    cli_project.register(p.add_subparsers(dest="command"))
    code = cli_project.run(p.parse_args(["doctor"]), settings)
    lines = capsys.readouterr().out.splitlines()
    assert code == 1
    assert [line.split(":")[0].split(None, 1)[1] for line in lines] == [
        "ctxtui on PATH", "library", "Claude Code version", "journal", "CLAUDE.md block"]
    assert len(run_checks(Workspace(settings), path_env="")) == 5
