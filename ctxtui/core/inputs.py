"""What a run read, learnt from the reads themselves: every file opened or stat'd, every folder
listed, every environment variable looked up, and whether it wrote, ran a program or asked the
clock.

A result cache (``ctxtui.cli.status_cache``) replays a command's output only while all of these
are unchanged, so the list must come from the real reads, not from a list kept by hand that goes
stale when a loader learns a new file. Recording hooks three places every read goes through:

- Python's audit events (``open`` for ``open``/``os.open``/``io.open_code``, so every
  ``core.safe_io`` read; ``os.listdir``, ``os.scandir``, ``sqlite3.connect``, the write
  events, ``subprocess.Popen``): C code and pathlib included;
- ``os.stat`` and ``os.lstat`` (``Path.exists``, ``os.path.isfile``, ``shutil.which``,
  ``os.path.realpath`` all call them), swapped for recording wrappers while a recording runs;
  a stat whose caller only asks the type (``exists``, ``is_dir``, ``is_file``) is compared by
  type alone, so a folder that is only checked for being one may gain files;
- ``os.environ``: its class is swapped for a subclass that notes each key looked up (present or
  not) while a recording runs.

What no hook sees is handled where it is recorded: ``DirEntry.stat()`` (the newest transcript by
mtime) is covered by recording, for every folder listed, each entry's ``lstat``; a result that
depends on the wall clock calls :func:`note_clock`.
An audit hook cannot be removed: after :func:`stop` it returns at once.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: the fast path pays imports
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

#: ``open`` flags that make an open a write.
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
#: Audit events that change the file system (their first argument is the path).
_WRITE_EVENTS = frozenset({
    "os.rename", "os.remove", "os.rmdir", "os.mkdir", "os.truncate", "os.chmod", "os.chown",
    "os.utime", "os.link", "os.symlink", "shutil.rmtree", "shutil.move", "shutil.copyfile",
    "shutil.copymode", "shutil.copystat", "shutil.copytree", "os.setxattr", "os.removexattr",
})
_SPAWN_EVENTS = frozenset({"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork"})
ABSENT = b"-"


class Recording:
    """Everything one run read. Paths are absolute bytes; a kind says which ``stat`` applies
    (``s`` follows links, ``l`` does not, ``t``: only the type was asked, following links). A plain class: ``dataclasses`` would cost the
    cache's fast path more than the rest of it."""

    __slots__ = ("paths", "seen", "listed", "env", "writes", "whole_env", "spawned", "clock", "unknown")

    def __init__(self) -> None:
        self.paths: dict[tuple[str, bytes], None] = {}
        """(kind, path) of every file opened or stat'd, in first-seen order."""
        self.seen: dict[tuple[str, bytes], bytes] = {}
        """The :func:`signature` of each of those paths when it was first read: one that
        differs at the end of the run changed during it (a file deleted after it was read)."""
        self.listed: dict[bytes, None] = {}
        """Folders listed (``os.listdir``, ``os.scandir``, ``Path.iterdir``, ``glob``)."""
        self.env: dict[str, str | None] = {}
        """Environment variables looked up, with the value seen (None: not set)."""
        self.writes: list[tuple[str, bytes]] = []
        """(audit event, path) of each path written, created, renamed or removed (``open``:
        opened for writing)."""
        self.whole_env = False
        """The whole environment was read (iterated or copied)."""
        self.spawned = False
        """A program was run (its answer depends on more than this process can see)."""
        self.clock = False
        """The result depends on the wall clock (see :func:`note_clock`)."""
        self.unknown = False
        """A read the recorder could not place (a listing by folder descriptor)."""


_current: Recording | None = None
_hooked = False
_real_stat = os.stat
_real_lstat = os.lstat
_real_environ_class = type(os.environ)


def _abs(path: object) -> bytes | None:
    """PATH as an absolute byte path; None for a file descriptor or something that is no path."""
    if isinstance(path, int) or path is None:
        return None
    try:
        raw = os.fsencode(path)  # type: ignore[arg-type]
    except TypeError:
        return None
    return raw if raw.startswith(b"/") else os.path.join(os.getcwdb(), raw)


