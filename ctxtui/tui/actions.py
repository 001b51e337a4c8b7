"""Every TUI action, declared once: id, default keys, description, footer and palette.

Bindings (``BINDINGS`` of each screen and widget), the command palette and the help screen are
all built from :data:`ACTIONS`, so a key remapped in the settings' ``keymap`` (binding id ->
keys) shows the same everywhere. :func:`check_keymap` refuses a keymap that names an unknown
action, leaves Quit without a key, or gives one key to two actions that are live together.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from textual.binding import Binding, BindingType

from ctxtui.core.errors import CtxtuiError


class KeymapError(CtxtuiError):
    """The settings' keymap cannot be used."""


@dataclass(frozen=True)
class Action:
    """One user action."""

    id: str
    """Binding id: the name used in the settings' ``keymap``."""
    keys: str
    """Default keys, comma separated (Textual key names)."""
    action: str
    """The Textual action it runs (``move_current`` runs ``action_move_current``)."""
    description: str
    """Short label for the footer and the help screen."""
    scope: str
    """Where it is bound: app, main, list, history, analytics, startup, lint, tier, preview,
    confirm, help."""
    help: str = ""
    """Longer text for the command palette and the help screen."""
    show: bool = True
    """Shown in the footer (which must keep Quit visible at 120 columns: see FitFooter)."""
    palette: bool = False
    """Listed in the command palette (main screen actions)."""
    essential: bool = False
    """Kept in the footer of a narrow terminal (80 columns), where the others give way."""
    priority: bool = False
    """Run when the app takes the key, before it reaches the focused widget: a key that moves
    focus must have moved it before the keys typed right after it are handed out."""


ACTIONS: tuple[Action, ...] = (
    Action("toggle", "t", "move_current", "Toggle", "main",
           "Move the persona under the cursor to the other pane", palette=True, essential=True),
    Action("mark", "space", "mark", "Select", "list", "Select several personas", essential=True),
    Action("move-selected", "m", "move_selected", "Move sel.", "main",
           "Move every selected persona", palette=True, essential=True),
    Action("undo", "u", "undo", "Undo", "main", "Step back over the newest recorded change, as `ctxtui undo`", palette=True,
           essential=True),
    Action("filter", "slash", "filter", "Filter", "main", "Filter the cold pane by name and description",
           palette=True, essential=True, priority=True),
    Action("sort", "s", "cycle_sort", "Sort", "main", "Cycle sort: name, tokens, last used", palette=True),
    Action("density", "d", "cycle_density", "Density", "main",
           "Cycle the cold index density of the CLAUDE.md block: auto, full, names, search", palette=True),
    Action("preview", "p", "preview", "Preview", "main",
           "Preview the CLAUDE.md block the hot set would generate", palette=True),
    Action("write", "w", "write_claude_md", "Write CLAUDE.md", "main",
           "Write the generated block into CLAUDE.md (atomic)", show=False, palette=True),
    Action("strategy", "g", "focus_strategy", "Strategy", "main", "Choose a strategy (a recorded migration)"),
    Action("history", "h", "focus_history", "History", "main", "Past migrations; enter rolls back to one",
           show=False, palette=True),
    Action("reload", "r", "reload", "Reload", "main", "Re-read library, agents and CLAUDE.md", show=False,
           palette=True),
    Action("analytics", "a", "analytics", "Analytics", "main",
           "Usage per persona, pairs, triggers, auto-optimise", palette=True),
    Action("tier", "i", "choose_tier", "Tier", "main",
           "Keep the selected personas as files, hidden by a deny rule, or as skills", show=False,
           palette=True),
    Action("init", "I", "init_project", "Set up", "main",
           "Set this project up (ctxtui init): record the library, adopt its agents, add /persona",
           show=False, palette=True),
    Action("lint", "f", "lint", "Lint", "main",
           "Agent files Claude Code skips or reads differently from what was written; fix them",
           show=False, palette=True),
    Action("startup", "c", "startup_chart", "Startup", "main",
           "Chart of the whole startup context by kind, and what can be saved", show=False,
           palette=True),
    Action("gauge", "l", "toggle_gauge", "Live", "main",
           "Show or hide the live context gauge of this project's Claude Code session", show=False,
           palette=True),
    Action("help", "question_mark", "help", "Help", "main", "Every key and how moving personas works",
           palette=True, essential=True),
    Action("cancel", "escape", "cancel", "Cancel", "main", "Cancel a drag, clear the filter or close the side column", show=False),
    Action("next-pane", "tab", "focus_pane(1)", "Next pane", "main",
           "Focus the next list (the filter is reached with its own key, so a key typed after tab is no text)",
           show=False),
    Action("previous-pane", "shift+tab", "focus_pane(-1)", "Previous pane", "main", "Focus the previous list",
           show=False),
    Action("quit", "q", "quit", "Quit", "app", "Leave ctxtui", essential=True),
    Action("top", "home", "scroll_top", "First", "list", "First persona in the list", show=False),
    Action("bottom", "end", "scroll_bottom", "Last", "list", "Last persona in the list", show=False),
    Action("page-up", "pageup", "page_up", "Page up", "list", "One page up", show=False),
    Action("page-down", "pagedown", "page_down", "Page down", "list", "One page down", show=False),
    Action("rollback-entry", "enter", "select_cursor", "Roll back", "history",
           "Roll back to the history entry under the cursor"),
    Action("analytics-back", "escape,q", "app.pop_screen", "Back", "analytics", "Back to the main screen"),
    Action("analytics-optimize", "o", "optimize", "Auto-optimise", "analytics",
           "Apply the usage-based hot set (a migration)"),
    Action("startup-back", "escape,q", "app.pop_screen", "Back", "startup", "Back to the main screen"),
    Action("lint-fix", "x", "fix_all", "Fix all", "lint", "Fix every file that needs it (a recorded change)"),
    Action("lint-back", "escape,q", "dismiss(False)", "Back", "lint", "Back to the main screen"),
    Action("tier-file", "f", "choose('file')", "File", "tier", "An agent file (hot) or in the library (cold)"),
    Action("tier-hidden", "h", "choose('hidden')", "Hidden", "tier", "Hidden by a deny rule in settings.local.json"),
    Action("tier-skill", "s", "choose('skill')", "Skill", "tier", "A skill run as a forked subagent"),
    Action("tier-cancel", "escape,q", "dismiss(None)", "Cancel", "tier", "Change nothing"),
    Action("preview-write", "w", "write", "Write CLAUDE.md", "preview", "Write the previewed block"),
    Action("preview-close", "escape,q", "dismiss(False)", "Close", "preview", "Close the preview"),
    Action("confirm-yes", "y", "answer(True)", "Yes", "confirm", "Confirm"),
    Action("confirm-no", "n,escape", "answer(False)", "No", "confirm", "Cancel"),
    Action("close-help", "escape,q,question_mark", "dismiss", "Close", "help", "Close the help"),
)

