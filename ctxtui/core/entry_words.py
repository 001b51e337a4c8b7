"""A recorded change in plain words: what it did, not its id (``moved alpha to hot``,
``strategy switch lazy_loading → eager``). For messages such as the TUI's ``Undone: …``.

Each kind of entry is made by its own operation (``Workspace.activate`` records ``activate
NAMES``, a tier change ``tier NAMES TIER`` unless given a reason); this reads those records,
and falls back on the entry's reason for a kind it does not know."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ctxtui.core.history import Entry

#: Names listed in full up to this many; more are counted.
MAX_NAMES = 3

_FIXED = {
    "init": "project set up (ctxtui init)",
    "reset": "project reset (ctxtui reset)",
    "claude-md": "CLAUDE.md block written",
    "optimize": "auto-optimised hot set",
    "hook": "router hook installed",
}


def _names(text: str) -> str:
    """``a b c d`` → ``a, b, c`` or ``4 personas``."""
    names = text.split()
    if len(names) > MAX_NAMES:
        return f"{len(names)} personas"
    return ", ".join(names)


def describe(entry: Entry) -> str:
    """What ENTRY changed, in a few plain words."""
    kind, label = entry.kind, (entry.changes[0] if entry.changes else entry.reason)
    switch = (f"{entry.from_strategy} → {entry.to_strategy}"
              if entry.from_strategy != entry.to_strategy else "")
    if kind in ("activate", "deactivate") and label.startswith(kind + " "):
        return f"moved {_names(label.removeprefix(kind + ' '))} to {'hot' if kind == 'activate' else 'cold'}"
    if kind == "migrate":
        return f"strategy switch {switch}" if switch else f"{entry.to_strategy} hot set re-applied"
    if kind == "profile":
        what = entry.reason if entry.reason.startswith("profile ") else "profile"
        return f"{what} applied" + (f" ({switch})" if switch else "")
    if kind == "tier" and entry.reason.startswith("tier ") and len(entry.reason.split()) > 2:
        *names, tier = entry.reason.split()[1:]
        return f"tier of {_names(' '.join(names))} set to {tier}"
    if kind == "tier":
        return "tier change"
    if kind == "fix":
        return "agent files fixed"
    if kind in ("rollback", "undo") and entry.notes:
        return f"{kind} to {entry.notes[0].removeprefix('restored ')}"
    if kind in _FIXED:
        return _FIXED[kind] + (f" ({switch})" if switch else "")
    return entry.reason or kind
