"""Context strategies, migrations between them, and rollback. The API the TUI calls.

* ``eager``: every library persona hot (the "before" baseline; the cap does not apply).
* ``lazy_loading``: at most the cap hot (pins included), plus the CLAUDE.md index of cold ones.
* ``fine_tuned``: a registered fine-tuned model embeds some personas; none of them needs a
  file. The model goes into ``.claude/settings.local.json``. Only pinned personas stay hot.
* ``hybrid``: the fine-tuned model for the personas it covers, lazy loading for the rest.
* ``adaptive``: picks one of the above per context mode (configurable).

Every switch is a :class:`Plan` applied as one journalled transaction that also writes a
history entry; :func:`rollback` restores any entry's files byte for byte.
"""

from __future__ import annotations

import difflib
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ctxtui.core import claude_md, claude_settings, journal
from ctxtui.core.config import STRATEGIES, bundled_dir
from ctxtui.core.history import Entry, History, Snapshot
from ctxtui.core.registry import FineTunedModel, load_registry, pick_model
from ctxtui.core.tokens import count
from ctxtui.core.workspace import HotPersona, Workspace, WorkspaceError

CONCRETE = ("eager", "lazy_loading", "fine_tuned", "hybrid")


class StrategyError(WorkspaceError):
    """A migration that cannot be done; nothing changed."""


def resolve(ws: Workspace, strategy: str) -> str:
    """A concrete strategy: ``adaptive`` picks by the configured context mode."""
    if strategy not in STRATEGIES:
        raise StrategyError(f"unknown strategy {strategy!r}; choose from {', '.join(STRATEGIES)}")
    if strategy != "adaptive":
        return strategy
    mode = ws.config["context_management"]["mode"]
    table = ws.config["adaptive"]
    return table.get(mode, table["default"])


def registry_path(ws: Workspace) -> Path:
    """The fine-tuned model registry file."""
    return ws.settings.workspace / ws.config["fine_tuning"]["model_registry"]


def fine_tuned_model(ws: Workspace) -> tuple[FineTunedModel | None, str]:
    """The model to use and, if it cannot be used, why."""
    models = load_registry(registry_path(ws))
    key = "research" if ws.config["fine_tuning"]["experimental"] else "production"
    model = pick_model(models, ws.config["models"].get(key))
    if model is None:
        return None, f"no fine-tuned model is registered in {registry_path(ws)}"
    if not model.healthy:
        return None, f"fine-tuned model {model.name} is marked unhealthy"
    return model, ""


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

    def changes(self) -> list[str]:
        """Human lines: files to add, remove and rewrite."""
        out = [f"add .claude/agents/ for {n}" for n in self.activate]
        out += [f"remove .claude/agents/ file of {n} (kept in cold storage)" for n in self.deactivate]
        if self.claude_md_new is not None:
            out.append(f"rewrite {self.claude_md_path.name} (ctxtui block)")
        if self.settings_new is not None:
            out.append(f"rewrite .claude/settings.local.json (model: {self.model or 'unset'})")
        return out

    def to_json(self) -> dict[str, Any]:
        """JSON form for ``migrate --dry-run --json``."""
        return {
            "from": self.from_strategy, "to": self.to_strategy, "requested": self.requested,
            "reason": self.reason, "hot_after": self.hot_after, "activate": self.activate,
            "deactivate": self.deactivate, "changes": self.changes(), "model": self.model,
            "density": self.density, "tokens_before": self.tokens_before,
            "tokens_after": self.tokens_after, "eager_tokens": self.eager_tokens,
            "notes": self.notes, "persona_imports": self.persona_imports,
        }


def claude_md_path(ws: Workspace) -> Path:
    """The project memory file ctxtui writes its block into."""
    root = ws.settings.workspace
    if not (root / "CLAUDE.md").exists() and (root / ".claude" / "CLAUDE.md").is_file():
        return root / ".claude" / "CLAUDE.md"
    return root / "CLAUDE.md"


def _read_text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        return ""
    except UnicodeDecodeError:
        raise StrategyError(f"{path} is not UTF-8; ctxtui will not rewrite it") from None


