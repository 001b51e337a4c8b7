"""Which Claude Code version a project runs: the profile every loader rule is chosen by.

Sources, first that answers wins: the ``--claude-version`` option, the ``claude_version``
setting, ``claude --version`` of the ``claude`` on PATH (cached per binary, so it costs one
``stat`` after the first run), the ``version`` field of the project's newest transcript, else
``None`` (callers then use the newest profile).
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from ctxtui.core.errors import CtxtuiError
from ctxtui.core.safe_io import read_regular

_VERSION = re.compile(r"(?<![\d.])(\d+\.\d+\.\d+)(?![\d.])")
_TRANSCRIPT_VERSION = re.compile(rb'"version"\s*:\s*"(\d+\.\d+\.\d+)[^"]*"')
_TAIL_BYTES = 256 * 1024
_PROBE_TIMEOUT = 5.0


@dataclass(frozen=True)
class DetectedVersion:
    """A Claude Code version and where it was found."""

    version: str | None
    """``X.Y.Z``, or None when no source answered."""
    source: str
    """``option``, ``setting``, ``claude --version``, ``transcript`` or ``none``."""


def parse_version(text: str) -> str | None:
    """The first ``X.Y.Z`` in ``text`` (``2.1.112 (Claude Code)`` gives ``2.1.112``)."""
    m = _VERSION.search(text)
    return m.group(1) if m else None


def version_key(version: str) -> tuple[int, ...]:
    """Sortable form of ``X.Y.Z``."""
    return tuple(int(p) for p in version.split("."))


def from_transcripts(projects_dir: Path, workspace: Path) -> str | None:
    """The ``version`` recorded last in the project's newest transcript, if any."""
    from ctxtui.core.sessions import project_transcripts

    folder = project_transcripts(projects_dir, workspace)
    try:
        files = [(e.stat().st_mtime_ns, e.path) for e in os.scandir(folder)
                 if e.name.endswith(".jsonl") and e.is_file()]
    except OSError:
        return None
    for _, path in sorted(files, reverse=True):
        try:
            with open(path, "rb") as f:
                f.seek(0, os.SEEK_END)
                size = f.tell()
                f.seek(max(0, size - _TAIL_BYTES))
                tail = f.read(_TAIL_BYTES)
        except OSError:
            continue
        found = _TRANSCRIPT_VERSION.findall(tail)
        if found:
            return found[-1].decode("ascii")
    return None


def _probe_cache(cache_dir: Path) -> Path:
    return cache_dir / "claude-version.json"


def from_path(cache_dir: Path | None, *, which: str | None = None) -> str | None:
    """``claude --version`` of the binary on PATH, cached by its real path, size, mtime, ctime
    and inode (a version-manager shim that never changes is not seen to upgrade: see README)."""
    exe = which if which is not None else shutil.which("claude")
    if not exe:
        return None
    try:
        real = os.path.realpath(exe)
        st = os.stat(real)
    except OSError:
        return None
    key = f"{real}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}"
    cache = _probe_cache(cache_dir) if cache_dir else None
    if cache is not None:
        try:
            data = json.loads(read_regular(cache, 64 * 1024))
            if isinstance(data, dict) and data.get("key") == key and isinstance(data.get("version"), str):
                return data["version"]
        except (OSError, ValueError, RecursionError):
            pass
    import subprocess  # only when the cached answer is stale

    try:
        out = subprocess.run([exe, "--version"], capture_output=True, text=True,
                             timeout=_PROBE_TIMEOUT, stdin=subprocess.DEVNULL, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    version = parse_version(out.stdout or "")
    if version and cache is not None:
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps({"key": key, "version": version}))
            os.replace(tmp, cache)
        except OSError:
            pass
    return version


def detect(*, option: str | None = None, setting: str | None = None,
           workspace: Path | None = None, projects_dir: Path | None = None,
           cache_dir: Path | None = None, probe_path: bool = True) -> DetectedVersion:
    """The Claude Code version by the precedence in the module docstring."""
    for value, source in ((option, "option"), (setting, "setting")):
        if value:
            v = parse_version(value)
            if not v:
                raise CtxtuiError(f"claude version {value!r} ({source}) is not of the form X.Y.Z")
            return DetectedVersion(v, source)
    if probe_path:
        v = from_path(cache_dir)
        if v:
            return DetectedVersion(v, "claude --version")
    if workspace is not None and projects_dir is not None:
        v = from_transcripts(projects_dir, workspace)
        if v:
            return DetectedVersion(v, "transcript")
    return DetectedVersion(None, "none")
