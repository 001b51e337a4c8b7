"""A footer that keeps the essential keys (and always Quit) in a narrow terminal."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from ctxtui.tui.actions import ACTIONS

#: Textual actions the action table marks essential (``Action.essential``).
ESSENTIAL = frozenset(a.action for a in ACTIONS if a.essential)


class FitFooter(Footer):
    """Textual's footer; when :attr:`narrow`, only keys of essential actions, compact."""

    narrow = reactive(False, recompose=True)
    """Set by the screen from the terminal width."""

    def compose(self) -> ComposeResult:
        self.compact = self.narrow
        for widget in super().compose():
            if self.narrow and isinstance(widget, FooterKey) and widget.action not in ESSENTIAL:
                continue
            yield widget

    _recompose_queued = False

    def bindings_changed(self, screen: Screen) -> None:
        """Textual's footer recomposes once per bindings change, and start-up alone makes
        five (mount, focus...): queue one recompose, which shows the bindings as they are then."""
        self._bindings_ready = True
        if not screen.app.app_focus or self._recompose_queued:
            return
        if self.is_attached and screen is self.screen:
            self._recompose_queued = True
            self.call_after_refresh(self._recompose_once)

    async def _recompose_once(self) -> None:
        self._recompose_queued = False
        await self.recompose()
