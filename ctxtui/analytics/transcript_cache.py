"""What a transcript read depends on, and a cache file of results keyed by it.

Claude Code appends to its transcripts and leaves old sessions alone, so most files are the
same from one ``analyze`` to the next. :func:`fingerprint` names everything reading a main
transcript depends on (the file and every subagent file beside it: device, inode, size,
modification and change times, mode); a result stored under an equal fingerprint, by the same
reading code (:func:`code_key`), is the result reading the files again would give. The cache
file is msgpack (never pickle: a file in the cache folder cannot run code), bounded in size,
replaced atomically; a missing, damaged or foreign file is an empty cache.
"""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import os
import stat
import threading
import time
from pathlib import Path
from typing import Any, TypeVar

import msgspec

MAX_CACHE_BYTES = 512 * 1024 * 1024
"""A larger cache file is ignored (and replaced by the next save)."""
SETTLE_NS = 2_000_000_000
"""A file changed this recently is not cached: file times are coarser than a nanosecond (a
few ms), so a rewrite of the same size within that tick would keep its fingerprint ("racy
git"); a session being written is read again until it settles."""

_T = TypeVar("_T")


def fingerprint(path: Path, project: str) -> str | None:
    """The identity of a main transcript and the subagent files read with it (None when the
    file cannot be examined: it is then read every time)."""
    recent = time.time_ns() - SETTLE_NS
    try:
        st = os.stat(path)
    except OSError:
        return None
    if max(st.st_mtime_ns, st.st_ctime_ns) > recent:
        return None
    parts: list[Any] = [project, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_mode]
    folder = path.with_suffix("") / "subagents"
    try:
        names = sorted(n for n in os.listdir(folder) if fnmatch.fnmatchcase(n, "agent-*.jsonl"))
    except OSError:  # no folder (or none to list): no subagent file is read either
        names = []
    for name in names:
        try:
            sub = os.stat(folder / name)
        except OSError:
            parts.append((name,))
            continue
        if max(sub.st_mtime_ns, sub.st_ctime_ns) > recent:
            return None
        parts.append((name, sub.st_dev, sub.st_ino, sub.st_size, sub.st_mtime_ns, sub.st_ctime_ns, sub.st_mode))
    return repr(parts)


def default_folder() -> Path | None:
    """Where every reader of the whole history keeps its results (``analyze``, the TUI, the
    router, ``migrate --to adaptive``): ctxtui's cache folder, or None when
    ``CTXTUI_NO_CACHE`` is set (as for ``status``)."""
    if os.environ.get("CTXTUI_NO_CACHE", "") not in ("", "0"):
        return None
    from ctxtui.core import config

    return config.cache_dir() / "transcripts"


def code_key(module_file: str, *settings: object) -> str:
    """The reading code's identity: its source and the limits it reads with (another version
    of ctxtui, or an edited reader, never uses results stored by this one)."""
    digest = hashlib.sha256(repr(settings).encode())
    try:
        digest.update(Path(module_file).read_bytes())
    except OSError:  # no source beside the module: its path and the version stand in
        from ctxtui import __version__

        digest.update(f"{module_file} {__version__}".encode())
    return digest.hexdigest()


def cache_file(folder: Path, root: Path) -> Path:
    """The cache file for one transcripts folder."""
    try:
        key = str(root.resolve())
    except OSError:
        key = str(root.absolute())
    return folder / f"{hashlib.sha256(key.encode()).hexdigest()[:24]}.msgpack"


def load(file: Path, decoder: msgspec.msgpack.Decoder[_T]) -> _T | None:
    """The stored value, or None for a missing, oversize, damaged or foreign file (or one that
    is not a regular file: a FIFO there never blocks the read)."""
    try:
        fd = os.open(file, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    try:
        with open(fd, "rb") as fh:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_CACHE_BYTES:
                return None
            data = fh.read(st.st_size + 1)  # a file that grew meanwhile is refused below
        return decoder.decode(data) if len(data) <= MAX_CACHE_BYTES else None
    except (OSError, msgspec.MsgspecError, ValueError, TypeError, RecursionError):
        return None


def save(file: Path, data: bytes) -> None:
    """Replace the cache file atomically; a cache that cannot be written is simply not kept,
    nor one larger than :data:`MAX_CACHE_BYTES` (it would never be loaded: the file there stays).
    The temporary file is created afresh (never through a link someone left in its place)."""
    if len(data) > MAX_CACHE_BYTES:
        return
    tmp = file.with_name(f".{file.name}.{os.getpid()}.{threading.get_ident()}.tmp")  # two threads never share one
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0),
                     0o600)
        with open(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, file)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()
