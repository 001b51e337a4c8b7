"""The help screen (``?``): every key, built from the action table and the live keymap."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

from ctxtui.tui.actions import ACTIONS, bindings, effective_keys

INTRO = """\
# ctxtui

Claude Code loads every persona in `.claude/agents/` at startup. Keep only a few **hot**;
the rest stay **cold** in the library and are listed in the CLAUDE.md block.
"""

OUTRO = """
**Mouse**: drag a row from one pane and drop it on the other. `escape` cancels a drag.
A move over the max-active cap is refused and nothing changes.

Counts are raw cl100k tokens; "≈Claude" applies the calibration factor.
"""

#: Keys that are not bindings of ours (Textual's own, or the list's enter).
_BUILT_IN = (("enter", "Move the persona under the cursor (in a pane)"),
             ("ctrl+p", "Command palette: every action, strategies, themes"))
_SCOPES = {"main", "list", "history", "app"}


def _sentence(text: str) -> str:
    """Table rows read as the end of "press KEY to …": lower-case first letter."""
    return text[:1].lower() + text[1:]


def help_markdown(keymap: Mapping[str, str], key_display: Callable[[str], str] = str) -> str:
    """The help text for a keymap (pure: the help screen and its test use it)."""
    rows = []
    for a in ACTIONS:
        if a.scope in _SCOPES:
            keys = " / ".join(f"`{key_display(k)}`" for k in effective_keys(a, keymap)) or "(no key)"
            rows.append(f"| {keys} | {_sentence(a.help or a.description)} |")
    rows += [f"| `{k}` | {_sentence(text)} |" for k, text in _BUILT_IN]
    return INTRO + "\n| Key | Action |\n|---|---|\n" + "\n".join(rows) + "\n" + OUTRO


class HelpScreen(ModalScreen[None]):
    """Key reference."""

    BINDINGS = bindings("help")

    def __init__(self, keymap: Mapping[str, str]) -> None:
        super().__init__()
        self.keymap = dict(keymap)

    def compose(self) -> ComposeResult:
        def display(key: str) -> str:
            return self.app.get_key_display(Binding(key, ""))

        with VerticalScroll(id="help-box"):
            yield Markdown(help_markdown(self.keymap, display))
