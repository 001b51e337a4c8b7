"""Where Claude Code writes a project's session transcripts, and which one is the newest.

Claude Code appends each session to ``<claude home>/projects/<project dir name>/<sessionId>.jsonl``
(subagents' transcripts sit in subfolders). The folder name is the absolute project path with
every character outside ``[a-zA-Z0-9]`` (per UTF-16 code unit) replaced by ``-``; names over 200
characters are cut to 200 and suffixed with ``-`` + a base-36 hash of the path (read from its
``cli.js``). Core knows only where the files are (``Settings.session_folder`` is the
project's folder); reading them is analytics' work.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_NAME_MAX = 200


def _js_hash(text: str) -> int:
    """Claude Code's 32-bit string hash (``h = h * 31 + code unit``, over UTF-16 code units)."""
    h = 0
    data = text.encode("utf-16-le", "surrogatepass")
    for i in range(0, len(data), 2):
        h = (h * 31 + int.from_bytes(data[i:i + 2], "little")) & 0xFFFFFFFF
    return h - (1 << 32) if h & 0x80000000 else h


def _base36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if not n:
            return out


def project_dir_name(project: str) -> str:
    """The folder name Claude Code gives a project's transcripts (``/a/b.c`` -> ``-a-b-c``)."""
    units = len(project.encode("utf-16-le", "surrogatepass")) // 2
    # JavaScript's regex replaces per UTF-16 code unit: a character outside the BMP gives two '-'.
    name = "".join(c if c.isascii() and c.isalnum() else ("--" if ord(c) > 0xFFFF else "-")
                   for c in project)
    if units <= PROJECT_NAME_MAX:
        return name
    return f"{name[:PROJECT_NAME_MAX]}-{_base36(abs(_js_hash(project)))}"


def project_transcripts(projects_root: Path, workspace: Path) -> Path:
    """The transcripts folder of a project (the resolved path's, unless only the literal one exists)."""
    literal = projects_root / project_dir_name(str(workspace.absolute()))
    resolved = projects_root / project_dir_name(str(workspace.resolve()))
    return literal if not resolved.is_dir() and literal.is_dir() else resolved


def is_main_transcript(entry: os.DirEntry[str]) -> bool:
    """A session's own transcript: a ``.jsonl`` regular file, not hidden (links are not followed)."""
    return (entry.name.endswith(".jsonl") and not entry.name.startswith(".")
            and entry.is_file(follow_symlinks=False))


def newest_transcript(folder: Path, exclude: frozenset[str] | set[str] = frozenset()) -> Path | None:
    """The most recently written main transcript of a project folder (subfolders are subagents');
    names in ``exclude`` (files that could not be read) are passed over."""
    best: tuple[float, str] | None = None
    try:
        with os.scandir(folder) as it:
            for entry in it:
                try:
                    if entry.name not in exclude and is_main_transcript(entry):
                        key = (entry.stat(follow_symlinks=False).st_mtime, entry.name)
                        best = key if best is None or key > best else best
                except OSError:
                    continue
    except OSError:
        return None
    return folder / best[1] if best else None
