"""Atomic file changes with a write-ahead journal, crash recovery, and no lost edits.

A :class:`Transaction` is built while holding the workspace lock (see
``Workspace.transaction``). The plan reads files through :meth:`Transaction.read`, which
remembers the hash of the exact bytes it returned; every write or removal carries that hash
as its precondition (or ``None``: the file must not exist). ``commit()``:

1. checks every path against the confinement guard and every precondition, so a file
   changed since the plan read it aborts with nothing changed;
2. stages new contents as fsynced files in ``<state>/journal/<txid>/`` and writes the
   manifest last (fsync + rename): from that moment the transaction is durable;
3. moves every file to be replaced or removed aside into the journal folder and hashes it
   *again*: a file edited after the check is put back and the whole change refused (nothing
   else has been touched yet);
4. puts each staged file in place without clobbering (``link``): a file that appeared in
   the meantime wins and ours is kept under ``conflicts/``;
5. re-checks the moved-aside files once more and deletes the journal folder (or keeps it
   under ``conflicts/`` if anything wrote to them through an open descriptor).

If the process dies after step 2, :func:`recover` rolls the transaction forward on the next
start with the same checks; a file edited since is left as it is and the transaction's
files are kept under ``conflicts/``. A manifest that is unreadable, names a path outside the
project's managed locations, or has a step without a precondition is quarantined, never
applied. File modes of replaced files are kept; a step may carry the permission bits of the
file it creates (a rollback bringing back a file ctxtui removed): the manifest records them and
recovery applies them, after checking them (a mode that is not 0..0o777 is ignored with a
line: the file gets the default mode). Symlinked memory files are written through.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import shutil
import stat
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ctxtui.core import lock as _lock
from ctxtui.core.confine import Guard, quarantine
from ctxtui.core.errors import ConflictError, CtxtuiError, UnsafePathError, WriteError
from ctxtui.core.safe_io import read_regular

__all__ = ["ConflictError", "Transaction", "atomic_write", "file_sha256", "locked", "pending",
           "placed_mode", "recover", "sha256_bytes", "set_fault_hook", "valid_mode"]

# Tests set this to raise (a crash) or block (a pause) at a named point.
FaultHook = Callable[[str], None]
_fault_hook: FaultHook | None = None
MAX_STATE_BYTES = 64 * 1024 * 1024  # one managed file ctxtui reads to rewrite or snapshot


def set_fault_hook(hook: FaultHook | None) -> None:
    """Install a hook called at each point of a commit ("checked", "staged", "aside",
    "step:N", "placed"); tests only."""
    global _fault_hook
    _fault_hook = hook


def _fault(point: str) -> None:
    if _fault_hook is not None:
        _fault_hook(point)


def valid_mode(value: Any) -> int | None:
    """VALUE as permission bits (an int in 0..0o777), or None. Modes are read back from
    ctxtui's own state (history, journal), which a cloned repository could have crafted:
    setuid, setgid and sticky bits, bools, strings and out-of-range numbers are refused."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 0o777:
        return value
    return None


def placed_mode(mode: int) -> int:
    """The bits a file brought back gets for a recorded MODE: never writable by others (a
    crafted mode must not open the project's agents to every local user), always readable by
    its owner (Claude Code reads it)."""
    return (mode & 0o775) | 0o400


