"""The transcript parse cache: a cached read is the read of the files as they are now, whatever
changed (appended, rewritten at the same size, subagent files added or removed, files gone),
and a damaged or foreign cache file is no cache."""

from __future__ import annotations

import json
import os
import pickle
import time
from dataclasses import asdict
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import TRANSCRIPTS
from ctxtui.analytics import transcript_cache
from ctxtui.analytics import transcripts as tr
from ctxtui.analytics.transcripts import read_all

needs_corpus = pytest.mark.skipif(not TRANSCRIPTS.is_dir(), reason="shared transcripts not present")


@pytest.fixture(autouse=True)
def settled(monkeypatch):
    """Files written by a test count as settled at once (the real window is two seconds)."""
    monkeypatch.setattr(transcript_cache, "SETTLE_NS", 0)


def _lines(path: Path, records: list) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records))
    return path


def _task(tid: str, persona: str, mid: str) -> dict:
    return {"type": "assistant", "timestamp": "2026-11-02T10:00:00Z", "message": {
        "id": mid, "usage": {"input_tokens": 3, "output_tokens": 5},
        "content": [{"type": "tool_use", "id": tid, "name": "Task", "input": {"subagent_type": persona, "prompt": "go"}}]}}


def _result(tid: str, agent: str) -> dict:
    return {"type": "user", "toolUseResult": {"agentId": agent}, "message": {"content": [
        {"type": "tool_result", "tool_use_id": tid, "content": [{"type": "text", "text": "done"}]}]}}


def _history(root: Path) -> None:
    for n in range(4):
        _lines(root / f"-proj-{n % 2}" / f"s{n}.jsonl", [
            {"type": "user", "timestamp": f"2026-11-0{n + 1}T09:00:00Z", "message": {"content": f"fix the api {n}"}},
            _task(f"t{n}", "debugger", f"m{n}"), _result(f"t{n}", f"a{n}"), "not json",
        ])
        _lines(root / f"-proj-{n % 2}" / f"s{n}" / "subagents" / f"agent-a{n}.jsonl", [
            {"type": "assistant", "agentId": f"a{n}", "message": {"id": f"x{n}", "usage": {"output_tokens": 7 + n},
                                                                 "content": [{"type": "text", "text": "inside"}]}}])


def _state(root: Path, cache: Path | None) -> tuple:
    sessions, stats = read_all(root, cache=cache)
    return [asdict(s) | {"path": str(s.path)} for s in sessions], vars(stats)


def _same_as_fresh(root: Path, cache: Path) -> None:
    assert _state(root, cache) == _state(root, None)


def test_a_second_read_comes_from_the_cache_and_is_the_same(tmp_path, monkeypatch):
    root, cache = tmp_path / "projects", tmp_path / "cache"
    _history(root)
    first = _state(root, cache)
    assert len(list(cache.glob("*.msgpack"))) == 1
    read = []
    monkeypatch.setattr(tr, "read_session", lambda *a, **k: read.append(a[0]))  # nothing may be read now
    assert _state(root, cache) == first and read == []


def test_every_change_is_seen(tmp_path):
    root, cache = tmp_path / "projects", tmp_path / "cache"
    _history(root)
    _same_as_fresh(root, cache)
    s0 = root / "-proj-0" / "s0.jsonl"
    with open(s0, "a") as fh:  # appended: a new prompt
        fh.write(json.dumps({"type": "user", "message": {"content": "one more thing"}}) + "\n")
    _same_as_fresh(root, cache)
    sub = root / "-proj-0" / "s0" / "subagents"
    _lines(sub / "agent-b.jsonl", ["{}"])  # a subagent file added
    _same_as_fresh(root, cache)
    (sub / "agent-a0.jsonl").unlink()  # and one removed
    _same_as_fresh(root, cache)
    (root / "-proj-1" / "s1.jsonl").unlink()  # a session gone
    _same_as_fresh(root, cache)
    sub2 = root / "-proj-0" / "s2" / "subagents" / "agent-a2.jsonl"
    _lines(sub2, [{"type": "assistant", "agentId": "a2", "message": {"id": "x2", "usage": {"output_tokens": 9000}}}])
    _same_as_fresh(root, cache)


def test_a_rewrite_of_the_same_size_and_modification_time_is_seen(tmp_path):
    root, cache = tmp_path / "projects", tmp_path / "cache"
    path = _lines(root / "-p" / "s.jsonl", [{"type": "user", "message": {"content": "review this diff"}}])
    before = os.stat(path)
    _same_as_fresh(root, cache)
    time.sleep(0.05)  # past the file system's timestamp tick
    path.write_text(path.read_text().replace("review", "reVIEW"))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # the change time still moves
    assert os.stat(path).st_size == before.st_size
    _same_as_fresh(root, cache)
    assert "reVIEW this diff" in str(_state(root, cache))


