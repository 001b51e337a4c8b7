"""``lint`` and ``fix`` over a workspace: which files, where a fix is written, one transaction.

Files looked at: the project's hot folder (every ``*.md`` below ``.claude/agents``, as Claude
Code finds them), the cold store, and every configured library folder. A fix is written

* in place for hot files and cold-store files (both are inside the project);
* as a copy in the cold store for a persona from a library folder outside the project (or
  not in a location ctxtui manages): nothing outside the project is ever written, and the
  cold store comes first in the library, so the fixed copy is the one ctxtui uses.

Every write goes through :meth:`Workspace.transaction` (lock, plan from the bytes read under
the lock, preconditions, journal) together with a history entry of kind ``fix``, so
``rollback`` restores every original byte for byte and removes the copies it added.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ctxtui.core import journal
from ctxtui.core.claude_code.agents import agent_files, resolve
from ctxtui.core.claude_code.profiles import Profile, newest
from ctxtui.core.errors import CtxtuiError, UnsafePathError
from ctxtui.core.fix import FixResult, fix_bytes
from ctxtui.core.history import Entry, History
from ctxtui.core.library import discover
from ctxtui.core.lint import Finding, LintResult, lint_bytes
from ctxtui.core.safe_io import read_regular
from ctxtui.core.workspace import Workspace, file_stem

__all__ = ["AgentFile", "FixItem", "FixReport", "apply_fixes", "lint_workspace", "plan_fixes"]

MAX_AGENT_BYTES = 16 * 1024 * 1024


class FixError(CtxtuiError):
    """A fix that cannot be done as asked; nothing changed."""


@dataclass
class AgentFile:
    """One agent file ctxtui looks at, with its lint."""

    path: Path
    where: str
    """``hot`` (project ``.claude/agents``), ``cold`` (cold store) or ``library``."""
    lint: LintResult
    data: bytes = b""

    def to_json(self) -> dict[str, Any]:
        """JSON form for ``lint --json``."""
        return {"where": self.where, **self.lint.to_json()}


@dataclass
class FixItem:
    """What fix does (or would do) to one file."""

    source: Path
    where: str
    dest: Path | None
    """Where the fixed bytes go (the file itself, or its copy in the cold store)."""
    result: FixResult
    old: bytes | None = None
    """Bytes at DEST before (None: the copy is new)."""

    def to_json(self) -> dict[str, Any]:
        """JSON form for ``fix --json``."""
        return {"source": str(self.source), "where": self.where,
                "dest": str(self.dest) if self.dest else None, **self.result.to_json()}


@dataclass
class FixReport:
    """The outcome of ``fix``: one item per file considered, and the history entry."""

    items: list[FixItem] = field(default_factory=list)
    entry: Entry | None = None
    dry_run: bool = False

    @property
    def written(self) -> list[FixItem]:
        """Items whose fixed bytes are (or would be) written."""
        return [i for i in self.items if i.result.status == "fixed" and i.dest is not None]


def _read(path: Path) -> bytes | None:
    try:
        return read_regular(path, MAX_AGENT_BYTES)
    except OSError:
        return None


def _files(ws: Workspace, profile: Profile) -> list[tuple[Path, str]]:
    """(path, where) of every agent file: hot, then cold store, then library folders."""
    s = ws.settings
    out: list[tuple[Path, str]] = [(p, "hot") for p in agent_files(s.agents_dir, profile)]
    seen = {p.resolve() for p, _ in out}
    cold = s.cold_store.absolute()
    for root in ws.library_roots():
        root = Path(root).absolute()
        where = "cold" if root == cold else "library"
        if not root.is_dir():
            continue
        for p in discover(root):
            if p.resolve() not in seen:
                seen.add(p.resolve())
                out.append((p, where))
    return out


def lint_workspace(ws: Workspace, names: list[str] | None = None,
                   every: tuple[Profile, ...] | None = None) -> list[AgentFile]:
    """Lint every agent file of the workspace (only NAMES' files when given), with
    ``duplicate-name`` findings for hot files Claude Code does not list because another file
    of the same name wins."""
    files: list[AgentFile] = []
    for path, where in _files(ws, newest()):
        data = _read(path)
        if data is None:
            continue
        files.append(AgentFile(path, where, lint_bytes(str(path), data, every), data))
    hot = [f for f in files if f.where == "hot"]
    profile = newest()
    verdicts = [f.lint.verdicts.get(profile.version) for f in hot]
    agent_set = resolve([("projectSettings", [v for v in verdicts if v is not None])], profile)
    for f, v in zip(hot, verdicts, strict=True):
        if v is not None and v.shadowed_by:
            f.lint.findings.append(Finding(
                "duplicate-name", "warning",
                f"another hot file defines {v.name!r} and Claude Code lists that one: "
                f"{v.shadowed_by}", "rename one of them, or deactivate the one you do not want"))
    del agent_set
    if names:
        wanted = set(names)
        files = [f for f in files if f.lint.name in wanted or f.path.stem in wanted]
        missing = wanted - {f.lint.name for f in files} - {f.path.stem for f in files}
        if missing:
            raise FixError(f"no agent file named {', '.join(sorted(missing))}")
    return files


def plan_fixes(ws: Workspace, names: list[str] | None, *, tx: journal.Transaction | None = None,
               every: tuple[Profile, ...] | None = None) -> list[FixItem]:
    """What ``fix`` would write for NAMES (None: every file). Inside ``tx`` the in-place
    files and the copies' destinations are read through it, so the bytes fixed are the
    bytes the transaction's preconditions guard."""
    items: list[FixItem] = []
    cold = ws.settings.cold_store.absolute()
    taken: dict[Path, Path] = {}
    provided = set()  # names the hot folder or cold store already has (the copy would lose)
    for f in lint_workspace(ws, names, every):
        in_place = f.where in ("hot", "cold")
        why_not = _why_not_writable(ws, f.path) if in_place else None
        if why_not:
            items.append(FixItem(f.path, f.where, None, FixResult(
                str(f.path), None, "cannot", why_not, name=f.lint.name, lint=f.lint)))
            continue
        data = (tx.read(f.path) if tx is not None and in_place else f.data)
        if data is None:
            continue
        result = fix_bytes(data, str(f.path), every)
        if f.where == "cold":
            provided.add(result.name or f.lint.name)
        if result.status != "fixed":
            items.append(FixItem(f.path, f.where, None, result))
            continue
        if in_place:
            items.append(FixItem(f.path, f.where, f.path, result, data))
            continue
        if result.name in provided:
            result = FixResult(str(f.path), None, "cannot", "the cold store already has a "
                               f"persona named {result.name!r}; fix that one", name=result.name)
            items.append(FixItem(f.path, f.where, None, result))
            continue
        dest = cold / f"{file_stem(result.name or f.path.stem)}.md"
        if dest in taken:
            result = FixResult(str(f.path), None, "cannot", f"{taken[dest]} is copied to {dest} "
                               "already", name=result.name)
            items.append(FixItem(f.path, f.where, None, result))
            continue
        old = tx.read(dest) if tx is not None else _read(dest)
        if old is not None and old != result.data:
            result = FixResult(str(f.path), None, "cannot", f"{dest} exists with other content",
                               name=result.name)
            items.append(FixItem(f.path, f.where, None, result))
            continue
        taken[dest] = f.path
        provided.add(result.name)
        item = FixItem(f.path, f.where, dest, result, old)
        if old == result.data:
            item.result = FixResult(str(f.path), None, "unchanged", f"fixed copy already in {dest}",
                                    name=result.name)
            item.dest = None
        items.append(item)
    return items


def _why_not_writable(ws: Workspace, path: Path) -> str | None:
    """Why a hot or cold-store file cannot be fixed in place (None: it can)."""
    try:
        ws.guard.target(path)
    except UnsafePathError as exc:
        return str(exc)
    if path.is_symlink():
        return "a symlink; ctxtui never writes through links"
    rel = path.absolute().relative_to(ws.settings.workspace.absolute())
    if any(part.startswith(".") for part in rel.parts[2:]):
        return "in a hidden folder, outside what history can restore; fix it by hand"
    return None


def _line_tokens(item: FixItem, data: bytes | None, profile: Profile) -> int:
    from ctxtui.core.claude_code.agents import load_agent
    from ctxtui.core.tokens import count

    if data is None:
        return 0
    v = load_agent(str(item.dest), data, profile)
    return count(v.line) if v.loaded else 0


def apply_fixes(ws: Workspace, names: list[str] | None, *, dry_run: bool = False,
                every: tuple[Profile, ...] | None = None) -> FixReport:
    """Fix NAMES' files (None: every file) in one journalled transaction with a history
    entry. With ``dry_run`` nothing is written (the plan is made from the files now)."""
    if dry_run:
        return FixReport(plan_fixes(ws, names, every=every), dry_run=True)
    history = History(ws.settings)
    label = f"fix {' '.join(names)}" if names else "fix --all"
    report = FixReport()
    profile = newest()
    with ws.transaction(label, library=True) as tx:
        report.items = plan_fixes(ws, names, tx=tx, every=every)
        written = report.written
        if not written:
            return report
        before = history.snapshot(tx, store=False)
        state = ws.read_state(tx)
        state_changed = False
        agents = ws.settings.agents_dir.absolute()
        tokens_delta = 0
        changes = []
        for item in written:
            assert item.dest is not None and item.result.data is not None
            rel = history.rel(item.dest)
            if item.old is not None and rel not in before:
                before[rel] = history.store_blob(item.old)
            tx.write(item.dest, item.result.data, expect=None if item.old is None else
                     hashlib.sha256(item.old).hexdigest())
            verb = "fix" if item.dest == item.source else f"fix a copy of {item.source} as"
            changes.append(f"{verb} {rel}")
            if item.dest.is_relative_to(agents):
                tokens_delta += (_line_tokens(item, item.result.data, profile)
                                 - _line_tokens(item, item.old, profile))
                rec = state["hot"].get(item.dest.relative_to(agents).as_posix())
                if rec is not None and item.old is not None and \
                        rec.get("sha256") == journal.sha256_bytes(item.old):
                    rec["sha256"] = journal.sha256_bytes(item.result.data)
                    state_changed = True
        if state_changed:
            ws.write_state(tx, state)
        tokens_before = ws.budget().startup_tokens
        entry = Entry(
            id=history.next_id(), time=time.strftime("%Y-%m-%dT%H:%M:%S"), kind="fix",
            from_strategy=ws.strategy, to_strategy=ws.strategy, reason=label,
            tokens_before=tokens_before, tokens_after=tokens_before + tokens_delta,
            changes=changes, before=before,
            notes=[n for i in written for n in i.result.notes])
        entry.after = history.after_of(before, tx)
        history.entry_step(entry, tx)
        report.entry = entry
    return report
