"""The startup budget: what Claude Code loads before the first prompt, itemised like its
``/context``, against the eager baseline and the context window.

Token counts are raw cl100k; ``estimated_claude_tokens`` applies the calibration factor.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any


@dataclass
class BudgetItem:
    """One line of the itemised startup budget, like Claude Code's ``/context``."""

    kind: str  # "memory" or "agent" (the whole startup adds core.startup's kinds)
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
    whole: dict[str, Any] | None = None
    """``core.startup.StartupAccount.to_json()``: the whole startup context. When set,
    ``startup_tokens`` and ``eager_startup_tokens`` are the managed part (agent lines and
    ctxtui's block, now and eager) and the totals below cover everything Claude Code sends."""

    @property
    def total_tokens(self) -> int:
        """The whole startup context when known, else the managed part."""
        return int(self.whole["total"]) if self.whole is not None else self.startup_tokens

    @property
    def estimated_claude_tokens(self) -> int:
        """Whole startup tokens x calibration factor."""
        return round(self.total_tokens * self.factor)

    @property
    def reduction_pct(self) -> float:
        """How much smaller than eager the managed part is, in percent (one decimal, rounded
        toward zero: 100.0 only when nothing managed is left, 0.0 only when nothing is saved)."""
        if self.eager_startup_tokens <= 0:
            return 0.0
        pct = 100.0 * (1 - self.startup_tokens / self.eager_startup_tokens)
        return math.trunc(pct * 10) / 10

    @property
    def context_left(self) -> int:
        """Window minus the estimated Claude tokens at startup."""
        return self.window - self.estimated_claude_tokens

    @property
    def over_target(self) -> bool:
        """Past the configured startup-token target."""
        return self.startup_tokens > self.target

    def to_json(self) -> dict[str, Any]:
        """The stable JSON shape documented in README.

        With ``whole``: ``startup_tokens.total`` is the whole startup context,
        ``startup_tokens.managed`` the part strategies change, ``items`` every item of the whole
        account, and ``startup_context`` adds the by-kind totals and suggestions.
        """
        startup: dict[str, Any] = {
            "total": self.total_tokens,
            "managed": self.startup_tokens,
            "estimated_claude": self.estimated_claude_tokens,
            "items": [vars(i) for i in self.items],
        }
        extra: dict[str, Any] = {}
        if self.whole is not None:
            startup["items"] = self.whole["items"]
            startup["unknown_items"] = self.whole["unknown_items"]
            extra["startup_context"] = {k: self.whole[k] for k in (
                "claude_code_version", "entrypoint", "by_kind", "suggestions",
                "measured_total", "measured_version", "measured_entrypoint")}
        return {
            "startup_tokens": startup,
            **extra,
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
