"""Command palette entries for every screen action (themes come from Textual's own provider)."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from ctxtui.core.config import STRATEGIES

ACTIONS = [
    ("Toggle persona", "toggle", "Move the persona under the cursor to the other pane"),
    ("Move selected personas", "move_selected", "Move every selected persona"),
    ("Undo last move", "undo", "Reverse the last activate or deactivate"),
    ("Filter cold personas", "filter", "Filter by name and description"),
    ("Cycle sort", "cycle_sort", "Sort by name, tokens or last used"),
    ("Preview CLAUDE.md", "preview", "The block the hot set would generate"),
    ("Write CLAUDE.md block", "write_claude_md", "Write the generated block (atomic)"),
    ("Show history", "focus_history", "Past migrations; enter rolls back"),
    ("Reload from disk", "reload", "Re-read library, agents and CLAUDE.md"),
    ("Analytics", "analytics", "Usage per persona, pairs, triggers, auto-optimise"),
    ("Help", "help", "Key reference"),
]


class CtxCommands(Provider):
    """Every action of the main screen, plus one entry per strategy and rollback."""

    def _entries(self) -> list[tuple[str, object, str]]:
        from ctxtui.tui.screens.main import MainScreen

        screen = self.app.screen if isinstance(self.app.screen, MainScreen) else None
        if screen is None:
            screens = [s for s in self.app.screen_stack if isinstance(s, MainScreen)]
            screen = screens[0] if screens else None
        if screen is None:
            return []
        out: list[tuple[str, object, str]] = [
            (title, partial(screen.run_action, action), help_text) for title, action, help_text in ACTIONS
        ]
        out += [(f"Switch strategy: {s}", partial(screen.request_migration, s), "A recorded migration; can be rolled back") for s in STRATEGIES]
        out.append(("Roll back last migration", partial(screen.request_rollback, None), "Restore files byte for byte"))
        return out

    async def discover(self) -> Hits:
        for title, callback, help_text in self._entries():
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, callback, help_text in self._entries():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text)