def test_a_file_changed_in_the_last_seconds_is_not_cached(tmp_path, monkeypatch):
    root, cache = tmp_path / "projects", tmp_path / "cache"
    _history(root)
    time.sleep(1.2)
    s3 = root / "-proj-1" / "s3.jsonl"
    with open(s3, "a") as fh:
        fh.write("{}\n")
    monkeypatch.setattr(transcript_cache, "SETTLE_NS", 1_000_000_000)
    _same_as_fresh(root, cache)
    (file,) = cache.glob("*.msgpack")
    stored = file.read_bytes()
    assert b"s0.jsonl" in stored and b"s3.jsonl" not in stored  # s3 is read again next time
    assert transcript_cache.fingerprint(s3, "-proj-1") is None


@pytest.mark.parametrize("content", [b"", b"\x00garbage", b"\x81\xa4code\xa3old", pickle.dumps({"x": 1})])
def test_a_damaged_or_foreign_cache_file_is_no_cache(tmp_path, content):
    root, cache = tmp_path / "projects", tmp_path / "cache"
    _history(root)
    _same_as_fresh(root, cache)
    (file,) = cache.glob("*.msgpack")
    file.write_bytes(content)
    _same_as_fresh(root, cache)
    assert file.read_bytes() != content  # replaced by a good one


def test_results_of_other_reading_code_are_not_used(tmp_path, monkeypatch):
    root, cache = tmp_path / "projects", tmp_path / "cache"
    _history(root)
    fresh = _state(root, None)
    _state(root, cache)
    monkeypatch.setattr(tr, "MAX_LINE_BYTES", 40)  # another reader: every line is oversize now
    assert _state(root, cache) == _state(root, None) != fresh


def test_a_project_filter_keeps_the_other_projects_entries(tmp_path, monkeypatch):
    root, cache = tmp_path / "projects", tmp_path / "cache"
    _history(root)
    expected = _state(root, cache)
    assert read_all(root, project="-proj-1", cache=cache)[0]
    read = []
    monkeypatch.setattr(tr, "read_session", lambda *a, **k: read.append(a[0]))
    assert _state(root, cache) == expected and read == []


@needs_corpus
def test_the_real_corpus_reads_the_same_from_the_cache(tmp_path):
    cache = tmp_path / "cache"
    fresh = _state(TRANSCRIPTS, None)
    assert _state(TRANSCRIPTS, cache) == fresh
    assert _state(TRANSCRIPTS, cache) == fresh and list(cache.glob("*.msgpack"))


mutations = st.lists(st.tuples(st.sampled_from(["append", "rewrite", "add-sub", "drop-sub", "drop", "touch"]),
                               st.integers(0, 3)), max_size=6)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutations)
def test_any_sequence_of_changes_reads_as_fresh(tmp_path_factory, steps):
    tmp = tmp_path_factory.mktemp("seq")
    root, cache = tmp / "projects", tmp / "cache"
    _history(root)
    _same_as_fresh(root, cache)
    for i, (what, n) in enumerate(steps):
        main = root / f"-proj-{n % 2}" / f"s{n}.jsonl"
        sub = root / f"-proj-{n % 2}" / f"s{n}" / "subagents"
        if what == "append" and main.exists():
            with open(main, "a") as fh:
                fh.write(json.dumps({"type": "user", "message": {"content": f"step {i}"}}) + "\n")
        elif what == "rewrite" and main.exists():
            time.sleep(0.02)
            main.write_text(main.read_text().replace("fix", "FIX", 1).replace("FIX", "fix", i % 2))
        elif what == "add-sub":
            _lines(sub / f"agent-a{n}.jsonl", [{"type": "assistant", "agentId": f"a{n}",
                                                "message": {"id": f"y{i}", "usage": {"output_tokens": i}}}])
        elif what == "drop-sub":
            for f in sub.glob("*.jsonl"):
                f.unlink()
        elif what == "drop":
            main.unlink(missing_ok=True)
        elif what == "touch" and main.exists():
            os.utime(main)
        _same_as_fresh(root, cache)


def test_sessions_msgpack_cannot_hold_are_read_again_and_the_rest_cached(tmp_path, monkeypatch):
    root, cache = tmp_path / "projects", tmp_path / "cache"
    _history(root)
    _lines(root / "-odd" / "surrogate.jsonl", ['{"type": "user", "message": {"content": "lone \\ud83d surrogate"}}'])
    _lines(root / "-odd" / "huge.jsonl", [{"type": "assistant", "message": {"id": "h", "usage": {"output_tokens": 10**30}}}])
    first = _state(root, cache)
    assert _state(root, cache) == first == _state(root, None)
    read = []
    real = tr.read_session
    monkeypatch.setattr(tr, "read_session", lambda *a, **k: read.append(a[0].name) or real(*a, **k))
    assert _state(root, cache) == first
    assert sorted(read) == ["huge.jsonl", "surrogate.jsonl"]