def _audit(event: str, args: tuple[object, ...]) -> None:
    rec = _current
    if rec is None:
        return
    try:
        if event == "open":
            path = _abs(args[0])
            if path is None:
                return
            flags = args[2] if len(args) > 2 and isinstance(args[2], int) else 0
            mode = args[1] if isinstance(args[1], str) else ""
            if flags & _WRITE_FLAGS or any(c in mode for c in "wax+"):
                rec.writes.append((event, path))
            elif ("s", path) not in rec.paths:
                rec.paths[("s", path)] = None
                rec.seen[("s", path)] = signature("s", path)
        elif event in ("os.listdir", "os.scandir"):
            if sys._getframe(1).f_code.co_filename.startswith("<frozen importlib"):
                return  # the import system's own look at sys.path: see inputs_of's MODULES
            path = _abs(args[0] if args and args[0] is not None else ".")
            if path is None:
                rec.unknown = True  # a listing by descriptor (os.fwalk): not placed
            else:
                rec.listed.setdefault(path, None)
        elif event == "sqlite3.connect":  # SQLite opens its files in C: no open event
            database = args[0] if args else None
            if isinstance(database, (str, bytes, os.PathLike)) and os.fsencode(database) != b":memory:":
                if os.fsencode(database).startswith(b"file:"):
                    rec.unknown = True  # a URI: where it points is SQLite's to say
                else:
                    path = _abs(database)
                    if path is not None:
                        for suffix in (b"", b"-wal"):
                            rec.paths.setdefault(("s", path + suffix), None)
        elif event in _WRITE_EVENTS:
            path = _abs(args[0]) if args else None
            rec.writes.append((event, path if path is not None else b"?"))
        elif event in _SPAWN_EVENTS:
            rec.spawned = True
    except Exception:  # an audit hook must never break the program it watches
        rec.unknown = True


#: Code objects of the callers that ask ``os.stat`` only what type a path is (or whether it
#: exists): their answer cannot change unless the type does. Filled by :func:`start`.
_TYPE_ONLY: set[object] = set()
#: Wrappers between those callers and ``os.stat`` (``Path.stat``).
_VIA: set[object] = set()


def _stat_kind() -> str:
    """``t`` when the caller of ``os.stat`` only asks what type the path is (``exists``,
    ``is_dir``, ``is_file``, the loop check in ``Path.resolve``), else ``s``."""
    frame = sys._getframe(3)  # 0: here, 1: _note_stat, 2: _stat, 3: whoever called os.stat
    if frame.f_code in _VIA and frame.f_back is not None:
        frame = frame.f_back
    return "t" if frame.f_code in _TYPE_ONLY else "s"


def _note_stat(path: object, kwargs: dict[str, object], lstat: bool) -> None:
    """Record a stat of PATH (an lstat, or a stat that does not follow links, as ``l``)."""
    rec = _current
    if rec is None:
        return
    if kwargs.get("dir_fd") is not None:
        rec.unknown = True
        return
    p = _abs(path)
    if p is not None:
        kind = "l" if lstat or kwargs.get("follow_symlinks") is False else _stat_kind()
        if (kind, p) not in rec.paths:
            rec.paths[(kind, p)] = None
            rec.seen[(kind, p)] = signature(kind, p)


def _stat(path: object, *args: object, **kwargs: object) -> os.stat_result:
    _note_stat(path, kwargs, lstat=False)
    return _real_stat(path, *args, **kwargs)  # type: ignore[arg-type]


def _lstat(path: object, *args: object, **kwargs: object) -> os.stat_result:
    _note_stat(path, kwargs, lstat=True)
    return _real_lstat(path, *args, **kwargs)  # type: ignore[arg-type]


class _RecordingEnviron(_real_environ_class):  # type: ignore[valid-type,misc]
    """``os.environ`` while a recording runs: each lookup is noted (``get``, ``in`` and
    ``os.getenv`` go through ``__getitem__``)."""

    def __getitem__(self, key: str) -> str:
        try:
            value: str = super().__getitem__(key)
        except KeyError:
            _note_env(key, None)
            raise
        _note_env(key, value)
        return value

    def __iter__(self) -> Iterator[str]:
        if _current is not None:
            _current.whole_env = True
        return iter(super().__iter__())

    def __len__(self) -> int:
        if _current is not None:
            _current.whole_env = True
        return int(super().__len__())


def _note_env(key: object, value: str | None) -> None:
    rec = _current
    if rec is not None:
        if isinstance(key, str):
            rec.env.setdefault(key, value)
        else:
            rec.whole_env = True  # os.environb, or a key that is no text: not placed


def start() -> Recording:
    """Begin recording this process's reads; returns the recording :func:`stop` ends."""
    global _current, _hooked
    if not _hooked:
        import genericpath
        import pathlib

        sys.addaudithook(_audit)
        _hooked = True
        path = pathlib.Path
        _VIA.add(path.stat.__code__)
        _TYPE_ONLY.update(f.__code__ for f in (path.exists, path.is_dir, path.is_file, path.resolve,
                                               genericpath.exists, genericpath.isdir, genericpath.isfile))
    rec = Recording()
    os.stat = _stat
    os.lstat = _lstat
    os.environ.__class__ = _RecordingEnviron
    if hasattr(os, "environb"):
        os.environb.__class__ = _RecordingEnviron  # any lookup there: the whole environment
    _current = rec
    return rec


