"""Reading Claude Code transcripts: the real corpus and generated edge cases."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from conftest import TRANSCRIPTS
from ctxtui.analytics import transcripts as tr
from ctxtui.analytics.transcripts import ReadStats, read_all, read_session

needs_corpus = pytest.mark.skipif(not TRANSCRIPTS.is_dir(), reason="shared transcripts not present")


@needs_corpus
def test_real_corpus_reads_every_file_without_errors():
    sessions, stats = read_all(TRANSCRIPTS)
    assert stats.files == 4 and stats.malformed == 0
    assert stats.skipped_compaction == 1 and stats.subagent_files == 1
    by_id = {s.id[:8]: s for s in sessions}
    assert by_id["258c7280"].version == "2.1.39"


@needs_corpus
def test_task_call_is_linked_to_its_subagent_file():
    s = read_session(TRANSCRIPTS / "marot__spotter" / "258c7280-ae70-4798-800f-63464d01a85d.jsonl", ReadStats())
    (inv,) = s.invocations
    assert inv.persona == "claude-code-guide" and inv.agent_id == "a881341"
    assert inv.tokens == 43179 and inv.response.startswith("Based on the official Claude Code hooks")
    assert inv.trigger == "Implement spotter-gqc"  # task notifications are not prompts


@needs_corpus
def test_usage_is_deduplicated_by_message_and_request_id():
    path = TRANSCRIPTS / "marot__spotter" / "subagent.jsonl"
    s = read_session(path, ReadStats())
    seen, total = set(), 0
    for line in path.read_text().splitlines():
        rec = json.loads(line)
        msg = rec.get("message") or {}
        if rec.get("type") == "assistant" and not rec.get("isSidechain") and "usage" in msg:
            key = (msg.get("id"), rec.get("requestId"))
            if key not in seen:
                seen.add(key)
                total += msg["usage"].get("output_tokens", 0)
    assert s.usage.output == total
    assert s.invocations[0].persona == "Plan"
    assert s.invocations[0].trigger.startswith("/handgemacht:create-beads websearch")
    assert s.first_prompt_tokens > 10_000


@needs_corpus
def test_old_inline_sidechain_layout_with_pretty_json():
    (s,) = [x for x in read_all(TRANSCRIPTS / "daaain__claude-code-log")[0]]
    (inv,) = s.invocations
    assert inv.persona == "general-purpose" and inv.agent_id == "e1c84ba5"
    assert inv.response.startswith("Perfect!")
    assert s.cwd.startswith("e:\\")


def write_lines(path: Path, lines: list) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n")
    return path


def task_call(tid: str, persona: str, prompt: str = "do it", tool: str = "Task") -> dict:
    return {"type": "assistant", "requestId": "r-" + tid, "timestamp": "2026-11-01T10:00:00Z",
            "message": {"id": "m-" + tid, "usage": {"input_tokens": 5, "cache_read_input_tokens": 100, "output_tokens": 3},
                        "content": [{"type": "tool_use", "id": tid, "name": tool,
                                     "input": {"subagent_type": persona, "description": "x", "prompt": prompt}}]}}


def test_broken_huge_and_incomplete_lines_are_skipped_and_counted(tmp_path, monkeypatch):
    monkeypatch.setattr(tr, "MAX_LINE_BYTES", 1000)
    path = write_lines(tmp_path / "p" / "s1.jsonl", [
        {"type": "user", "message": {"content": "review my code please"}},
        '{"type": "assistant", "message": ',          # truncated
        "[1, 2, 3]",                                  # not an object
        '{"type": "user", "message": {"content": "' + "x" * 5000 + '"}}',  # oversize
        {"type": "assistant"},                        # no message
        {"type": "assistant", "message": {"content": "not a list", "usage": "nope"}},
        {"type": "user", "message": {"content": [{"type": "tool_result"}]}},  # result with no id
        {"type": "summary", "summary": "whatever"},
        task_call("t1", "code-reviewer"),
        {"type": "assistant", "message": {"content": [{"type": "tool_use", "name": "Agent"}]}},  # no input
        "",
    ])
    stats = ReadStats()
    s = read_session(path, stats)
    assert (stats.malformed, stats.oversize) == (2, 1)
    assert [i.persona for i in s.invocations] == ["code-reviewer", "general-purpose"]
    assert s.invocations[0].trigger == "review my code please"


def test_agent_tool_name_and_subagent_file_link_through_progress(tmp_path):
    main = write_lines(tmp_path / "proj" / "sess.jsonl", [
        {"type": "user", "message": {"content": "audit security"}},
        task_call("t9", "security-auditor", tool="Agent"),
        {"type": "progress", "parentToolUseID": "t9", "data": {"agentId": "abc123"}},
        {"type": "user", "message": {"content": [{"type": "tool_result", "tool_use_id": "t9", "content": []}]}},
    ])
    write_lines(tmp_path / "proj" / "sess" / "subagents" / "agent-abc123.jsonl", [
        {"type": "assistant", "agentId": "abc123", "requestId": "q", "message": {"id": "a", "usage": {"input_tokens": 7, "output_tokens": 3}, "content": [{"type": "text", "text": "partial"}]}},
        {"type": "assistant", "agentId": "abc123", "requestId": "q", "message": {"id": "a", "usage": {"input_tokens": 7, "output_tokens": 3}, "content": [{"type": "text", "text": "Found 2 issues."}]}},
    ])
    write_lines(tmp_path / "proj" / "sess" / "subagents" / "agent-acompact-1.jsonl", [{"type": "assistant"}])
    stats = ReadStats()
    s = read_session(main, stats)
    (inv,) = s.invocations
    assert inv.agent_id == "abc123" and inv.tokens == 10 and inv.response == "Found 2 issues."
    assert stats.skipped_compaction == 1


def test_project_and_since_filters(tmp_path):
    write_lines(tmp_path / "-home-a" / "1.jsonl", [{"type": "user", "timestamp": "2026-01-01T00:00:00Z", "cwd": "/home/a", "message": {"content": "old"}}])
    write_lines(tmp_path / "-home-b" / "2.jsonl", [{"type": "user", "timestamp": "2026-11-01T00:00:00Z", "cwd": "/home/b", "message": {"content": "new"}}])
    assert len(read_all(tmp_path)[0]) == 2
    assert [s.cwd for s in read_all(tmp_path, project="-home-b")[0]] == ["/home/b"]
    from datetime import datetime, timezone

    assert [s.cwd for s in read_all(tmp_path, since=datetime(2026, 6, 1, tzinfo=timezone.utc))[0]] == ["/home/b"]


def test_usage_without_ids_is_counted_not_merged(tmp_path):
    path = write_lines(tmp_path / "p" / "s.jsonl", [
        {"type": "assistant", "message": {"usage": {"output_tokens": 5}, "content": []}},
        {"type": "assistant", "message": {"usage": {"output_tokens": 7}, "content": []}},
        {"type": "assistant", "requestId": "r", "message": {"id": "x", "usage": {"output_tokens": 11}, "content": []}},
        {"type": "assistant", "requestId": "r", "message": {"id": "x", "usage": {"output_tokens": 11}, "content": []}},
    ])
    assert read_session(path, ReadStats()).usage.output == 5 + 7 + 11


def test_bom_first_line_and_nested_files_are_handled(tmp_path):
    proj = tmp_path / "-home-x"
    proj.mkdir()
    (proj / "s.jsonl").write_bytes(b"\xef\xbb\xbf" + json.dumps({"type": "user", "message": {"content": "hi there"}}).encode() + b"\r\n")
    write_lines(proj / "s" / "tool-results" / "x.jsonl", [{"type": "user", "message": {"content": "not a session"}}])
    sessions, stats = read_all(tmp_path)
    assert [s.prompts[0][1] for s in sessions] == ["hi there"] and stats.malformed == 0


from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(
        ["type", "message", "content", "usage", "id", "name", "input", "tool_use_id", "text", "subagent_type",
         "prompt", "agentId", "toolUseResult", "isSidechain", "timestamp", "requestId", "data", "parentToolUseID"]),
        inner, max_size=6),
    max_leaves=30,
)
record_types = st.sampled_from(["user", "assistant", "progress", "summary", "system"])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(record_types, json_values, json_values), max_size=8))
def test_arbitrary_record_shapes_never_raise(tmp_path, records):
    lines = [{"type": t, "message": m, "toolUseResult": r, "data": r, "parentToolUseID": "t"} for t, m, r in records]
    path = write_lines(tmp_path / "fuzz" / "s.jsonl", lines)
    write_lines(tmp_path / "fuzz" / "s" / "subagents" / "agent-t.jsonl", lines)
    s = read_session(path, ReadStats())
    from ctxtui.analytics.usage import analyze

    assert analyze([s], {"x"}, {"x"}).sessions == 1


# --- the fast (msgspec, lazy) path reads exactly what the standard library path reads ---------

def _everything(root: Path, **kw) -> tuple[list[dict], dict, dict]:
    from dataclasses import asdict

    from ctxtui.analytics.usage import analyze

    sessions, stats = read_all(root, **kw)
    return ([asdict(s) | {"path": str(s.path)} for s in sessions], vars(stats),
            analyze(sessions, {"code-reviewer", "nobody"}, {"debugger"}, stats).to_json())


@needs_corpus
def test_fast_decoding_matches_the_stdlib_path_on_the_real_corpus():
    fast = _everything(TRANSCRIPTS)
    assert fast == _everything(TRANSCRIPTS, fast=False)
    assert fast[0] and fast[1]["lines"] > 1000


ODD_LINES = [
    '{"type": "user", "message": {"content": "nan usage"}, "isMeta": NaN}',
    '{"type": "assistant", "message": {"id": "n", "usage": {"input_tokens": 1e400, "output_tokens": 2}, "content": []}}',
    '{"type": "user", "message": {"content": "lone \\ud83d surrogate"}}',
    '{"type": "user", "message": {"content": "dup"}, "message": {"content": "second wins"}}',
    '{"type": "user", "message": {"content": "one"}} {"type": "user", "message": {"content": "two"}}',
    '{"type": "user", "message":\n{"content": "pretty, across lines"}}',
    '\ufeff{"type": "user", "message": {"content": "bom inside the file"}}',
    '{"type": "user", "message": {"content": [1, "x", {"type": "text", "text": "mixed blocks"}]}}',
    '{"type": "user", "message": {"content": null}}',
    '{"type": "assistant", "message": "not an object"}',
    '{"type": "progress", "parentToolUseID": "t1", "data": ["not", "an", "object"]}',
    '{"type": "progress", "parentToolUseID": "t1", "data": {"agentId": {"nested": 1e400}}}',
    '   ',
    '"just a string"',
]


def test_odd_json_reads_the_same_on_both_paths(tmp_path):
    lines = [{"type": "user", "message": {"content": "ask the reviewer"}}, task_call("t1", "code-reviewer")]
    lines += ODD_LINES
    lines.append({"type": "user", "toolUseResult": "Error: a string result", "message": {"content": [
        {"type": "tool_result", "tool_use_id": "t1", "content": [{"type": "text", "text": "done \udc80"}]}]}})
    path = write_lines(tmp_path / "p" / "s.jsonl", [x if isinstance(x, str) else json.dumps(x) for x in lines])
    with open(path, "ab") as fh:
        fh.write(b'{"type": "user", "message": {"content": "invalid utf-8 \xff here"}}\n')
    assert _everything(tmp_path) == _everything(tmp_path, fast=False)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(record_types, json_values, json_values), max_size=8))
def test_arbitrary_record_shapes_read_the_same_on_both_paths(tmp_path, records):
    lines = [{"type": t, "message": m, "toolUseResult": r, "data": r, "parentToolUseID": "t", "agentId": "t"}
             for t, m, r in records]
    path = write_lines(tmp_path / "same" / "s.jsonl", [task_call("t", "x"), *lines])
    write_lines(tmp_path / "same" / "s" / "subagents" / "agent-t.jsonl", lines)
    assert _everything(path.parent) == _everything(path.parent, fast=False)


def test_a_line_nested_2000_deep_is_skipped_not_a_recursion_error(tmp_path):
    deep = '{"type": "user", "message": {"content": ' + "[" * 2000 + "]" * 2000 + "}}"
    deep_progress = '{"type": "progress", "parentToolUseID": "t1", "data": ' + '{"a": ' * 2000 + "1" + "}" * 2000 + "}"
    results = '{"type": "user", "message": {"content": [' + '{"type": "tool_result", "tool_use_id": "t1", "content": [' * 60 \
        + '{"type": "text", "text": "deep"}' + "]}" * 60 + "]}}"
    path = write_lines(tmp_path / "p" / "s.jsonl", [
        {"type": "user", "message": {"content": "first"}}, task_call("t1", "debugger"), deep, deep_progress, results,
        {"type": "user", "message": {"content": "still read"}},
    ])
    for fast in (True, False):
        stats = ReadStats()
        s = read_session(path, stats, fast=fast)
        assert [p for _, p in s.prompts] == ["first", "still read"]
        assert stats.malformed == 2 and s.invocations[0].response == ""


def test_lines_across_read_boundaries_and_oversize_lines(tmp_path, monkeypatch):
    long_prompt = "y" * 3000
    path = write_lines(tmp_path / "p" / "s.jsonl", [
        {"type": "user", "message": {"content": "short"}},
        {"type": "user", "message": {"content": long_prompt}},   # over the cap below
        {"type": "user", "message": {"content": "after " * 30}},
    ])
    with open(path, "ab") as fh:  # a last line with no newline
        fh.write(json.dumps({"type": "user", "message": {"content": "no newline"}}).encode())
    monkeypatch.setattr(tr, "MAX_LINE_BYTES", 1000)
    expected = None
    for size in (7, 64, 999, 1001, 4096, 1 << 20):
        monkeypatch.setattr(tr, "_READ_BYTES", size)
        stats = ReadStats()
        s = read_session(path, stats)
        got = ([p for _, p in s.prompts], stats.lines, stats.oversize)
        assert got == (expected or got)
        expected = got
    assert expected == (["short", ("after " * 30).strip(), "no newline"], 3, 1)


def test_a_fifo_named_like_a_transcript_is_skipped_without_blocking(tmp_path):
    proj = tmp_path / "-home-x"
    write_lines(proj / "ok.jsonl", [{"type": "user", "message": {"content": "hello"}}])
    os.mkfifo(proj / "trap.jsonl")
    sessions, _ = read_all(tmp_path)
    assert [s.prompts[0][1] for s in sessions] == ["hello"]


def test_reading_on_several_processes_gives_the_same_sessions_in_order(tmp_path, monkeypatch):
    for n in range(12):
        write_lines(tmp_path / f"-proj-{n % 3}" / f"s{n:02d}.jsonl", [
            {"type": "user", "timestamp": f"2026-11-{n + 1:02d}T00:00:00Z", "message": {"content": f"prompt {n}"}},
            task_call(f"t{n}", ["debugger", "code-reviewer"][n % 2]),
            "not json",
        ])
    monkeypatch.setattr(tr, "PARALLEL_BYTES", 0)
    assert _everything(tmp_path, workers=2) == _everything(tmp_path, workers=1)


@pytest.mark.parametrize("how", ["raise", "kill"])
def test_a_reader_that_dies_midway_loses_nothing(tmp_path, monkeypatch, how):
    for n in range(40):
        write_lines(tmp_path / f"-proj-{n % 3}" / f"s{n:02d}.jsonl", [
            {"type": "user", "message": {"content": f"prompt {n} " + "x" * 3000}}, task_call(f"t{n}", "debugger")])
    expected = _everything(tmp_path, workers=1)
    parent = os.getpid()
    read_job = tr.PendingRead._read_job
    taken = []

    def dying(self, index):
        if os.getpid() == parent:
            time.sleep(0.02)  # a slow parent: the child takes runs too
        else:
            taken.append(index)
            if len(taken) == 3:  # after sending two runs (a run is one file here)
                if how == "kill":
                    os.kill(os.getpid(), 9)
                raise RuntimeError("a reader's bug")
        return read_job(self, index)

    monkeypatch.setattr(tr.PendingRead, "_read_job", dying)
    monkeypatch.setattr(tr, "PARALLEL_BYTES", 0)
    assert _everything(tmp_path, workers=2) == expected
    with pytest.raises(ChildProcessError):  # the reader was reaped
        os.waitpid(-1, os.WNOHANG)


def test_a_subagent_call_whose_type_is_not_text_is_no_persona(tmp_path):
    bad = task_call("t1", "x")
    bad["message"]["content"][0]["input"]["subagent_type"] = ["x"]
    path = write_lines(tmp_path / "p" / "s.jsonl", [
        {"type": "user", "message": {"content": "do it"}}, bad, task_call("t2", "code-reviewer")])
    s = read_session(path, ReadStats())
    assert [i.persona for i in s.invocations] == ["code-reviewer"]


# --- lines the analysis never reads are sorted out undecoded ------------------------------------

def _kind(line: str) -> bytes | None:
    data = line.encode()
    return tr.line_kind(data, 0, len(data))


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["type", "message", "data", "cwd", "a\"type", "agentId", "x"]), json_values,
                       max_size=6), st.booleans())
def test_a_kind_read_from_the_first_bytes_is_the_decoded_type(record, ascii_only):
    line = json.dumps(record, separators=(",", ":"), ensure_ascii=ascii_only)
    kind = _kind(line)
    if kind is not None:
        assert kind.decode() == record.get("type")


@pytest.mark.parametrize("line", [
    '{"message":{"type":"progress"},"type":"assistant"}',    # a nested type comes first
    '{"a\\"type":"progress","type":"user"}',                  # a key that ends in "type"
    '{"type":"pro\\u0067ress"}',                             # an escape in the value
    '{"type": "progress"}',                                  # not Claude Code's compact form
    '{"type":"progress"',                                    # truncated
    '["type","progress"]',
    ' {"type":"progress"}',
])
def test_a_kind_that_cannot_be_told_for_sure_is_none(line):
    assert _kind(line) is None


def test_a_kind_is_read_after_a_few_short_fields():
    assert _kind('{"parentUuid":null,"isSidechain":false,"cwd":"C:\\\\x","type":"progress","data":{"type":"a"}}') \
        == b"progress"
    # a brace inside a string before the type is not told apart from a nested object: not sure
    assert _kind('{"cwd":"/x{y}","type":"progress"}') is None


def _decodes(monkeypatch) -> list[bytes]:
    """Every line msgspec is asked to decode, from now on."""
    seen: list[bytes] = []

    class Counting:
        def decode(self, line):
            seen.append(bytes(line))
            return real.decode(line)

    real = tr._RECORD
    monkeypatch.setattr(tr, "_RECORD", Counting())
    return seen


def test_long_lines_the_analysis_never_reads_are_not_decoded(tmp_path, monkeypatch):
    big = "r" * 6000  # over _SORTED_BYTES: such lines are sorted by their first bytes
    compact = {"separators": (",", ":")}
    main = tmp_path / "p" / "s.jsonl"
    main.parent.mkdir(parents=True)
    lines = [
        {"type": "user", "message": {"content": "look into it"}},
        {"type": "progress", "parentToolUseID": "x", "data": {"type": "hook_progress", "out": big}},  # no call waits
        task_call("t1", "debugger"),
        {"type": "progress", "parentToolUseID": "t1", "data": {"agentId": "abc", "pad": big}},  # t1 waits for it
        {"type": "progress", "parentToolUseID": "t1", "data": {"agentId": "abc", "pad": big + "2"}},  # t1 has it
        {"type": "user", "message": {"content": [{"type": "tool_result", "tool_use_id": "t1", "content": "ok " + big}]}},
    ]
    main.write_text("".join(json.dumps(x, **compact) + "\n" for x in lines))
    sub = [{"type": "user", "agentId": "abc", "message": {"content": [{"type": "tool_result", "content": big}]}},
           {"type": "assistant", "agentId": "abc", "requestId": "q",
            "message": {"id": "a", "usage": {"output_tokens": 4}, "content": [{"type": "text", "text": "Fixed. " + big}]}}]
    agent = main.with_suffix("") / "subagents" / "agent-abc.jsonl"
    agent.parent.mkdir(parents=True)
    agent.write_text("".join(json.dumps(x, **compact) + "\n" for x in sub))
    decoded = _decodes(monkeypatch)
    stats = ReadStats()
    s = read_session(main, stats)
    (inv,) = s.invocations
    assert inv.agent_id == "abc" and inv.tokens == 4 and inv.response.startswith("ok r")
    assert stats.lines == 8
    kinds = [json.loads(x).get("type") for x in decoded]
    assert kinds == ["user", "assistant", "progress", "user", "assistant"]  # 3 long lines left out
    assert json.loads(decoded[2])["data"]["pad"] == big


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(record_types, json_values, json_values), max_size=8))
def test_sorting_lines_out_changes_nothing_that_is_read(tmp_path, monkeypatch, records):
    lines = [json.dumps({"type": t, "message": m, "toolUseResult": r, "data": r, "parentToolUseID": "t", "agentId": "t"},
                        separators=(",", ":")) for t, m, r in records]
    path = write_lines(tmp_path / "sorted" / "s.jsonl", [task_call("t", "x"), *lines])
    write_lines(tmp_path / "sorted" / "s" / "subagents" / "agent-t.jsonl", lines)
    _same_with_and_without_sorting(monkeypatch, path.parent)


def _same_with_and_without_sorting(monkeypatch, folder) -> None:
    """What is read is the same with every line sorted by line_kind, with every line looked at
    for the gated marker only, and with nothing left out (the reference)."""
    reads = []
    for sorted_bytes, gate_short in ((0, True), (1 << 40, True), (1 << 40, False)):
        with monkeypatch.context() as m:
            m.setattr(tr, "_SORTED_BYTES", sorted_bytes)
            m.setattr(tr, "_GATE_SHORT_LINES", gate_short)
            reads.append(_everything(folder))
    assert reads[0] == reads[2] and reads[1] == reads[2]


@needs_corpus
def test_sorting_lines_out_changes_nothing_on_the_real_corpus(monkeypatch):
    _same_with_and_without_sorting(monkeypatch, TRANSCRIPTS)


def test_short_progress_lines_are_decoded_only_while_a_call_waits(tmp_path, monkeypatch):
    compact = {"separators": (",", ":")}
    lines = [
        {"type": "user", "message": {"content": "look into it"}},
        {"type": "progress", "parentToolUseID": "x", "data": {"type": "hook_progress"}},  # nothing waits: left out
        {"cwd": "/a{b}", "type": "progress", "data": {}},  # a brace before the type: not sure, decoded
        {"message": {"type": "progress"}, "type": "user"},  # a nested type: decoded
        task_call("t1", "debugger"),
        {"type": "progress", "parentToolUseID": "t1", "data": {"agentId": "abc"}},  # t1 waits for it: decoded
        {"type": "progress", "parentToolUseID": "t1", "data": {"agentId": "abc", "n": 2}},  # t1 has it: left out
    ]
    main = tmp_path / "p" / "s.jsonl"
    main.parent.mkdir(parents=True)
    main.write_text("".join(json.dumps(x, **compact) + "\n" for x in lines))
    decoded = _decodes(monkeypatch)
    s = read_session(main, ReadStats())
    assert s.invocations[0].agent_id == "abc"
    assert [json.loads(x).get("type") for x in decoded] == ["user", "progress", "user", "assistant", "progress"]
    assert b'"n":2' not in b"".join(decoded) and b"hook_progress" not in b"".join(decoded)


def test_bytes_that_are_not_utf8_inside_a_part_read_later_are_no_traceback(tmp_path):
    path = tmp_path / "p" / "s.jsonl"
    path.parent.mkdir(parents=True)
    path.write_bytes(b'{"type":"user","message":{"content":"go"}}\n'
                     b'{"type":"assistant","message":{"id":"m","content":[{"type":"tool_use","id":"t1","name":"Task",'
                     b'"input":{"subagent_type":"debugger","prompt":"\xff\xed\xa0\x80"}}]}}\n'
                     b'{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"t1","content":"ok \xc0\x80"}]}}\n')
    fast, reference = _everything(tmp_path), _everything(tmp_path, fast=False)
    assert fast == reference
    (inv,) = fast[0][0]["invocations"]
    assert inv["persona"] == "debugger" and "\ufffd" in inv["prompt"] and inv["response"].startswith("ok ")


def _call_and_result(tid: str, agent: str | None) -> list[dict]:
    result = {"type": "user", "message": {"content": [{"type": "tool_result", "tool_use_id": tid, "content": "done"}]}}
    if agent:
        result["toolUseResult"] = {"agentId": agent}
    return [task_call(tid, "debugger"), result]


@pytest.mark.parametrize(("calls", "read"), [
    ([("t1", "a1"), ("t2", "a2"), ("t3", "a3")], False),  # every call has its agent: nothing waits
    ([("t1", "a1"), ("t2", None)], True),                   # t2 still waits for its agent id
    ([("t1", None), ("t1", "a1")], False),                  # a repeated id: the later call replaced the first
])
def test_progress_lines_are_read_only_while_a_call_waits_for_its_agent(tmp_path, monkeypatch, calls, read):
    lines = [x for tid, agent in calls for x in _call_and_result(tid, agent)]
    lines.append({"type": "progress", "parentToolUseID": "t2", "data": {"agentId": "late", "pad": "p" * 6000}})
    main = tmp_path / "p" / "s.jsonl"
    main.parent.mkdir(parents=True)
    main.write_text("".join(json.dumps(x, separators=(",", ":")) + "\n" for x in lines))
    decoded = _decodes(monkeypatch)
    read_session(main, ReadStats())
    assert any(b'"late"' in x for x in decoded) == read


def test_a_read_of_many_short_lines_is_handed_on_in_bounded_batches(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_bytes(b"{}\n\n" * 50_000)
    stats = ReadStats()
    sizes = [len(batch) for batch in tr._line_batches(path, stats)]
    assert sum(sizes) == 50_000  # the blank lines hold no view
    assert max(sizes) <= tr._BATCH_LINES < 50_000  # one 8 MB read of short lines comes in several batches
    assert stats.lines == 100_000


def test_a_transcript_linked_under_another_name_is_one_session(tmp_path):
    root = tmp_path / "projects"
    first = write_lines(root / "-proj-a" / "s1.jsonl", [{"type": "user", "message": {"content": "hello"}}])
    write_lines(root / "-proj-b" / "s2.jsonl", [{"type": "user", "message": {"content": "other"}}])
    os.symlink(first, root / "-proj-b" / "again.jsonl")  # a second name for s1
    os.symlink(root / "-proj-a", root / "-proj-z")        # a project folder linked
    os.symlink(root / "gone.jsonl", root / "-proj-b" / "dangling.jsonl")
    listed = [str(p.relative_to(root)) for _, p in tr.transcript_files(root)]
    assert listed == ["-proj-a/s1.jsonl", "-proj-b/dangling.jsonl", "-proj-b/s2.jsonl"]
    sessions, _ = read_all(root)
    assert sorted(s.prompts[0][1] for s in sessions) == ["hello", "other"]
