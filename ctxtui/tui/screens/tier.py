"""The tier chooser (``i``): keep personas as files, hidden by a deny rule, or as skills.

It only asks; the main screen applies the choice with ``core.tiers.set_tier``, the operation
``ctxtui tier NAME… TIER`` runs (one journalled change, undone with ``u`` or from history).
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from ctxtui.core.config import TIERS
from ctxtui.core.display import printable
from ctxtui.tui.actions import bindings
from ctxtui.tui.widgets.detail import TIER_TEXT


class TierScreen(ModalScreen[str | None]):
    """Dismisses with the chosen tier, or None."""

    BINDINGS = bindings("tier")

    def __init__(self, names: list[str], current: dict[str, str]) -> None:
        super().__init__()
        self.names = names
        self.current = current

    def compose(self) -> ComposeResult:
        shown = ", ".join(self.names[:6]) + (f" and {len(self.names) - 6} more" if len(self.names) > 6 else "")
        now = sorted({self.current.get(n, "file") for n in self.names})
        with Vertical(id="tier-box"):
            yield Static(f"Tier of {printable(shown)} (now {', '.join(now)})", id="tier-title", markup=False)
            yield OptionList(*(Option(f"{t[0]}  {t:<7} {TIER_TEXT[t]}", id=t) for t in TIERS), id="tier-options")
            yield Static("Recorded in history; u undoes it byte for byte.", id="tier-note")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.highlighted = TIERS.index(self.current.get(self.names[0], "file")) if self.names else 0
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_choose(self, tier: str) -> None:
        self.dismiss(tier)
