"""The adaptive strategy's proposal: a hot set and a tier per persona, from this project's usage
and from how well the router brings each persona in on its own.

Tiers (issue 13): ``file`` (a plain agent file; listed when hot, out of the project when cold),
``hidden`` (the file stays in ``.claude/agents``; a deny rule keeps it out of the listing) and
``skill`` (one listing line; Claude can call it by itself and its body loads only when used).

Per session, a persona costs:

- hot ``file``: its agent listing (``startup_tokens``) at every start; Claude calls it natively;
- ``skill``: its skill listing line (``skill_tokens``) at every start; Claude calls it natively
  (the body arrives as the task prompt of a forked subagent, not as its system prompt, so
  behaviour can differ);
- ``hidden`` or cold ``file``: nothing at start; when it is needed, the router's hint line and
  the file read (``full_tokens``), but only when the router names it; otherwise it is missed.

The rule, in order: pins stay hot; a persona whose expected on-demand cost exceeds its listing
(``rate x full_tokens > startup_tokens``) competes for the hot slots (most used first, up to the
cap); of the rest, one the router reliably names on held-out prompts is left to the router
(``hidden`` when its file is in the agents folder or it comes from a plugin, else cold
``file``), one used but not reliably named becomes a ``skill`` (plugin agents can only be
hidden), and one never used is hidden or stays cold. :func:`propose` is pure: it only proposes;
applying it is a journalled migration the user confirms.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from ctxtui.analytics import optimize, router
from ctxtui.analytics.router import Prediction
from ctxtui.analytics.router_model import project_key
from ctxtui.analytics.transcripts import Session
from ctxtui.core import verdicts
from ctxtui.core.persona import Persona
from ctxtui.core.tokens import count
from ctxtui.core.workspace import Workspace

TIERS = ("file", "hidden", "skill")
HINT_TOKENS = 45
"""The router hook's line of context, in tokens (one sentence naming the persona and a path)."""


@dataclass(frozen=True)
class RouterFigures:
    """How the router did for one persona on held-out prompts, at its threshold."""

    needed: int
    """Prompts that led to this persona."""
    fires: int
    """Prompts on which the router named it."""
    right: int
    """Of those, prompts that did lead to it."""

    @property
    def recall(self) -> float:
        """Share of the prompts that needed it on which the router named it."""
        return self.right / self.needed if self.needed else 0.0

    @property
    def precision(self) -> float:
        """Share of its namings that were right."""
        return self.right / self.fires if self.fires else 0.0


def router_figures(preds: Iterable[Prediction], threshold: float | router.Bar) -> dict[str, RouterFigures]:
    """Per-persona figures from held-out predictions (``router.Calibration.predictions``)."""
    return {n: RouterFigures(*row) for n, row in router.persona_counts(preds, threshold).items()}


def figures_from_model(model: Mapping) -> dict[str, RouterFigures]:
    """The per-persona figures a cached router model keeps (empty for an older model)."""
    counts = model.get("persona_counts")
    if not isinstance(counts, dict):
        return {}
    return {n: RouterFigures(*row) for n, row in counts.items()
            if isinstance(n, str) and isinstance(row, list) and len(row) == 3
            and all(isinstance(x, int) and not isinstance(x, bool) and x >= 0 for x in row)}


@dataclass(frozen=True)
class PersonaStats:
    """What the proposal knows about one persona."""

    name: str
    startup_tokens: int
    """Its agent listing at every session start when hot."""
    full_tokens: int
    """Reading its whole file, when it is brought in on demand."""
    skill_tokens: int
    """Its skill listing line at every session start when a skill."""
    rate: float
    """Expected uses per session (recency-weighted, ``optimize.rates``)."""
    listed_tokens: int = 0
    """What it costs at every session start now (0 when hidden or cold)."""
    in_agents_folder: bool = False
    """Its file is in the project's ``.claude/agents`` (so it can be hidden in place)."""
    plugin: bool = False
    """Installed by a plugin: it can only be hidden."""
    pinned: bool = False
    router: RouterFigures | None = None


@dataclass(frozen=True)
class Decision:
    """The proposed tier of one persona, why, and what it costs."""

    name: str
    tier: str
    hot: bool
    startup_tokens: int
    """At every session start, after the change."""
    on_demand_tokens: float
    """Expected per session to bring it in when needed (router hint + file read)."""
    reason: str

    def to_json(self) -> dict:
        """JSON form."""
        return {**vars(self), "on_demand_tokens": round(self.on_demand_tokens, 1)}


