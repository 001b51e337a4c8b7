"""Tiers per persona: how each one is kept in or out of Claude Code's startup context.

* ``file``: today's move. Hot: a plain agent file in ``.claude/agents`` (listed at startup);
  cold: only in the library / cold store (not listed, reachable through the CLAUDE.md index).
* ``hidden``: the file stays in ``.claude/agents`` and a deny rule ``Agent(NAME)`` in
  ``.claude/settings.local.json`` (per developer, not committed) drops it from the listing.
  Claude Code 2.1.112 reads ``Task(NAME)`` as the same rule (legacy alias). Hidden agents
  cost nothing at startup and cannot be launched until shown again. Agents of enabled
  plugins and user-scope agents can only be hidden (ctxtui never moves their files).
* ``skill``: converted to ``.claude/skills/NAME/SKILL.md`` with ``context: fork`` and
  ``agent: general-purpose``: one skills-listing line at startup, the body loads only when
  Claude (or the user) invokes it, and it runs in a forked subagent with the persona's
  ``model``. Differences Claude Code imposes (read in its 2.1.112 code): the body arrives as
  the task prompt of the fork, not as a system prompt; the persona's ``tools`` become
  ``allowed-tools``, which grant those tools without asking but do not restrict the fork to
  them. The original bytes are kept in ``.claude/ctxtui/tiers/`` so converting back restores
  the agent file byte for byte.

Every change is one journalled transaction with a history entry: ``ctxtui rollback``
restores the agent files, skills, ``settings.local.json`` and state byte for byte.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from ctxtui.core import claude_settings, journal
from ctxtui.core.config import TIERS
from ctxtui.core.errors import CapError, WorkspaceError
from ctxtui.core.history import Entry, History
from ctxtui.core.persona import Persona, parse_persona
from ctxtui.core.safe_io import read_regular
from ctxtui.core.workspace import Workspace, file_stem

__all__ = ["MOVES", "TIERS", "Moves", "TierChange", "TierResult", "plan_moves", "set_tier", "skill_text", "tidy"]


class TierChange(msgspec.Struct, kw_only=True):
    """One persona's move between tiers."""

    name: str
    before: str
    after: str


class TierResult(msgspec.Struct, kw_only=True):
    """What ``set_tier`` did (``tier --json``)."""

    tier: str
    changed: list[TierChange]
    unchanged: list[str]
    changes: list[str]
    """File-level lines (add, remove, rewrite)."""
    notes: list[str]
    entry: str | None
    """The history entry to roll back to undo it (None when nothing changed)."""

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        return msgspec.to_builtins(self)


def _q(text: str) -> str:
    # a JSON string is a valid YAML double-quoted scalar: no newline, colon or marker in a
    # value can break out of its key
    return json.dumps(text, ensure_ascii=False)


def skill_text(persona: Persona, dirname: str) -> str:
    """SKILL.md for a persona: a forked skill with its description, model and tools."""
    lines = ["---", f"name: {_q(dirname)}", f"description: {_q(persona.description)}",
             "context: fork", "agent: general-purpose"]
    if persona.model and persona.model != "inherit":
        lines.append(f"model: {_q(persona.model)}")
    if persona.tools:
        lines.append(f"allowed-tools: {_q(', '.join(persona.tools))}")
    body = persona.body if persona.body.endswith("\n") else persona.body + "\n"
    return "\n".join([*lines, "---", ""]) + body


