"""Auto-optimise the hot set from real usage.

Each invocation counts with a recency weight (half-life in days), giving an expected number
of invocations per session for every library persona. Keeping a persona hot costs its
startup tokens in every session (its line in Claude Code's agent listing, the figure the panes
and ``ctxtui list`` show); keeping it cold costs, each time it is needed, reading its
file (its full tokens). So a persona is worth a hot slot when
``rate x full_tokens > startup_tokens``; the suggested cap is the pins plus those personas.
Within the cap, the hot set is the personas with the most expected invocations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from ctxtui.analytics.transcripts import Session, parse_time
from ctxtui.core import strategies, verdicts
from ctxtui.core.workspace import Workspace


@dataclass
class Candidate:
    """One persona's case for a hot slot."""

    name: str
    rate: float
    startup_tokens: int
    full_tokens: int

    @property
    def worth_hot(self) -> bool:
        """Expected on-demand cost per session exceeds the always-on cost."""
        return self.rate * self.full_tokens > self.startup_tokens


@dataclass
class Proposal:
    """A proposed hot set with its reasons."""

    hot: list[str]
    pinned: list[str]
    cap: int
    suggested_cap: int
    coverage_pct: float
    candidates: list[Candidate] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    tokens_before: int | None = None
    """Startup tokens now (agent lines and ctxtui's block); None until :func:`price` ran."""
    tokens_after: int | None = None
    """Startup tokens once applied, as the migration's dry run counts them."""

    def to_json(self) -> dict:
        """JSON form."""
        return {
            "hot": self.hot, "pinned": self.pinned, "cap": self.cap,
            "suggested_cap": self.suggested_cap, "coverage_pct": self.coverage_pct,
            "candidates": [vars(c) | {"worth_hot": c.worth_hot} for c in self.candidates],
            "reasons": self.reasons,
        }


def rates(sessions: list[Session], half_life_days: float = 14.0, now: datetime | None = None) -> dict[str, float]:
    """Recency-weighted invocations per session, by persona."""
    now = now or max((parse_time(s.end) for s in sessions if s.end), default=datetime.now(timezone.utc))
    weights: dict[str, float] = {}
    session_weight = 0.0
    for s in sessions:
        age = max((now - parse_time(s.end or s.start)).total_seconds() / 86400, 0.0) if (s.end or s.start) else 0.0
        w = 0.5 ** (age / half_life_days)
        session_weight += w
        for inv in s.invocations:
            weights[inv.persona] = weights.get(inv.persona, 0.0) + w
    return {k: v / session_weight for k, v in weights.items()} if session_weight else {}


def propose(ws: Workspace, sessions: list[Session], half_life_days: float = 14.0, *,
            priced: bool = True) -> Proposal:
    """The hot set that covers the most expected invocations within the cap (pins stay).
    ``priced``: with what applying it costs (:func:`price`) among the reasons."""
    r = rates(sessions, half_life_days)
    pins = [n for n in ws.pinned if n in ws.library.by_name]
    personas = [p for p in ws.library.unique() if p.name not in pins]
    listed = verdicts.line_tokens_many([ws.verdict(p) for p in personas])  # what each adds hot
    cands = [
        Candidate(p.name, round(r.get(p.name, 0.0), 4), line, p.full_tokens)
        for p, line in zip(personas, listed, strict=True)
    ]
    cands.sort(key=lambda c: (-c.rate, c.startup_tokens, c.name))
    room = max(ws.cap - len(pins), 0)
    chosen = [c for c in cands if c.rate > 0][:room]
    total = sum(c.rate for c in cands)
    coverage = round(100 * sum(c.rate for c in chosen) / total, 1) if total else 0.0
    worth = [c for c in cands if c.worth_hot]
    suggested = max(1, len(pins) + len(worth))
    reasons = [
        f"{c.name}: {c.rate:.2f} uses/session × {c.full_tokens:,} tokens to load on demand vs {c.startup_tokens:,} always hot"
        for c in chosen
    ]
    if not chosen:
        reasons.append("no library persona was invoked in the analysed sessions; only pins stay hot")
    if suggested != ws.cap:
        reasons.append(
            f"suggested cap {suggested}: {len(worth)} persona(s) cost less hot than loaded on demand"
            + (f", plus {len(pins)} pinned" if pins else "")
        )
    prop = Proposal(pins + [c.name for c in chosen], pins, ws.cap, suggested, coverage, cands[:20], reasons)
    if priced:
        price(ws, prop)
    return prop


def price(ws: Workspace, proposal: Proposal) -> None:
    """Add what applying the proposal costs to its reasons: the startup tokens before and after
    from the migration's own dry run (what ``auto-optimize --dry-run`` prints), and the
    net-savings guard's refusal when it would cost more than eager."""
    try:
        plan = plan_for(ws, proposal)
    except strategies.StrategyError as exc:
        proposal.reasons.insert(0, f"cannot be applied: {exc}")
        return
    proposal.tokens_before, proposal.tokens_after = plan.tokens_before, plan.tokens_after
    cost = [f"startup tokens {plan.tokens_before:,} → {plan.tokens_after:,} (eager {plan.eager_tokens:,})"]
    if plan.refusal:
        cost.append(f"refused unless applied anyway: {plan.refusal}")
    proposal.reasons[:0] = cost  # first, as the strategy confirm says it: before each persona's reason


def plan_for(ws: Workspace, proposal: Proposal, force: bool = False) -> strategies.Plan:
    """The migration to lazy loading that applies a proposal (nothing written)."""
    return strategies.plan(
        ws, "lazy_loading", hot=proposal.hot,
        reason=f"auto-optimize (covers {proposal.coverage_pct}% of expected invocations)", kind="optimize",
        force=force,
    )


def apply(ws: Workspace, proposal: Proposal, dry_run: bool = False,
          force: bool = False) -> strategies.Plan | strategies.Entry:
    """Apply a proposal as a migration to lazy loading (so it can be rolled back). Refused
    when it would cost more than eager (the net-savings guard), unless ``force``."""
    plan = plan_for(ws, proposal, force)
    return plan if dry_run else strategies.apply(ws, plan)
