"""Auto-optimise says what it costs (startup tokens before and after, from the migration's own
dry run) and weighs each persona by the figure every other view shows: its line in Claude
Code's agent listing."""

from __future__ import annotations

import json

import pytest
from test_tui import SIZE, app_for, open_analytics, settle
from test_tui_undo_migrations import confirm_screen

from conftest import WSHOBSON
from ctxtui.analytics import optimize
from ctxtui.analytics.transcripts import read_all
from ctxtui.core import strategies
from ctxtui.core.config import load_settings
from ctxtui.core.workspace import Workspace
from ctxtui.tui.model import pane_rows


def usage(tmp_path, personas: list[str]):
    """A transcripts folder with one session invoking PERSONAS."""
    proj = tmp_path / "transcripts" / "-proj"
    proj.mkdir(parents=True)
    lines = []
    for i, persona in enumerate(personas):
        lines.append({"type": "user", "timestamp": "2026-11-01T10:00:00Z", "message": {"content": f"review {i}"}})
        lines.append({"type": "assistant", "requestId": f"r{i}", "timestamp": "2026-11-01T10:00:01Z", "message": {
            "id": f"m{i}", "content": [{"type": "tool_use", "id": f"t{i}", "name": "Task",
                                        "input": {"subagent_type": persona, "prompt": "go"}}]}})
    (proj / "s.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    return tmp_path / "transcripts"


async def test_auto_optimise_confirm_shows_startup_tokens_before_and_after(settings, tmp_path):
    s = load_settings(workspace=settings.workspace, library_dirs=settings.library_dirs,
                      transcripts_dir=usage(tmp_path, ["beta", "beta", "gamma"]))
    app = app_for(s)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await open_analytics(pilot, app)
        await pilot.press("o")
        body = (await confirm_screen(pilot, app)).body
        hot = next(line for line in body.splitlines() if line.startswith("new hot set: ")).split(": ", 1)[1].split(", ")
        plan = strategies.plan(Workspace(s), "lazy_loading", hot=hot)  # what applying it would do
        assert body.startswith(f"startup tokens {plan.tokens_before:,} → {plan.tokens_after:,}")  # cost first
        assert plan.refusal and plan.refusal in body  # five tiny personas: cheaper hot, said before y
        await pilot.press("n")


def check_figures(ws: Workspace, sessions) -> None:
    shown = {r.name: r.startup for r in pane_rows(ws).cold}
    prop = optimize.propose(ws, sessions)
    assert prop.candidates
    for c in prop.candidates:
        assert c.startup_tokens == shown[c.name], c.name
    persona_reasons = [r for r in prop.reasons if not r.startswith(("startup tokens", "refused", "cannot"))]
    assert len(persona_reasons) >= len(prop.hot) - len(prop.pinned)
    for reason in persona_reasons[: len(prop.hot) - len(prop.pinned)]:
        name = reason.split(":", 1)[0]
        assert reason.endswith(f"vs {shown[name]:,} always hot")


def test_candidates_cost_what_the_panes_show(settings, tmp_path):
    root = usage(tmp_path, ["beta", "gamma"])
    check_figures(Workspace(settings), read_all(root)[0])


@pytest.mark.skipif(not WSHOBSON.is_dir(), reason="the wshobson corpus is not here")
def test_candidates_cost_what_the_panes_show_on_a_real_library(workspace, tmp_path):
    ws = Workspace(load_settings(workspace=workspace, library_dirs=[WSHOBSON]))
    names = [p.name for p in ws.library.unique()][:4]
    check_figures(ws, read_all(usage(tmp_path, names))[0])
