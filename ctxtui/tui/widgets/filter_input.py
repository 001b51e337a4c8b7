"""The cold pane's filter: an Input that hands focus back at once when it is left.

A terminal delivers keys typed faster than a frame together. Textual queues each key for the
widget focused when the app took it, and enter or escape only move focus once their binding
has run, after the widget has taken the keys behind them: ``/ name enter t`` would type the
``t`` into the filter instead of moving the persona. Here enter and escape move focus while
the filter handles them, and a key that still reaches the filter afterwards is passed to the
widget that has focus now, as if it had been typed a moment later.
"""

from __future__ import annotations

from textual import events
from textual.widgets import Input


class FilterInput(Input):
    """An Input that gives focus to ``leave_to`` (a selector on its screen) on enter or escape."""

    def __init__(self, *, leave_to: str, placeholder: str = "", id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(placeholder=placeholder, id=id)
        self.leave_to = leave_to

    def _leave(self) -> None:
        """Focus ``leave_to`` now (Widget.focus would wait for the queue)."""
        target = self.screen.query_one(self.leave_to)
        if target.focusable:
            self.screen.set_focus(target)

    async def _on_key(self, event: events.Key) -> None:
        focused = self.app.focused
        if focused is not None and focused is not self:  # typed after enter or escape left the filter
            event.stop()
            event.prevent_default()
            focused.post_message(events.Key(event.key, event.character))
            return
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            self._leave()
            await self.action_submit()
            return
        if event.key == "escape":
            self._leave()  # the screen's escape binding still runs (it clears the filter)
            return
        await super()._on_key(event)
