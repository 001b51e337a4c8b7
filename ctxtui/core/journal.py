"""Atomic file changes with a write-ahead journal and crash recovery.

A :class:`Transaction` collects writes and removals. ``commit()``:

1. checks every precondition (a file to overwrite or remove still has the content the plan
   saw), so a concurrent edit by Claude Code or an editor aborts with nothing changed;
2. stages new contents as fsynced files in ``<state>/journal/<txid>/`` and writes the
   manifest last (fsync + rename): from that moment the transaction is durable;
3. applies each step with ``os.replace`` (a removal moves the file into the journal folder);
4. deletes the journal folder.

If the process dies after step 2, :func:`recover` rolls the transaction forward on the next
start: every step is idempotent. Before the manifest exists nothing has changed. Removed files
are only discarded once every step has been applied, and the caller guarantees their content
lives on elsewhere (cold storage, the library or a history snapshot).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ctxtui.core.errors import CtxtuiError

# Tests set this to raise at a named point to simulate a crash.
FaultHook = Callable[[str], None]
_fault_hook: FaultHook | None = None


def set_fault_hook(hook: FaultHook | None) -> None:
    """Install a hook called at each step of a commit ("staged", "step:N"); tests only."""
    global _fault_hook
    _fault_hook = hook


def _fault(point: str) -> None:
    if _fault_hook is not None:
        _fault_hook(point)


class ConflictError(CtxtuiError):
    """A file changed on disk between planning and committing; nothing was changed."""


def sha256_bytes(data: bytes) -> str:
    """Hex SHA-256 of bytes."""
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: Path) -> str | None:
    """Hex SHA-256 of a file's bytes, or None if it does not exist (links are not followed)."""
    try:
        if path.is_symlink():
            return "symlink:" + os.readlink(path)
        return sha256_bytes(path.read_bytes())
    except FileNotFoundError:
        return None


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_fsync(path: Path, data: bytes) -> None:
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def atomic_write(path: Path, data: bytes) -> None:
    """Write bytes to path atomically: temp file in the same folder, fsync, rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{uuid.uuid4().hex[:8]}.tmp"
    try:
        _write_fsync(tmp, data)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    _fsync_dir(path.parent)


@dataclass
class Step:
    """One change: write ``data`` to ``path`` or remove ``path`` (data None)."""

    path: Path
    data: bytes | None
    expect: str | None | bool = True  # True: don't check; None: must not exist; str: sha256


@dataclass
class Transaction:
    """A set of file changes applied all together or (after a crash) completed on recovery."""

    state_dir: Path
    label: str = ""
    steps: list[Step] = field(default_factory=list)

    def write(self, path: Path, data: bytes, *, expect: str | None | bool = True) -> None:
        """Plan writing bytes to a path (``expect`` is the content hash the plan saw)."""
        self.steps.append(Step(Path(path), data, expect))

    def remove(self, path: Path, *, expect: str | None | bool = True) -> None:
        """Plan removing a path whose content is kept elsewhere by the same plan."""
        self.steps.append(Step(Path(path), None, expect))

    def commit(self) -> str:
        """Apply every step; returns the transaction id. Raises ConflictError first if stale."""
        for step in self.steps:
            if step.expect is not True and file_sha256(step.path) != step.expect:
                raise ConflictError(f"{step.path} changed on disk while planning; nothing changed")
        txid = f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
        txdir = journal_dir(self.state_dir) / txid
        txdir.mkdir(parents=True)
        manifest = {"id": txid, "label": self.label, "steps": []}
        for n, step in enumerate(self.steps):
            before = step.expect if step.expect is not True else file_sha256(step.path)
            entry = {"path": str(step.path.absolute()), "op": "remove" if step.data is None else "write",
                     "before": before}
            if step.data is not None:
                _write_fsync(txdir / f"{n}.stage", step.data)
                entry["sha256"] = sha256_bytes(step.data)
            manifest["steps"].append(entry)
        _fault("staged")
        tmp = txdir / "manifest.json.tmp"
        _write_fsync(tmp, json.dumps(manifest, indent=1).encode())
        os.replace(tmp, txdir / "manifest.json")
        _fsync_dir(txdir)
        _roll_forward(txdir, manifest)
        return txid


def journal_dir(state_dir: Path) -> Path:
    """Where pending transactions live."""
    return state_dir / "journal"


def _roll_forward(txdir: Path, manifest: dict, recovering: bool = False) -> list[str]:
    """Apply every step (idempotent). When recovering after a crash, a file that changed
    since the plan (someone edited it meanwhile) is left as it is and the transaction's
    files are kept under ``conflicts/``; returns one line per such file."""
    conflicts = []
    for n, entry in enumerate(manifest["steps"]):
        _fault(f"step:{n}")
        path = Path(entry["path"])
        if entry["op"] == "write":
            stage = txdir / f"{n}.stage"
            if not stage.exists():
                continue  # applied before the crash
            if recovering and "before" in entry and file_sha256(path) != entry["before"]:
                conflicts.append(f"{path} changed after an interrupted operation; kept as it is")
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            _move(stage, path)
        elif path.exists() or path.is_symlink():
            if recovering and "before" in entry and file_sha256(path) != entry["before"]:
                conflicts.append(f"{path} changed after an interrupted operation; kept as it is")
                continue
            _move(path, txdir / f"{n}.removed")
    if conflicts:  # keep everything the transaction held, for the user to compare
        dest = txdir.parent.parent / "conflicts" / txdir.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(txdir, dest)
        conflicts.append(f"the interrupted operation's files are in {dest}")
    else:
        shutil.rmtree(txdir, ignore_errors=True)
    return conflicts


def _move(src: Path, dst: Path) -> None:
    """Rename; across file systems, copy to a temp file beside dst then rename."""
    try:
        os.replace(src, dst)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        atomic_write(dst, src.read_bytes())
        src.unlink()
    _fsync_dir(dst.parent)


def pending(state_dir: Path) -> list[Path]:
    """Transaction folders left by an interrupted process."""
    jdir = journal_dir(state_dir)
    return sorted(p for p in jdir.iterdir() if p.is_dir()) if jdir.is_dir() else []


def recover(state_dir: Path) -> list[str]:
    """Complete interrupted transactions; discard ones that never became durable.

    Returns one line per transaction handled, for the user to see.
    """
    report = []
    for txdir in pending(state_dir):
        manifest_path = txdir / "manifest.json"
        if not manifest_path.exists():
            # Crashed while staging: nothing was applied, the staged copies are redundant.
            shutil.rmtree(txdir, ignore_errors=True)
            report.append(f"discarded unfinished plan {txdir.name} (nothing had changed)")
            continue
        manifest = json.loads(manifest_path.read_text())
        conflicts = _roll_forward(txdir, manifest, recovering=True)
        report.append(f"completed interrupted operation {txdir.name} ({manifest.get('label', '')})")
        report += conflicts
    return report


@contextlib.contextmanager
def locked(state_dir: Path, timeout: float = 10.0) -> Iterator[None]:
    """An inter-process lock on a workspace's state folder."""
    state_dir.mkdir(parents=True, exist_ok=True)
    with open(state_dir / "lock", "a+") as fh:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"another ctxtui holds {state_dir / 'lock'}") from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
