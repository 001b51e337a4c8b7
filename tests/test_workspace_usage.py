"""One analysis for both faces, and a transcript read that stops when asked."""

from __future__ import annotations

import json

from ctxtui.analytics.transcripts import read_all
from ctxtui.analytics.workspace_usage import last_used_times, read_sessions, workspace_usage
from ctxtui.core.workspace import Workspace


def _history(root, personas_by_time):
    proj = root / "-proj"
    proj.mkdir(parents=True)
    for i, (when, persona) in enumerate(personas_by_time):
        lines = [
            {"type": "user", "timestamp": when, "message": {"content": f"please review {i}"}},
            {"type": "assistant", "requestId": f"r{i}", "timestamp": when, "message": {
                "id": f"m{i}", "content": [{"type": "tool_use", "id": f"t{i}", "name": "Task",
                                            "input": {"subagent_type": persona, "prompt": "go"}}]}},
        ]
        (proj / f"s{i}.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    return root


def test_read_sessions_matches_read_all_and_stops_when_asked(tmp_path):
    root = _history(tmp_path / "t", [("2026-11-01T10:00:00Z", "beta"), ("2026-11-02T10:00:00Z", "gamma")])
    sessions, stats = read_sessions(root, lambda: False)
    expected, expected_stats = read_all(root)
    assert [s.invocations for s in sessions] == [s.invocations for s in expected]
    assert vars(stats) == vars(expected_stats)
    assert read_sessions(root, lambda: True) is None


def test_last_used_is_the_latest_invocation(settings, tmp_path):
    root = _history(tmp_path / "t", [("2026-11-01T10:00:00Z", "beta"), ("2026-11-03T10:00:00Z", "beta"),
                                     ("2026-11-02T10:00:00Z", "gamma")])
    sessions, stats = read_all(root)
    analysis = workspace_usage(Workspace(settings), sessions, stats)
    times = last_used_times(analysis)
    assert times["beta"] > times["gamma"] > 0 and "alpha" not in times
    assert "alpha" in analysis.never_used