def sha256_bytes(data: bytes) -> str:
    """Hex SHA-256 of bytes."""
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: Path) -> str | None:
    """Hex SHA-256 of a regular file's bytes; None if absent; a tag for links and special
    files (never equal to a content hash). Never blocks on a FIFO."""
    try:
        st = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    if stat.S_ISLNK(st.st_mode):
        return "symlink:" + os.readlink(path)
    if not stat.S_ISREG(st.st_mode):
        return f"special:{stat.S_IFMT(st.st_mode):o}"
    try:
        return sha256_bytes(read_regular(path, MAX_STATE_BYTES, follow_symlinks=False))
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
    """Write bytes to path atomically: temp file in the same folder, fsync, rename (keeping
    the mode of the file replaced). For ctxtui's own files only; user files go through a
    :class:`Transaction`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{uuid.uuid4().hex[:8]}.tmp"
    try:
        _write_fsync(tmp, data)
        with contextlib.suppress(FileNotFoundError):
            os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode))
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    _fsync_dir(path.parent)


_FROM_READ: Any = object()


@dataclass
class Step:
    """One change: write ``data`` to ``path`` or remove ``path`` (data None). ``expect`` is
    the sha256 of the bytes the plan read, or None when the file must not exist. ``mode``:
    the permission bits a written file gets (None: those of the file it replaces, or the
    default for a new one)."""

    path: Path
    data: bytes | None
    expect: str | None
    mode: int | None = None


@dataclass
class Transaction:
    """A set of file changes applied all together or (after a crash) completed on recovery."""

    state_dir: Path
    label: str = ""
    steps: list[Step] = field(default_factory=list)
    guard: Guard | None = None
    reads: dict[Path, bytes | None] = field(default_factory=dict)
    modes: dict[Path, int] = field(default_factory=dict)
    """Permission bits of the files :meth:`read` found (history records them)."""
    confine: Guard = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # Without a guard, the workspace is two levels above <ws>/.claude/ctxtui.
        self.confine = self.guard or Guard(self.state_dir.absolute().parent.parent)

    def _key(self, path: Path) -> Path:
        return Path(os.path.normpath(Path(path).absolute()))

    def read(self, path: Path) -> bytes | None:
        """The bytes of a file this plan uses (None if absent), through a permitted link.
        The same bytes are returned for the rest of the plan, and their hash becomes the
        precondition of any write or removal of the path."""
        key = self._key(path)
        if key not in self.reads:
            real = self.confine.target(key)
            try:
                self.reads[key] = read_regular(real, MAX_STATE_BYTES, follow_symlinks=False)
            except FileNotFoundError:
                self.reads[key] = None
            else:
                with contextlib.suppress(OSError):
                    self.modes[key] = stat.S_IMODE(os.lstat(real).st_mode) & 0o777
        return self.reads[key]

    def mode(self, path: Path) -> int | None:
        """The permission bits of a file as :meth:`read` found it (None: not read, absent)."""
        return self.modes.get(self._key(path))

    def _expect(self, path: Path, expect: Any) -> str | None:
        if expect is not _FROM_READ:
            if expect is not None and not isinstance(expect, str):
                raise TypeError("expect must be a sha256 or None")
            return expect
        key = self._key(path)
        if key not in self.reads:
            raise RuntimeError(f"plan writes {path} without having read it")
        data = self.reads[key]
        return None if data is None else sha256_bytes(data)

    def write(self, path: Path, data: bytes, *, expect: Any = _FROM_READ, mode: int | None = None) -> None:
        """Plan writing bytes to a path. The precondition is the hash of what :meth:`read`
        returned for it, or ``expect`` (a sha256, or None: must not exist). ``mode``: the
        permission bits the file gets (0..0o777; None keeps those of the file replaced)."""
        if mode is not None and valid_mode(mode) is None:
            raise ValueError(f"{path}: {mode!r} is not a permission mode")  # a bug in the plan
        self.steps.append(Step(Path(path).absolute(), data, self._expect(path, expect), mode))

    def remove(self, path: Path, *, expect: Any = _FROM_READ) -> None:
        """Plan removing a path whose content is kept elsewhere by the same plan."""
        self.steps.append(Step(Path(path).absolute(), None, self._expect(path, expect)))

    def commit(self) -> str:
        """Apply every step; returns the transaction id. Raises ConflictError (nothing
        changed) if a file is not as the plan read it, UnsafePathError for a path outside
        the managed locations, WriteError when the file system refuses."""
        if len({st.path for st in self.steps}) != len(self.steps):
            raise RuntimeError(f"{self.label}: a path is planned twice")  # a bug in the plan
        for step in self.steps:
            real = self.confine.target(step.path, remove=step.data is None)
            if file_sha256(real) != step.expect:
                raise ConflictError(f"{step.path} changed on disk while planning; nothing changed")
        _fault("checked")
        txid = f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
        txdir = journal_dir(self.state_dir) / txid
        manifest: dict[str, Any] = {"id": txid, "label": self.label, "steps": []}
        try:
            self.confine.check_folders(txdir)
            txdir.mkdir(parents=True)
            for n, step in enumerate(self.steps):
                entry: dict[str, Any] = {"path": str(step.path), "op": "remove" if step.data is None else "write",
                                         "before": step.expect}
                if step.data is not None:
                    _write_fsync(txdir / f"{n}.stage", step.data)
                    entry["sha256"] = sha256_bytes(step.data)
                    if step.mode is not None:
                        entry["mode"] = step.mode  # applied when placed, on replay too
                manifest["steps"].append(entry)
            _fault("staged")
            tmp = txdir / "manifest.json.tmp"
            _write_fsync(tmp, json.dumps(manifest, indent=1).encode())
            os.replace(tmp, txdir / "manifest.json")
            _fsync_dir(txdir)
        except OSError as exc:
            shutil.rmtree(txdir, ignore_errors=True)
            raise WriteError(f"cannot save the change ({_why(exc)}); nothing changed") from None
        try:
            lines = _roll_forward(txdir, manifest, self.confine, recovering=False)
        except OSError as exc:
            raise WriteError(
                f"could not finish {self.label or 'the change'} ({_why(exc)}); it is kept in "
                f"{txdir} and completed on the next run once that is fixed"
            ) from None
        if lines:
            raise ConflictError("; ".join(lines))
        return txid


def _why(exc: OSError) -> str:
    where = f"{exc.filename}: " if exc.filename else ""
    return f"{where}{exc.strerror or exc}"


def journal_dir(state_dir: Path) -> Path:
    """Where pending transactions live."""
    return state_dir / "journal"


class _Abort(Exception):
    """A live commit found a file changed after the check; everything was put back."""


def _link_into_place(src: Path, dst: Path) -> bool:
    """Put src at dst only if dst does not exist (atomic where the file system can link).
    False if something is already there."""
    try:
        os.link(src, dst)  # src is always a regular file ctxtui staged or set aside
    except FileExistsError:
        return False
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK, errno.ENOSYS):
            raise
        # no hard links here: copy beside dst and rename, after one more look
        tmp = dst.parent / f".{dst.name}.{uuid.uuid4().hex[:8]}.tmp"
        _write_fsync(tmp, src.read_bytes())
        with contextlib.suppress(OSError):
            os.chmod(tmp, stat.S_IMODE(os.stat(src).st_mode))
        if os.path.lexists(dst):
            tmp.unlink()
            return False
        os.replace(tmp, dst)
    src.unlink()
    _fsync_dir(dst.parent)
    return True


def _move_aside(path: Path, aside: Path) -> None:
    try:
        os.replace(path, aside)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        _write_fsync(aside, read_regular(path, MAX_STATE_BYTES, follow_symlinks=False))
        path.unlink()


def _roll_forward(txdir: Path, manifest: dict, guard: Guard, recovering: bool) -> list[str]:
    """Apply every step (idempotent; see the module docstring). Returns one line per file
    left as it is because it changed; live commits raise ConflictError instead when that
    is found before anything was applied."""
    steps = manifest["steps"]
    targets = [guard.target(e["path"], remove=e["op"] == "remove") for e in steps]
    conflicts: list[str] = []
    skip: set[int] = set()
    moved: list[int] = []  # steps whose file this run moved aside
    # Phase 1: move every file to replace or remove aside and check it is what the plan saw.
    for n, (entry, real) in enumerate(zip(steps, targets, strict=True)):
        _fault(f"step:{n}")
        aside = txdir / (f"{n}.removed" if entry["op"] == "remove" else f"{n}.old")
        stage = txdir / f"{n}.stage"
        if entry["op"] == "write" and not stage.exists():
            continue  # placed before a crash
        if os.path.lexists(aside):  # moved aside before a crash
            if entry["op"] == "write" and os.path.lexists(real):
                if file_sha256(real) == entry.get("sha256"):
                    stage.unlink()  # placed too; only the clean-up was missed
                    continue
                conflicts.append(f"{real} was created during an interrupted operation; kept as it is")
                skip.add(n)
            elif file_sha256(aside) != entry["before"] and _link_into_place(aside, real):
                # edited just before the move: the edit goes back where it was
                conflicts.append(f"{real} changed during an interrupted operation; kept as it is")
                skip.add(n)
            continue
        if not os.path.lexists(real):
            if entry["op"] == "write" and entry["before"] is not None and not recovering:
                conflicts.append(f"{real} was removed while ctxtui was changing it; nothing changed")
                break
            continue
        if entry["before"] is None and entry["op"] == "write":
            conflicts.append(f"{real} appeared while ctxtui was changing it; kept as it is")
            skip.add(n)
            if not recovering:
                break
            continue
        if recovering and file_sha256(real) != entry["before"]:
            conflicts.append(f"{real} changed after an interrupted operation; kept as it is")
            skip.add(n)
            continue
        _move_aside(real, aside)
        moved.append(n)
        if file_sha256(aside) != entry["before"]:  # edited just after the check: put it back
            if _link_into_place(aside, real):
                moved.remove(n)
            conflicts.append(f"{real} changed while ctxtui was changing it; kept as it is")
            skip.add(n)
            if not recovering:
                break
    if conflicts and not recovering:
        _put_back(txdir, steps, targets, moved, conflicts)
        raise ConflictError("; ".join(dict.fromkeys(conflicts)) + "; nothing changed")
    _fault("aside")
    # Phase 2: put the staged files in place, never over a file that appeared meanwhile.
    for n, (entry, real) in enumerate(zip(steps, targets, strict=True)):
        stage = txdir / f"{n}.stage"
        if entry["op"] != "write" or n in skip or not stage.exists():
            continue
        old = txdir / f"{n}.old"
        mode = valid_mode(entry.get("mode"))
        if mode is not None:
            with contextlib.suppress(OSError):  # a mode is never worth a change left half done
                os.chmod(stage, placed_mode(mode))
        elif os.path.lexists(old):
            with contextlib.suppress(OSError):
                os.chmod(stage, stat.S_IMODE(os.lstat(old).st_mode))
        real.parent.mkdir(parents=True, exist_ok=True)
        if not _link_into_place(stage, real):
            if file_sha256(real) == entry.get("sha256"):
                stage.unlink()  # placed before a crash
                continue
            conflicts.append(f"{real} appeared while ctxtui was writing it; kept as it is")
    _fault("placed")
    # Phase 3: a file moved aside must still be what the plan saw before it is discarded.
    for n, entry in enumerate(steps):
        for aside in (txdir / f"{n}.old", txdir / f"{n}.removed"):
            if os.path.lexists(aside) and file_sha256(aside) != entry["before"]:
                conflicts.append(f"{targets[n]} was written to while ctxtui moved it; that version is in conflicts/")
    if conflicts:  # keep everything the transaction held, for the user to compare
        dest = txdir.parent.parent / "conflicts" / txdir.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(txdir, dest)
        conflicts.append(f"the operation's files are in {dest}")
    else:
        shutil.rmtree(txdir, ignore_errors=True)
    return conflicts


def _put_back(txdir: Path, steps: list, targets: list[Path], moved: list[int], conflicts: list[str]) -> None:
    """Undo phase 1 of a live commit: every file moved aside goes back; then forget the
    transaction (nothing was applied). The refusal is made durable first, so a crash in
    the middle is finished the same way by :func:`recover` (never rolled forward)."""
    _write_fsync(txdir / "aborted", b"")
    _fsync_dir(txdir)
    _undo(txdir, steps, targets, moved, conflicts)


def _undo(txdir: Path, steps: list, targets: list[Path], moved: list[int], conflicts: list[str]) -> None:
    lost = False
    for n in moved:
        aside = txdir / (f"{n}.removed" if steps[n]["op"] == "remove" else f"{n}.old")
        if os.path.lexists(aside) and not _link_into_place(aside, targets[n]):
            lost = True  # someone created the file meanwhile: keep ours aside
            conflicts.append(f"{targets[n]} was recreated while ctxtui worked; the earlier version is in conflicts/")
    if lost:
        dest = txdir.parent.parent / "conflicts" / txdir.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(txdir, dest)
    else:
        shutil.rmtree(txdir, ignore_errors=True)


def pending(state_dir: Path) -> list[Path]:
    """Transaction folders (and anything else) left in the journal by an interrupted run."""
    jdir = journal_dir(state_dir)
    if not jdir.is_dir() or jdir.is_symlink():
        return []
    return sorted(jdir.iterdir())


_HEX = frozenset("0123456789abcdef")


def _is_sha(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 64 and set(value) <= _HEX


def validate_manifest(txdir: Path, manifest: Any, guard: Guard) -> str | None:
    """Why a manifest must not be applied, or None."""
    if not isinstance(manifest, dict) or not isinstance(manifest.get("steps"), list):
        return "is not a journal manifest"
    for n, e in enumerate(manifest["steps"]):
        if not isinstance(e, dict) or e.get("op") not in ("write", "remove") or not isinstance(e.get("path"), str):
            return f"step {n} is malformed"
        if "before" not in e or not (e["before"] is None or _is_sha(e["before"])):
            return f"step {n} ({e['path']}) has no precondition"
        try:
            guard.target(e["path"], remove=e["op"] == "remove")
        except UnsafePathError as exc:
            return f"step {n}: {exc}"
        if e["op"] == "write":
            if not _is_sha(e.get("sha256")):
                return f"step {n} has no content hash"
            stage = txdir / f"{n}.stage"
            if os.path.lexists(stage) and file_sha256(stage) != e["sha256"]:
                return f"step {n}'s staged content does not match its hash"
    return None


def _drop_bad_modes(txdir: Path, manifest: dict) -> list[str]:
    """Forget step modes that are not permission bits (0..0o777): the file gets the default
    mode, and the user one line per step."""
    lines = []
    for n, e in enumerate(manifest["steps"]):
        if "mode" in e and valid_mode(e["mode"]) is None:
            lines.append(f"journal entry {txdir.name}: step {n} ({e['path']}) has an invalid file mode "
                         f"{str(e['mode'])[:20]!r}; ignored, the file gets the default mode")
            del e["mode"]
    return lines


def recover(state_dir: Path, guard: Guard | None = None) -> list[str]:
    """Complete interrupted transactions; discard ones that never became durable;
    quarantine anything that is not a valid transaction of this workspace.

    Returns one line per transaction handled, for the user to see. A transaction that
    cannot be completed now (read-only folder, no space) is left for the next run.
    """
    guard = guard or Guard(state_dir.absolute().parent.parent)
    report = []
    for txdir in pending(state_dir):
        if txdir.is_symlink() or not txdir.is_dir():
            report.append(quarantine(state_dir, txdir, f"{txdir} is not a journal folder"))
            continue
        manifest_path = txdir / "manifest.json"
        if not manifest_path.exists():
            # Crashed while staging: nothing was applied, the staged copies are redundant.
            shutil.rmtree(txdir, ignore_errors=True)
            report.append(f"discarded unfinished plan {txdir.name} (nothing had changed)")
            continue
        try:
            manifest = json.loads(read_regular(manifest_path, MAX_STATE_BYTES, follow_symlinks=False))
        except (OSError, ValueError, RecursionError) as exc:
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else "unreadable"
            report.append(quarantine(state_dir, txdir, f"journal entry {txdir.name} is corrupt ({why})"))
            continue
        problem = validate_manifest(txdir, manifest, guard)
        if problem:
            report.append(quarantine(state_dir, txdir, f"journal entry {txdir.name} refused: {problem}"))
            continue
        report += _drop_bad_modes(txdir, manifest)
        if (txdir / "aborted").exists():  # a refused change, interrupted while putting back
            steps = manifest["steps"]
            targets = [guard.target(e["path"], remove=e["op"] == "remove") for e in steps]
            lines: list[str] = []
            try:
                _undo(txdir, steps, targets, list(range(len(steps))), lines)
            except OSError as exc:
                report.append(f"could not finish undoing refused operation {txdir.name} ({_why(exc)}); will retry")
                continue
            report.append(f"finished undoing refused operation {txdir.name} (nothing changed)")
            report += lines
            continue
        try:
            conflicts = _roll_forward(txdir, manifest, guard, recovering=True)
        except (OSError, CtxtuiError) as exc:
            why = _why(exc) if isinstance(exc, OSError) else str(exc)
            report.append(f"could not complete interrupted operation {txdir.name} ({why}); will retry")
            continue
        report.append(f"completed interrupted operation {txdir.name} ({manifest.get('label', '')})")
        report += conflicts
    return report


@contextlib.contextmanager
def locked(state_dir: Path, timeout: float | None = None) -> Iterator[None]:
    """The workspace lock (kept here for callers of the older API)."""
    with _lock.locked(state_dir, timeout):
        yield