def block_input(ws: Workspace, strategy: str, hot: list[str], model: FineTunedModel | None,
                leaving: Iterable[HotPersona] = ()) -> claude_md.BlockInput:
    """What the block is rendered from, for a hot set under a strategy (``leaving``: hot
    files the same change sends to cold storage)."""
    covered = set(model.personas) if model and strategy in ("fine_tuned", "hybrid") else set()
    cold = [p for p in ws.library_after(leaving) if p.name not in set(hot) and p.name not in covered]
    return claude_md.BlockInput(
        strategy=strategy, hot=hot, pinned=ws.pinned, cold=cold,
        variants=ws.library.same_body(), roots=[*ws.library.roots, bundled_dir("personas")],
        workspace=ws.settings.workspace, model=model.name if covered else None,
        covered=sorted(covered) if covered else None,
    )


def choose_density(ws: Workspace, inp: claude_md.BlockInput, density: str | None) -> str:
    """The requested density, the configured one, or the default for the library's size."""
    d = density or ws.config["lazy_loading"]["index_density"]
    return claude_md.default_density(len(inp.cold)) if d == "auto" else d


def render_claude_md(ws: Workspace, strategy: str, hot: list[str], model: FineTunedModel | None,
                     density: str | None = None, drop_refs: list[str] | None = None,
                     leaving: Iterable[HotPersona] = ()) -> tuple[str, str]:
    """(new CLAUDE.md text, density used). Eager has no block."""
    text = _read_text(claude_md_path(ws))
    if drop_refs:
        span = claude_md.block_span(text)
        if span is None:
            text = claude_md.drop_imports(text, drop_refs)
        else:
            text = claude_md.drop_imports(text[: span[0]], drop_refs) + text[span[0] : span[1]] + claude_md.drop_imports(text[span[1] :], drop_refs)
    if strategy == "eager":
        return claude_md.splice(text, None), "none"
    inp = block_input(ws, strategy, hot, model, leaving)
    used = "search" if strategy == "fine_tuned" and density is None else choose_density(ws, inp, density)
    return claude_md.splice(text, claude_md.render_block(inp, used)), used


def _lazy_hot(ws: Workspace, wanted: list[str] | None, exclude: set[str]) -> tuple[list[str], list[str]]:
    """The hot set for lazy loading: pins first, then wanted (or the current hot set)."""
    notes = []
    pins = [n for n in ws.pinned if n in ws.library.by_name and n not in exclude]
    missing = [n for n in ws.pinned if n not in ws.library.by_name]
    if missing:
        notes.append(f"pinned persona(s) not in the library: {', '.join(missing)}")
    if wanted is not None:
        unknown = [n for n in wanted if n not in ws.library.by_name]
        if unknown:
            raise StrategyError(f"not in the library: {', '.join(unknown)}")
        rest = [n for n in wanted if n not in pins and n not in exclude]
        if len(pins) + len(rest) > ws.cap:
            raise StrategyError(
                f"{len(pins) + len(rest)} personas ({len(pins)} pinned) exceed the cap of {ws.cap}"
            )
    else:
        room = max(ws.cap - len(pins), 0)
        current = [h.name for h in ws.hot if h.name not in pins and h.name not in exclude]
        if ws.strategy == "eager" or len(current) > room:
            # Too many to keep (an eager setup): don't guess which matter. Restore the last
            # lazy hot set if there was one; the rest waits for `activate` or auto-optimize.
            keep = [n for n in ws.state().get("lazy_hot", []) if n in ws.library.by_name and n not in pins]
            if len(current) > room:
                notes.append(
                    f"{len(current)} hot personas do not fit the cap of {ws.cap}; they go cold. Choose the hot "
                    "set with `ctxtui activate NAME` or `ctxtui auto-optimize`"
                )
        else:
            keep = current  # what is hot now fits: keep it (files not in the library are adopted)
        rest = [n for n in keep if n in ws.library.by_name or n in current][:room]
    return pins + rest, notes