BY_ID: dict[str, Action] = {a.id: a for a in ACTIONS}

#: Scopes whose bindings are live at the same time (the main screen with a list focused).
_LIVE_TOGETHER = ({"app", "main", "list"}, {"app", "main", "history"})


def bindings(scope: str) -> list[BindingType]:
    """The ``BINDINGS`` of one scope, from the table."""
    return [Binding(a.keys, a.action, a.description, show=a.show, id=a.id, tooltip=a.help, priority=a.priority)
            for a in ACTIONS if a.scope == scope]


def palette_actions() -> list[Action]:
    """Main screen actions offered in the command palette."""
    return [a for a in ACTIONS if a.palette]


def _keys(text: str) -> list[str]:
    return [k.strip() for k in text.split(",") if k.strip()]


def check_keymap(keymap: Mapping[str, str]) -> None:
    """Refuse a keymap Textual would apply silently wrong. Raises :class:`KeymapError`."""
    for action_id, keys in keymap.items():
        if action_id not in BY_ID:
            known = ", ".join(sorted(BY_ID))
            raise KeymapError(f"keymap: unknown action {action_id!r} (known: {known})")
        if not isinstance(keys, str):
            raise KeymapError(f"keymap.{action_id}: keys must be a string like 'ctrl+t' or 't,enter'")
    effective = {a.id: _keys(keymap.get(a.id, a.keys)) for a in ACTIONS}
    if not effective["quit"]:
        raise KeymapError("keymap.quit: Quit needs a key (ctrl+q also quits)")
    for scopes in _LIVE_TOGETHER:
        owner: dict[str, str] = {}
        for a in ACTIONS:
            if a.scope not in scopes:
                continue
            for key in effective[a.id]:
                if key in owner and owner[key] != a.id:
                    raise KeymapError(f"keymap: key {key!r} is given to both {owner[key]} and {a.id}")
                owner[key] = a.id


def effective_keys(action: Action, keymap: Mapping[str, str]) -> list[str]:
    """The keys an action answers to after the keymap."""
    return _keys(keymap.get(action.id, action.keys))


def bound_keys(keymap: Mapping[str, str]) -> set[str]:
    """Every key some action answers to after the keymap."""
    return {key for a in ACTIONS for key in effective_keys(a, keymap)}
