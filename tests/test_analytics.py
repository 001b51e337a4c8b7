"""Analysis, auto-optimise, training export, strategy report and calibration."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import TRANSCRIPTS
from ctxtui.analytics import optimize, report, training
from ctxtui.analytics.calibrate import Point, calibrate, fit, hot_at
from ctxtui.analytics.events import Event, EventStore
from ctxtui.analytics.transcripts import Invocation, Session, read_all
from ctxtui.analytics.usage import analyze, terms
from ctxtui.cli import main
from ctxtui.core import strategies, verdicts
from ctxtui.core.workspace import Workspace


def session(sid: str, calls: list[tuple[str, str]], day: int = 1, first: int = 0, cwd: str = "") -> Session:
    s = Session(sid, "proj", Path(f"/x/{sid}.jsonl"), cwd=cwd, start=f"2026-11-{day:02d}T10:00:00Z",
                end=f"2026-11-{day:02d}T11:00:00Z", first_prompt_tokens=first)
    for i, (persona, prompt) in enumerate(calls):
        s.prompts.append((s.start, prompt))
        s.invocations.append(Invocation(f"{sid}-{i}", persona, "d", f"request {prompt}", s.start, trigger=prompt,
                                        response=f"answer from {persona} to {prompt}", tokens=100))
    return s


SESSIONS = [
    session("s1", [("alpha", "fix the flaky database test"), ("beta", "review the diff")], day=1),
    session("s2", [("alpha", "database migration is slow"), ("beta", "review my change")], day=2),
    session("s3", [("gamma", "write the release notes")], day=3),
    session("s4", [("alpha", "database index question")], day=4),
    session("s5", [("Plan", "plan the refactor")], day=5),
]


def test_analysis_counts_pairs_with_lift_and_triggers():
    a = analyze(SESSIONS, {"alpha", "beta", "gamma", "delta"}, {"delta", "alpha"})
    by = {p.name: p for p in a.personas}
    assert (by["alpha"].invocations, by["alpha"].sessions) == (3, 3)
    assert by["Plan"].in_library is False
    pair = next(p for p in a.pairs if {p.a, p.b} == {"alpha", "beta"})
    assert pair.sessions == 2 and pair.lift == pytest.approx((2 / 5) / ((3 / 5) * (2 / 5)), abs=1e-3)
    assert a.triggers["alpha"][0].term == "database"
    assert a.never_used == ["delta"] and a.hot_rarely_used == ["delta"]
    data = a.to_json()
    assert {"name", "invocations", "sessions"} <= data["personas"][0].keys() and data["pairs"]


def test_terms_include_bigrams_without_stop_words():
    assert terms("Fix the flaky test") == ["fix", "flaky", "test", "fix flaky", "flaky test"]


def test_auto_optimize_picks_most_used_and_applies_as_a_rollbackable_migration(settings):
    ws = Workspace(settings)
    prop = optimize.propose(ws, SESSIONS)
    assert prop.hot == ["persona-manager", "alpha", "beta"]
    assert prop.coverage_pct > 80
    entry = optimize.apply(ws, prop, force=True)  # five tiny personas: the guard would refuse it
    assert ws.hot_names() == ["alpha", "beta", "persona-manager"] and entry.kind == "optimize"
    strategies.rollback(ws, reason="no thanks")
    assert ws.hot_names() == []


def test_suggested_cap_weighs_startup_cost_against_on_demand_cost(settings):
    ws = Workspace(settings)
    prop = optimize.propose(ws, SESSIONS)
    worth = [c.name for c in prop.candidates if c.worth_hot]
    assert prop.suggested_cap == 1 + len(worth)
    for c in prop.candidates:
        assert c.worth_hot == (c.rate * c.full_tokens > c.startup_tokens)


def test_training_export_redacts_dedups_and_splits(settings, tmp_path):
    secret_session = session("s9", [("alpha", "key sk-ant-api03-abcdefghijklmnopqrstuvwxyz mail bob@example.com")])
    dup = session("s10", [("alpha", "fix the flaky database test")])
    ws = Workspace(settings)
    out = tmp_path / "train.jsonl"
    summary = training.export(ws, SESSIONS + [secret_session, dup, dup], out, "openai-chat", validation_pct=50)
    lines = out.read_text().splitlines() + out.with_name("train.val.jsonl").read_text().splitlines()
    records = [json.loads(x) for x in lines]
    assert summary.train + summary.validation == len(records) == 7
    assert summary.skipped["persona not in the library (built-in or removed)"] == 1
    assert summary.skipped["duplicate"] == 2
    text = "\n".join(lines)
    assert "sk-ant-api03" not in text and "bob@example.com" not in text and "[REDACTED_EMAIL]" in text
    first = records[0]["messages"]
    assert [m["role"] for m in first] == ["system", "user", "assistant"]
    assert first[0]["content"].startswith("You are")
    assert summary.per_persona == {"alpha": 4, "beta": 2, "gamma": 1}
    assert 0 < summary.validation < 7  # split by a stable hash


def test_training_formats(settings, tmp_path):
    ws = Workspace(settings)
    for fmt in training.FORMATS:
        out = tmp_path / f"{fmt}.jsonl"
        training.export(ws, SESSIONS, out, fmt, validation_pct=0)
        rec = json.loads(out.read_text().splitlines()[0])
        if fmt == "anthropic":
            assert "system" in rec and rec["messages"][0]["role"] == "user"
        if fmt == "jsonl":
            assert {"persona", "request", "response", "trigger"} <= rec.keys()


def test_redaction_patterns():
    text = ("ghp_" + "a" * 36 + " AKIAABCDEFGHIJKLMNOP Bearer abcdefghijklmnopqrstuv password=hunter22hunter "
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U")
    out = training.redact(text)
    for leaked in ("ghp_", "AKIA", "abcdefghijklmnopqrstuv", "hunter22", "eyJhbGci"):
        assert leaked not in out


def test_strategy_report_numbers_are_consistent(settings, tmp_path):
    ws = Workspace(settings)
    comp = report.compare(ws, SESSIONS, price_per_mtok=3.0)
    rows = {r.strategy: r for r in comp.rows}
    assert list(rows) == ["eager", "lazy_loading", "lazy_loading (current)", "fine_tuned", "hybrid"]
    assert rows["lazy_loading (current)"].hot == 0 and rows["lazy_loading"].hot == 3
    budget = ws.budget()
    assert rows["eager"].startup_tokens == budget.eager_startup_tokens  # the budget's figures, block included
    assert rows["lazy_loading (current)"].startup_tokens == strategies.preview(ws).managed_tokens
    assert rows["lazy_loading"].expected_tokens >= rows["lazy_loading"].startup_tokens
    for r in comp.rows:
        assert r.cost == pytest.approx(r.expected_tokens * comp.factor * 3.0 / 1e6, abs=1e-5)
    md, html = report.write_report(comp, tmp_path / "r.md")
    assert "| eager |" in md.read_text() and "<svg" in html.read_text()


def test_report_never_recommends_a_strategy_without_a_real_model(settings):
    ws = Workspace(settings)
    comp = report.compare(ws, SESSIONS)
    for r in comp.rows:
        if r.strategy in ("fine_tuned", "hybrid"):
            r.expected_tokens = 0.0  # even when the hypothetical model would be cheapest
    assert all(r.hypothetical for r in comp.rows if r.strategy in ("fine_tuned", "hybrid"))
    best = report.recommended(comp)
    assert best is not None and best.strategy not in ("fine_tuned", "hybrid")
    assert "fine_tuned" not in report.conclusion(comp) and "hybrid" not in report.conclusion(comp)


def test_html_report_says_what_the_markdown_says_and_fits_its_labels(settings):
    import html as html_mod
    import re

    ws = Workspace(settings)
    comp = report.compare(ws, SESSIONS)
    page = report.html_report(comp)
    text = html_mod.unescape(re.sub(r"<[^>]+>", " ", page))
    text = " ".join(text.split())
    for line in report.markdown(comp).splitlines():
        prose = line.strip("#-| ").replace("**", "")
        if prose and not set(prose) <= set("-:|"):
            for cell in prose.split(" | "):
                assert " ".join(cell.split()) in text, cell
    for svg in re.findall(r"<svg[^>]*>.*?</svg>", page, re.S):
        label_x = int(re.search(r'<rect x="(\d+)"', svg).group(1))
        labels = re.findall(r'<text x="0" y="\d+">([^<]*)</text>', svg)
        assert all(len(html_mod.unescape(lb)) * report.CHAR_PX < label_x for lb in labels)
        width = int(re.search(r'width="(\d+)"', svg).group(1))
        for x, value in re.findall(r'<text x="(\d+)" y="\d+">([\d,]+)</text>', svg):
            assert int(x) + len(value) * report.CHAR_PX <= width


def test_calibration_fit_recovers_a_known_line():
    points = [Point(str(i), x, round(9000 + 1.25 * x), []) for i, x in enumerate([100, 400, 900, 1600])]
    cal = fit(points)
    assert cal.factor == pytest.approx(1.25, abs=0.01) and cal.fixed == pytest.approx(9000, abs=5)
    assert cal.n == 4 and cal.spread is not None
    assert fit(points[:1]).factor is None
    assert fit([Point("a", 5, 10, []), Point("b", 5, 12, [])]).factor is None  # no variation


def test_hot_set_is_replayed_from_events():
    events = [Event(10, "w", "alpha", "activate", {}), Event(20, "w", "beta", "activate", {}),
              Event(30, "w", "alpha", "deactivate", {}), Event(40, "w", "", "migrate", {"hot": ["gamma"]})]
    assert hot_at(events, 5) is None
    assert hot_at(events, 25) == ["alpha", "beta"]
    assert hot_at(events, 35) == ["beta"]
    assert hot_at(events, 45) == ["gamma"]


def test_calibrate_uses_sessions_of_this_workspace(settings):
    ws = Workspace(settings)
    root = str(settings.workspace.resolve())
    lib = ws.library.by_name
    from ctxtui.analytics.transcripts import parse_time

    def at(day):
        return parse_time(f"2026-11-{day:02d}T09:00:00Z").timestamp()

    events = [Event(at(1), root, "alpha", "activate", {}), Event(at(2), root, "beta", "activate", {}),
              Event(at(3), root, "gamma", "activate", {})]
    base = ws.budget(hot=[]).startup_tokens
    sessions = []
    for day, hot in ((1, ["alpha"]), (2, ["alpha", "beta"]), (3, ["alpha", "beta", "gamma"])):
        est = base + sum(verdicts.line_tokens(ws.verdict(lib[n])) for n in hot)  # what Claude Code lists
        sessions.append(session(f"c{day}", [], day=day, first=round(12000 + 1.3 * est), cwd=root))
    sessions.append(session("other", [], day=2, first=99999, cwd="/elsewhere"))
    cal = calibrate(ws, sessions, events)
    assert cal.n == 3 and cal.factor == pytest.approx(1.3, abs=0.02)


@pytest.mark.skipif(not TRANSCRIPTS.is_dir(), reason="shared transcripts not present")
def test_cli_analytics_on_real_transcripts(capsys, library, workspace, tmp_path):
    base = ["-l", str(library), "-w", str(workspace), "--transcripts", str(TRANSCRIPTS)]
    assert main(["analyze", "--json", *base]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["sessions"] == 4 and {p["name"] for p in data["personas"]} == {"claude-code-guide", "Plan", "general-purpose"}
    assert main(["analyze", "--generate-report", str(tmp_path / "rep.md"), *base]) == 0
    assert (tmp_path / "rep.html").exists()
    capsys.readouterr()
    assert main(["auto-optimize", "--based-on", "usage_patterns", "--dry-run", "--json", *base]) == 0
    assert json.loads(capsys.readouterr().out)["hot"] == ["persona-manager"]
    assert main(["export-training", "--format", "openai-chat", "--out", str(tmp_path / "t.jsonl"), "--json", *base]) == 0
    assert json.loads(capsys.readouterr().out)["train"] == 0  # only built-in subagents were used
    assert main(["calibrate", "--json", *base]) == 0
    assert json.loads(capsys.readouterr().out)["factor"] is None


def test_activate_records_usage_events(capsys, library, workspace):
    assert main(["activate", "alpha", "-l", str(library), "-w", str(workspace)]) == 0
    events = EventStore.default().events(workspace.resolve())
    assert [(e.persona, e.action) for e in events] == [("alpha", "activate")]


def test_missing_transcripts_folder_is_a_clear_error(capsys, library, workspace, tmp_path):
    code = main(["analyze", "--transcripts", str(tmp_path / "nope"), "-l", str(library), "-w", str(workspace)])
    assert code == 1 and "no transcripts" in capsys.readouterr().err
    read_all(tmp_path)  # an empty folder is fine


@pytest.mark.skipif(not TRANSCRIPTS.is_dir(), reason="shared transcripts not present")
def test_export_defaults_to_router_data_and_response_formats_carry_a_notice(capsys, library, workspace, tmp_path):
    base = ["-l", str(library), "-w", str(workspace), "--transcripts", str(TRANSCRIPTS)]
    assert main(["export-training", "--out", str(tmp_path / "r.jsonl"), *base]) == 0
    assert "terms" not in capsys.readouterr().err
    rows = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert rows and all(set(r) >= {"prompt", "persona", "project", "time"} for r in rows)
    assert "response" not in json.dumps(rows[0]) and "assistant" not in rows[0]
    assert main(["export-training", "--format", "openai-chat", "--out", str(tmp_path / "o.jsonl"), *base]) == 0
    assert "terms" in capsys.readouterr().err
