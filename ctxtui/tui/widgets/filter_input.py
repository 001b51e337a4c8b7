"""The cold pane's filter: an Input that hands focus back at once when it is left.

Enter and escape move focus while the filter handles them, not once their bindings have run:
keys typed right after them (``/ name enter t``) were queued for the filter already, and
:class:`~ctxtui.tui.key_relay.LateKeyRelay` passes them on to the list, which has focus by then.

An Alt chord of a printable key that reaches the filter is one the keymap binds (the app splits
the others into escape and the key, :func:`~ctxtui.tui.key_relay.split_alt`). It is never text:
the terminal sends escape and a key typed at once as that very chord, so the filter takes it as
escape (cleared, left) and hands the chord on to the list, where its binding runs.
"""

from __future__ import annotations

from textual import events
from textual.widgets import Input

from ctxtui.tui.key_relay import LateKeyRelay, is_alt_chord


class FilterInput(LateKeyRelay, Input):
    """An Input that gives focus to ``leave_to`` (a selector on its screen) on enter or escape;
    escape also clears it."""

    def __init__(self, *, leave_to: str, placeholder: str = "", id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(placeholder=placeholder, id=id, select_on_focus=False)  # the slash selects, at once
        self.leave_to = leave_to

    def _leave(self) -> None:
        """Focus ``leave_to`` now (Widget.focus would wait for the queue)."""
        target = self.screen.query_one(self.leave_to)
        if target.focusable:
            self.screen.set_focus(target)

    async def _on_key(self, event: events.Key) -> None:
        if await self.relay_late_key(event):
            return
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            self._leave()
            await self.action_submit()
        elif event.key == "escape":
            event.stop()  # cleared here, not by the screen's binding: a key typed right after
            event.prevent_default()  # escape (``escape q``) may reach the list before a bubbled escape
            self.value = ""
            self._leave()
        elif is_alt_chord(event):
            event.stop()
            event.prevent_default()
            self.value = ""
            self._leave()
            if self.app.focused is not self:  # else it would come back here
                await self.app.on_event(events.Key(event.key, event.character))
