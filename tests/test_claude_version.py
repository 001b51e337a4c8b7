"""Claude Code version detection: option, setting, the claude on PATH (cached), transcripts."""

import json
import os
import stat

import pytest

from ctxtui.core import claude_version as cv
from ctxtui.core.errors import CtxtuiError


def _fake_claude(tmp_path, text="2.1.112 (Claude Code)"):
    counter = tmp_path / "calls"
    exe = tmp_path / "bin" / "claude"
    exe.parent.mkdir()
    exe.write_text(f"#!/bin/sh\necho x >> {counter}\necho '{text}'\n")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    return exe, counter


def test_option_beats_setting_and_path(tmp_path):
    assert cv.detect(option="2.0.5", setting="2.1.1", probe_path=False) == cv.DetectedVersion("2.0.5", "option")
    assert cv.detect(setting="v2.1.1", probe_path=False) == cv.DetectedVersion("2.1.1", "setting")


def test_unparseable_option_is_one_clear_error():
    with pytest.raises(CtxtuiError, match="X.Y.Z"):
        cv.detect(option="latest", probe_path=False)


def test_claude_on_path_is_run_once_then_cached(tmp_path):
    exe, counter = _fake_claude(tmp_path)
    cache = tmp_path / "cache"
    assert cv.from_path(cache, which=str(exe)) == "2.1.112"
    assert cv.from_path(cache, which=str(exe)) == "2.1.112"
    assert counter.read_text().count("x") == 1
    # a new binary (size changes) is probed again
    exe.write_text(exe.read_text().replace("2.1.112", "2.1.300"))
    assert cv.from_path(cache, which=str(exe)) == "2.1.300"
    assert counter.read_text().count("x") == 2


def test_corrupt_probe_cache_is_ignored(tmp_path):
    exe, _ = _fake_claude(tmp_path)
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "claude-version.json").write_text("[not json")
    assert cv.from_path(cache, which=str(exe)) == "2.1.112"


def test_project_dir_name_matches_claude_code_naming():
    from ctxtui.core.sessions import project_dir_name
    assert project_dir_name("/home/a/my.app_x") == "-home-a-my-app-x"


def test_version_found_in_a_long_project_paths_hashed_folder(tmp_path):
    from ctxtui.core.sessions import project_dir_name
    ws = tmp_path / ("deep-" * 50)
    ws.mkdir()
    folder = tmp_path / "projects" / project_dir_name(str(ws))
    assert len(folder.name) > 200 and folder.name[200] == "-"
    folder.mkdir(parents=True)
    (folder / "s.jsonl").write_text(json.dumps({"type": "user", "version": "2.1.332"}) + "\n")
    assert cv.from_transcripts(tmp_path / "projects", ws) == "2.1.332"


def test_newest_transcript_version(tmp_path):
    from ctxtui.core.sessions import project_dir_name
    ws = tmp_path / "proj"
    ws.mkdir()
    folder = tmp_path / "projects" / project_dir_name(str(ws))
    folder.mkdir(parents=True)
    old = folder / "old.jsonl"
    old.write_text(json.dumps({"type": "user", "version": "1.0.9"}) + "\n")
    new = folder / "new.jsonl"
    new.write_text(json.dumps({"type": "user", "version": "2.0.1"}) + "\n"
                   + json.dumps({"type": "assistant", "version": "2.1.112"}) + "\n")
    os.utime(old, (1, 1))
    d = cv.detect(workspace=ws, projects_dir=tmp_path / "projects", probe_path=False)
    assert d == cv.DetectedVersion("2.1.112", "transcript")


def test_nothing_found(tmp_path):
    d = cv.detect(workspace=tmp_path, projects_dir=tmp_path / "none", probe_path=False)
    assert d == cv.DetectedVersion(None, "none")
