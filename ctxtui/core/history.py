"""Migration history: content-addressed snapshots and entries that can be rolled back to.

The files a strategy switch or tier change touches (the managed set) are every file in the
project's ``.claude/agents/``, each ``.claude/skills/*/SKILL.md``, ``CLAUDE.md`` /
``.claude/CLAUDE.md``, ``.claude/settings.local.json`` and ctxtui's ``state.json``, and the
files ``init`` may change (``hybrid-config.json``, ``.gitignore``: see ``RECORDED_ONLY``). Each entry records their content hashes before and after; the
bytes live once each in ``.claude/ctxtui/history/blobs/<sha256>``. Restoring a snapshot
writes every file back byte for byte (and removes files the snapshot did not have, whose
bytes are in the snapshot taken just before, so nothing is lost).

Entries are read as untrusted input (a cloned repository can carry them): an entry that is
malformed, or whose snapshot names a path outside the managed set, is quarantined with a
message and never used. Memory files that are symlinks into the workspace are snapshotted
and restored through the link; the link itself is never replaced or removed.

Each entry also records the permission bits (``mode & 0o777``) of the files in its snapshots
(``before_modes``, ``after_modes``), so a file a restore brings back gets its mode again (a
hot persona kept at 0600 does not come back 0644). Entries written before this lack them:
those files get the default mode. A recorded mode that is not 0..0o777 is ignored with one
line when the entry is used.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ctxtui.core import journal, lock, notices
from ctxtui.core.config import Settings
from ctxtui.core.confine import Guard, quarantine
from ctxtui.core.errors import StateError, UnsafePathError
from ctxtui.core.safe_io import read_regular

Snapshot = dict[str, str]  # path relative to the workspace -> sha256 (absent files are left out)

RECORDED_ONLY = ("hybrid-config.json", ".gitignore")
"""Project files ctxtui changes only on ``init``: a snapshot records them as they are, or as
``ABSENT``, and a restore touches them only when its snapshot recorded them (entries older
than this rule name neither, so restoring one leaves both files alone)."""
ABSENT = "absent"
"""A RECORDED_ONLY file that did not exist when the snapshot was taken."""


@dataclass
class Entry:
    """One recorded migration or rollback."""

    id: str
    time: str
    kind: str  # migrate | rollback | undo | profile | optimize | tier | activate | deactivate | claude-md | ...
    from_strategy: str
    to_strategy: str
    reason: str
    tokens_before: int
    tokens_after: int
    changes: list[str] = field(default_factory=list)
    before: Snapshot = field(default_factory=dict)
    after: Snapshot = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    undoes: str | None = None
    """For an ``undo``: the id of the change it stepped back over (older entries lack it)."""
    before_modes: dict[str, int] = field(default_factory=dict)
    """Permission bits of the files in ``before`` (older entries lack them)."""
    after_modes: dict[str, int] = field(default_factory=dict)
    """Permission bits of the files in ``after`` that ctxtui knew (a file it created has the
    default mode and is left out)."""
    mode_problem: str | None = field(default=None, compare=False)
    """Why recorded modes were left out when the entry was read (never saved)."""

    @property
    def token_delta(self) -> int:
        """tokens_after - tokens_before."""
        return self.tokens_after - self.tokens_before

    def to_json(self, full: bool = False) -> dict[str, Any]:
        """JSON form; snapshots only when ``full``."""
        data = asdict(self)
        data["from"] = data.pop("from_strategy")
        data["to"] = data.pop("to_strategy")
        data["token_delta"] = self.token_delta
        data.pop("mode_problem")
        if not full:
            for key in ("before", "after", "before_modes", "after_modes"):
                data.pop(key)
        return data

    def modes_of(self, side: str) -> dict[str, int]:
        """The recorded modes of the ``before`` or ``after`` snapshot; a mode left out as
        invalid when the entry was read is reported here, once, when the entry is used."""
        if self.mode_problem is not None:
            notices.report(self.mode_problem)
            self.mode_problem = None
        return self.before_modes if side == "before" else self.after_modes


class History:
    """The history store of one workspace."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = settings.state_dir / "history"

    @property
    def blobs(self) -> Path:
        """Folder of content-addressed file copies."""
        return self.root / "blobs"

    @property
    def entries_dir(self) -> Path:
        """Folder of entry files."""
        return self.root / "entries"

    def managed_paths(self) -> list[Path]:
        """Files a migration may touch, as they are on disk now. Hot files that are links are
        never touched; a linked memory or settings file counts when its target is inside
        the workspace (it is written through the link)."""
        s = self.settings
        guard = Guard(s.workspace)
        paths: list[Path] = []
        if s.agents_dir.is_dir() and not s.agents_dir.is_symlink():
            # agent files only: an editor's swap or temp file beside them is never removed
            paths += sorted(
                p for p in s.agents_dir.rglob("*.md")
                if p.is_file() and not p.is_symlink()
                and not any(part.startswith(".") for part in p.relative_to(s.agents_dir).parts)
            )
        skills = s.workspace / ".claude" / "skills"
        if skills.is_dir() and not skills.is_symlink():
            paths += sorted(
                p for p in skills.glob("*/SKILL.md")
                if p.is_file() and not p.is_symlink() and not p.parent.is_symlink() and not p.parent.name.startswith(".")
            )
        for p in (
            s.workspace / "CLAUDE.md",
            s.workspace / ".claude" / "CLAUDE.md",
            s.workspace / ".claude" / "settings.local.json",
            s.workspace / ".claude" / "commands" / "persona.md",  # the /persona command (init, reset)
            s.state_dir / "state.json",
        ):
            if p.is_file() and (not p.is_symlink() or _linked_inside(guard, p)):
                paths.append(p)
        return paths + self._tracked_cold() + self._recorded_only()

    def _recorded_only(self) -> list[Path]:
        """The RECORDED_ONLY files that exist as regular files (links are never followed)."""
        root = self.settings.workspace
        return [root / r for r in RECORDED_ONLY
                if (root / r).is_file() and not (root / r).is_symlink()]

    def _tracked_cold(self) -> list[Path]:
        """Cold-store files an entry recorded (``fix`` rewrites or adds them); a file put
        there by hand and never recorded is never touched by a rollback."""
        cold = self.rel(self.settings.cold_store) + "/"
        rels: set[str] = set()
        for p in sorted(self.entries_dir.glob("*.json")) if self.entries_dir.is_dir() else ():
            entry, _ = self._load(p)
            if entry is not None:
                rels.update(r for snap in (entry.before, entry.after) for r in snap if r.startswith(cold))
        root = self.settings.workspace
        return [root / r for r in sorted(rels) if (root / r).is_file() and not (root / r).is_symlink()]

    def rel(self, path: Path) -> str:
        """A path relative to the workspace, as snapshots key it."""
        return path.absolute().relative_to(self.settings.workspace.absolute()).as_posix()

    def store_blob(self, data: bytes) -> str:
        """Keep bytes in the blob store (idempotent); returns their sha256."""
        sha = journal.sha256_bytes(data)
        path = self.blobs / sha
        if not path.exists():
            journal.atomic_write(path, data)
        return sha

    def blob(self, sha: str) -> bytes:
        """Bytes of a stored blob, checked against their hash."""
        try:
            data = read_regular(self.blobs / sha, journal.MAX_STATE_BYTES, follow_symlinks=False)
        except OSError as exc:
            raise StateError(f"history blob {sha[:12]} is missing or unreadable ({exc.strerror or exc}); cannot restore it") from None
        if journal.sha256_bytes(data) != sha:
            raise StateError(f"history blob {sha[:12]} is corrupt (its content does not match its hash)")
        return data

    def snapshot(self, tx: journal.Transaction | None = None, *, store: bool = True) -> Snapshot:
        """Store every managed file now and return the snapshot map. With ``tx`` the files
        are read through it, so the bytes kept are the ones its preconditions guard. With
        ``store=False`` only the hashes are taken (a check that may still refuse the change
        leaves no blob behind)."""
        out = dict.fromkeys(RECORDED_ONLY, ABSENT)
        for p in self.managed_paths():
            data = tx.read(p) if tx is not None else read_regular(p, journal.MAX_STATE_BYTES)
            if data is not None:
                out[self.rel(p)] = self.store_blob(data) if store else journal.sha256_bytes(data)
        return out

    def after_of(self, before: Snapshot, tx: journal.Transaction) -> Snapshot:
        """The snapshot a transaction will leave (its writes are stored as blobs now)."""
        after = dict(before)
        root = self.settings.workspace.absolute()
        for step in tx.steps:
            path = step.path.absolute()
            if not path.is_relative_to(root) or path.is_relative_to(self.root):
                continue
            rel = path.relative_to(root).as_posix()
            if not self._is_managed_rel(rel):
                continue
            if step.data is None:
                if rel in RECORDED_ONLY:
                    after[rel] = ABSENT
                else:
                    after.pop(rel, None)
            else:
                after[rel] = self.store_blob(step.data)
        return after

    def _is_managed_rel(self, rel: str) -> bool:
        state_rel = self.rel(self.settings.state_dir / "state.json")
        parts = rel.split("/")
        if len(parts) == 4 and parts[:2] == [".claude", "skills"] and parts[3] == "SKILL.md":
            return True
        if rel.startswith(self.rel(self.settings.cold_store) + "/"):
            return True  # recorded by `fix` (see _tracked_cold)
        return rel.startswith(".claude/agents/") or rel in {
            "CLAUDE.md", ".claude/CLAUDE.md", ".claude/settings.local.json", state_rel,
            ".claude/commands/persona.md", *RECORDED_ONLY,
        }

    def restore_steps(self, target: Snapshot, tx: journal.Transaction,
                      modes: dict[str, int] | None = None, kept: frozenset[str] = frozenset()) -> list[str]:
        """Add steps that make the managed files equal to a snapshot; returns change lines.
        Current contents are read through ``tx`` (call :meth:`snapshot` with it first). A file
        brought back (absent now) gets its recorded mode from ``modes``; a replaced one keeps
        its own. ``kept``: memory files whose target keeps someone's edits outside the block."""
        root = self.settings.workspace.absolute()
        current = dict.fromkeys(RECORDED_ONLY, ABSENT)
        for p in self.managed_paths():
            data = tx.read(p)
            if data is not None:
                current[self.rel(p)] = journal.sha256_bytes(data)
        changes = []
        for rel in sorted(set(current) | set(target)):
            if rel in RECORDED_ONLY and (rel not in target or (root / rel).is_symlink()):
                continue  # not recorded, or a link (never replaced): leave it as it is
            want, have = target.get(rel), current.get(rel)
            if want == ABSENT:
                want = None
            if have == ABSENT:
                have = None
            if want == have:
                continue
            path = root / rel
            if not self._is_managed_rel(rel):
                raise StateError(f"history names {rel!r}, outside the files ctxtui manages; not restored")
            if want is None:
                if path.is_symlink():
                    changes.append(f"keep {rel} (a symlink; ctxtui never removes links)")
                    continue
                tx.remove(path)
                changes.append(f"remove {rel}")
            else:
                tx.read(path)
                mode = journal.valid_mode((modes or {}).get(rel)) if have is None else None
                tx.write(path, self.blob(want), mode=mode)
                if rel in kept:
                    changes.append(f"step back {rel}'s ctxtui block (your edits outside it kept)")
                else:
                    changes.append(f"{'restore' if have else 'add'} {rel}")
        return changes

    def differs(self, a: Snapshot, b: Snapshot) -> set[str]:
        """Managed files whose bytes differ between two snapshots (ctxtui's own state file
        aside; a RECORDED_ONLY file only where both recorded it)."""
        state_rel = self.rel(self.settings.state_dir / "state.json")

        def sha(snap: Snapshot, rel: str) -> str | None:
            value = snap.get(rel)
            return None if value == ABSENT else value

        return {rel for rel in set(a) | set(b)
                if rel != state_rel and not (rel in RECORDED_ONLY and (rel not in a or rel not in b))
                and sha(a, rel) != sha(b, rel)}

    def edited_outside(self, entries: list[Entry], start: int, now: Snapshot,
                       target: Snapshot) -> list[str]:
        """Files a restore to TARGET would change that someone other than ctxtui edited since
        entry START: between one recorded change and the next (an entry's after against the
        next one's before), or since the newest (its after against NOW)."""
        edited: set[str] = set()
        for a, b in zip(entries[start:], entries[start + 1:], strict=False):
            edited |= self.differs(a.after, b.before)
        if entries:
            edited |= self.differs(entries[-1].after, now)
        would_change = self.differs(now, target) | {
            rel for rel in RECORDED_ONLY if rel in target and rel not in now}
        return sorted(edited & would_change)

    def next_id(self) -> str:
        """A sortable id: sequence number and time."""
        numbers = [int(p.name[:4]) for p in self.entries_dir.glob("*.json") if p.name[:4].isdigit()] \
            if self.entries_dir.is_dir() else []
        return f"{max(numbers, default=0) + 1:04d}-{time.strftime('%Y%m%dT%H%M%S')}"

    def entry_step(self, entry: Entry, tx: journal.Transaction) -> None:
        """Write the entry in the same transaction as the change it records, keeping the
        blobs of its ``before`` snapshot first (a snapshot may be taken with ``store=False``,
        so a change refused by a later check leaves no blob behind)."""
        for rel, sha in entry.before.items():
            if sha == ABSENT or (self.blobs / sha).exists():
                continue
            data = tx.read(self.settings.workspace / rel)
            if data is None or journal.sha256_bytes(data) != sha:
                raise StateError(f"{rel} changed while the change was planned; nothing was changed, try again")
            self.store_blob(data)
        self._record_modes(entry, tx)
        data = json.dumps(entry.to_json(full=True), indent=1).encode()
        tx.write(self.entries_dir / f"{entry.id}.json", data, expect=None)

    def _record_modes(self, entry: Entry, tx: journal.Transaction) -> None:
        """Fill the entry's modes from what the plan read and writes: ``before`` as read; in
        ``after``, a file written with a mode has it, a replaced or untouched one keeps its
        own, a created one (default mode) is left out."""
        root = self.settings.workspace
        before = {rel: m for rel in entry.before if (m := tx.mode(root / rel)) is not None}
        steps = {step.path.absolute(): step for step in tx.steps}
        after = {}
        for rel in entry.after:
            step = steps.get((root / rel).absolute())
            if step is not None and step.mode is not None:
                after[rel] = step.mode
            elif rel in before:
                after[rel] = before[rel]
        entry.before_modes, entry.after_modes = before, after

    def rewrite_entry(self, entry: Entry) -> None:
        """Update an entry ctxtui wrote (its own record; call with the lock held)."""
        data = json.dumps(entry.to_json(full=True), indent=1).encode()
        journal.atomic_write(self.entries_dir / f"{entry.id}.json", data)

    def entries(self) -> list[Entry]:
        """Every valid entry, oldest first. A malformed or unsafe entry is quarantined (with
        a notice) and left out: it never stops ctxtui from working."""
        if not self.entries_dir.is_dir():
            return []
        out = []
        bad: list[tuple[Path, str]] = []
        for p in sorted(self.entries_dir.glob("*.json")):
            entry, problem = self._load(p)
            if entry is not None:
                out.append(entry)
            else:
                bad.append((p, problem or "malformed"))
        if bad and _linked_inside_ok(self.settings.workspace, self.entries_dir):
            with lock.locked(self.settings.state_dir):
                for p, problem in bad:
                    if p.exists() or p.is_symlink():
                        notices.report(quarantine(self.settings.state_dir, p, f"history entry {p.name} {problem}"))
        return out

    def last(self) -> Entry | None:
        """The newest valid entry, reading no more files than it takes (``entries`` reads
        them all, and quarantines the bad ones)."""
        if not self.entries_dir.is_dir():
            return None
        for p in sorted(self.entries_dir.glob("*.json"), reverse=True):
            entry, _ = self._load(p)
            if entry is not None:
                return entry
        return None

    def _load(self, path: Path) -> tuple[Entry | None, str | None]:
        try:
            d = json.loads(read_regular(path, journal.MAX_STATE_BYTES, follow_symlinks=False).decode("utf-8"))
        except (OSError, ValueError, RecursionError):
            return None, "is unreadable or not JSON"
        if not isinstance(d, dict):
            return None, "is not a JSON object"
        d.pop("token_delta", None)
        d.pop("mode_problem", None)  # never read back: only ctxtui's own words are reported
        try:
            d["from_strategy"] = d.pop("from")
            d["to_strategy"] = d.pop("to")
            entry = Entry(**d)
        except (KeyError, TypeError) as exc:
            return None, f"is malformed ({exc})"
        if entry.undoes is not None and not isinstance(entry.undoes, str):
            return None, "has fields of the wrong type"
        texts = (entry.id, entry.time, entry.kind, entry.from_strategy, entry.to_strategy, entry.reason)
        if not all(isinstance(t, str) for t in texts) or not all(
            isinstance(n, int) and not isinstance(n, bool) for n in (entry.tokens_before, entry.tokens_after)
        ):
            return None, "has fields of the wrong type"
        if not all(isinstance(x, list) and all(isinstance(y, str) for y in x) for x in (entry.changes, entry.notes)):
            return None, "has fields of the wrong type"
        for snap in (entry.before, entry.after):
            if not isinstance(snap, dict):
                return None, "has a malformed snapshot"
            for rel, sha in snap.items():
                if not self._is_managed_rel(rel) or not _safe_rel(rel):
                    return None, f"names {rel!r}, outside the files ctxtui manages"
                if not journal._is_sha(sha) and not (rel in RECORDED_ONLY and sha == ABSENT):
                    return None, f"has a malformed hash for {rel!r}"
        _check_modes(entry, path.name)
        return entry, None

    def get(self, entry_id: str) -> Entry | None:
        """An entry by id or by unique id prefix (e.g. ``3`` or ``0003``)."""
        entries = self.entries()
        exact = [e for e in entries if e.id == entry_id]
        if exact:
            return exact[0]
        prefix = entry_id.zfill(4) if entry_id.isdigit() else entry_id
        hits = [e for e in entries if e.id.startswith(prefix)]
        return hits[0] if len(hits) == 1 else None


