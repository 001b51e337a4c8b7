"""Claude Code's verdicts are remembered in the token cache: a warm start parses no YAML."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctxtui.core import verdicts
from ctxtui.core.claude_code import newest
from ctxtui.core.library import TokenCache, index_library


def library(root: Path) -> Path:
    (root / "lib").mkdir()
    (root / "lib" / "ok.md").write_text("---\nname: ok\ndescription: Does things\ntools: Read, Grep\n---\nbody\n")
    (root / "lib" / "bad.md").write_text("---\nname: bad\n---\nno description\n")
    return root / "lib"


@pytest.fixture
def fresh_process(monkeypatch):
    """As if in a new process: nothing parsed or counted in memory yet."""
    monkeypatch.setattr(verdicts, "_BY_CONTENT", {})
    monkeypatch.setattr(verdicts, "_LINE_TOKENS", {})


def test_a_warm_start_reads_the_remembered_verdicts_and_parses_nothing(tmp_path, fresh_process, monkeypatch):
    cache = TokenCache(tmp_path / "cache.sqlite")
    lib = index_library([library(tmp_path)], cache)
    profile = newest()
    verdicts.warm(cache, lib.personas, profile)
    first = {p.name: (verdicts.verdict_for(p, profile), verdicts.line_tokens(verdicts.verdict_for(p, profile)))
             for p in lib.personas}

    monkeypatch.setattr(verdicts, "_BY_CONTENT", {})
    monkeypatch.setattr(verdicts, "_LINE_TOKENS", {})

    def no_parse(*args, **kwargs):
        raise AssertionError("parsed again")

    monkeypatch.setattr(verdicts, "load_agent", no_parse)
    monkeypatch.setattr(verdicts.tokens, "count", no_parse)
    verdicts.warm(cache, lib.personas, profile)
    again = {p.name: (verdicts.verdict_for(p, profile), verdicts.line_tokens(verdicts.verdict_for(p, profile)))
             for p in lib.personas}
    assert again == first
    assert first["ok"][0].loaded and first["ok"][1] > 0
    assert not first["bad"][0].loaded and "description" in first["bad"][0].reason
    assert first["ok"][0].path == str(tmp_path / "lib" / "ok.md")


def test_a_damaged_or_foreign_cache_row_is_parsed_again(tmp_path, fresh_process):
    cache = TokenCache(tmp_path / "cache.sqlite")
    lib = index_library([library(tmp_path)], cache)
    profile = newest()
    key = f"{profile.version}:{verdicts._loader_fingerprint()}"
    cache.store_verdicts(key, [(p.sha256, {"verdict": {"path": 3, "loaded": "yes"}, "line_tokens": "x"})
                               for p in lib.personas])
    verdicts.warm(cache, lib.personas, profile)
    ok = next(p for p in lib.personas if p.name == "ok")
    assert verdicts.verdict_for(ok, profile).loaded
    assert b'"loaded":true' in cache.verdicts([ok.sha256], key)[ok.sha256]  # repaired


def test_a_file_changed_after_indexing_is_still_seen_as_changing(tmp_path, fresh_process):
    cache = TokenCache(tmp_path / "cache.sqlite")
    lib = index_library([library(tmp_path)], cache)
    profile = newest()
    verdicts.warm(cache, lib.personas, profile)
    ok = next(p for p in lib.personas if p.name == "ok")
    ok.path.write_text("---\nname: ok\n")  # an editor mid-save
    assert verdicts.is_stale(verdicts.verdict_for(ok, profile))


def test_the_workspace_reads_each_file_once_per_refresh_and_a_changing_one_each_time(tmp_path, monkeypatch):
    from ctxtui.core.config import load_settings
    from ctxtui.core.workspace import Workspace

    lib = library(tmp_path)
    (tmp_path / "proj").mkdir()
    settings = load_settings(workspace=tmp_path / "proj", library_dirs=[lib], include_user_scope=False,
                             cache_path=tmp_path / "cache.sqlite")
    ws = Workspace(settings)
    ok = ws.library.get("ok")
    reads = []
    real = verdicts.read_regular
    monkeypatch.setattr(verdicts, "read_regular", lambda *a: reads.append(a[0]) or real(*a))
    first = ws.verdict(ok)
    first.tools.append("changed by a caller")
    assert ws.verdict(ok).loaded and "changed by a caller" not in ws.verdict(ok).tools
    assert reads == [ok.path]
    (lib / "bad.md").write_text("---\nname: bad\ndescription: now fine\n---\n")  # saved before it was asked
    bad = ws.library.get("bad")
    assert verdicts.is_stale(ws.verdict(bad)) and verdicts.is_stale(ws.verdict(bad))
    assert reads.count(bad.path) == 2
    ws.refresh()
    assert ws.verdict(ws.library.get("bad")).loaded


def test_verdicts_made_by_other_loader_code_are_forgotten(tmp_path, fresh_process):
    cache = TokenCache(tmp_path / "cache.sqlite")
    lib = index_library([library(tmp_path)], cache)
    profile = newest()
    cache.store_verdicts(f"{profile.version}:oldcode", [("abc", {"x": 1})])
    verdicts.warm(cache, lib.personas, profile)
    assert cache.verdicts(["abc"], f"{profile.version}:oldcode") == {}
    key = f"{profile.version}:{verdicts._loader_fingerprint()}"
    assert set(cache.verdicts([p.sha256 for p in lib.personas], key)) == {p.sha256 for p in lib.personas}
