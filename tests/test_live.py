"""The live gauge follows a session as Claude Code writes it: appended bytes only, in real time."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ctxtui.analytics.live import (
    LiveGauge,
    SessionGauge,
    TranscriptFollower,
    WindowPolicy,
    follow,
    newest_transcript,
    project_dir_name,
    project_transcripts,
    reserved_for_summary,
)

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpora" / "transcripts"
if not CORPUS.is_dir():
    CORPUS = Path("/work/shared/corpora/transcripts")
SPOTTER = CORPUS / "marot__spotter"


# ---------------------------------------------------------------- record builders

def user(text: str, sid: str = "S1") -> dict:
    return {"type": "user", "sessionId": sid, "version": "2.1.39", "message": {"role": "user", "content": text}}


def assistant(mid: str, prompt: int, out: int = 10, *, content: list | None = None, model: str = "claude-opus-4-6",
              sidechain: bool = False, sid: str = "S1") -> dict:
    usage = {"input_tokens": min(3, prompt), "cache_creation_input_tokens": prompt - min(3, prompt) - prompt // 2,
             "cache_read_input_tokens": prompt // 2, "output_tokens": out}
    return {"type": "assistant", "sessionId": sid, "isSidechain": sidechain, "version": "2.1.39",
            "message": {"id": mid, "model": model, "role": "assistant", "content": content or [], "usage": usage}}


def task_use(tid: str, persona: str) -> dict:
    return {"type": "tool_use", "id": tid, "name": "Agent", "input": {"subagent_type": persona, "prompt": "x"}}


def task_result(tid: str, total: int) -> dict:
    return {"type": "user", "message": {"role": "user", "content": [{"type": "tool_result", "tool_use_id": tid, "content": "ok"}]},
            "toolUseResult": {"status": "completed", "agentId": "a1", "totalTokens": total}}


def boundary(pre: int) -> dict:
    return {"type": "system", "subtype": "compact_boundary", "compactMetadata": {"trigger": "auto", "preTokens": pre}}


def summary() -> dict:
    return {"type": "user", "isCompactSummary": True, "message": {"role": "user", "content": "This session is being continued"}}


def line(rec: dict) -> bytes:
    return (json.dumps(rec) + "\n").encode()


def append(path: Path, data: bytes) -> None:
    with open(path, "ab") as fh:
        fh.write(data)


def gauge_of(path: Path) -> SessionGauge:
    f, g = TranscriptFollower(path), SessionGauge(path)
    for rec in f.read()[0]:
        g.feed(rec)
    return g


# ---------------------------------------------------------------- where Claude Code writes

def test_project_folder_name_is_claude_codes():
    assert project_dir_name("/home/marco/projects/spotter") == "-home-marco-projects-spotter"
    assert project_dir_name("e:\\Workspace\\src\\x.y") == "e--Workspace-src-x-y"
    # non-BMP characters are two UTF-16 code units, so two dashes (values from Claude Code's own function, run in node)
    assert project_dir_name("/tmp/é😀") == "-tmp----"
    long = "/x/" + "a" * 250
    assert project_dir_name(long) == "-x-" + "a" * 197 + "-bjrb96"


def test_corpus_cwd_maps_to_its_folder_name(tmp_path):
    rec = json.loads((SPOTTER / "short.jsonl").read_text().splitlines()[1])
    ws = tmp_path / "ws"
    ws.mkdir()
    folder = project_transcripts(tmp_path / "projects", ws)
    assert folder.name == project_dir_name(str(ws.resolve()))
    assert project_dir_name(rec["cwd"]) == "-" + rec["cwd"].strip("/").replace("/", "-")


def test_newest_transcript_ignores_subagent_folders_and_other_files(tmp_path):
    (tmp_path / "a.jsonl").write_text("{}\n")
    time.sleep(0.01)
    (tmp_path / "b.jsonl").write_text("{}\n")
    (tmp_path / "b" / "subagents").mkdir(parents=True)
    time.sleep(0.01)
    (tmp_path / "b" / "subagents" / "agent-x.jsonl").write_text("{}\n")
    (tmp_path / "notes.txt").write_text("x")
    assert newest_transcript(tmp_path) == tmp_path / "b.jsonl"
    assert newest_transcript(tmp_path / "missing") is None


# ---------------------------------------------------------------- reading appended bytes

def test_partial_last_line_waits_for_its_newline(tmp_path):
    p = tmp_path / "s.jsonl"
    data = line(user("hello"))
    p.write_bytes(data[:10])
    f = TranscriptFollower(p)
    assert f.read() == ([], False)
    append(p, data[10:-1])
    assert f.read() == ([], False)
    append(p, b"\n")
    recs, restarted = f.read()
    assert [r["message"]["content"] for r in recs] == ["hello"] and not restarted


def test_only_appended_bytes_are_read(tmp_path):
    p = tmp_path / "s.jsonl"
    f = TranscriptFollower(p)
    total = 0
    for i in range(50):
        data = line(assistant(f"m{i}", 1000 + i))
        append(p, data)
        total += len(data)
        assert len(f.read()[0]) == 1
    assert f.counters.bytes_read == total == p.stat().st_size


def test_truncated_file_restarts(tmp_path):
    p = tmp_path / "s.jsonl"
    p.write_bytes(line(user("one")) + line(user("two")))
    f = TranscriptFollower(p)
    assert len(f.read()[0]) == 2
    p.write_bytes(line(user("three")))
    recs, restarted = f.read()
    assert restarted and [r["message"]["content"] for r in recs] == ["three"]


def test_replaced_file_restarts_even_when_longer(tmp_path):
    p = tmp_path / "s.jsonl"
    p.write_bytes(line(user("one")))
    f = TranscriptFollower(p)
    f.read()
    tmp = tmp_path / "new"
    tmp.write_bytes(line(user("uno")) + line(user("dos")))
    os.replace(tmp, p)  # another inode
    recs, restarted = f.read()
    assert restarted and [r["message"]["content"] for r in recs] == ["uno", "dos"]


def test_rewritten_in_place_and_grown_restarts(tmp_path):
    p = tmp_path / "s.jsonl"
    p.write_bytes(line(user("aaaa")))
    f = TranscriptFollower(p)
    f.read()
    with open(p, "r+b") as fh:  # same inode, different bytes before the offset, and longer
        fh.write(line(user("bbbb")) + line(user("cccc")))
    recs, restarted = f.read()
    assert restarted and [r["message"]["content"] for r in recs] == ["bbbb", "cccc"]


def test_bad_lines_are_skipped_and_counted(tmp_path):
    p = tmp_path / "s.jsonl"
    deep = b"[" * 200_000 + b"]" * 200_000
    p.write_bytes(b"not json\n" + deep + b"\n[1,2]\n" + b"\xef\xbb\xbf" + line(user("bom")) + b"\n" + line(user("ok")))
    f = TranscriptFollower(p)
    recs, _ = f.read()
    assert [r["message"]["content"] for r in recs] == ["bom", "ok"]
    assert f.counters.malformed == 3


def test_oversize_line_is_skipped_without_keeping_it(tmp_path):
    p = tmp_path / "s.jsonl"
    f = TranscriptFollower(p, max_line=1000)
    p.write_bytes(b'{"x":"' + b"y" * 600)
    f.read()
    append(p, b"y" * 600)  # now past the limit, still no newline
    assert f.read() == ([], False) and len(f._tail) == 0
    append(p, b'"}\n' + line(user("after")))
    recs, _ = f.read()
    assert [r["message"]["content"] for r in recs] == ["after"] and f.counters.oversize == 1


def test_deleted_file_is_reported_missing(tmp_path):
    p = tmp_path / "s.jsonl"
    p.write_bytes(line(user("x")))
    f = TranscriptFollower(p)
    f.read()
    p.unlink()
    assert f.read() == ([], False) and f.missing


# ---------------------------------------------------------------- the gauge model

def test_context_is_the_last_main_request_and_startup_the_first(tmp_path):
    p = tmp_path / "s.jsonl"
    recs = [user("hi"), assistant("m1", 25_000), assistant("m1", 25_000), user("more"),
            assistant("m2", 31_000), assistant("side", 90_000, sidechain=True),
            assistant("err", 0, model="<synthetic>")]
    p.write_bytes(b"".join(line(r) for r in recs))
    s = gauge_of(p).snapshot(WindowPolicy(), predicted=24_000)
    assert (s.context_tokens, s.startup_tokens, s.requests, s.turns) == (31_000, 25_000, 2, 2)
    assert s.predicted_startup_tokens == 24_000 and s.model == "claude-opus-4-6"
    assert s.growth_per_turn == 3_000 and s.last_turn_growth == 6_000


def test_compaction_boundary_and_summary_count_once(tmp_path):
    p = tmp_path / "s.jsonl"
    recs = [user("a"), assistant("m1", 160_000), boundary(167_094), summary(), assistant("m2", 20_000),
            summary(), assistant("m3", 18_000)]  # the second summary has no boundary (older layout)
    p.write_bytes(b"".join(line(r) for r in recs))
    s = gauge_of(p).snapshot(WindowPolicy(), None)
    assert s.compactions == 2 and s.context_tokens == 18_000


def test_subagents_are_counted_per_persona(tmp_path):
    p = tmp_path / "s.jsonl"
    recs = [user("go"), assistant("m1", 30_000, content=[task_use("t1", "code-reviewer"), task_use("t2", "Plan")]),
            task_result("t1", 12_345), assistant("m2", 31_000, content=[task_use("t3", "code-reviewer")]),
            task_result("t3", 1_000)]
    p.write_bytes(b"".join(line(r) for r in recs))
    subs = {s.persona: s for s in gauge_of(p).snapshot(WindowPolicy(), None).subagents}
    assert (subs["code-reviewer"].runs, subs["code-reviewer"].tokens, subs["code-reviewer"].running) == (2, 13_345, 0)
    assert (subs["Plan"].runs, subs["Plan"].running) == (1, 1)


def _corpus_facts(path: Path) -> dict:
    """An independent, whole-file reading of the facts the gauge must match."""
    last = first = None
    boundaries, totals = 0, {}
    personas = {}
    for raw in path.read_text().splitlines():
        r = json.loads(raw)
        m = r.get("message") if isinstance(r.get("message"), dict) else {}
        if r.get("type") == "system" and r.get("subtype") == "compact_boundary":
            boundaries += 1
        if r.get("type") == "assistant" and not r.get("isSidechain") and m.get("usage"):
            u = m["usage"]
            size = u["input_tokens"] + u["cache_creation_input_tokens"] + u["cache_read_input_tokens"]
            if size:
                last, first = size, first or size
            for b in m.get("content") or []:
                if b.get("type") == "tool_use" and b.get("name") in ("Task", "Agent"):
                    personas[b["id"]] = b["input"]["subagent_type"]
        if isinstance(r.get("toolUseResult"), dict) and "totalTokens" in r["toolUseResult"]:
            for b in m.get("content") or []:
                if isinstance(b, dict) and b.get("tool_use_id") in personas:
                    p = personas[b["tool_use_id"]]
                    totals[p] = totals.get(p, 0) + r["toolUseResult"]["totalTokens"]
    return {"last": last, "first": first, "boundaries": boundaries, "totals": totals}


def test_turns_are_the_prompts_the_batch_reader_finds():
    from ctxtui.analytics.transcripts import ReadStats, read_session

    for path in sorted(SPOTTER.glob("*.jsonl")):
        assert gauge_of(path).turns == len(read_session(path, ReadStats()).prompts), path.name


@pytest.mark.parametrize("name", ["short.jsonl", "subagent.jsonl", "258c7280-ae70-4798-800f-63464d01a85d.jsonl"])
def test_real_transcripts_read_as_a_whole_file_says(name):
    path = SPOTTER / name
    if not path.is_file():
        pytest.skip("shared corpus not available")
    facts = _corpus_facts(path)
    s = gauge_of(path).snapshot(WindowPolicy(), None)
    assert (s.context_tokens, s.startup_tokens, s.compactions) == (facts["last"], facts["first"], facts["boundaries"])
    assert {x.persona: x.tokens for x in s.subagents} == facts["totals"]
    assert s.window == 200_000 and s.autocompact_at == 167_000


def test_real_compaction_happened_at_claude_codes_autocompact_point():
    path = SPOTTER / "258c7280-ae70-4798-800f-63464d01a85d.jsonl"
    if not path.is_file():
        pytest.skip("shared corpus not available")
    s = gauge_of(path).snapshot(WindowPolicy(), None)
    # the transcript records the size at which 2.1.39 compacted: just past our predicted point
    assert s.autocompact_at <= s.last_compaction_pre_tokens < s.autocompact_at + 2_000


# ---------------------------------------------------------------- window and autocompact

def test_window_is_200k_unless_the_session_or_user_says_1m():
    p = WindowPolicy()
    assert p.window_for("claude-sonnet-4-5", 150_000) == 200_000
    assert p.window_for("claude-sonnet-4-5", 250_000) == 1_000_000
    assert WindowPolicy(model_hint="sonnet[1m]").window_for("claude-sonnet-4-5", 1) == 1_000_000
    assert WindowPolicy(window=500_000).window_for("x", 900_000) == 500_000


def test_autocompact_point_follows_the_version():
    p = WindowPolicy()
    assert p.autocompact_at(200_000, "claude-opus-4-6", "2.1.112") == 167_000
    assert p.autocompact_at(200_000, "claude-opus-4-6", "2.1.21") == 167_000
    assert p.autocompact_at(200_000, "claude-sonnet-4-5", "2.1.20") == 155_000
    assert p.autocompact_at(200_000, "claude-3-5-sonnet", "1.0.100") == 200_000 - 8_192 - 13_000
    assert p.autocompact_at(1_000_000, "claude-sonnet-4-6", "2.1.112") == 967_000
    assert reserved_for_summary("claude-opus-4-6", "") == 20_000  # unknown version: the newest rule


def test_autocompact_environment_overrides():
    env = WindowPolicy.from_env
    assert env({"CLAUDE_AUTOCOMPACT_PCT_OVERRIDE": "50"}).autocompact_at(200_000, "m", "2.1.112") == 90_000
    assert env({"CLAUDE_CODE_AUTO_COMPACT_WINDOW": "150000"}).autocompact_at(1_000_000, "m", "2.1.112") == 117_000
    assert env({"CLAUDE_CODE_AUTO_COMPACT_WINDOW": "5"}).autocompact_at(200_000, "m", "2.1.112") == 67_000
    assert env({"DISABLE_AUTO_COMPACT": "1"}).autocompact_at(200_000, "m", "2.1.112") is None
    assert env({"CLAUDE_CODE_MAX_OUTPUT_TOKENS": "8000"}).autocompact_at(200_000, "m", "2.1.112") == 179_000
    for junk in ("junk", "inf", "-5", "nan", "0"):
        assert env({"CLAUDE_AUTOCOMPACT_PCT_OVERRIDE": junk, "CLAUDE_CODE_MAX_OUTPUT_TOKENS": junk,
                    "CLAUDE_CODE_AUTO_COMPACT_WINDOW": junk}).autocompact_at(200_000, "m", "2.1.112") == 167_000


# ---------------------------------------------------------------- following in real time

class Follower:
    """Runs ``follow`` in a thread and lets a test wait for a snapshot that satisfies a condition."""

    def __init__(self, live: LiveGauge) -> None:
        self.q: queue.Queue = queue.Queue()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(live,), daemon=True)
        self.thread.start()

    def _run(self, live: LiveGauge) -> None:
        for snap in follow(live, self.stop):
            self.q.put(snap)

    def wait(self, cond: Callable, timeout: float = 5.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                snap = self.q.get(timeout=max(0.01, end - time.monotonic()))
            except queue.Empty:
                break
            if cond(snap):
                return snap
        raise AssertionError("the gauge did not reach the expected state in time")

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        assert not self.thread.is_alive()


@pytest.fixture
def project(tmp_path):
    folder = tmp_path / "projects" / "-ws"
    folder.mkdir(parents=True)
    return folder


def test_follows_appends_partial_lines_compaction_new_session_and_truncation(project):
    first = project / "s1.jsonl"
    first.write_bytes(line(user("hi", "S1")) + line(assistant("m1", 20_000, sid="S1")))
    f = Follower(LiveGauge(project))
    try:
        f.wait(lambda s: s is not None and s.context_tokens == 20_000)
        data = line(assistant("m2", 24_000, sid="S1"))
        append(first, data[:25])
        time.sleep(0.3)
        assert f.q.empty()  # half a line changes nothing
        append(first, data[25:])
        f.wait(lambda s: s.context_tokens == 24_000 and s.requests == 2)
        append(first, line(boundary(167_500)) + line(summary()) + line(assistant("m3", 15_000, sid="S1")))
        f.wait(lambda s: s.compactions == 1 and s.context_tokens == 15_000 and s.last_compaction_pre_tokens == 167_500)
        second = project / "s2.jsonl"
        second.write_bytes(line(user("new", "S2")) + line(assistant("n1", 30_000, sid="S2")))
        f.wait(lambda s: s.session == "S2" and s.context_tokens == 30_000 and s.compactions == 0)
        second.write_bytes(line(assistant("n9", 5_000, sid="S2")))  # truncated and rewritten
        f.wait(lambda s: s.session == "S2" and s.context_tokens == 5_000 and s.requests == 1)
        second.unlink()  # deleted: back to the newest remaining session
        f.wait(lambda s: s is not None and s.session == "S1" and s.context_tokens == 15_000)
    finally:
        f.close()


def test_waits_for_the_project_folder_to_appear(tmp_path):
    folder = tmp_path / "claude" / "projects" / "-later"
    f = Follower(LiveGauge(folder))
    try:
        assert f.wait(lambda s: s is None) is None
        (tmp_path / "claude").mkdir()  # Claude Code's first run creates each level in turn
        time.sleep(0.2)
        (tmp_path / "claude" / "projects").mkdir()
        time.sleep(0.2)
        folder.mkdir()
        (folder / "s.jsonl").write_bytes(line(assistant("m1", 42_000)))
        f.wait(lambda s: s is not None and s.context_tokens == 42_000, timeout=3)  # well before the heartbeat
    finally:
        f.close()


def test_a_session_seen_before_is_not_read_again(project):
    a, b = project / "a.jsonl", project / "b.jsonl"
    a.write_bytes(line(assistant("m1", 10_000)) * 20)
    live = LiveGauge(project)
    live.refresh(None)
    b.write_bytes(line(assistant("n1", 11_000)))
    live.refresh({b})
    append(a, line(assistant("m2", 12_000)))
    snap = live.refresh({a})
    follower = live._sessions[a][0]
    assert snap.context_tokens == 12_000 and follower.counters.bytes_read == a.stat().st_size


def test_prediction_is_called_once_per_session(project):
    (project / "a.jsonl").write_bytes(line(assistant("m1", 10_000)))
    calls = []
    live = LiveGauge(project, predict=lambda: calls.append(1) or 9_000)
    assert live.refresh(None).predicted_startup_tokens == 9_000
    append(project / "a.jsonl", line(assistant("m2", 11_000)))
    live.refresh(None)
    assert len(calls) == 1


# ---------------------------------------------------------------- the command

def _env(home: Path) -> dict:
    env = dict(os.environ)
    env.pop("CLAUDE_AUTOCOMPACT_PCT_OVERRIDE", None)
    env["CTXTUI_CONFIG_DIR"] = str(home / "cfg")
    env["XDG_CONFIG_HOME"] = str(home / "cfg")
    return env


def _setup(tmp_path: Path) -> tuple[Path, Path, Path]:
    ws = tmp_path / "ws"
    ws.mkdir()
    home = tmp_path / "home"
    folder = home / "projects" / project_dir_name(str(ws.resolve()))
    folder.mkdir(parents=True)
    return ws, home, folder


def test_watch_once_json_has_the_documented_keys(tmp_path):
    ws, home, folder = _setup(tmp_path)
    (folder / "abc.jsonl").write_bytes(line(user("x", "abc")) + line(assistant("m1", 26_000, sid="abc")))
    r = subprocess.run([sys.executable, "-m", "ctxtui.cli.watch", "-w", str(ws), "--claude-home", str(home),
                        "--once", "--json", "--no-predict"], capture_output=True, text=True, timeout=60, env=_env(home))
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert {k: data[k] for k in ("session", "context_tokens", "window", "turns", "compactions")} == {
        "session": "abc", "context_tokens": 26_000, "window": 200_000, "turns": 1, "compactions": 0}


def test_watch_refuses_a_missing_workspace_in_one_line(tmp_path):
    r = subprocess.run([sys.executable, "-m", "ctxtui.cli.watch", "-w", str(tmp_path / "nope"), "--once"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr


def test_watch_json_streams_one_line_per_update_and_ctrl_c_exits_0(tmp_path):
    ws, home, folder = _setup(tmp_path)
    log = folder / "s.jsonl"
    log.write_bytes(line(assistant("m1", 20_000)))
    proc = subprocess.Popen([sys.executable, "-m", "ctxtui.cli.watch", "-w", str(ws), "--claude-home", str(home),
                             "--json", "--no-predict"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=_env(home))
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout], daemon=True).start()
    try:
        assert json.loads(lines.get(timeout=30))["context_tokens"] == 20_000
        for i, size in enumerate((21_000, 22_500, 30_000)):
            append(log, line(assistant(f"m{i + 2}", size)))
            assert json.loads(lines.get(timeout=15))["context_tokens"] == size
    finally:
        proc.send_signal(signal.SIGINT)
        rc = proc.wait(10)
    assert rc == 0 and "Traceback" not in proc.stderr.read()


def test_register_adds_watch_to_a_parser_that_already_has_shared_options(tmp_path):
    import argparse

    from ctxtui.cli.watch import register

    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    p = register(sub)
    p.add_argument("--workspace", "-w", type=Path)  # a face adding its common options again must not clash
    args = parser.parse_args(["watch", "--json", "--once", "--projects", str(tmp_path), "-w", str(tmp_path)])
    assert (args.command, args.json, args.once, args.projects, args.workspace) == ("watch", True, True, tmp_path, tmp_path)


def test_watch_and_live_never_import_textual():
    code = ("import sys, ctxtui.cli.watch, ctxtui.analytics.live\n"
            "from ctxtui.cli.watch import main\n"
            "bad = [m for m in sys.modules if m == 'textual' or m.startswith('textual.')]\n"
            "assert not bad, bad\n"
            "assert 'ctxtui.core.workspace' not in sys.modules  # the prediction is imported when it runs\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr


def test_a_fifo_under_a_transcript_name_never_blocks(project):
    (project / "real.jsonl").write_bytes(line(assistant("m1", 10_000)))
    time.sleep(0.01)
    os.mkfifo(project / "trap.jsonl")
    live = LiveGauge(project)
    assert live.refresh(None).context_tokens == 10_000
    snap = live.refresh({project / "trap.jsonl"})  # reported as written: still skipped, not opened blocking
    assert (live.current.context_tokens, snap) == (10_000, None)


def test_an_unreadable_newest_file_falls_back_to_the_next(project):
    (project / "old.jsonl").write_bytes(line(assistant("m1", 10_000)))
    time.sleep(0.01)
    (project / "new.jsonl").mkdir()  # a folder with a transcript's name
    assert LiveGauge(project).refresh(None).context_tokens == 10_000


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(
        ["type", "subtype", "message", "usage", "content", "id", "name", "input", "subagent_type", "tool_use_id",
         "toolUseResult", "totalTokens", "isSidechain", "isCompactSummary", "compactMetadata", "preTokens",
         "input_tokens", "model", "sessionId", "version", "text", "isMeta"]), inner, max_size=6),
    max_leaves=30)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.dictionaries(st.sampled_from(["type", "subtype", "message", "isSidechain", "toolUseResult",
                                                  "isCompactSummary", "compactMetadata", "sessionId", "version"]),
                                json_values | st.sampled_from(["user", "assistant", "system", "compact_boundary"])),
                max_size=8))
def test_hostile_records_never_raise(records):
    g = SessionGauge(Path("x.jsonl"))
    for rec in records:
        g.feed(rec)
    snap = g.snapshot(WindowPolicy(), None)
    json.dumps(snap.to_json())
    assert snap.context_tokens >= 0 and snap.compactions >= 0


def test_claude_config_dir_is_followed_unless_a_home_was_given(tmp_path, monkeypatch):
    from ctxtui.analytics.live import session_folder
    from ctxtui.core.config import Settings

    ws = tmp_path / "ws"
    ws.mkdir()
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "cc"))
    name = project_dir_name(str(ws.resolve()))
    assert session_folder(Settings(workspace=ws)) == tmp_path / "cc" / "projects" / name
    assert session_folder(Settings(workspace=ws, claude_home=tmp_path / "h")) == tmp_path / "h" / "projects" / name


def test_a_running_subagent_shows_its_tokens_from_progress_records(tmp_path):
    p = tmp_path / "s.jsonl"
    progress = {"type": "progress", "parentToolUseID": "t1", "data": {"type": "agent_progress", "message": {
        "type": "assistant", "message": {"usage": {"input_tokens": 6, "cache_creation_input_tokens": 994,
                                                   "cache_read_input_tokens": 17_000, "output_tokens": 5}}}}}
    p.write_bytes(line(user("go")) + line(assistant("m1", 30_000, content=[task_use("t1", "Explore")])) + line(progress))
    g = gauge_of(p)
    (run,) = g.snapshot(WindowPolicy(), None).subagents
    assert (run.persona, run.running, run.running_tokens, run.tokens) == ("Explore", 1, 18_005, 0)
    g.feed(task_result("t1", 21_000))
    (run,) = g.snapshot(WindowPolicy(), None).subagents
    assert (run.running, run.running_tokens, run.tokens) == (0, 0, 21_000)
