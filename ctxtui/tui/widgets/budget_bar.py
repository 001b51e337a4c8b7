"""The always-visible budget line: managed and whole startup tokens, eager baseline, reduction,
context left."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

if TYPE_CHECKING:
    from ctxtui.core.budget import Budget


class BudgetBar(Static):
    """Shows a Budget; turns to the warning colour past the target."""

    budget: reactive[Budget | None] = reactive(None)

    def watch_budget(self, budget: Budget | None) -> None:
        if budget is None:
            self.update("Indexing…")
            return
        self.set_class(budget.over_target, "-over-budget")
        filled = min(1.0, budget.startup_tokens / max(budget.target, 1))
        width = 20
        bar = "█" * round(filled * width) + "░" * (width - round(filled * width))
        # The bar, target, eager and reduction are about the part ctxtui manages; "Startup" and
        # "context left" are the whole startup context Claude Code sends.
        text = Text.assemble(
            ("Managed ", "bold"), f"{budget.startup_tokens:,} tok ", (bar, "bold"),
            f" target {budget.target:,}  ",
            ("Startup ", "dim"), f"{budget.total_tokens:,} (≈{budget.estimated_claude_tokens:,} Claude)  ",
            ("Eager ", "dim"), f"{budget.eager_startup_tokens:,}  ",
            ("Reduction ", "dim"), (f"{budget.reduction_pct}%", "bold"), "  ",
            ("Context left ", "dim"), f"{budget.context_left:,} / {budget.window:,}",
        )
        if budget.warnings:
            text.append(f"  ⚠ {len(budget.warnings)}", style="bold")
        self.update(text)