class _Plan:
    """One tier change being planned inside a transaction."""

    def __init__(self, ws: Workspace, tx: journal.Transaction, state: dict[str, Any]) -> None:
        self.ws, self.tx, self.state = ws, tx, state
        self.records: dict[str, dict[str, Any]] = state.setdefault("tiers", {})
        self.hide: set[str] = set()
        self.show: set[str] = set()
        self.lines: list[str] = []
        self.notes: list[str] = []
        self.placed: set[str] = set()  # names whose agent file this plan puts back
        self.emptied: list[Path] = []  # skill folders whose SKILL.md this plan removes
        self.stamp = time.strftime("%Y%m%dT%H%M%S")
        self.root = ws.settings.workspace.absolute()

    def rel(self, path: Path) -> str:
        return path.absolute().relative_to(self.root).as_posix()

    # -------------------------------------------------------------- skill <-> file
    def to_skill(self, name: str) -> None:
        ws, tx = self.ws, self.tx
        hot = [h for h in ws.hot if h.name == name]
        if len(hot) > 1:
            raise WorkspaceError(f"{name!r} is defined in {len(hot)} files in {ws.settings.agents_dir}; keep one first")
        if hot:
            path = hot[0].persona.path
            if hot[0].persona.is_symlink or path.is_symlink():
                raise WorkspaceError(f"{path} is a symlink; ctxtui leaves symlinks in place")
            data = tx.read(path)
            if data is None:
                raise WorkspaceError(f"{path} disappeared while planning; nothing changed")
            agent_rel = path.absolute().relative_to(ws.settings.agents_dir.absolute()).as_posix()
            tx.remove(path)
            self.state["hot"].pop(agent_rel, None)
            self.lines.append(f"remove .claude/agents/{agent_rel}")
        else:
            persona = ws.library.get(name)
            if persona is None or not persona.usable:
                raise WorkspaceError(f"{name!r} cannot become a skill: {persona.problem if persona else 'not in the library'}")
            try:
                data = read_regular(persona.path)
            except OSError as exc:
                raise WorkspaceError(f"cannot read {persona.path} ({exc.strerror or exc}); reload the library") from None
            path, agent_rel = persona.path, ""
        persona = parse_persona(path, data)
        if not persona.usable:
            raise WorkspaceError(f"{name!r} cannot become a skill: {persona.problem}")
        sha = journal.sha256_bytes(data)
        kept = ws.state_dir.absolute() / "tiers" / f"{file_stem(name)}-{sha[:12]}.md"
        old = tx.read(kept)
        if old is None:
            tx.write(kept, data, expect=None)
        elif old != data:
            raise WorkspaceError(f"{kept} holds other bytes; move it aside first")
        dirname = file_stem(name)
        skill = ws.settings.workspace.absolute() / ".claude" / "skills" / dirname / "SKILL.md"
        if tx.read(skill) is not None:
            raise WorkspaceError(f"{self.rel(skill)} already exists; ctxtui will not replace a skill it did not write")
        text = skill_text(persona, dirname).encode("utf-8", "surrogateescape")
        tx.write(skill, text, expect=None)
        self.lines.append(f"add {self.rel(skill)}")
        self.records[name] = {
            "tier": "skill", "skill": self.rel(skill), "dir": dirname, "sha256": journal.sha256_bytes(text),
            "kept": self.rel(kept), "source_sha": sha, "agent": agent_rel,
            "description": persona.description,
        }

    def from_skill(self, name: str, place: bool) -> None:
        """Remove the skill; put the original agent file back when ``place``."""
        ws, tx = self.ws, self.tx
        rec = self.records.pop(name)
        skill = self.root / rec["skill"]
        ws.guard.target(skill, remove=True)
        current = tx.read(skill)
        if current is not None:
            if journal.sha256_bytes(current) != rec.get("sha256"):
                keep = ws.state_dir.absolute() / "versions" / rec.get("dir", file_stem(name)) / \
                    f"SKILL-{self.stamp}-{journal.sha256_bytes(current)[:8]}.md"
                if tx.read(keep) is None:
                    tx.write(keep, current)
                self.notes.append(f"{rec['skill']} was edited; that version is kept in {self.rel(keep)}")
            tx.remove(skill)
            self.emptied.append(skill.parent)
            self.lines.append(f"remove {rec['skill']}")
        if not place:
            return
        data = self._original(name, rec)
        agents = ws.settings.agents_dir.absolute()
        target = agents / rec["agent"] if rec.get("agent") else None
        taken = {st.path for st in tx.steps}
        if target is None or os.path.lexists(target) or target in taken or not target.is_relative_to(agents):
            target = ws._hot_target(parse_persona(agents / "x.md", data), taken)
        tx.write(target, data, expect=None)
        rel = target.relative_to(agents).as_posix()
        self.state["hot"][rel] = {"name": name, "source": str(self.root / rec["kept"]),
                                  "sha256": journal.sha256_bytes(data),
                                  "activated": time.strftime("%Y-%m-%dT%H:%M:%S")}
        self.placed.add(name)
        self.lines.append(f"add .claude/agents/{rel} (the original bytes)")

    def _original(self, name: str, rec: dict[str, Any]) -> bytes:
        """The persona's bytes from before it became a skill."""
        want = rec.get("source_sha")
        kept = self.root / rec.get("kept", "")
        data = self.tx.read(kept) if rec.get("kept") else None
        if data is not None and journal.sha256_bytes(data) == want:
            return data
        for p in self.ws.library.personas:
            if p.sha256 == want:
                with contextlib.suppress(OSError):
                    return read_regular(p.path)
        raise WorkspaceError(f"the original file of {name!r} is missing from {rec.get('kept')}; cannot restore it")

    # -------------------------------------------------------------- cold -> hot
    def place_cold(self, name: str) -> None:
        self.ws.plan_activate([name], self.tx, self.state)
        self.placed.add(name)
        self.lines.append(f"add .claude/agents/ file of {name}")


