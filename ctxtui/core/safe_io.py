"""Bounded reads of files written by others: regular files only, with a size cap.

Opening with ``O_NONBLOCK`` means a FIFO never blocks ``open``; the ``fstat`` on the open
descriptor then refuses anything that is not a regular file (FIFOs, devices, sockets), so a
link to ``/dev/zero`` or a named pipe called ``x.md`` costs one syscall, not a hang.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

from ctxtui.core.errors import CtxtuiError

#: Default cap for one untrusted file. Claude Code 2.1.112 reads agent files of any size;
#: callers that model it pass their own, larger cap where that matters.
DEFAULT_MAX_BYTES = 16 * 1024 * 1024
_CHUNK = 1024 * 1024
_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)


class UnsafeReadError(CtxtuiError, OSError):
    """The path is not a regular file, or is larger than the cap. Nothing was read."""


class TooLargeError(UnsafeReadError):
    """The file is larger than the cap."""


def read_regular(path: Path | str, max_bytes: int = DEFAULT_MAX_BYTES, *,
                 follow_symlinks: bool = True) -> bytes:
    """Return the bytes of a regular file of at most ``max_bytes``.

    Raises ``UnsafeReadError`` for a non-regular file or one over the cap (checked on the open
    descriptor and again while reading, so a file that grows meanwhile is still bounded), and
    ``OSError`` for the usual reasons (missing, permission).
    """
    flags = _FLAGS if follow_symlinks else _FLAGS | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise UnsafeReadError(f"{path}: not a regular file; not read")
        if st.st_size > max_bytes:
            raise TooLargeError(f"{path}: {st.st_size:,} bytes is over the {max_bytes:,}-byte limit; not read")
        chunks: list[bytes] = []
        total = 0
        while True:
            data = os.read(fd, min(_CHUNK, max_bytes + 1 - total))
            if not data:
                break
            chunks.append(data)
            total += len(data)
            if total > max_bytes:
                raise TooLargeError(f"{path}: over the {max_bytes:,}-byte limit; not read")
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_head(path: Path | str, n: int = 4096) -> bytes:
    """The first ``n`` bytes of a regular file (fewer when it is shorter); never blocks on a
    FIFO or reads a device.

    Raises ``UnsafeReadError`` for a non-regular file and ``OSError`` as ``open`` does."""
    fd = os.open(path, _FLAGS)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UnsafeReadError(f"{path}: not a regular file; not read")
        chunks: list[bytes] = []
        total = 0
        while total < n:
            data = os.read(fd, min(_CHUNK, n - total))
            if not data:
                break
            chunks.append(data)
            total += len(data)
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_head_lines(path: Path | str, n: int) -> bytes:
    """The whole lines within the first ``n`` bytes of a regular file (all of it when it is
    shorter): a log too long to read whole is read from its start, never cut mid-line."""
    data = read_head(path, n + 1)
    if len(data) <= n:
        return data
    return data[:data.rfind(b"\n", 0, n) + 1]


def is_regular(path: Path | str) -> bool:
    """True for a regular file (following links); never raises, never opens the file."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


class NotAJsonObject(ValueError):
    """Bytes that are not one JSON object; the message says why in a few words."""


def json_object(raw: bytes) -> dict[str, Any]:
    """The JSON object in RAW (UTF-8). Raises NotAJsonObject: ``not UTF-8 text``, ``not valid
    JSON (line N: why)``, ``nested too deeply``, ``not a JSON object (found list)``."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise NotAJsonObject("not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise NotAJsonObject(f"not valid JSON (line {exc.lineno}: {exc.msg})") from None
    except RecursionError:
        raise NotAJsonObject("nested too deeply") from None
    if not isinstance(data, dict):
        raise NotAJsonObject(f"not a JSON object (found {type(data).__name__})")
    return data
