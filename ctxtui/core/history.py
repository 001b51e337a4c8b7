"""Migration history: content-addressed snapshots and entries that can be rolled back to.

The files a strategy switch touches (the managed set) are every file in the project's
``.claude/agents/``, ``CLAUDE.md`` / ``.claude/CLAUDE.md``, ``.claude/settings.local.json``
and ctxtui's ``state.json``. Each entry records their content hashes before and after; the
bytes live once each in ``.claude/ctxtui/history/blobs/<sha256>``. Restoring a snapshot
writes every file back byte for byte (and removes files the snapshot did not have, whose
bytes are in the snapshot taken just before, so nothing is lost).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ctxtui.core import journal
from ctxtui.core.config import Settings

Snapshot = dict[str, str]  # path relative to the workspace -> sha256 (absent files are left out)


@dataclass
class Entry:
    """One recorded migration or rollback."""

    id: str
    time: str
    kind: str  # migrate | rollback | profile | optimize
    from_strategy: str
    to_strategy: str
    reason: str
    tokens_before: int
    tokens_after: int
    changes: list[str] = field(default_factory=list)
    before: Snapshot = field(default_factory=dict)
    after: Snapshot = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

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
        if not full:
            data.pop("before")
            data.pop("after")
        return data


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
        """Files a migration may touch, as they are on disk now (symlinks are never touched)."""
        s = self.settings
        paths: list[Path] = []
        if s.agents_dir.is_dir():
            paths += sorted(p for p in s.agents_dir.rglob("*") if p.is_file() and not p.is_symlink())
        for p in (
            s.workspace / "CLAUDE.md",
            s.workspace / ".claude" / "CLAUDE.md",
            s.workspace / ".claude" / "settings.local.json",
            s.state_dir / "state.json",
        ):
            if p.is_file() and not p.is_symlink():
                paths.append(p)
        return paths

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
        """Bytes of a stored blob."""
        return (self.blobs / sha).read_bytes()

    def snapshot(self) -> Snapshot:
        """Store every managed file now and return the snapshot map."""
        return {self.rel(p): self.store_blob(p.read_bytes()) for p in self.managed_paths()}

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
                after.pop(rel, None)
            else:
                after[rel] = self.store_blob(step.data)
        return after

    def _is_managed_rel(self, rel: str) -> bool:
        state_rel = self.rel(self.settings.state_dir / "state.json")
        return rel.startswith(".claude/agents/") or rel in {
            "CLAUDE.md", ".claude/CLAUDE.md", ".claude/settings.local.json", state_rel,
        }

    def restore_steps(self, target: Snapshot, tx: journal.Transaction) -> list[str]:
        """Add steps that make the managed files equal to a snapshot; returns change lines."""
        root = self.settings.workspace.absolute()
        current = {self.rel(p): journal.file_sha256(p) for p in self.managed_paths()}
        changes = []
        for rel in sorted(set(current) | set(target)):
            want, have = target.get(rel), current.get(rel)
            if want == have:
                continue
            path = root / rel
            if want is None:
                tx.remove(path, expect=have)
                changes.append(f"remove {rel}")
            else:
                tx.write(path, self.blob(want), expect=have)
                changes.append(f"{'restore' if have else 'add'} {rel}")
        return changes

    def next_id(self) -> str:
        """A sortable id: sequence number and time."""
        n = len(list(self.entries_dir.glob("*.json"))) + 1 if self.entries_dir.is_dir() else 1
        return f"{n:04d}-{time.strftime('%Y%m%dT%H%M%S')}"

    def entry_step(self, entry: Entry, tx: journal.Transaction) -> None:
        """Write the entry in the same transaction as the change it records."""
        data = json.dumps(entry.to_json(full=True), indent=1).encode()
        tx.write(self.entries_dir / f"{entry.id}.json", data, expect=None)

    def entries(self) -> list[Entry]:
        """Every entry, oldest first."""
        if not self.entries_dir.is_dir():
            return []
        out = []
        for p in sorted(self.entries_dir.glob("*.json")):
            d = json.loads(p.read_text())
            d.pop("token_delta", None)
            d["from_strategy"] = d.pop("from")
            d["to_strategy"] = d.pop("to")
            out.append(Entry(**d))
        return out

    def get(self, entry_id: str) -> Entry | None:
        """An entry by id or by unique id prefix (e.g. ``3`` or ``0003``)."""
        entries = self.entries()
        exact = [e for e in entries if e.id == entry_id]
        if exact:
            return exact[0]
        prefix = entry_id.zfill(4) if entry_id.isdigit() else entry_id
        hits = [e for e in entries if e.id.startswith(prefix)]
        return hits[0] if len(hits) == 1 else None