def plan(ws: Workspace, to: str, *, from_: str | None = None, reason: str = "",
         hot: list[str] | None = None, density: str | None = None,
         replace_imports: bool = False, kind: str = "migrate") -> Plan:
    """Plan a migration. Raises StrategyError (nothing changes) when it cannot be done."""
    now = ws.strategy
    if from_ is not None and from_ != now:
        raise StrategyError(f"the workspace is on {now}, not {from_}")
    target = resolve(ws, to)
    notes: list[str] = []
    model: FineTunedModel | None = None
    if target in ("fine_tuned", "hybrid"):
        model, why = fine_tuned_model(ws)
        if model is None:
            if not ws.config["fine_tuning"]["fallback_enabled"]:
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
        hot_after, more = _lazy_hot(ws, hot, covered)
        notes += more
    current_hot = ws.hot_names()
    activate = [n for n in hot_after if n not in current_hot]
    deactivate = [n for n in current_hot if n not in hot_after]
    blocked = [h for h in ws.hot if h.name in deactivate and h.persona.is_symlink]
    if blocked:
        raise StrategyError(f"{blocked[0].persona.path} is a symlink; remove it by hand first")
    # persona files pulled in with @imports (an eager setup)
    md_path = claude_md_path(ws)
    persona_paths = {p.path.resolve() for p in ws.library.personas} | {h.persona.path.resolve() for h in ws.hot}
    imports = [ref for ref, _ in claude_md.persona_imports(md_path, persona_paths)]
    drop = imports if (replace_imports and target != "eager") else []
    if imports and not drop and target != "eager":
        notes.append(
            f"{md_path.name} @imports {len(imports)} persona file(s) ({', '.join(imports)}); "
            "use --replace-imports to drop them (the ctxtui block lists them instead)"
        )
    leaving = [h for h in ws.hot if h.name in deactivate]
    new_text, used = render_claude_md(ws, target, hot_after, model, density, drop, leaving)
    old_text = _read_text(md_path)
    md_new = None if new_text == old_text or (not old_text and target == "eager") else new_text
    managed_models = {m.name for m in load_registry(registry_path(ws))} | {ws.state().get("model") or ""}
    settings_path = claude_settings.settings_path(ws.settings.workspace)
    want_model = model.name if target in ("fine_tuned", "hybrid") and model else None
    settings_new = claude_settings.with_model(settings_path, want_model, managed_models - {""})
    before = ws.budget()
    hot_personas = [ws.library.by_name[n] for n in hot_after if n in ws.library.by_name]
    hot_personas += [h.persona for h in ws.hot if h.name in hot_after and h.name not in ws.library.by_name]
    after = ws.budget(hot=hot_personas, claude_md={md_path.absolute(): new_text} if md_new is not None else None)
    return Plan(
        from_strategy=now, to_strategy=target, requested=to, reason=reason, hot_after=hot_after,
        activate=activate, deactivate=deactivate, claude_md_path=md_path, claude_md_new=md_new,
        settings_new=settings_new, model=want_model, density=used,
        tokens_before=before.startup_tokens, tokens_after=after.startup_tokens,
        eager_tokens=before.eager_startup_tokens, notes=notes, persona_imports=imports, kind=kind,
    )


def apply(ws: Workspace, p: Plan) -> Entry:
    """Snapshot, apply atomically and record a history entry. Returns the entry."""
    history = History(ws.settings)
    with journal.locked(ws.state_dir):
        before = history.snapshot()
        tx = journal.Transaction(ws.state_dir, f"{p.kind} {p.from_strategy} -> {p.to_strategy}")
        state = ws.state()
        state.setdefault("hot", {})
        ws.plan_deactivate(p.deactivate, tx, state)
        ws.plan_activate(p.activate, tx, state)
        if p.claude_md_new is not None:
            tx.write(p.claude_md_path, p.claude_md_new.encode(), expect=journal.file_sha256(p.claude_md_path))
        if p.settings_new is not None:
            path = claude_settings.settings_path(ws.settings.workspace)
            tx.write(path, p.settings_new, expect=journal.file_sha256(path))
        if p.from_strategy in ("lazy_loading", "hybrid"):
            state["lazy_hot"] = [n for n in ws.hot_names() if n not in ws.pinned]
        state["strategy"] = p.to_strategy
        state["model"] = p.model
        state["density"] = p.density if p.density in claude_md.DENSITIES else None
        tx.write(ws.state_dir / "state.json", ws.state_bytes(state))
        entry = Entry(
            id=history.next_id(), time=_now(), kind=p.kind, from_strategy=p.from_strategy,
            to_strategy=p.to_strategy, reason=p.reason, tokens_before=p.tokens_before,
            tokens_after=p.tokens_after, changes=p.changes(), before=before, notes=p.notes,
        )
        entry.after = history.after_of(before, tx)
        history.entry_step(entry, tx)
        tx.commit()
    ws.refresh()
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