MOVES = ("file", "hidden", "skill", "cold")
"""What a move can ask for: the three tiers, ``file`` meaning a hot (listed) agent file, and
``cold``: the file tier out of ``.claude/agents`` (the library or cold store only)."""


@dataclass
class Moves:
    """What :func:`plan_moves` planned into a transaction."""

    changed: list[TierChange]
    unchanged: list[str]
    lines: list[str]
    notes: list[str]
    emptied: list[Path]
    """Skill folders this change empties (remove them after the commit, see :func:`tidy`)."""


def plan_moves(ws: Workspace, tx: journal.Transaction, state: dict[str, Any], moves: Mapping[str, str], *,
               settings_raw: bytes | None | bool = False, check_cap: bool = True) -> Moves:
    """Plan each persona's move (name -> one of :data:`MOVES`) into ``tx`` and ``state``.

    ``settings_raw``: the ``settings.local.json`` bytes to start from when another step of
    the same change rewrites them (default: read through ``tx``). Raises WorkspaceError
    (nothing is committed) for an unknown name, a plugin or user-scope agent asked to become
    a skill or to go cold, or a deny rule in the shared ``settings.json``; CapError when
    ``check_cap`` and the files made hot would pass the cap.
    """
    settings_path = claude_settings.settings_path(ws.settings.workspace)
    if settings_raw is False:
        settings_raw = tx.read(settings_path)
    assert not isinstance(settings_raw, bool)
    local_denied = claude_settings.denied_agents(claude_settings.parse(settings_path, settings_raw))
    plan = _Plan(ws, tx, state)
    changed: list[TierChange] = []
    unchanged: list[str] = []
    for name, want in moves.items():
        if want not in MOVES:
            raise WorkspaceError(f"unknown tier {want!r}; choose from {', '.join(TIERS)}")
        tier = "file" if want == "cold" else want
        now = ws.tier_of(name)
        hot = ws.find_hot(name) is not None
        outside = ":" in name or (not hot and any(u.name == name for u in ws.user_hot))
        known = hot or outside or name in ws.library.by_name or now == "skill"
        if not known:
            raise WorkspaceError(f"no persona named {name!r} in the library or .claude/agents")
        if outside and want in ("skill", "cold"):
            kind = "a plugin's agent" if ":" in name else "a user-scope agent"
            raise WorkspaceError(f"{name!r} is {kind}; it can only be hidden (ctxtui never moves its file)")
        if want == "cold" and now == "file" and not hot:
            unchanged.append(name)
            continue
        if want != "cold" and tier == now and (tier != "file" or hot or outside):
            unchanged.append(name)
            continue
        if now == "skill":
            plan.from_skill(name, place=want in ("file", "hidden"))
        if now == "hidden":
            if name in local_denied:
                plan.show.add(name)
            elif want != "cold":  # going cold, the file leaves: the team's rule can stay
                raise WorkspaceError(
                    f"{name!r} is hidden by a deny rule in .claude/settings.json (shared with the team); "
                    "ctxtui only edits settings.local.json: remove the rule there"
                )
        if want == "hidden":
            if not hot and not outside and name not in plan.placed:
                plan.place_cold(name)  # a hidden file takes no slot
            plan.hide.add(name)
        elif want == "file" and not hot and not outside and name not in plan.placed:
            plan.place_cold(name)
        elif want == "cold" and hot and now != "skill":
            ws.plan_deactivate([name], tx, state)
            plan.lines.append(f"remove .claude/agents/ file of {name} (kept in cold storage)")
        elif want == "skill":
            plan.to_skill(name)
        changed.append(TierChange(name=name, before=now, after=tier))
    if check_cap:
        # project files that become listed: unhidden, back from a skill, or placed from cold
        shown = [c.name for c in changed if moves[c.name] == "file"
                 and (ws.find_hot(c.name) is not None or c.name in plan.placed)]
        visible = len(ws.visible_hot())
        if shown and visible + len(shown) > ws.cap:
            raise CapError(
                f"making {', '.join(shown)} a hot file would make {visible + len(shown)} hot; the cap is "
                f"{ws.cap}. Deactivate some first, or choose the hidden or skill tier"
            )
    line = ws.plan_deny(tx, state, hide=plan.hide, show=plan.show, raw=settings_raw)
    if line is not None:
        plan.lines.append(line)
    return Moves(changed=changed, unchanged=unchanged, lines=plan.lines, notes=plan.notes, emptied=plan.emptied)


