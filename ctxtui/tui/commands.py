"""Command palette entries for every main-screen action (themes come from Textual's own provider).

Built from the action table (:mod:`ctxtui.tui.actions`), with each action's current key.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.markup import escape

from ctxtui.core.config import STRATEGIES
from ctxtui.tui.actions import effective_keys, palette_actions
from ctxtui.tui.screens.main import MainScreen


class CtxCommands(Provider):
    """Every action of the main screen, plus one entry per strategy and rollback."""

    def _entries(self) -> list[tuple[str, Callable[[], object], str]]:
        screen = next((s for s in reversed(self.app.screen_stack) if isinstance(s, MainScreen)), None)
        if screen is None:
            return []
        keymap = screen.settings.keymap
        out: list[tuple[str, Callable[[], object], str]] = []
        for a in palette_actions():
            keys = " / ".join(self.app.get_key_display(Binding(k, a.action)) for k in effective_keys(a, keymap))
            text = f"{a.help}  [{keys}]" if keys else a.help  # a key like "/" must not read as markup
            out.append((a.description, partial(screen.run_action, a.action), escape(text)))
        out += [(f"Switch strategy: {s}", partial(screen.request_migration, s), "A recorded migration; can be rolled back")
                for s in STRATEGIES]
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