@dataclass
class AdaptivePlan:
    """A proposed hot set and tiers, with the token figures behind them."""

    decisions: list[Decision]
    cap: int
    startup_before: int
    startup_after: int
    notes: list[str] = field(default_factory=list)
    decide: Callable[[Workspace], tuple[list[str], dict[str, str]]] | None = None
    """The same rule on the same usage and router figures for a workspace as it is then: the
    migration runs it again under the lock (``strategies.plan(decide=)``), so a project changed
    since this proposal was shown is noticed, not applied over."""

    @property
    def hot(self) -> list[str]:
        """Personas proposed hot (plain listed agent files)."""
        return [d.name for d in self.decisions if d.hot]

    @property
    def tiers(self) -> dict[str, str]:
        """Tier by persona name."""
        return {d.name: d.tier for d in self.decisions}

    @property
    def on_demand_after(self) -> float:
        """Expected tokens per session spent bringing cold personas in."""
        return sum(d.on_demand_tokens for d in self.decisions)

    def to_json(self) -> dict:
        """JSON form (for ``migrate --to adaptive --dry-run --json``)."""
        return {"hot": self.hot, "tiers": self.tiers, "cap": self.cap,
                "startup_before": self.startup_before, "startup_after": self.startup_after,
                "on_demand_after": round(self.on_demand_after, 1), "notes": self.notes,
                "decisions": [d.to_json() for d in self.decisions]}


def _reliable(r: RouterFigures | None, min_recall: float, min_precision: float, min_needed: int) -> bool:
    return r is not None and r.needed >= min_needed and r.recall >= min_recall and r.precision >= min_precision


def _router_text(r: RouterFigures | None) -> str:
    if r is None or not r.needed:
        return "the router has no held-out prompts for it"
    return f"the router named it on {r.recall:.0%} of {r.needed} held-out prompts that needed it ({r.precision:.0%} right)"


def propose(stats: Iterable[PersonaStats], cap: int, *, min_recall: float = 0.5, min_precision: float = 0.8,
            min_needed: int = 5, skill_budget_tokens: int | None = None,
            hint_tokens: int = HINT_TOKENS) -> AdaptivePlan:
    """The hot set (pins first, then the most used personas worth a listing, up to ``cap``) and
    a tier for every persona; see the module docstring for the rule. ``skill_budget_tokens``
    is Claude Code's skill listing budget, when known: skills past it are listed by name only."""
    items = sorted(stats, key=lambda s: (-s.rate, s.startup_tokens, s.name))
    pins = [s for s in items if s.pinned]
    room = max(cap - len(pins), 0)
    worth = [s for s in items if not s.pinned and s.rate * s.full_tokens > s.startup_tokens]
    hot = {s.name for s in pins} | {s.name for s in worth[:room]}
    out: list[Decision] = []
    notes: list[str] = []
    skill_total = 0
    for s in items:
        use = f"{s.rate:.2f} uses/session"
        if s.name in hot:
            why = ("pinned" if s.pinned else
                   f"{use} x {s.full_tokens:,} tokens on demand > {s.startup_tokens:,} tokens listed")
            out.append(Decision(s.name, "file", True, s.startup_tokens, 0.0, f"hot: {why}"))
            continue
        left_out = s in worth  # worth a listing, but the cap is full
        cap_text = " (worth a hot slot, but the cap is full)" if left_out else ""
        if s.rate <= 0:
            tier = "hidden" if s.in_agents_folder or s.plugin else "file"
            where = "hidden in place" if tier == "hidden" else "stays cold"
            out.append(Decision(s.name, tier, False, 0, 0.0, f"{where}: not used in the analysed sessions"))
            continue
        r = s.router
        if _reliable(r, min_recall, min_precision, min_needed) or (s.plugin and not left_out):
            assert r is not None or s.plugin
            tier = "hidden" if s.in_agents_folder or s.plugin else "file"
            recall = r.recall if r is not None else 0.0
            cost = s.rate * recall * (s.full_tokens + hint_tokens)
            why = (f"{use}; {_router_text(r)}: the hook brings it in" if _reliable(r, min_recall, min_precision, min_needed)
                   else f"{use}; plugin agents can only be hidden; {_router_text(r)}")
            out.append(Decision(s.name, tier, False, 0, cost, f"{tier}: {why}{cap_text}"))
            continue
        if s.plugin:  # worth a slot, cap full, router unreliable: hidden is all a plugin allows
            out.append(Decision(s.name, "hidden", False, 0, 0.0,
                                f"hidden: {use}; plugin agents can only be hidden; {_router_text(r)}{cap_text}"))
            continue
        skill_total += s.skill_tokens
        over = skill_budget_tokens is not None and skill_total > skill_budget_tokens
        out.append(Decision(
            s.name, "skill", False, s.skill_tokens, 0.0,
            f"skill: {use}; {_router_text(r)}, so Claude should be able to call it by itself: "
            f"{s.skill_tokens:,} listing tokens instead of {s.startup_tokens:,}{cap_text}"
            + ("; over the skill listing budget, Claude Code lists it by name only" if over else ""),
        ))
    if any(d.tier == "skill" for d in out):
        notes.append("a skill's body arrives as the task prompt of a forked subagent, not as its system "
                     "prompt: behaviour can differ from the agent file")
    before = sum(s.listed_tokens for s in items)
    after = sum(d.startup_tokens for d in out)
    notes.append(f"startup listing {before:,} -> {after:,} tokens; about {sum(d.on_demand_tokens for d in out):,.0f} "
                 "tokens per session expected to bring cold personas in when the router names them")
    return AdaptivePlan(out, cap, before, after, notes)


