"""Every refusal the user should see as one line, in one module so any layer can raise them
without importing the layer that usually does (no import cycles)."""

from __future__ import annotations

from collections.abc import Iterable


class CtxtuiError(Exception):
    """Bad input or a refused operation; nothing was changed. Faces print ``str(exc)``."""


class WorkspaceError(CtxtuiError):
    """A refused workspace operation; the message is one line and nothing changed."""


class CapError(WorkspaceError):
    """Activating would exceed the max-active cap."""


class ConflictError(CtxtuiError):
    """A file changed on disk after ctxtui read it; it was left as it is (or kept aside)."""


class EditedBlockError(ConflictError):
    """The text between CLAUDE.md's ctxtui markers was edited after ctxtui wrote it."""


class BusyError(CtxtuiError, TimeoutError):
    """Another ctxtui process held the workspace lock for longer than the timeout."""


class UnsafePathError(CtxtuiError):
    """A path to write or remove lies outside the project's managed locations, or goes
    through a symlink ctxtui will not follow. Nothing was written there."""


class StateError(CtxtuiError):
    """One of ctxtui's own files (journal, history, state) is unreadable or malformed."""


class WriteError(CtxtuiError, OSError):
    """The file system refused a write (no space, read-only, permission)."""


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest of ``choices`` (case-insensitive), else ``""``."""
    import difflib

    by_lower: dict[str, str] = {}
    for c in choices:
        by_lower.setdefault(c.lower(), c)
    found = difflib.get_close_matches(word.lower(), list(by_lower), n=3, cutoff=0.6)
    if not found:
        return ""
    return "; did you mean " + " or ".join(repr(by_lower[f]) for f in found) + "?"