def stop() -> Recording | None:
    """End the recording (hooks back as they were); returns it, or None when none ran."""
    global _current
    rec, _current = _current, None
    os.stat = _real_stat
    os.lstat = _real_lstat
    os.environ.__class__ = _real_environ_class
    if hasattr(os, "environb"):
        os.environb.__class__ = _real_environ_class  # type: ignore[assignment]
    return rec


def recording() -> bool:
    """Whether a recording runs (callers with a read no hook sees note it)."""
    return _current is not None


def note_clock() -> None:
    """The result being computed depends on the wall clock: it must not be replayed later."""
    if _current is not None:
        _current.clock = True


def note_read(path: object, *, follow: bool = True) -> None:
    """Record a read no hook sees (a path opened relative to a folder descriptor, say)."""
    rec = _current
    p = _abs(path)
    if rec is not None and p is not None:
        rec.paths.setdefault(("s" if follow else "l", p), None)


def lasting_writes(rec: Recording) -> list[bytes]:
    """Paths REC wrote that are still written after the run: a file created and removed again
    (``tempfile`` probing the temp folder) leaves nothing behind."""
    made = {p for event, p in rec.writes if event == "open"}
    gone = {p for event, p in rec.writes if event == "os.remove"}
    return list(dict.fromkeys(p for _, p in rec.writes if not (p in made and p in gone)))


def signature(kind: str, path: bytes) -> bytes:
    """What a path is now, as the cache compares it: ``-`` when it does not exist, else mode,
    inode, device, size, mtime and ctime (ctime moves on every change and cannot be set back),
    for a folder seen through ``lstat`` only mode, inode and device, for a path whose type
    alone was asked (kind ``t``) its type, or ``!errno`` when ``stat`` fails otherwise."""
    try:
        st = _real_lstat(path) if kind == "l" else _real_stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return ABSENT
    except OSError as exc:
        return b"!%d" % (exc.errno or 0)
    except ValueError:  # an embedded NUL
        return b"!0"
    if kind == "t":  # asked only what type it is (and, with the mode, whether it may run:
        return b"t%o" % st.st_mode  # `shutil.which` asks `os.access` after `exists`)
    if kind == "l" and st.st_mode & 0o170000 == 0o040000:
        # A folder seen through lstat (a step of realpath, an entry of a listing) matters as a
        # folder, not for its entries: those count where the folder itself is listed.
        return b"d:%d:%d:%d" % (st.st_mode, st.st_ino, st.st_dev)
    return b"%d:%d:%d:%d:%d:%d" % (st.st_mode, st.st_ino, st.st_dev, st.st_size,
                                   st.st_mtime_ns, st.st_ctime_ns)


def newest_change_ns(sig: bytes) -> int:
    """The later of mtime and ctime in a :func:`signature` (0 for an absent path)."""
    parts = sig.split(b":")
    return max(int(parts[4]), int(parts[5])) if len(parts) == 6 else 0


def inputs_of(rec: Recording, exclude: Callable[[bytes], bool] = lambda p: False,
              modules: bool = True) -> list[tuple[str, bytes, bytes]]:
    """(kind, path, signature) of everything REC read, now: each path; each folder listed and,
    for each of its entries, the entry's ``lstat`` (what ``DirEntry.stat`` would see); with
    MODULES, the source file of every non-standard-library module loaded (the code that ran)
    and each ``sys.path`` folder (a module added to one could shadow one that ran).
    Paths for which EXCLUDE is true are left out."""
    seen: dict[tuple[str, bytes], None] = dict(rec.paths)
    for folder in rec.listed:
        if exclude(folder):
            continue
        seen.setdefault(("s", folder), None)
        try:
            names = os.listdir(folder) if _current is None else []
        except OSError:
            names = []
        for name in names:
            seen.setdefault(("l", os.path.join(folder, name)), None)
    if modules:
        for entry in sys.path:  # a module added there could shadow one that ran
            p = _abs(entry or ".")
            if p is not None:
                seen.setdefault(("s", p), None)
        stdlib = os.fsencode(os.path.dirname(os.__file__)) + b"/"
        for module in list(sys.modules.values()):
            file = getattr(module, "__file__", None)
            p = _abs(file) if isinstance(file, str) else None
            if p is not None and not (p.startswith(stdlib) and b"-packages/" not in p):
                seen.setdefault(("s", p), None)
    return [(kind, path, signature(kind, path)) for kind, path in seen if not exclude(path)]
