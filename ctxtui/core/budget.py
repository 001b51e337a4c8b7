"""The startup budget: what Claude Code loads before the first prompt, itemised like its
``/context``, against the eager baseline and the context window.

Token counts are raw cl100k; ``estimated_claude_tokens`` applies the calibration factor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class BudgetItem:
    """One line of the itemised startup budget, like Claude Code's ``/context``."""

    kind: str  # "memory" or "agent"
    label: str
    path: str
    scope: str
    tokens: int


@dataclass
class Budget:
    """Startup tokens now, against the eager baseline and the context window (raw cl100k)."""

    items: list[BudgetItem]
    startup_tokens: int
    eager_startup_tokens: int
    window: int
    target: int
    factor: float
    warnings: list[str] = field(default_factory=list)

    @property
    def estimated_claude_tokens(self) -> int:
        """Startup tokens x calibration factor."""
        return round(self.startup_tokens * self.factor)

    @property
    def reduction_pct(self) -> float:
        """How much smaller than eager, in percent."""
        if self.eager_startup_tokens <= 0:
            return 0.0
        return round(100.0 * (1 - self.startup_tokens / self.eager_startup_tokens), 1)

    @property
    def context_left(self) -> int:
        """Window minus the estimated Claude tokens at startup."""
        return self.window - self.estimated_claude_tokens

    @property
    def over_target(self) -> bool:
        """Past the configured startup-token target."""
        return self.startup_tokens > self.target

    def to_json(self) -> dict[str, Any]:
        """The stable JSON shape documented in README."""
        return {
            "startup_tokens": {
                "total": self.startup_tokens,
                "estimated_claude": self.estimated_claude_tokens,
                "items": [vars(i) for i in self.items],
            },
            "eager_startup_tokens": self.eager_startup_tokens,
            "reduction_pct": self.reduction_pct,
            "window": self.window,
            "context_left": self.context_left,
            "target": self.target,
            "over_target": self.over_target,
            "calibration_factor": self.factor,
            "warnings": self.warnings,
        }


AGENT_WARN_TOKENS = 15_000  # Claude Code warns when agent descriptions exceed this
