"""The analytics screen as a person reads it: only Claude Code's own agents are called built-in,
and at 80x24 with long real names every number stays in view, names are cut with an ellipsis
and the proposal wraps at word boundaries; at 200x50 the usage names are whole."""

from __future__ import annotations

import json
import re

import pytest
from test_tui import app_for, settle

from conftest import persona_text
from ctxtui.core.claude_code.profiles import builtin_agent_names, profiles
from ctxtui.core.config import load_settings
from ctxtui.tui.screens.analytics import FitTable, ProposalLine, fit_words

# Long names as real libraries have them (wshobson's plugin-prefixed agents).
LIBRARY = [
    "backend-development-backend-architect", "cloud-infrastructure-hybrid-cloud-architect",
    "full-stack-orchestration-test-automator", "database-design-database-architect",
    "security-scanning-security-auditor", "observability-monitoring-performance-engineer",
]
INVOKED = [*LIBRARY, "general-purpose", "Explore", "cloud-architect", "debugger"]


@pytest.fixture
def history(tmp_path, workspace):
    lib = tmp_path / "longlib"
    lib.mkdir()
    for name in LIBRARY:
        (lib / f"{name}.md").write_text(persona_text(name, f"Use {name} for its own work."))
    folder = tmp_path / "transcripts" / "-proj"
    folder.mkdir(parents=True)
    for s in range(6):
        lines = []
        for i, persona in enumerate(INVOKED[s:] + INVOKED[:s]):
            lines.append({"type": "user", "timestamp": f"2026-11-0{s + 1}T10:00:00Z",
                          "message": {"content": f"please {persona.replace('-', ' ')} work {i}"}})
            lines.append({"type": "assistant", "requestId": f"r{s}-{i}", "timestamp": f"2026-11-0{s + 1}T10:00:01Z",
                          "message": {"id": f"m{s}-{i}", "content": [{"type": "tool_use", "id": f"t{s}-{i}", "name": "Task",
                                      "input": {"subagent_type": persona, "prompt": "go"}}]}})
        (folder / f"s{s}.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    return load_settings(workspace=workspace, library_dirs=[lib], transcripts_dir=tmp_path / "transcripts")


async def open_analytics(pilot, app):
    await pilot.press("a")
    for _ in range(200):
        await pilot.pause(0.05)
        screen = app.screen
        if screen.query("#usage-table") and screen.query_one("#usage-table").row_count \
                and screen.query_one("#proposal", ProposalLine).proposal is not None:
            await pilot.pause(0.1)
            return screen
    raise AssertionError("the analytics screen never showed its rows")


def shown(table: FitTable) -> list[dict[str, str]]:
    """Each row as the table shows it, by column key."""
    keys = [c.key.value for c in table.ordered_columns]
    return [dict(zip(keys, (str(v) for v in table.get_row_at(i)), strict=True)) for i in range(table.row_count)]


def fits(table: FitTable) -> bool:
    """Every column inside the table's width (the vertical scrollbar's room kept)."""
    used = sum(c.get_render_width(table) for c in table.ordered_columns)
    return used <= table.size.width - table.styles.scrollbar_size_vertical


def test_builtin_agents_come_from_the_claude_code_model():
    names = {n for p in profiles() for e in ("interactive", "print") for n in p.builtin_names(e)}
    assert builtin_agent_names() == names and {"general-purpose", "Explore", "Plan", "statusline-setup"} <= names


def test_proposal_wraps_at_word_boundaries_and_counts_what_does_not_fit():
    words = ["persona-manager", "c4-component", "blockchain-developer", "event-sourcing-architect", "debugger"]
    text = fit_words("Proposal: ", words, 30, 2)
    lines = text.split("\n")
    assert len(lines) <= 2 and all(len(line) <= 30 for line in lines)
    parts = [p.strip() for p in " ".join(lines).removeprefix("Proposal: ").split(",")]
    assert parts[-1].startswith("+") and parts[-1].endswith("more")
    assert parts[:-1] == words[:len(parts) - 1]  # whole names only, in order
    assert fit_words("P: ", words, 200, 1) == "P: " + ", ".join(words)


async def test_only_claude_codes_own_agents_are_called_built_in(history):
    app = app_for(history)
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot, app)
        screen = await open_analytics(pilot, app)
        rows = {r["persona"]: r["source"] for r in shown(screen.query_one("#usage-table", FitTable))}
    assert rows["general-purpose"] == rows["Explore"] == "built-in"
    assert rows["cloud-architect"] == rows["debugger"] == "not in library"
    assert all(rows[n] == "library" for n in LIBRARY)


async def test_at_80x24_numbers_stay_in_view_and_names_are_cut_with_an_ellipsis(history):
    app = app_for(history)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        screen = await open_analytics(pilot, app)
        usage = screen.query_one("#usage-table", FitTable)
        pairs = screen.query_one("#pairs-table", FitTable)
        for table in (usage, pairs, screen.query_one("#triggers-table", FitTable)):
            assert fits(table), table.id
            assert table.region.right <= 80 and table.size.height >= 3, table.id
        rows = shown(usage)
        assert {"persona", "uses", "sessions", "source", "last"} <= set(rows[0])
        assert all(r["uses"].strip().isdigit() and re.fullmatch(r"2026-11-0\d", r["last"]) for r in rows)
        cut = [r["persona"] for r in rows if "…" in r["persona"]]
        assert cut and all(len(n) <= usage.columns["persona"].width for n in cut)  # type: ignore[index]
        assert all("…" in r["a"] or r["a"] in INVOKED for r in shown(pairs))
        proposal = screen.query_one("#proposal", ProposalLine)
        text = str(proposal.render())
        lines = text.split("\n")
        assert 1 <= len(lines) <= 3 and all(len(line) <= proposal.content_region.width for line in lines)
        assert proposal.proposal is not None
        words = [w.strip() for w in " ".join(lines).split(":", 1)[1].split(",")]
        assert all(w in proposal.proposal.hot or re.fullmatch(r"\+\d+ more", w) for w in words), words


async def test_at_200x50_usage_names_are_whole_and_the_bar_shown(history):
    app = app_for(history)
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot, app)
        screen = await open_analytics(pilot, app)
        usage = screen.query_one("#usage-table", FitTable)
        assert fits(usage) and "bar" in usage.columns
        assert {r["persona"] for r in shown(usage)} == set(INVOKED)
        pairs = screen.query_one("#pairs-table", FitTable)
        assert fits(pairs) and all(r["a"] in INVOKED or "…" in r["a"] for r in shown(pairs))
        proposal = screen.query_one("#proposal", ProposalLine)
        assert proposal.proposal is not None
        assert "more" not in str(proposal.render()) and all(n in str(proposal.render()).replace("\n", " ")
                                                            for n in proposal.proposal.hot)
