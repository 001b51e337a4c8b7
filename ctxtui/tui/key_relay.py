"""Keys typed faster than a frame: each reaches the widget a person meant.

A terminal delivers such keys together, and Textual queues each one for the widget that had
focus when the app took it. Two things go wrong without help:

* A key reaches a widget after focus has left it. In ``/ name``, the letters were queued for
  the list before ``/`` focused the filter, and a letter the list does not bind would then run
  whatever the filter's screen binds to it. :class:`LateKeyRelay` passes such a key on to the
  widget focused now (on the same screen), as if it had been typed a moment later.
* A terminal reads Escape followed at once by a letter as one Alt chord (``escape q`` arrives
  as ``alt+q``). :func:`split_alt` turns a chord nothing is bound to back into the two keys;
  a chord the keymap binds stays one key, and the filter, where it would be typed as text,
  takes it as escape and then that key (:class:`~ctxtui.tui.widgets.filter_input.FilterInput`).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import cast

from textual import events
from textual.keys import _character_to_key
from textual.widget import Widget


class LateKeyRelay:
    """A mixin for a focusable widget: it hands on keys that reach it after focus has moved on.

    List it before the widget class (``class X(LateKeyRelay, DataTable)``): Textual calls the
    ``_on_key`` of each class in turn, so this one runs before the widget's own and, when it
    hands the key on, stops the rest (a subclass with its own ``_on_key`` calls
    :meth:`relay_late_key` first). Not a Widget itself: Textual reads a widget's CSS and
    component classes along its bases."""

    async def _on_key(self, event: events.Key) -> None:
        await self.relay_late_key(event)

    async def relay_late_key(self, event: events.Key) -> bool:
        """Hand ``event`` to the app again if focus has moved on (True if it was): the app runs
        its priority bindings and gives the key to the widget focused now, in typing order
        (this widget hands its queued keys on one after the other)."""
        me = cast(Widget, self)
        focused = me.app.focused
        if focused is None or focused is me or focused.screen is not me.screen:
            return False
        event.stop()
        event.prevent_default()
        await me.app.on_event(events.Key(event.key, event.character))
        return True


def is_alt_chord(event: events.Key) -> bool:
    """Whether EVENT is Alt and one printable character: what a terminal sends for escape and
    a key typed right after it, as for the chord itself."""
    char = event.character
    return event.key.startswith("alt+") and char is not None and len(char) == 1 and char.isprintable()


def split_alt(event: events.Key, bound: Collection[str]) -> list[events.Key] | None:
    """Escape and the key typed right after it, for an Alt chord of one printable character
    that no binding uses (``alt+q`` → escape, q); None for any other key."""
    if not is_alt_chord(event) or event.key in bound:
        return None
    char = cast(str, event.character)
    return [events.Key("escape", "\x1b"), events.Key(_character_to_key(char), char)]