def test_a_file_name_that_is_not_utf8_is_read_every_time(tmp_path):
    root, cache = tmp_path / "projects", tmp_path / "cache"
    _history(root)
    odd = os.fsdecode(b"s-\xff.jsonl")
    _lines(root / "-odd" / odd, [{"type": "user", "message": {"content": "odd name"}}])
    assert _state(root, cache) == _state(root, cache) == _state(root, None)
    assert b"s0.jsonl" in next(cache.glob("*.msgpack")).read_bytes()


def test_a_fifo_or_a_link_in_the_cache_folder_is_neither_read_nor_written_through(tmp_path):
    root, cache = tmp_path / "projects", tmp_path / "cache"
    _history(root)
    _state(root, cache)
    (file,) = cache.glob("*.msgpack")
    file.unlink()
    os.mkfifo(file)  # a read would block forever
    target = tmp_path / "elsewhere"
    target.write_text("keep me")
    (cache / f".{file.name}.{os.getpid()}.tmp").symlink_to(target)
    _same_as_fresh(root, cache)
    assert target.read_text() == "keep me" and file.is_file()


# --- every reader of the whole history shares the cache -----------------------------------------

def test_the_tuis_stoppable_read_uses_the_cache_and_still_stops(tmp_path, monkeypatch):
    from ctxtui.analytics.workspace_usage import read_sessions

    root, cache = tmp_path / "projects", tmp_path / "cache"
    _history(root)
    first = read_sessions(root, lambda: False, cache=cache)
    assert first is not None and _state(root, None)[0] == [asdict(s) | {"path": str(s.path)} for s in first[0]]
    read: list[Path] = []
    monkeypatch.setattr(tr, "read_session", lambda *a, **k: read.append(a[0]))
    again = read_sessions(root, lambda: False, cache=cache)
    assert read == [] and again is not None and again[0] == first[0] and vars(again[1]) == vars(first[1])
    _lines(root / "-proj-0" / "s9.jsonl", [{"type": "user", "message": {"content": "new"}}])
    asked = []
    assert read_sessions(root, lambda: asked.append(1) or True, cache=cache) is None  # stops at the file to read
    assert asked and read == []


def test_no_cache_in_the_environment_turns_the_shared_cache_off(monkeypatch):
    monkeypatch.delenv("CTXTUI_NO_CACHE", raising=False)
    folder = transcript_cache.default_folder()
    assert folder is not None and folder.name == "transcripts"
    monkeypatch.setenv("CTXTUI_NO_CACHE", "1")
    assert transcript_cache.default_folder() is None


def test_two_threads_saving_at_once_never_share_a_temporary_file(tmp_path, monkeypatch):
    """The TUI's usage and analytics readers may store at the same moment: one's temporary file
    must never be the other's (it would be unlinked or renamed half written)."""
    import threading

    file = tmp_path / "c" / "x.msgpack"
    sources: list[str] = []
    real = os.replace
    both = threading.Barrier(2)

    def replace(src, dst):
        sources.append(str(src))
        both.wait(timeout=10)  # both temporary files exist now
        real(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    threads = [threading.Thread(target=transcript_cache.save, args=(file, bytes([n]) * 1000)) for n in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(sources)) == 2
    assert file.read_bytes() in (b"\x01" * 1000, b"\x02" * 1000)
    assert [p.name for p in file.parent.iterdir()] == ["x.msgpack"]  # no temporary file left behind


def test_a_link_to_the_history_and_its_target_share_the_cache(tmp_path, monkeypatch):
    root, cache = tmp_path / "projects", tmp_path / "cache"
    _history(root)
    link = tmp_path / "link"
    link.symlink_to(root)
    _state(root, cache)
    read: list[Path] = []
    real = tr.read_session
    monkeypatch.setattr(tr, "read_session", lambda *a, **k: read.append(a[0]) or real(*a, **k))
    through_link = _state(link, cache)
    assert read == []  # every session came from what the other spelling stored
    assert through_link == _state(link, None)  # paths as this read names them
    read.clear()
    _state(root, cache)
    assert read == []  # and the link's run did not evict the target's entries


def test_a_cache_larger_than_its_bound_is_not_written(tmp_path, monkeypatch):
    file = tmp_path / "c" / "x.msgpack"
    transcript_cache.save(file, b"small")
    monkeypatch.setattr(transcript_cache, "MAX_CACHE_BYTES", 10)
    transcript_cache.save(file, b"far more than ten bytes")
    assert file.read_bytes() == b"small"