def tidy(ws: Workspace, emptied: list[Path]) -> None:
    """After the commit: remove the folders a change emptied (rmdir refuses a full one), and
    ``.claude/skills`` itself once its last skill folder went."""
    skills = (ws.settings.workspace / ".claude" / "skills").absolute()
    for folder in emptied:
        folder = folder.absolute()
        for gone in (folder, skills) if folder.parent == skills else (folder,):
            with contextlib.suppress(OSError):
                ws.guard.check_folders(gone)
                os.rmdir(gone)


def set_tier(ws: Workspace, names: list[str], tier: str, reason: str = "") -> TierResult:
    """Move personas to a tier in one journalled, rollback-able change.

    Raises WorkspaceError (nothing changed) for an unknown name, a plugin or user-scope
    agent asked to become a file or skill, or a broken ``settings.local.json``; CapError when
    ``file`` would make more hot than the cap.
    """
    if tier not in TIERS:
        raise WorkspaceError(f"unknown tier {tier!r}; choose from {', '.join(TIERS)}")
    names = list(dict.fromkeys(names))
    if not names:
        raise WorkspaceError("name at least one persona")
    history = History(ws.settings)
    with ws.transaction(f"tier {' '.join(names)} {tier}", library=True) as tx:
        state = ws.read_state(tx)
        before_snap = history.snapshot(tx, store=False)
        tokens_before = ws.budget().startup_tokens
        moves = plan_moves(ws, tx, state, dict.fromkeys(names, tier))
        if not moves.changed:
            return TierResult(tier=tier, changed=[], unchanged=moves.unchanged, changes=[], notes=[], entry=None)
        ws.sync_block(tx, state)  # a hidden or skill persona is not listed as hot in the block
        ws.write_state(tx, state)
        entry = Entry(
            id=history.next_id(), time=time.strftime("%Y-%m-%dT%H:%M:%S"), kind="tier",
            from_strategy=ws.strategy, to_strategy=ws.strategy,
            reason=reason or f"tier {' '.join(c.name for c in moves.changed)} {tier}",
            tokens_before=tokens_before, tokens_after=tokens_before, changes=moves.lines,
            before=before_snap, notes=moves.notes,
        )
        entry.after = history.after_of(before_snap, tx)
        history.entry_step(entry, tx)
    tidy(ws, moves.emptied)
    with ws._locked():
        entry.tokens_after = ws.budget().startup_tokens
        history.rewrite_entry(entry)
    for c in moves.changed:
        ws.emit("tier", c.name, before=c.before, after=c.after, entry=entry.id)
    return TierResult(tier=tier, changed=moves.changed, unchanged=moves.unchanged, changes=moves.lines,
                      notes=moves.notes, entry=entry.id)
