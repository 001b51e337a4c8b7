"""The help screen (``?``): every binding and how moving personas works."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

HELP = """\
# ctxtui

Claude Code loads every persona in `.claude/agents/` at startup. Keep only a few **hot**;
the rest stay **cold** in the library and are listed in the CLAUDE.md block.

| Key | Action |
|---|---|
| `t` / `enter` | move the persona under the cursor to the other pane |
| `space` | select several personas |
| `m` | move every selected persona |
| `u` | undo the last move |
| `/` | filter the cold pane (name and description) |
| `s` | cycle sort: name, tokens, last used |
| `p` | preview the generated CLAUDE.md |
| `w` | write the CLAUDE.md block |
| `g` | choose a strategy (a recorded migration) |
| `h` | focus the history; `enter` on an entry rolls back to it |
| `r` | reload from disk |
| `a` | analytics: usage, pairs, triggers, auto-optimise |
| `ctrl+p` | command palette (every action, themes) |
| `?` | this help |
| `q` | quit |

**Mouse**: drag a row from one pane and drop it on the other. `escape` cancels a drag.
A move over the max-active cap is refused and nothing changes.

Counts are raw cl100k tokens; "≈Claude" applies the calibration factor.
"""


class HelpScreen(ModalScreen[None]):
    """Key reference."""

    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close", id="close-help")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box"):
            yield Markdown(HELP)
