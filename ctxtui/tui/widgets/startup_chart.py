"""The whole startup context as a chart: one bar per kind, its largest items, and what to do.

The data is the budget's ``whole`` (``core.startup.StartupAccount.to_json()``, the same
figures ``ctxtui status`` prints); nothing is counted or decided here. Bars are scaled to the
largest kind; each row says whether its figure was measured (from a transcript) or estimated
(version data or counted from files), and how many of its items are of unknown size.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from ctxtui.core.display import printable
from ctxtui.tui.text import middle_ellipsis

KIND_LABELS: dict[str, str] = {
    "system-prompt": "System prompt",
    "builtin-tools": "Built-in tools",
    "builtin-agents": "Built-in agents",
    "bundled-skills": "Bundled skills",
    "deferred-tools": "Deferred tools",
    "environment": "Environment",
    "agent": "Agents",
    "memory": "Memory files",
    "mcp-server": "MCP servers",
    "skill": "Skills",
    "command": "Slash commands",
    "output-style": "Output style",
}
LABEL_WIDTH = 18
FIGURE_WIDTH = 8
MAX_BAR = 60
TOP_ITEMS = 3
"""Largest items shown under each kind."""


def kind_label(kind: str) -> str:
    """A kind as people read it (an unknown kind as it is)."""
    return KIND_LABELS.get(kind, kind)


def _basis(items: list[Mapping[str, Any]]) -> str:
    """measured, estimated, or a mix, for the items of one kind."""
    known = {str(i.get("basis")) for i in items if i.get("tokens") is not None}
    if not known:
        return "unknown"
    if known == {"measured"}:
        return "measured"
    return "partly measured" if "measured" in known else "estimated"


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def _bar(value: int, top: int, width: int, fill: str) -> str:
    n = round(width * value / top) if top and width > 0 else 0
    n = max(n, 1) if value and width > 0 else n
    return fill * n + "·" * (width - n)


def chart_text(whole: Mapping[str, Any] | None, width: int = 80) -> Text:
    """The chart for a terminal WIDTH columns wide (pure: the widget and its tests use it)."""
    if not whole:
        return Text("The whole startup context is not known for this project.", style="dim")
    width = max(width, 40)
    items: list[Mapping[str, Any]] = list(whole.get("items", []))
    by_kind: Mapping[str, int] = whole.get("by_kind", {})
    total = int(whole.get("total", 0))
    top = max(by_kind.values(), default=0)
    bar_width = min(max(width - LABEL_WIDTH - FIGURE_WIDTH - 22, 8), MAX_BAR)
    out = Text()
    out.append("Startup context ", style="bold")
    out.append(f"{total:,} tokens", style="bold")
    out.append(f"  Claude Code {whole.get('claude_code_version', '?')}", style="dim")
    out.append(f"\nmanaged by ctxtui {int(whole.get('managed', 0)):,}", style="dim")
    measured = whole.get("measured_total")
    if measured:
        out.append(f" · last session's first request {int(measured):,} (measured)", style="dim")
    out.append("\n█ measured  ▓ estimated  ? size unknown (counted as 0, never guessed)\n", style="dim")
    for kind, tokens in by_kind.items():
        of_kind = [i for i in items if i.get("kind") == kind]
        basis = _basis(of_kind)
        unknown = sum(1 for i in of_kind if i.get("tokens") is None)
        out.append("\n")
        out.append(f"{_cut(kind_label(kind), LABEL_WIDTH - 1):<{LABEL_WIDTH}}", style="bold")
        out.append(_bar(tokens, top, bar_width, "█" if basis == "measured" else "▓"), style="bold")
        out.append(f" {tokens:>{FIGURE_WIDTH},}")
        note = basis + (f", {unknown} ?" if unknown else "")
        out.append(f"  {_cut(note, 20)}", style="dim")
        largest = sorted((i for i in of_kind if i.get("tokens")), key=lambda i: -int(i["tokens"]))
        if len(of_kind) > 1:
            room = LABEL_WIDTH + bar_width - 4  # figures line up under the kind's figure
            for i in largest[:TOP_ITEMS]:
                label = middle_ellipsis(printable(str(i.get("label", ""))), room)  # the end tells names apart
                out.append(f"\n    {label:<{room}} {int(i['tokens']):>{FIGURE_WIDTH},}", style="dim")
            if len(of_kind) > TOP_ITEMS:
                out.append(f"\n    … {len(of_kind) - TOP_ITEMS} more", style="dim")
    suggestions: list[Mapping[str, Any]] = list(whole.get("suggestions", []))
    for by, title in (("ctxtui", "ctxtui can save"), ("user", "Only you can save")):
        mine = [s for s in suggestions if s.get("by") == by]
        if not mine:
            continue
        out.append(f"\n\n{title}", style="bold")
        for s in mine[:8]:
            saving = int(s.get("saving", 0))
            figure = f"-{saving:,}" if saving else "?"
            out.append(f"\n{figure:>{FIGURE_WIDTH}}  ")
            out.append(_cut(printable(f"{s.get('item', '')}: {s.get('action', '')}"), width - FIGURE_WIDTH - 3))
        if len(mine) > 8:
            out.append(f"\n{'':>{FIGURE_WIDTH}}  … {len(mine) - 8} more (ctxtui status)", style="dim")
    return out


class StartupChart(Widget):
    """The whole startup context by kind, as bars with token figures, and the suggestions."""

    DEFAULT_CSS = """
    StartupChart { height: auto; padding: 0 1; }
    """

    whole: reactive[dict[str, Any] | None] = reactive(None, layout=True)

    def __init__(self, whole: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.set_reactive(StartupChart.whole, whole)

    def render(self) -> Text:
        return chart_text(self.whole, self.size.width - 2 or 80)
