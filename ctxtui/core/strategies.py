"""Context strategies, migrations between them, and rollback. The API the TUI calls.

* ``eager``: every library persona hot (the "before" baseline; the cap does not apply).
* ``lazy_loading``: at most the cap hot (pins included), plus the CLAUDE.md index of cold ones.
* ``fine_tuned``: a registered fine-tuned model embeds some personas; none of them needs a
  file. The model goes into ``.claude/settings.local.json``. Only pinned personas stay hot.
* ``hybrid``: the fine-tuned model for the personas it covers, lazy loading for the rest.
* ``adaptive``: with a plan of tiers (``tiers=``, computed by the faces from usage and the
  router, ``analytics.adaptive``): lazy loading with that hot set and each persona's tier
  (file, hidden, skill) changed in the same transaction. Without one: picks one of the above
  per context mode (configurable).

Every switch is a :class:`Plan` applied as one journalled transaction that also writes a
history entry; :func:`rollback` restores any entry's files byte for byte.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from ctxtui.core import block_merge, claude_md, claude_settings, journal, tiers
from ctxtui.core.block import (
    block_input,
    check_unedited,
    choose_density,
    claude_md_path,
    decode,
    encode,
    fine_tuned_model,
    read_text,
    registry_path,
    render_claude_md,
)
from ctxtui.core.budget import Budget
from ctxtui.core.config import STRATEGIES
from ctxtui.core.errors import WorkspaceError
from ctxtui.core.history import Entry, History, Snapshot
from ctxtui.core.registry import FineTunedModel, load_registry
from ctxtui.core.tokens import count
from ctxtui.core.workspace import Workspace

__all__ = ["CONCRETE", "NetCostError", "NothingToChange", "Plan", "PlanSummary", "Preview",
           "StrategyError", "apply", "block_input", "choose_density",
           "claude_md_path", "fine_tuned_model", "history", "migrate", "plan", "preview",
           "project", "registry_path", "render_claude_md", "resolve", "rollback", "rollback_target",
           "undo", "undo_target", "write_preview"]

CONCRETE = ("eager", "lazy_loading", "fine_tuned", "hybrid")


class StrategyError(WorkspaceError):
    """A migration that cannot be done; nothing changed."""


Decide = Callable[[Workspace], tuple[list[str], dict[str, str]]]
"""Recomputes a plan of tiers (hot set, tier per persona) from a workspace: :func:`apply`
calls it under the lock, after the re-read, and refuses when the result differs from the
``hot`` and ``tiers`` the user saw (the adaptive proposal is decided from project state)."""


class NetCostError(StrategyError):
    """A plan that would make startup bigger than eager (refused unless forced)."""


class NothingToChange(StrategyError):
    """The change would leave every managed file as it is; nothing is recorded."""



def resolve(ws: Workspace, strategy: str) -> str:
    """A concrete strategy: ``adaptive`` picks by the configured context mode."""
    if strategy not in STRATEGIES:
        raise StrategyError(f"unknown strategy {strategy!r}; choose from {', '.join(STRATEGIES)}")
    if strategy != "adaptive":
        return strategy
    return ws.config.adaptive.pick(ws.config.context_management.mode)


@dataclass
class Plan:
    """What a migration will change, and the budget before and after."""

    from_strategy: str
    to_strategy: str
    requested: str
    reason: str
    hot_after: list[str]
    activate: list[str]
    deactivate: list[str]
    claude_md_path: Path
    claude_md_new: str | None
    settings_new: bytes | None
    model: str | None
    density: str
    tokens_before: int
    tokens_after: int
    eager_tokens: int
    notes: list[str] = field(default_factory=list)
    persona_imports: list[str] = field(default_factory=list)
    kind: str = "migrate"
    request: dict[str, Any] = field(default_factory=dict)
    """The arguments that made this plan: ``apply`` plans again from them under the lock."""
    refusal: str | None = None
    """Why the net-savings guard refuses this plan (None: it pays, or it is eager)."""
    pays_above: int | None = None
    """Roughly how many library personas lazy loading needs to beat eager here."""
    tier_moves: dict[str, str] = field(default_factory=dict)
    """Personas whose tier changes with this plan: name -> ``tiers.MOVES`` (file is hot, cold
    is the file tier out of ``.claude/agents``)."""

    @property
    def net_saving(self) -> int:
        """Eager managed tokens minus this plan's (agent lines and ctxtui's block)."""
        return self.eager_tokens - self.tokens_after

    def heading(self) -> str:
        """``from → to``, and the strategy asked for when another was picked (adaptive)."""
        asked = f" (asked: {self.requested})" if self.requested != self.to_strategy else ""
        return f"{self.from_strategy} → {self.to_strategy}{asked}"

    def changes(self) -> list[str]:
        """Human lines: files to add, remove and rewrite."""
        out = [f"add .claude/agents/ for {n}" for n in self.activate]
        out += [f"remove .claude/agents/ file of {n} (kept in cold storage)" for n in self.deactivate]
        if self.claude_md_new is not None:
            out.append(f"rewrite {self.claude_md_path.name} (ctxtui block)")
        if self.settings_new is not None:
            out.append(f"rewrite .claude/settings.local.json (model: {self.model or 'unset'})")
        out += [f"tier {n}: {'hot file' if t == 'file' else 'cold file' if t == 'cold' else t}"
                for n, t in self.tier_moves.items()]
        return out

    def summary(self) -> PlanSummary:
        """The typed JSON form of the plan."""
        return PlanSummary(
            from_strategy=self.from_strategy, to_strategy=self.to_strategy, requested=self.requested,
            reason=self.reason, hot_after=self.hot_after, activate=self.activate,
            deactivate=self.deactivate, changes=self.changes(), model=self.model,
            density=self.density, tokens_before=self.tokens_before,
            tokens_after=self.tokens_after, eager_tokens=self.eager_tokens,
            notes=self.notes, persona_imports=self.persona_imports,
            net_saving=self.net_saving, refusal=self.refusal, pays_above=self.pays_above,
            tier_moves=self.tier_moves,
        )

    def to_json(self) -> dict[str, Any]:
        """JSON form for ``migrate --dry-run --json``."""
        return msgspec.to_builtins(self.summary())


class PlanSummary(msgspec.Struct, kw_only=True):
    """What ``migrate --dry-run --json`` prints (a stable shape)."""

    from_strategy: str = msgspec.field(name="from")
    to_strategy: str = msgspec.field(name="to")
    requested: str
    reason: str
    hot_after: list[str]
    activate: list[str]
    deactivate: list[str]
    changes: list[str]
    model: str | None
    density: str
    tokens_before: int
    tokens_after: int
    eager_tokens: int
    notes: list[str]
    persona_imports: list[str]
    net_saving: int
    """eager_tokens - tokens_after: what this plan saves against eager, its block included."""
    refusal: str | None
    """Why the net-savings guard refuses it without ``force`` (None: allowed)."""
    pays_above: int | None
    """Roughly how many library personas lazy loading needs here to beat eager."""
    tier_moves: dict[str, str] = {}
    """Tier changes planned with it (adaptive): name -> file (hot), cold, hidden or skill."""


class Preview(msgspec.Struct, kw_only=True):
    """The CLAUDE.md the current hot set would generate (``claude-md`` and the TUI preview)."""

    path: str
    strategy: str
    density: str
    """The density used."""
    costs: dict[str, int]
    """Block tokens per density."""
    default_density: str
    """The density ctxtui picks for this library's size."""
    text: str
    """The whole generated file."""
    block: str
    """The ctxtui block alone."""
    block_tokens: int
    tokens: int
    managed_tokens: int
    """Agent lines and this block, as Claude Code would load them (the budget's managed part)."""
    eager_tokens: int
    """The managed part with every library persona hot and no block."""
    net_saving: int
    """eager_tokens - managed_tokens (negative: this block costs more than it saves)."""
    diff: str
    """Unified diff against the file on disk."""
    changed: bool

    def to_json(self) -> dict[str, Any]:
        """JSON form (``claude-md --json``)."""
        return msgspec.to_builtins(self)


