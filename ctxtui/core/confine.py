"""Where ctxtui may write: the project's managed locations, nowhere else.

Every path written or removed, including paths read back from ctxtui's own journal,
history and state (which a cloned repository can craft), goes through :meth:`Guard.target`.
A path is allowed when, after normalising ``..``:

* it lies in one of the managed locations below the workspace (:data:`MANAGED_FILES`,
  :data:`MANAGED_DIRS`) or in an extra root (ctxtui's own data folders);
* no folder on the way down from the workspace is a symlink (a linked ``.claude/agents``
  or cold store would make ctxtui write into the link's target);
* if the file itself is a symlink, it is one of the memory/settings files users commonly
  link (``CLAUDE.md`` -> ``AGENTS.md``) and its target resolves inside the workspace: the
  write then goes *through* the link, which stays a link.
"""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

from ctxtui.core.errors import UnsafePathError

#: Single files ctxtui may write, relative to the workspace.
MANAGED_FILES = ("CLAUDE.md", ".claude/CLAUDE.md", ".claude/settings.local.json", "hybrid-config.json",
                 ".gitignore")  # .gitignore: only `ctxtui init --gitignore` appends to it
#: Folders whose content ctxtui may write, relative to the workspace.
MANAGED_DIRS = (".claude/agents", ".claude/ctxtui", ".claude/skills", ".claude/commands")
#: Managed files that may be symlinks written through (when the target is in the workspace).
LINKABLE = ("CLAUDE.md", ".claude/CLAUDE.md", ".claude/settings.local.json", "hybrid-config.json")


def _norm(path: Path | str) -> Path:
    return Path(os.path.normpath(os.path.abspath(path)))


class Guard:
    """The confinement rule of one workspace."""

    def __init__(self, workspace: Path, extra_roots: tuple[Path, ...] = ()) -> None:
        self.workspace = _norm(workspace)
        self.real_workspace = Path(os.path.realpath(self.workspace))
        self.extra_roots = tuple(_norm(r) for r in extra_roots)

    def rel(self, path: Path | str) -> str | None:
        """The workspace-relative posix path of ``path`` (after ``..``), or None if outside."""
        p = _norm(path)
        for root in (self.workspace, self.real_workspace):
            if p == root:
                return ""
            if p.is_relative_to(root):
                return p.relative_to(root).as_posix()
        return None

    def is_managed_rel(self, rel: str) -> bool:
        """Whether a workspace-relative path is one ctxtui may write."""
        return rel in MANAGED_FILES or any(rel.startswith(d + "/") for d in MANAGED_DIRS)

    def target(self, path: Path | str, *, remove: bool = False) -> Path:
        """The real file to write (or remove) for ``path``; raises UnsafePathError."""
        p = _norm(path)
        if any(p.is_relative_to(r) for r in self.extra_roots):
            return p
        rel = self.rel(p)
        if rel is None or not self.is_managed_rel(rel):
            raise UnsafePathError(f"refusing to write {path}: outside the project's managed locations")
        self.check_folders(p.parent)
        p = self.workspace / rel
        try:
            st = os.lstat(p)
        except FileNotFoundError:
            return p
        if stat.S_ISLNK(st.st_mode):
            if remove:
                raise UnsafePathError(f"{rel} is a symlink; ctxtui never removes or replaces links")
            if rel not in LINKABLE:
                raise UnsafePathError(f"{rel} is a symlink; ctxtui leaves linked files in place")
            real = Path(os.path.realpath(p))
            if not real.is_relative_to(self.real_workspace):
                raise UnsafePathError(
                    f"{rel} links to {real}, outside the project; ctxtui edits a link only when its target is inside"
                )
            if os.path.lexists(real) and not stat.S_ISREG(os.lstat(real).st_mode):
                raise UnsafePathError(f"{rel} links to {real}, which is not a regular file")
            return real
        if not stat.S_ISREG(st.st_mode):
            raise UnsafePathError(f"{rel} is not a regular file; ctxtui will not replace it")
        return p

    def check_folders(self, folder: Path) -> None:
        """Refuse when any folder between the workspace and ``folder`` is a symlink."""
        folder = _norm(folder)
        rel = self.rel(folder)
        if rel is None:
            raise UnsafePathError(f"refusing to write in {folder}: outside the project")
        cur = self.workspace
        for part in Path(rel).parts if rel else ():
            cur = cur / part
            if os.path.islink(cur):
                raise UnsafePathError(
                    f"{cur.relative_to(self.workspace).as_posix()} is a symlink; ctxtui will not write "
                    "through a linked folder (replace the link with a real folder)"
                )


def quarantine(state_dir: Path, path: Path, why: str) -> str:
    """Move one of ctxtui's own files (or folders) aside so it is never applied; returns the
    line to tell the user."""
    dest_dir = state_dir / "quarantine"
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / f"{time.strftime('%Y%m%dT%H%M%S')}-{path.name}"
    n = 2
    while os.path.lexists(dest):
        dest = dest_dir / f"{time.strftime('%Y%m%dT%H%M%S')}-{n}-{path.name}"
        n += 1
    os.replace(path, dest)
    return f"{why}; moved to {dest} and not used"
