"""The startup chart screen: the whole startup context by kind as bars with the figures of
``ctxtui status``, measured vs estimated marked, and what ctxtui or only the user can save."""

from __future__ import annotations

import json
import time

from ctxtui.core.workspace import Workspace
from ctxtui.tui.app import make_app
from ctxtui.tui.widgets.startup_chart import StartupChart, chart_text, kind_label
from tests_support import wait_ready


def _project(settings) -> None:
    """Hot agents, a CLAUDE.md, an approved MCP server and a slash command: every owner."""
    ws = settings.workspace
    (ws / "CLAUDE.md").write_text("# Project\n\nRun the tests before every commit.\n")
    (ws / ".mcp.json").write_text(json.dumps({"mcpServers": {"github": {"command": "gh-mcp"}}}))
    (ws / ".claude").mkdir(exist_ok=True)
    (ws / ".claude" / "settings.json").write_text(json.dumps({"enableAllProjectMcpServers": True}))
    commands = ws / ".claude" / "commands"
    commands.mkdir()
    (commands / "release.md").write_text("---\ndescription: Cut a release, tag it and write the notes for it\n---\nDo it.\n")
    Workspace(settings).activate(["beta", "delta"])


async def _open_chart(pilot) -> StartupChart:
    await wait_ready(pilot)
    await pilot.press("c")
    end = time.monotonic() + 10
    while not pilot.app.screen.query(StartupChart):
        assert time.monotonic() < end, "the startup chart never opened"
        await pilot.pause(0.05)
    await pilot.pause(0.1)
    return pilot.app.screen.query_one(StartupChart)


async def test_chart_shows_every_kind_with_the_status_figures_and_the_suggestions(settings):
    _project(settings)
    whole = Workspace(settings).budget().whole  # what `ctxtui status --json` reports
    assert whole is not None
    app = make_app(settings, watch_files=False, remember_theme=False)
    async with app.run_test(size=(120, 60)) as pilot:
        chart = await _open_chart(pilot)
        text = str(chart.render())
        assert f"Startup context {whole['total']:,} tokens" in text
        rows = {line.split("  ")[0].strip(): line for line in text.splitlines() if line and line[0] != " "}
        for kind, tokens in whole["by_kind"].items():
            row = rows[kind_label(kind)]
            assert f" {tokens:,}" in row, row
        # built-in text is per-version data, not measured: marked so
        assert "estimated" in rows[kind_label("system-prompt")]
        # the MCP server's size is unknown: marked, never invented
        assert "?" in rows[kind_label("mcp-server")]
        ours = [s for s in whole["suggestions"] if s["by"] == "ctxtui"]
        theirs = [s for s in whole["suggestions"] if s["by"] == "user"]
        assert ours and theirs
        mine, yours = text.split("ctxtui can save")[1].split("Only you can save")
        assert f"-{ours[0]['saving']:,}" in mine and ours[0]["item"] in mine
        mcp = next(s for s in theirs if "github" in s["item"])
        assert f"{mcp['item']}: disable this MCP server" in yours  # its saving unknown: shown as ?
        await pilot.press("escape")
        await pilot.pause(0.1)
        assert not app.screen.query(StartupChart)


def test_chart_fits_80_columns_and_says_measured_when_it_was():
    whole = {
        "claude_code_version": "2.1.112", "total": 30_000, "managed": 200, "measured_total": 31_000,
        "by_kind": {"builtin-tools": 20_000, "agent": 10_000},
        "items": [{"kind": "builtin-tools", "label": "tools", "tokens": 20_000, "basis": "measured"},
                  *({"kind": "agent", "label": f"application-performance-observability-engineer-{i}",
                     "tokens": 2_500, "basis": "computed"} for i in range(4))],
        "suggestions": [{"item": "4 custom agents", "action": "move them all to cold storage; load on demand",
                         "by": "ctxtui", "saving": 10_000}],
    }
    text = chart_text(whole, 78).plain
    assert all(len(line) <= 78 for line in text.splitlines())
    tools = next(line for line in text.splitlines() if line.startswith("Built-in tools"))
    agents = next(line for line in text.splitlines() if line.startswith("Agents"))
    assert "measured" in tools and "█" in tools and "estimated" in agents and "▓" in agents
    assert "… 1 more" in text and "-10,000" in text and "31,000 (measured)" in text