def _lazy_hot(ws: Workspace, wanted: list[str] | None, exclude: set[str],
              state: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The hot set for lazy loading: pins first, then wanted (or the current hot set)."""
    notes = []
    pins = [n for n in ws.pinned if n in ws.library.by_name and n not in exclude]
    missing = [n for n in ws.pinned if n not in ws.library.by_name]
    if missing:
        notes.append(f"pinned persona(s) not in the library: {', '.join(missing)}")
    if wanted is not None:
        unknown = [n for n in wanted if n not in ws.library.by_name and ws.find_hot(n) is None]
        if unknown:
            raise StrategyError(f"not in the library: {', '.join(unknown)}")
        rest = [n for n in wanted if n not in pins and n not in exclude]
        if len(pins) + len(rest) > ws.cap:
            raise StrategyError(
                f"{len(pins) + len(rest)} personas ({len(pins)} pinned) exceed the cap of {ws.cap}"
            )
    else:
        room = max(ws.cap - len(pins), 0)
        current = [h.name for h in ws.hot if h.name not in pins and h.name not in exclude and h.name not in ws.denied]
        if _strategy(ws, state) == "eager" or len(current) > room:
            # Too many to keep (an eager setup): don't guess which matter. Restore the last
            # lazy hot set if there was one; the rest waits for `activate` or auto-optimize.
            keep = [n for n in state.get("lazy_hot", []) if n in ws.library.by_name and n not in pins]
        else:
            keep = current  # what is hot now fits: keep it (files not in the library are adopted)
        rest = [n for n in keep if n in ws.library.by_name or n in current][:room]
        if len(current) > room:  # what would be hot counts the pins: they take slots first
            wanted_hot = f"{len(pins) + len(current)} personas ({len(pins)} pinned)" if pins else f"{len(current)} hot personas"
            notes.append(
                f"{wanted_hot} do not fit the cap of {ws.cap}; {sum(n not in rest for n in current)} go cold. "
                "Choose the hot set with `ctxtui activate NAME` or `ctxtui auto-optimize`"
            )
    return pins + rest, notes


def _strategy(ws: Workspace, state: dict[str, Any]) -> str:
    return state.get("strategy") or ws.config.preferred_strategy


def plan(ws: Workspace, to: str, *, from_: str | None = None, reason: str = "",
         hot: list[str] | None = None, density: str | None = None,
         replace_imports: bool = False, kind: str = "migrate", force: bool = False,
         tiers: dict[str, str] | None = None, decide: Decide | None = None,
         tx: journal.Transaction | None = None) -> Plan:
    """Plan a migration. Raises StrategyError (nothing changes) when it cannot be done.

    ``tiers`` (with ``adaptive`` or ``lazy_loading``): a tier per persona (file, hidden,
    skill; a file persona is hot when in ``hot``), applied in the same transaction.
    ``decide``: how ``hot`` and ``tiers`` were computed from the project; inside a transaction
    it runs again on the state read under the lock, and a different answer is refused (the
    project changed after the proposal was shown; nothing changes).

    Without ``tx`` this is a preview of the files as they are now; :func:`apply` plans
    again inside its transaction (``tx``), from the bytes it will guard. A plan that costs
    more than eager gets a ``refusal`` (the net-savings guard); :func:`apply` refuses it
    unless ``force``.
    """
    request = {"from_": from_, "reason": reason, "hot": hot, "density": density,
               "replace_imports": replace_imports, "kind": kind, "force": force, "tiers": tiers,
               "decide": decide}
    state = ws.read_state(tx) if tx is not None else ws.state()
    if decide is not None and tx is not None:
        _same_decision(decide(ws), hot or [], tiers or {})
    now = _strategy(ws, state)
    if from_ is not None and from_ != now:
        raise StrategyError(f"the workspace is on {now}, not {from_}")
    if tiers is not None and to not in ("adaptive", "lazy_loading"):
        raise StrategyError(f"a plan of tiers goes with adaptive or lazy_loading, not {to}")
    target = "lazy_loading" if tiers is not None else resolve(ws, to)
    moves = _tier_moves(ws, tiers, hot or []) if tiers is not None else {}
    notes: list[str] = []
    model: FineTunedModel | None = None
    if target in ("fine_tuned", "hybrid"):
        model, why = fine_tuned_model(ws)
        if model is None:
            if not ws.config.fine_tuning.fallback_enabled:
                raise StrategyError(f"cannot switch to {target}: {why} (fallback is disabled)")
            notes.append(f"{why}; fell back to lazy_loading")
            reason = f"{reason} [fallback: {why}]".strip()
            target = "lazy_loading"
    covered = set(model.personas) if model else set()
    if target == "eager":
        hot_after = [p.name for p in ws.library.eager()]
        hot_after += [h.name for h in ws.hot if h.name not in ws.library.by_name]
    elif target == "fine_tuned":
        hot_after = [n for n in ws.pinned if n in ws.library.by_name and n not in covered]
        uncovered = [p.name for p in ws.library.unique() if p.name not in covered and p.name not in hot_after]
        if uncovered:
            notes.append(f"{len(uncovered)} persona(s) not embedded by {model.name if model else '?'} stay cold (search index in CLAUDE.md)")
    else:
        hot_after, more = _lazy_hot(ws, hot, covered, state)
        notes += more
    # personas in the hidden or skill tier are the tier command's: a migration leaves them be
    skills = {n for n in ws.tier_records if ws.tier_of(n) == "skill"}
    held = sorted((skills | {h.name for h in ws.hot if h.name in ws.denied}) - set(moves))
    if held and tiers is None:
        notes.append(f"{len(held)} persona(s) in the hidden or skill tier stay as they are: {', '.join(held[:5])}"
                     + (" ..." if len(held) > 5 else ""))
    hot_after = [n for n in dict.fromkeys(hot_after) if n not in skills or moves.get(n) == "file"]
    current_hot = [n for n in ws.hot_names() if n not in ws.denied]
    activate = [n for n in hot_after if n not in current_hot and n not in moves]
    deactivate = list(dict.fromkeys(n for n in current_hot if n not in hot_after and n not in moves))
    linked = [h.name for h in ws.hot if h.name in deactivate and h.persona.is_symlink]
    if linked:  # a hot file that is a link is never moved: it stays hot, where its owner put it
        deactivate = [n for n in deactivate if n not in linked]
        hot_after += [n for n in linked if n not in hot_after]
        notes.append(f"{len(linked)} hot file(s) that are links stay in place (ctxtui never moves a link): "
                     + ", ".join(linked[:5]) + (" ..." if len(linked) > 5 else ""))
    # persona files pulled in with @imports (an eager setup)
    md_path = claude_md_path(ws)
    old_text = decode(tx.read(md_path)) if tx is not None else read_text(md_path)
    persona_paths = {p.path.resolve() for p in ws.library.personas} | {h.persona.path.resolve() for h in ws.hot}
    imports = [ref for ref, _ in claude_md.persona_imports(md_path, persona_paths)]
    drop = imports if (replace_imports and target != "eager") else []
    if imports and not drop and target != "eager":
        notes.append(
            f"{md_path.name} @imports {len(imports)} persona file(s) ({', '.join(imports)}); "
            "use --replace-imports to drop them (the ctxtui block lists them instead)"
        )
    leaving = [h for h in ws.hot if h.name in deactivate]
    hot_personas = [ws.library.by_name[n] for n in hot_after if n in ws.library.by_name]
    hot_personas += [h.persona for h in ws.hot if h.name in hot_after and h.name not in ws.library.by_name]
    before = ws.budget()
    eager = before.eager_startup_tokens
    tried = []
    for d in _densities(ws, target, density):
        text_d, used_d = render_claude_md(ws, target, hot_after, model, d, drop, leaving, text=old_text)
        changed = text_d != old_text and not (not old_text and target == "eager")
        tried.append((ws.budget(hot=hot_personas, claude_md={md_path.absolute(): text_d} if changed else None), text_d, used_d))
        if tried[-1][0].startup_tokens <= eager:
            break  # the richest index that still costs less than eager (chosen by net tokens)
    else:
        tried.sort(key=lambda t: t[0].startup_tokens)  # none pays: the cheapest
    after, new_text, used = tried[-1] if tried[-1][0].startup_tokens <= eager else tried[0]
    md_new = None if new_text == old_text or (not old_text and target == "eager") else new_text
    managed_models = {m.name for m in load_registry(registry_path(ws))} | {state.get("model") or ""}
    settings_path = claude_settings.settings_path(ws.settings.workspace)
    settings_raw = tx.read(settings_path) if tx is not None else claude_settings.read_bytes(settings_path)
    want_model = model.name if target in ("fine_tuned", "hybrid") and model else None
    settings_new = claude_settings.with_model(settings_path, want_model, managed_models - {""}, settings_raw)
    refusal, pays_above = None, None
    if target != "eager" and after.startup_tokens > eager:
        pays_above = _pays_above(ws, target, hot_after, model, eager)
        n = len({p.name for p in ws.library.eager()} | set(ws.hot_names()))
        refusal = (
            f"{target.replace('_', ' ')} costs {after.startup_tokens:,} tokens here against {eager:,} for eager "
            f"(agent lines plus ctxtui's block): your {n} persona{'s are' if n != 1 else ' is'} cheaper hot "
            f"(`ctxtui migrate --to eager`); lazy loading pays above ~{pays_above} personas"
        )
    return Plan(
        from_strategy=now, to_strategy=target, requested=to, reason=reason, hot_after=hot_after,
        activate=activate, deactivate=deactivate, claude_md_path=md_path, claude_md_new=md_new,
        settings_new=settings_new, model=want_model, density=used,
        tokens_before=before.startup_tokens, tokens_after=after.startup_tokens,
        eager_tokens=eager, notes=notes, persona_imports=imports, kind=kind,
        request=request, refusal=refusal, pays_above=pays_above, tier_moves=moves,
    )


def _same_decision(now: tuple[list[str], dict[str, str]], hot: list[str], tiers: dict[str, str]) -> None:
    """Refuse when a plan of tiers decided again under the lock differs from the one shown."""
    hot_now, tiers_now = set(now[0]), dict(now[1])
    diff = [f"{n} {'hot' if n in hot_now else 'not hot'}" for n in sorted(hot_now ^ set(hot))]
    diff += [f"{n} {tiers_now.get(n, 'gone')}" for n in sorted(set(tiers_now) | set(tiers))
             if tiers_now.get(n) != tiers.get(n)]
    if diff:
        raise StrategyError(
            f"the project changed after the proposal was made (now: {', '.join(diff[:4])}"
            + (", ..." if len(diff) > 4 else "") + "); nothing changed; run it again to see the new proposal")


def _tier_moves(ws: Workspace, wanted: dict[str, str], hot: list[str]) -> dict[str, str]:
    """The tier changes a plan of tiers asks for (name -> ``tiers.MOVES``): every persona that
    is or becomes hidden or a skill; plain hot/cold moves are the migration's own."""
    moves: dict[str, str] = {}
    hot_set = set(hot)
    for name, tier in wanted.items():
        if tier not in tiers.TIERS:
            raise StrategyError(f"unknown tier {tier!r} for {name!r}; choose from {', '.join(tiers.TIERS)}")
        want = ("file" if name in hot_set else "cold") if tier == "file" else tier
        now = ws.tier_of(name)
        if want != now and (now in ("hidden", "skill") or want in ("hidden", "skill")):
            moves[name] = want
    return moves


def project(ws: Workspace, strategy: str, hot: list[str], model: FineTunedModel | None = None,
            density: str | None = None) -> tuple[Budget, str]:
    """(startup budget, density) if ``strategy`` ran with this hot set (and model), the CLAUDE.md
    block rendered as a migration would (density by net tokens). For comparisons; no files change."""
    md_path = claude_md_path(ws)
    old_text = read_text(md_path)
    personas = [ws.library.by_name[n] for n in hot if n in ws.library.by_name]
    personas += [h.persona for h in ws.hot if h.name in hot and h.name not in ws.library.by_name]
    eager = ws.budget().eager_startup_tokens
    best: tuple[Budget, str] | None = None
    for d in _densities(ws, strategy, density):
        text, used = render_claude_md(ws, strategy, hot, model, d, text=old_text)
        budget = ws.budget(hot=personas, claude_md={md_path.absolute(): text})
        if budget.startup_tokens <= eager:
            return budget, used
        if best is None or budget.startup_tokens < best[0].startup_tokens:
            best = (budget, used)
    assert best is not None
    return best


def _densities(ws: Workspace, target: str, density: str | None) -> list[str | None]:
    """Densities to try, richest first: an explicit or configured one alone; by default the
    library size's default and then each cheaper one (the first that beats eager wins)."""
    if target == "eager" or density is not None or ws.config.lazy_loading.index_density != "auto":
        return [density]
    if target == "fine_tuned":
        return [None]  # render_claude_md's own default for fine_tuned (search)
    default = claude_md.default_density(len(ws.library.eager()))
    return list(claude_md.DENSITIES[claude_md.DENSITIES.index(default):])


def _pays_above(ws: Workspace, target: str, hot: list[str], model: FineTunedModel | None, eager: int) -> int:
    """About how many library personas lazy loading needs to cost less than eager here: the
    hot ones plus enough cold ones whose saved agent lines pay for the cheapest block."""
    n = len({p.name for p in ws.library.eager()} | set(ws.hot_names()))  # what eager lists
    per_line = eager / n if n else 0
    inp = block_input(ws, target if target != "eager" else "lazy_loading", hot, model)
    block = claude_md.density_costs(inp)["search"]
    if per_line <= 0:
        return n + 1
    return len(set(hot) & set(ws.library.by_name)) + int(block / per_line) + 1


def apply(ws: Workspace, p: Plan) -> Entry:
    """Plan again under the lock from the same request, snapshot, apply atomically and
    record a history entry. ``p`` is updated to what was applied (another ctxtui or an
    editor may have changed the project since it was shown). Returns the entry."""
    history = History(ws.settings)
    request = dict(p.request) or {"reason": p.reason, "kind": p.kind}
    with ws.transaction(f"{p.kind} {p.from_strategy} -> {p.to_strategy}", library=True) as tx:
        fresh = plan(ws, p.requested, tx=tx, **request)
        for f in dataclasses.fields(Plan):
            setattr(p, f.name, getattr(fresh, f.name))
        if p.refusal and not request.get("force"):
            raise NetCostError(f"{p.refusal}; nothing changed (--force switches anyway)")
        state = ws.read_state(tx)
        was = (_strategy(ws, state), state.get("model"), state.get("density"))
        before = history.snapshot(tx, store=False)
        ws.plan_deactivate(p.deactivate, tx, state)
        ws.plan_activate(p.activate, tx, state)
        if p.claude_md_new is not None:
            check_unedited(ws, decode(tx.read(p.claude_md_path)))
            tx.write(p.claude_md_path, encode(p.claude_md_new))
        moved = None
        if p.tier_moves:  # deny rules go into the same settings bytes as the model line
            moved = tiers.plan_moves(ws, tx, state, p.tier_moves, check_cap=False,
                                     settings_raw=p.settings_new if p.settings_new is not None else False)
            p.notes += moved.notes
        settings_path = claude_settings.settings_path(ws.settings.workspace).absolute()
        if p.settings_new is not None and all(st.path.absolute() != settings_path for st in tx.steps):
            tx.write(settings_path, p.settings_new)
        if p.from_strategy in ("lazy_loading", "hybrid"):
            state["lazy_hot"] = [n for n in ws.hot_names() if n not in ws.pinned]
        state["strategy"] = p.to_strategy
        state["model"] = p.model
        state["density"] = p.density if p.density in claude_md.DENSITIES else None
        ws.write_state(tx, state)
        entry = Entry(
            id=history.next_id(), time=_now(), kind=p.kind, from_strategy=p.from_strategy,
            to_strategy=p.to_strategy, reason=p.reason, tokens_before=p.tokens_before,
            tokens_after=p.tokens_after, changes=p.changes(), before=before, notes=p.notes,
        )
        entry.after = history.after_of(before, tx)
        state_rel = history.rel(ws.settings.state_dir / "state.json")
        same_files = {k: v for k, v in entry.after.items() if k != state_rel} == {
            k: v for k, v in before.items() if k != state_rel}
        if same_files and was == (state["strategy"], state["model"], state["density"]):
            # only ctxtui's bookkeeping would change (e.g. the remembered lazy hot set)
            raise NothingToChange(f"nothing to change: the project already matches {p.to_strategy}; nothing recorded")
        history.entry_step(entry, tx)
    if moved is not None:
        tiers.tidy(ws, moved.emptied)
        with ws._locked():  # skill listing lines and deny rules: the budget from the files on disk
            entry.tokens_after = ws.budget().startup_tokens
            history.rewrite_entry(entry)
    ws.emit("migrate", "", frm=p.from_strategy, to=p.to_strategy, reason=p.reason, entry=entry.id, hot=ws.hot_names())
    return entry


def migrate(ws: Workspace, to: str, **kwargs: Any) -> Entry:
    """Plan and apply in one call."""
    return apply(ws, plan(ws, to, **kwargs))


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S")


def _strategy_of(history: History, snap: Snapshot, fallback: str) -> str:
    sha = snap.get(history.rel(history.settings.state_dir / "state.json"))
    if sha is None:
        return fallback
    try:
        return json.loads(history.blob(sha)).get("strategy") or fallback
    except (ValueError, OSError):
        return fallback


def undo_target(entries: list[Entry]) -> Entry | None:
    """The change ``undo`` steps back over: the newest entry that is not an undo and was not
    undone yet (so undo twice goes two changes back)."""
    undone = {e.undoes for e in entries if e.undoes}
    for e in reversed(entries):
        if e.undoes is None and e.id not in undone:
            return e
    return None


def rollback_target(ws: Workspace, *, to: str | None = None, entry_id: str | None = None) -> tuple[Snapshot, str, str | None]:
    """(snapshot to restore, label, id of the change undone or None).

    * neither: undo, the state before the newest change not undone yet;
    * ``entry_id``: the state before that change;
    * ``to``: the most recent earlier state that used that strategy.
    """
    history = History(ws.settings)
    entries = history.entries()
    if not entries:
        raise StrategyError("no history yet: nothing to roll back")
    if entry_id is not None:
        e = history.get(entry_id)
        if e is None:
            raise StrategyError(f"no history entry {entry_id!r} (see `ctxtui history`)")
        return e.before, f"the state before entry {e.id}", None
    if to is not None:
        for i, e in enumerate(reversed(entries)):
            if i and e.to_strategy == to:  # the newest entry's after is the state now
                return e.after, f"the state after entry {e.id} ({to})", None
            if e.from_strategy == to:
                return e.before, f"the state before entry {e.id} ({to})", None
        raise StrategyError(f"no earlier state in the history used {to}")
    last = undo_target(entries)
    if last is None:
        raise StrategyError("nothing left to undo: every recorded change has been stepped back over")
    return last.before, f"the state before entry {last.id}", last.id


class EditedSince(StrategyError):
    """A file the rollback would overwrite was edited after ctxtui's last recorded change.
    ``refusal`` is the message without its last part, which names the CLI's ``--force``
    (``force``): a face with no such flag says what it offers instead."""

    def __init__(self, refusal: str, force: str) -> None:
        super().__init__(f"{refusal}; {force}")
        self.refusal, self.force = refusal, force


def rollback(ws: Workspace, *, to: str | None = None, entry_id: str | None = None, reason: str = "",
             force: bool = False) -> Entry:
    """Restore a snapshot byte for byte and record the rollback as an entry of its own.
    With neither ``to`` nor ``entry_id`` this is :func:`undo`. Raises NothingToChange (and
    records nothing) when the files already match the target, and EditedSince when a file it
    would overwrite was edited after ctxtui's last recorded change (an editor, Claude Code):
    with ``force`` it goes ahead, and the edit stays in this rollback's own snapshot.

    CLAUDE.md (and ``.claude/CLAUDE.md``) edited only outside ctxtui's block is not refused:
    ctxtui's changes to it are stepped back and the edits kept in place
    (:mod:`ctxtui.core.block_merge`); an edited block is refused in one line. A file brought
    back gets the permission bits its snapshot recorded."""
    history = History(ws.settings)
    with ws.transaction("rollback", library=True) as tx:
        target, label, undoes = rollback_target(ws, to=to, entry_id=entry_id)
        tx.label = f"rollback to {label}"
        tokens_before = ws.budget().startup_tokens
        state = ws.read_state(tx)
        before = history.snapshot(tx, store=False)
        entries = history.entries()
        found = next((i for i in range(len(entries) - 1, -1, -1)
                      if target in (entries[i].before, entries[i].after)), None)
        start = found or 0
        # the state being restored: an entry's before (step back over that entry too) or its after
        side = "before" if found is None or entries[found].before == target else "after"
        edited = history.edited_outside(entries, start, before, target)
        kept: dict[str, bytes | None] = {}
        if edited and found is not None:
            kept = _keep_memory_edits(ws, history, tx, edited, entries[found + (side == "after"):], force)
        blocking = [rel for rel in edited if rel not in kept]
        if blocking and not force:
            names = ", ".join(blocking[:3]) + (f" and {len(blocking) - 3} more" if len(blocking) > 3 else "")
            raise EditedSince(
                f"{names} changed outside ctxtui after the change being rolled back, and rolling "
                "back would overwrite that; nothing was changed. Keep or save the edit first",
                "run again with --force to overwrite it (the edit is kept in history: `rollback --id` "
                "of the new entry brings it back)")
        target = dict(target)
        for rel, data in kept.items():  # stored now: the entry's after names it
            if data is None:
                target.pop(rel, None)
            else:
                target[rel] = history.store_blob(data)
        modes = entries[found].modes_of(side) if found is not None else {}
        changes = history.restore_steps(target, tx, modes, frozenset(kept))
        if not tx.steps:
            raise NothingToChange(f"nothing to change: the project already matches {label}; nothing recorded")
        to_strategy = _strategy_of(history, target, ws.config.preferred_strategy)
        notes = [f"restored {label}"] + [f"kept the edits made outside ctxtui's block in {rel}" for rel in kept]
        notes += [f"{rel}: edits made since were overwritten (--force); `ctxtui rollback --id` of this entry "
                  "brings them back" for rel in blocking]
        entry = Entry(
            id=history.next_id(), time=_now(), kind="undo" if undoes else "rollback",
            from_strategy=_strategy(ws, state), to_strategy=to_strategy,
            reason=reason or f"{'undo' if undoes else 'rollback'}: {label}",
            tokens_before=tokens_before, tokens_after=0, changes=changes, before=before,
            after=target, notes=notes, undoes=undoes,
        )
        history.entry_step(entry, tx)
    _tidy_emptied(ws, [st.path for st in tx.steps if st.data is None])
    # The budget after needs the restored files on disk; the entry is ctxtui's own record,
    # so updating its count after the commit cannot lose user data.
    with ws._locked():
        entry.tokens_after = ws.budget().startup_tokens
        history.rewrite_entry(entry)
    ws.emit("rollback", "", to=to_strategy, entry=entry.id, hot=ws.hot_names())
    return entry


def _keep_memory_edits(ws: Workspace, history: History, tx: journal.Transaction, edited: list[str],
                       stepped: list[Entry], force: bool) -> dict[str, bytes | None]:
    """For each memory file in EDITED (CLAUDE.md edited outside ctxtui since the changes being
    stepped back over, STEPPED, oldest first): its bytes with those changes stepped back and
    the edits outside ctxtui's block kept (None: the file goes). A file whose edits cannot be
    kept is left out (the caller refuses, or with ``force`` restores it byte for byte); an
    edited block refuses here, in one line, unless ``force`` (which overwrites the block's
    edit and still keeps the text around it)."""
    def text(sha: str | None) -> str | None:
        return None if sha is None else decode(history.blob(sha))

    kept: dict[str, bytes | None] = {}
    for rel in edited:
        if rel not in block_merge.MEMORY_FILES:
            continue
        now = tx.read(ws.settings.workspace / rel)
        try:
            merged = block_merge.step_back(None if now is None else decode(now),
                                           [(text(e.before.get(rel)), text(e.after.get(rel))) for e in reversed(stepped)],
                                           replace_block=force)
        except block_merge.KeepRefused as exc:
            if exc.block_edited and not force:
                what = ("--force replaces the block and keeps your text outside it" if exc.replaceable else
                        "--force restores the whole file as recorded")
                raise EditedSince(
                    f"{rel}: {exc.why}, and rolling back would overwrite that; nothing was changed. "
                    "Move your text above or below the ctxtui markers (or undo the edit), then retry",
                    f"{what} (`rollback --id` of the new entry brings the edit back)") from None
            continue  # refused below, or with force restored byte for byte
        kept[rel] = None if merged is None else encode(merged)
    return kept


def _tidy_emptied(ws: Workspace, removed: list[Path]) -> None:
    """After a rollback: the folders ctxtui makes for a skill (``.claude/skills/NAME``) or the
    ``/persona`` command (``.claude/commands``) go when the rollback emptied them; rmdir
    refuses a folder that still holds anything."""
    root = ws.settings.workspace.absolute()
    skills, commands = root / ".claude" / "skills", root / ".claude" / "commands"
    tiers.tidy(ws, [path.absolute().parent for path in removed
                    if path.absolute().parent.parent == skills or path.absolute().parent == commands])


def undo(ws: Workspace, reason: str = "", force: bool = False) -> Entry:
    """Step back over one change (the newest not undone yet); again goes one further back."""
    return rollback(ws, reason=reason, force=force)


def preview(ws: Workspace, density: str | None = None, text: str | None = None) -> Preview:
    """The CLAUDE.md the current hot set would generate, each density's cost, and a diff
    (against ``text``, default the file now)."""
    strategy = ws.strategy
    model = fine_tuned_model(ws)[0] if strategy in ("fine_tuned", "hybrid") else None
    hot = ws.hot_names()
    inp = block_input(ws, strategy if strategy != "eager" else "lazy_loading", hot, model)
    costs = claude_md.density_costs(inp)
    asked = density or ws.state().get("density")
    if asked is None and ws.config.lazy_loading.index_density == "auto":
        asked = project(ws, inp.strategy, hot, model)[1]  # by net tokens, as a migration picks it
    used = choose_density(ws, inp, asked)
    path = claude_md_path(ws)
    old_text = read_text(path) if text is None else text
    new_text, _ = render_claude_md(ws, strategy if strategy != "eager" else "lazy_loading", hot, model, used, text=old_text)
    diff = "".join(difflib.unified_diff(
        old_text.splitlines(keepends=True), new_text.splitlines(keepends=True),
        fromfile=f"{path.name} (on disk)", tofile=f"{path.name} (generated)",
    ))
    span = claude_md.block_span(new_text)
    block = new_text[span[0] : span[1]] if span else ""
    projected = ws.budget(claude_md={path.absolute(): new_text})
    return Preview(
        path=str(path), strategy=strategy, density=used, costs=dict(costs),
        default_density=claude_md.default_density(len(inp.cold)),
        text=new_text, block=block, block_tokens=count(block),
        tokens=count(new_text), managed_tokens=projected.startup_tokens,
        eager_tokens=projected.eager_startup_tokens,
        net_saving=projected.eager_startup_tokens - projected.startup_tokens,
        diff=diff, changed=new_text != old_text,
    )


def write_preview(ws: Workspace, density: str | None = None, *, force: bool = False) -> bool:
    """Write the generated CLAUDE.md (atomic, journalled). False if unchanged. Planned
    under the lock from the bytes the write replaces, so a concurrent edit is never lost;
    a hand edit inside the block is refused unless ``force``."""
    history = History(ws.settings)
    with ws.transaction("write CLAUDE.md block") as tx:
        path = claude_md_path(ws)
        text = decode(tx.read(path))
        pv = preview(ws, density, text=text)
        if pv.changed:
            if not force:
                check_unedited(ws, text)
            before = history.snapshot(tx, store=False)
            tokens_before = ws.budget().startup_tokens
            tx.write(path, encode(pv.text))
            entry = Entry(id=history.next_id(), time=_now(), kind="claude-md", from_strategy=ws.strategy,
                          to_strategy=ws.strategy, reason="write the CLAUDE.md block" + (" (--force)" if force else ""),
                          tokens_before=tokens_before, tokens_after=pv.managed_tokens,
                          changes=[f"rewrite {path.name} (ctxtui block)"], before=before)
            entry.after = history.after_of(before, tx)
            history.entry_step(entry, tx)  # undo brings back what was there, a hand edit included
    return pv.changed


def history(ws: Workspace) -> list[Entry]:
    """Every history entry, oldest first."""
    return History(ws.settings).entries()
