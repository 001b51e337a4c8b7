"""The view model: plain data the views render, built from the core off the UI thread.

Data flows one way: files -> index (core) -> this model -> widgets. Every rule comes from the
core: the cold pane is ``Workspace.cold()`` (what ``ctxtui list --cold`` prints), the budget is
``Workspace.budget()``; last-used times come from the usage analysis and ctxtui's own events.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the core is imported where rows are built: not before the first frame
    from ctxtui.core.budget import Budget
    from ctxtui.core.claude_code import AgentVerdict
    from ctxtui.core.history import Entry
    from ctxtui.core.persona import Persona
    from ctxtui.core.workspace import Workspace


@dataclass(frozen=True)
class Row:
    """One persona row in a pane."""

    key: str
    name: str
    startup: int
    full: int
    flags: tuple[str, ...]
    description: str
    last_used: float = 0.0


@dataclass
class Model:
    """Everything the main screen shows."""

    cold: list[Row]
    hot: list[Row]
    cap: int
    budget: Budget
    strategy: str
    history: list[Entry]
    problems: list[str] = field(default_factory=list)
    user_hot: list[Row] = field(default_factory=list)
    personas: dict[str, Persona] = field(default_factory=dict)
    verdicts: dict[str, AgentVerdict] = field(default_factory=dict)
    """Claude Code's verdict on each shown persona, by name."""
    listed: int = 0
    """Project hot files that count against the cap (``Workspace.visible_hot``)."""
    tiers: dict[str, str] = field(default_factory=dict)
    """Each persona's tier (``Workspace.tiers``): file, hidden or skill (rows kept other than as
    a plain file carry it as a flag)."""


def _flags(p: Persona, extra: list[str] | None = None, verdict: AgentVerdict | None = None) -> tuple[str, ...]:
    out = list(extra or [])
    if p.status.value != "ok" and p.status.value not in out:
        out.append(p.status.value)
    if verdict is not None and not verdict.loaded:
        out.append("skipped by Claude Code")
    return tuple(out)


@dataclass
class PaneRows:
    """What the two panes show: every row with its figures and flags (tier flags included)."""

    cold: list[Row]
    hot: list[Row]
    user_hot: list[Row]
    cap: int
    listed: int
    """Project hot files that count against the cap (``Workspace.visible_hot``)."""
    tiers: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    """What the workspace recovered on reading (shown once)."""


def pane_rows(ws: Workspace, last_used: dict[str, float] | None = None,
              verdict: Callable[[Persona], AgentVerdict] | None = None) -> PaneRows:
    """The panes' rows from the workspace: the cold pane is ``Workspace.cold()``, startup is
    the listing line Claude Code sends (0 when it skips the file), tiers are ``Workspace.tiers``.
    VERDICT is Claude Code's verdict on a persona (default ``Workspace.verdict``)."""
    from ctxtui.core import verdicts as cc_verdicts

    used = last_used or {}
    verdict = verdict or ws.verdict  # each file is read once per refresh, however often it is asked
    cold_personas = ws.cold()
    judged = [verdict(p) for p in [*(h.persona for h in ws.hot), *(h.persona for h in ws.user_hot),
                                   *cold_personas]]
    sizes = iter(zip(judged, cc_verdicts.line_tokens_many(judged), strict=True))
    hot = [
        Row(str(h.persona.path), h.name, next(sizes)[1], h.persona.full_tokens,
            tuple(h.flags), h.persona.description, used.get(h.name, 0.0))
        for h in ws.hot
    ]
    user_hot = [  # user scope (~/.claude/agents): loaded too, shown, but ctxtui does not move it
        Row(str(h.persona.path), h.name, next(sizes)[1], h.persona.full_tokens,
            ("user", *h.flags), h.persona.description, used.get(h.name, 0.0))
        for h in ws.user_hot
    ]
    cold = [
        Row(str(p.path), p.name, (vs := next(sizes))[1], p.full_tokens, _flags(p, verdict=vs[0]),
            p.description, used.get(p.name, 0.0))
        for p in cold_personas
    ]
    tiers = ws.tiers()

    def flagged(rows: list[Row]) -> list[Row]:
        return [replace(r, flags=(tier, *r.flags)) if (tier := tiers.get(r.name, "file")) != "file" else r
                for r in rows]

    return PaneRows(cold=flagged(cold), hot=flagged(hot), user_hot=user_hot, cap=ws.cap,
                    listed=len(ws.visible_hot()), tiers=tiers, problems=list(ws.recovered))


def last_used(workspace: Path, invoked_at: dict[str, float] | None = None) -> dict[str, float]:
    """When each persona was last used: invoked in a session (INVOKED_AT, from the usage
    analysis) or moved by ctxtui (its events), whichever is later."""
    from ctxtui.analytics.events import EventStore

    out = dict(invoked_at or {})
    try:
        for e in EventStore.default().events(workspace):
            if e.persona:
                out[e.persona] = max(out.get(e.persona, 0.0), e.time)
    except Exception:  # noqa: BLE001 - an unreadable event store only costs the sort
        pass
    return out


def build_model(ws: Workspace, last_used: dict[str, float] | None = None) -> Model:
    """Snapshot the workspace into view data (rows, budget, history, personas and verdicts)."""
    from ctxtui.core import strategies  # the history list only: kept off the start-up imports

    rows = pane_rows(ws, last_used)
    verdict = ws.verdict
    personas = {p.name: p for p in ws.library.personas if ws.library.by_name.get(p.name) is p}
    personas.update({h.name: h.persona for h in ws.user_hot if h.name not in personas})
    personas.update({h.name: h.persona for h in ws.hot})
    return Model(
        cold=rows.cold, hot=rows.hot, user_hot=rows.user_hot, cap=rows.cap, budget=ws.budget(),
        strategy=ws.strategy, history=strategies.history(ws), problems=rows.problems, personas=personas,
        verdicts={n: verdict(p) for n, p in personas.items()}, listed=rows.listed, tiers=rows.tiers,
    )