def rollback_target(ws: Workspace, *, to: str | None = None, entry_id: str | None = None) -> tuple[Snapshot, str]:
    """The snapshot to restore and a label. Default: undo the last entry."""
    history = History(ws.settings)
    entries = history.entries()
    if not entries:
        raise StrategyError("no history yet: nothing to roll back")
    if entry_id is not None:
        e = history.get(entry_id)
        if e is None:
            raise StrategyError(f"no history entry {entry_id!r} (see `ctxtui history`)")
        return e.after, f"entry {e.id}"
    if to is not None:
        for e in reversed(entries):
            if e.to_strategy == to:
                return e.after, f"entry {e.id} ({to})"
        first = entries[0]
        if first.from_strategy == to:
            return first.before, f"the state before entry {first.id} ({to})"
        raise StrategyError(f"no history entry ends in {to}")
    last = entries[-1]
    return last.before, f"the state before entry {last.id}"


def rollback(ws: Workspace, *, to: str | None = None, entry_id: str | None = None, reason: str = "") -> Entry:
    """Restore a snapshot byte for byte and record the rollback as an entry of its own."""
    history = History(ws.settings)
    target, label = rollback_target(ws, to=to, entry_id=entry_id)
    tokens_before = ws.budget().startup_tokens
    with journal.locked(ws.state_dir):
        before = history.snapshot()
        tx = journal.Transaction(ws.state_dir, f"rollback to {label}")
        changes = history.restore_steps(target, tx)
        to_strategy = _strategy_of(history, target, ws.config["context_management"]["strategy"])
        entry = Entry(
            id=history.next_id(), time=_now(), kind="rollback", from_strategy=ws.strategy,
            to_strategy=to_strategy, reason=reason or f"rollback to {label}",
            tokens_before=tokens_before, tokens_after=0, changes=changes, before=before,
            after=dict(target), notes=[f"restored {label}"],
        )
        _apply_rollback(ws, history, entry, tx)
    ws.emit("rollback", "", to=to_strategy, entry=entry.id, hot=ws.hot_names())
    return entry


def _apply_rollback(ws: Workspace, history: History, entry: Entry, tx: journal.Transaction) -> None:
    history.entry_step(entry, tx)
    tx.commit()
    ws.refresh()
    # The budget after needs the restored files on disk; the entry is ctxtui's own record,
    # so updating its count after the commit cannot lose user data.
    entry.tokens_after = ws.budget().startup_tokens
    data = json.dumps(entry.to_json(full=True), indent=1).encode()
    journal.atomic_write(history.entries_dir / f"{entry.id}.json", data)


def preview(ws: Workspace, density: str | None = None) -> dict[str, Any]:
    """The CLAUDE.md the current hot set would generate, each density's cost, and a diff."""
    strategy = ws.strategy
    model = fine_tuned_model(ws)[0] if strategy in ("fine_tuned", "hybrid") else None
    hot = ws.hot_names()
    inp = block_input(ws, strategy if strategy != "eager" else "lazy_loading", hot, model)
    costs = claude_md.density_costs(inp)
    used = choose_density(ws, inp, density or ws.state().get("density"))
    new_text, _ = render_claude_md(ws, strategy if strategy != "eager" else "lazy_loading", hot, model, used)
    path = claude_md_path(ws)
    old_text = _read_text(path)
    diff = "".join(difflib.unified_diff(
        old_text.splitlines(keepends=True), new_text.splitlines(keepends=True),
        fromfile=f"{path.name} (on disk)", tofile=f"{path.name} (generated)",
    ))
    span = claude_md.block_span(new_text)
    block = new_text[span[0] : span[1]] if span else ""
    return {
        "path": str(path), "strategy": strategy, "density": used, "costs": costs,
        "default_density": claude_md.default_density(len(inp.cold)),
        "text": new_text, "block": block, "block_tokens": count(block),
        "tokens": count(new_text), "diff": diff, "changed": new_text != old_text,
    }


def write_preview(ws: Workspace, density: str | None = None) -> bool:
    """Write the generated CLAUDE.md (atomic, journalled, recorded). False if unchanged."""
    pv = preview(ws, density)
    if not pv["changed"]:
        return False
    path = Path(pv["path"])
    with journal.locked(ws.state_dir):
        tx = journal.Transaction(ws.state_dir, "write CLAUDE.md block")
        tx.write(path, pv["text"].encode(), expect=journal.file_sha256(path))
        tx.commit()
    ws.refresh()
    return True


def history(ws: Workspace) -> list[Entry]:
    """Every history entry, oldest first."""
    return History(ws.settings).entries()
