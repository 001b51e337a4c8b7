"""Training export in the router format (the default), the terms notice, and the check a
fine-tuned model's validation record must pass."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ctxtui.analytics import router_export, training
from ctxtui.analytics.router_export import TERMS_NOTICE, validation_problem
from ctxtui.analytics.transcripts import read_all
from ctxtui.core.config import load_settings
from ctxtui.core.workspace import Workspace


def _transcript(folder: Path, sid: str, day: str, turns: list[tuple[str, str | None]]) -> None:
    recs = []
    for n, (prompt, agent) in enumerate(turns):
        recs.append({"type": "user", "sessionId": sid, "cwd": "/home/ann/shop", "version": "2.1.70",
                     "timestamp": f"{day}T10:{n:02d}:00.000Z", "uuid": f"{sid}-{n}",
                     "message": {"role": "user", "content": prompt}})
        if agent:
            recs.append({"type": "assistant", "sessionId": sid, "timestamp": f"{day}T10:{n:02d}:30.000Z",
                         "message": {"id": f"m{sid}{n}", "role": "assistant", "content": [
                             {"type": "tool_use", "id": f"t{sid}{n}", "name": "Agent",
                              "input": {"subagent_type": agent, "prompt": "secret answer here", "description": "d"}}]}})
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{sid}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs), encoding="utf-8")


@pytest.fixture()
def sessions(tmp_path: Path):
    root = tmp_path / "projects" / "-home-ann-shop"
    _transcript(root, "s1", "2026-01-02", [
        ("tune the postgres indexes, password=hunter22hunter", "sql-pro"),
        ("mail bob@example.com the plan", None), ("look around", "Explore"),
    ])
    _transcript(root, "s2", "2026-01-01", [("continue", None), ("continue", None), ("x" * 9000, None)])
    return read_all(tmp_path / "projects")[0]


def test_router_records_hold_prompt_persona_project_and_time_redacted(sessions) -> None:
    recs = {r.prompt[:12]: r for r in router_export.records(sessions)}
    sql = recs["tune the pos"]
    assert sql.persona == "sql-pro" and sql.project == "-home-ann-shop" and sql.time.startswith("2026-01-02T10:00")
    assert "hunter22" not in sql.prompt and "[REDACTED_SECRET]" in sql.prompt
    assert recs["mail [REDACT"].prompt == "mail [REDACTED_EMAIL] the plan"
    assert recs["look around"].persona is None  # a built-in agent is no persona
    long = recs["x" * 12]
    assert long.truncated and len(long.prompt) == router_export.MAX_PROMPT_CHARS
    assert sum(r.prompt == "continue" for r in recs.values()) == 1  # a repeat in one session is dropped


def test_router_export_writes_no_response_and_keeps_sessions_whole(sessions, tmp_path: Path) -> None:
    out = tmp_path / "router.jsonl"
    summary = router_export.export(sessions, out, validation_pct=50)
    lines = [json.loads(x) for f in summary.files for x in Path(f).read_text().splitlines()]
    assert summary.train + summary.validation == len(lines) == 5 and summary.duplicates == 1
    assert all(set(rec) <= {"prompt", "persona", "project", "time", "truncated"} for rec in lines)
    text = "\n".join(Path(f).read_text() for f in summary.files)
    assert "secret answer here" not in text and "bob@example.com" not in text
    assert summary.needed == 1 and summary.per_persona == {"sql-pro": 1}
    times = [json.loads(x)["time"] for x in out.read_text().splitlines()]
    assert times == sorted(times)


def test_default_format_is_router_and_response_formats_carry_the_notice(sessions, tmp_path: Path) -> None:
    assert training.DEFAULT_FORMAT == "router" and training.EXPORT_FORMATS[0] == "router"
    ws = Workspace(load_settings(workspace=tmp_path))
    _, line = router_export.export_any(ws, sessions, tmp_path / "a.jsonl")
    assert line is None
    for fmt in training.FORMATS:
        _, line = router_export.export_any(ws, sessions, tmp_path / f"{fmt}.jsonl", fmt)
        assert line == TERMS_NOTICE and "\n" not in line and "Anthropic" in line
    with pytest.raises(ValueError):
        router_export.export_any(ws, sessions, tmp_path / "b.jsonl", "csv")


GOOD = {"baseline": "lazy_loading", "heldout_prompts": 200, "model_score": 0.83, "baseline_score": 0.80}


@pytest.mark.parametrize("record,why", [
    (None, "no validation record"),
    ("passed", "not an object"),
    ({**GOOD, "baseline": "eager"}, "lazy_loading baseline"),
    ({**GOOD, "heldout_prompts": 12}, "fewer than 50"),
    ({**GOOD, "heldout_prompts": True}, "fewer than 50"),
    ({**GOOD, "model_score": "0.9"}, "lacks model_score"),
    ({**GOOD, "model_score": 0.7}, "scored 0.70 against the lazy baseline's 0.80"),
])
def test_a_fine_tuned_model_without_a_passing_validation_record_is_refused(record, why: str) -> None:
    problem = validation_problem(record)
    assert problem is not None and why in problem


def test_a_model_no_worse_than_lazy_on_enough_held_out_prompts_passes() -> None:
    assert validation_problem(GOOD) is None
    assert validation_problem({**GOOD, "model_score": 0.8}) is None