def stats_from(personas: Iterable[Persona], rates: Mapping[str, float], *, figures: Mapping[str, RouterFigures],
               listed: Mapping[str, int], in_agents_folder: Iterable[str] = (), plugins: Iterable[str] = (),
               pinned: Iterable[str] = (), skill_tokens: Mapping[str, int] | None = None) -> list[PersonaStats]:
    """PersonaStats for library personas. ``listed`` is what each costs at start now;
    ``skill_tokens`` the skill listing cost per name (tiers.py's count; when missing, the
    agent listing is used, an upper bound)."""
    folder, plug, pins = set(in_agents_folder), set(plugins), set(pinned)
    out = []
    for p in personas:
        name, startup = p.name, p.startup_tokens
        out.append(PersonaStats(
            name=name, startup_tokens=startup, full_tokens=p.full_tokens,
            skill_tokens=(skill_tokens or {}).get(name, startup), rate=float(rates.get(name, 0.0)),
            listed_tokens=int(listed.get(name, 0)), in_agents_folder=name in folder, plugin=name in plug,
            pinned=name in pins, router=figures.get(name),
        ))
    return out


def project_sessions(ws: Workspace, sessions: Iterable[Session]) -> list[Session]:
    """The sessions Claude Code ran in this project (by working folder, else transcript folder)."""
    root = str(ws.settings.workspace.absolute())
    key = project_key(root)
    return [s for s in sessions if (s.cwd == root if s.cwd else s.project == key)]


def skill_line_tokens(name: str, description: str) -> int:
    """One skills-listing line, ``- NAME: DESCRIPTION`` (cut at 1,536 characters, as Claude
    Code 2.1.112 does), before any collapse under the listing budget."""
    text = description if len(description) <= 1536 else description[:1535] + "\u2026"
    return count(f"\n- {name}: {text}")


def workspace_stats(ws: Workspace, sessions: list[Session], model: Mapping | None,
                    half_life_days: float = 14.0) -> list[PersonaStats]:
    """PersonaStats of every library persona and project agent file of ``ws``, from this
    project's ``sessions`` (usage rates) and a router ``model`` (its held-out figures)."""
    rates = optimize.rates(sessions, half_life_days) if sessions else {}
    figures = figures_from_model(model) if model is not None else {}
    skills = {name: tokens for name, _, tokens in ws.skill_lines()}
    personas: dict[str, Persona] = {p.name: p for p in ws.library.unique()}
    for h in ws.hot:
        personas.setdefault(h.name, h.persona)
    folder = {h.name for h in ws.hot}
    visible = {h.name for h in ws.visible_hot()}
    out = []
    for name, p in personas.items():
        startup = verdicts.line_tokens(ws.verdict(p))
        if not startup:
            continue  # Claude Code skips this file: no tier changes what it costs
        listed = startup if name in visible else skills.get(name, 0)
        out.append(PersonaStats(
            name=name, startup_tokens=startup, full_tokens=p.full_tokens,
            skill_tokens=skill_line_tokens(name, p.description), rate=float(rates.get(name, 0.0)),
            listed_tokens=listed, in_agents_folder=name in folder, pinned=name in ws.pinned,
            router=figures.get(name),
        ))
    return out


def propose_for(ws: Workspace, sessions: list[Session], model: Mapping | None,
                half_life_days: float = 14.0) -> AdaptivePlan:
    """:func:`propose` for a workspace: its cap, its skill listing budget (1% of the window),
    this project's usage and the router's figures. Pure: nothing is written. The plan's
    ``decide`` recomputes the hot set and tiers from a workspace as it is when called."""

    def proposal(w: Workspace) -> AdaptivePlan:
        return propose(workspace_stats(w, sessions, model, half_life_days), w.cap,
                       skill_budget_tokens=w.settings.window // 100)

    def decide(w: Workspace) -> tuple[list[str], dict[str, str]]:
        again = proposal(w)
        return again.hot, again.tiers

    plan = proposal(ws)
    plan.decide = decide
    if model is None or not figures_from_model(model):
        plan.notes.insert(0, "no router model with held-out figures: no persona is left to the router "
                             "(`ctxtui router train` builds one)")
    elif min((bar := router.Bar.of(dict(model))).threshold, bar.weak_threshold) >= router.NEVER:
        plan.notes.insert(0, "the router has too little data to fire yet: no persona is left to it")
    return plan
