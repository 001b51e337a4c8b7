"""``ctxtui reset``: take out everything ctxtui added to a project, in one change.

Removed: the CLAUDE.md block (the user's text around it stays byte for byte), the deny rules
of hidden personas, ctxtui's prompt hook and the model it set in ``.claude/settings.local.json``,
the skills it converted (each persona goes back to ``.claude/agents`` as its original file),
the ``/persona`` command it wrote, its own ``persona-manager`` (when unchanged) and a CLAUDE.md
that held nothing but the block. Personas stay as plain agent files; the library, the
cold store and ``hybrid-config.json`` are left alone. The change is journalled with a history
entry, so ``ctxtui rollback`` puts everything back.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass
from pathlib import Path

from ctxtui.core import claude_hooks, claude_md, claude_settings, journal
from ctxtui.core.block import check_unedited, claude_md_path, decode, encode, registry_path
from ctxtui.core.config import bundled_dir
from ctxtui.core.errors import WorkspaceError
from ctxtui.core.history import Entry, History
from ctxtui.core.project_init import PERSONA_COMMAND, PERSONA_COMMAND_TEXT
from ctxtui.core.registry import load_registry
from ctxtui.core.tiers import _Plan  # the tier planner: skill -> original agent file
from ctxtui.core.workspace import Workspace


@dataclass
class ResetResult:
    """What ``reset`` did."""

    changes: list[str]
    notes: list[str]
    entry: str | None

    def to_json(self) -> dict:
        """JSON form."""
        return {"changes": self.changes, "notes": self.notes, "entry": self.entry}


def _bundled_hot(ws: Workspace, tx: journal.Transaction, state: dict) -> list[str]:
    """Hot files ctxtui placed from its own bundled personas (``persona-manager``) and nobody
    changed since: ctxtui's additions, like its block."""
    bundled = bundled_dir("personas").absolute()
    out = []
    for rel, rec in sorted(state.get("hot", {}).items()):
        if not isinstance(rec, dict) or not isinstance(rec.get("source"), str):
            continue
        if not Path(rec["source"]).absolute().is_relative_to(bundled):
            continue
        data = tx.read(ws.settings.agents_dir / rel)
        if data is not None and journal.sha256_bytes(data) == rec.get("sha256") and isinstance(rec.get("name"), str):
            out.append(rec["name"])
    return out


def reset(ws: Workspace, reason: str = "") -> ResetResult:
    """Remove ctxtui's additions (see the module docstring). Raises WorkspaceError (nothing
    changed) when a file it must edit is malformed."""
    history = History(ws.settings)
    root = ws.settings.workspace.absolute()
    changes: list[str] = []
    notes: list[str] = []
    entry: Entry | None = None
    emptied: list = []
    with ws.transaction("reset", library=True) as tx:
        state = ws.read_state(tx)
        before = history.snapshot(tx, store=False)
        tokens_before = ws.budget().startup_tokens
        md = claude_md_path(ws)
        text = decode(tx.read(md))
        if claude_md.block_span(text) is not None:
            check_unedited(ws, text)
            rest = claude_md.splice(text, None)
            if rest:
                tx.write(md, encode(rest))
                changes.append(f"remove the ctxtui block from {md.relative_to(root).as_posix()}")
            else:  # the block was all there was: ctxtui made the file
                tx.remove(md)
                changes.append(f"remove {md.relative_to(root).as_posix()} (only ctxtui's block was in it)")
        own = _bundled_hot(ws, tx, state)
        if own:
            ws.plan_deactivate(own, tx, state)
            changes.append("remove ctxtui's own " + ", ".join(own) + " from .claude/agents (unchanged copies)")
        plan = _Plan(ws, tx, state)
        created = any(r.get("created_settings") for r in plan.records.values() if r.get("tier") == "hidden")
        for name, rec in sorted(plan.records.items()):
            if rec.get("tier") == "skill" and ws.tier_of(name) == "skill":
                plan.from_skill(name, place=True)
            elif rec.get("tier") == "hidden":
                plan.show.add(name)
                plan.records.pop(name)
        changes += plan.lines
        notes += plan.notes
        emptied = plan.emptied
        settings_path = claude_settings.settings_path(ws.settings.workspace)
        raw = tx.read(settings_path)
        new = raw
        if new is not None:
            shown = claude_settings.with_deny(settings_path, new, set(), plan.show) if plan.show else None
            if shown is not None:
                new = shown
                changes.append("remove deny rules " + ", ".join(f"Agent({n})" for n in sorted(plan.show))
                               + " from .claude/settings.local.json")
            try:
                unhooked = claude_hooks.plan_remove(new)
            except claude_hooks.HookSettingsError as exc:
                raise WorkspaceError(str(exc)) from None
            if unhooked != new:
                new = unhooked
                changes.append("remove ctxtui's prompt hook from .claude/settings.local.json")
            managed = {m.name for m in load_registry(registry_path(ws))} | {state.get("model") or ""}
            unmodel = claude_settings.with_model(settings_path, None, managed - {""}, new)
            if unmodel is not None:
                new = unmodel
                changes.append("remove the model ctxtui set from .claude/settings.local.json")
        if new is not None and new != raw:
            if created and not claude_settings.parse(settings_path, new):
                tx.remove(settings_path)  # ctxtui made it for its rules, and nothing else is in it
                changes.append("remove .claude/settings.local.json (ctxtui created it; it is empty now)")
            else:
                tx.write(settings_path, new)
        cmd = root / PERSONA_COMMAND
        have = tx.read(cmd)
        if have == PERSONA_COMMAND_TEXT.encode():
            tx.remove(cmd)
            changes.append(f"remove {PERSONA_COMMAND}")
            emptied.append(cmd.parent)
        elif have is not None:
            notes.append(f"{PERSONA_COMMAND} was edited; left as it is")
        for key in ("strategy", "model", "density", "tiers", "lazy_hot"):
            state.pop(key, None)
        state["strategy"] = "eager"  # the personas in .claude/agents are all there is
        if not changes:
            return ResetResult([], notes, None)
        ws.write_state(tx, state)
        entry = Entry(
            id=history.next_id(), time=time.strftime("%Y-%m-%dT%H:%M:%S"), kind="reset",
            from_strategy=ws.strategy, to_strategy="eager", reason=reason or "ctxtui reset",
            tokens_before=tokens_before, tokens_after=tokens_before, changes=changes, before=before,
            notes=notes,
        )
        entry.after = history.after_of(before, tx)
        history.entry_step(entry, tx)
    for folder in emptied:  # only folders this change emptied; rmdir refuses a non-empty one
        with contextlib.suppress(OSError):
            ws.guard.check_folders(folder)
            os.rmdir(folder)
    with ws._locked():
        entry.tokens_after = ws.budget().startup_tokens
        history.rewrite_entry(entry)
    ws.emit("reset", "", entry=entry.id)
    return ResetResult(changes, notes, entry.id)
