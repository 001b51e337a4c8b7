"""A footer that keeps the essential keys (and always Quit) when all of them do not fit."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from ctxtui.tui.actions import ACTIONS

#: Textual actions the action table marks essential (``Action.essential``).
ESSENTIAL = frozenset(a.action for a in ACTIONS if a.essential)


def key_width(key: FooterKey) -> int:
    """Cells a footer key takes, not compact: `` key `` + ``desc `` (Textual's padding), and
    the command palette's border and right padding."""
    extra = 2 if key.has_class("-command-palette") else 0
    return len(key.key_display) + 2 + (len(key.description) + 1 if key.description else 0) + extra


class FitFooter(Footer):
    """Textual's footer; when :attr:`narrow`, or when every key would not fit in
    :attr:`fit_width`, only keys of essential actions, compact."""

    narrow = reactive(False, recompose=True)
    """Set by the screen from the terminal width."""
    fit_width = reactive(0, recompose=True)
    """The width the keys must fit in (set by the screen; 0: no limit)."""

    def compose(self) -> ComposeResult:
        widgets = list(super().compose())
        full = sum(key_width(w) for w in widgets if isinstance(w, FooterKey))
        trim = self.narrow or bool(self.fit_width and full > self.fit_width)
        self.compact = trim
        for widget in widgets:
            if trim and isinstance(widget, FooterKey) and widget.action not in ESSENTIAL:
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