def _check_modes(entry: Entry, name: str) -> None:
    """Keep the recorded modes that are permission bits (0..0o777) of a file the snapshot
    names; anything else is left out (the file gets the default mode), and the entry says so
    once when it is used (:meth:`Entry.modes_of`)."""
    bad: list[str] = []
    for attr, snap in (("before_modes", entry.before), ("after_modes", entry.after)):
        raw: Any = getattr(entry, attr)
        if not isinstance(raw, dict):
            bad.append(attr)
            setattr(entry, attr, {})
            continue
        good = {rel: mode for rel, mode in raw.items()
                if isinstance(rel, str) and rel in snap and journal.valid_mode(mode) is not None}
        bad += [str(rel) for rel in raw if rel not in good]
        setattr(entry, attr, good)
    if bad:
        entry.mode_problem = (f"history entry {name}: ignored {len(bad)} invalid file mode(s) "
                              f"({', '.join(repr(b[:60]) for b in bad[:3])}); those files get the default mode")


def _safe_rel(rel: str) -> bool:
    parts = rel.split("/")
    return bool(rel) and not rel.startswith("/") and "\\" not in rel and ".." not in parts and "." not in parts and "" not in parts


def _linked_inside(guard: Guard, path: Path) -> bool:
    try:
        guard.target(path)
    except UnsafePathError:
        return False
    return True


def _linked_inside_ok(workspace: Path, folder: Path) -> bool:
    """No folder between the workspace and ``folder`` is a symlink (so moving files there
    stays inside the project)."""
    try:
        Guard(workspace).check_folders(folder)
    except UnsafePathError:
        return False
    return True
