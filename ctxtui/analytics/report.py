"""Strategy comparison on this library and this usage: markdown and HTML (inline SVG charts).

For each strategy: the managed startup tokens (agent lines and ctxtui's block, as the budget
counts them for that strategy's hot set and block), context left of the window (the whole
startup, estimated Claude tokens), expected tokens per session including on-demand loads of
cold personas, and cost per session at a configurable price. A cold persona used in a session
costs its full file (read on demand); a hot or fine-tuned one costs nothing extra there,
because its invocation is the same in every strategy. Prompt caching is not modelled.

Without a registered, healthy fine-tuned model the fine_tuned and hybrid rows describe a
hypothetical model: they are shown, marked, and never recommended.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path

from ctxtui.analytics.optimize import propose, rates
from ctxtui.analytics.transcripts import Session
from ctxtui.core import strategies
from ctxtui.core.journal import atomic_write
from ctxtui.core.registry import FineTunedModel
from ctxtui.core.workspace import Workspace

ORDER = ("eager", "lazy_loading", "fine_tuned", "hybrid")
TITLE = "ctxtui strategy comparison"
COLUMNS = ("strategy", "hot", "startup tokens", "context left", "expected tokens / session", "cost / session")


@dataclass
class Row:
    """One strategy's numbers."""

    strategy: str
    hot: int
    startup_tokens: int
    """Managed startup tokens: agent lines and ctxtui's block (the budget's figure)."""
    context_left: int
    expected_tokens: float
    cost: float
    note: str = ""
    hypothetical: bool = False
    """No real model behind it (never recommended)."""

    def cells(self) -> list[str]:
        """The table cells, as both report forms print them."""
        name = self.strategy + (" (hypothetical)" if self.hypothetical else "")
        return [name, str(self.hot), f"{self.startup_tokens:,}", f"{self.context_left:,}",
                f"{self.expected_tokens:,.0f}", f"${self.cost:.4f}"]


@dataclass
class Comparison:
    """All strategies side by side."""

    rows: list[Row]
    sessions: int
    invocations: int
    price_per_mtok: float
    window: int
    factor: float
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        """JSON form."""
        best = recommended(self)
        return {"rows": [vars(r) for r in self.rows], "sessions": self.sessions, "invocations": self.invocations,
                "price_per_mtok": self.price_per_mtok, "window": self.window, "factor": self.factor,
                "notes": self.notes, "recommended": best.strategy if best else None, "conclusion": conclusion(self)}


def compare(ws: Workspace, sessions: list[Session], price_per_mtok: float = 3.0) -> Comparison:
    """Numbers for every strategy on this workspace's library and these sessions."""
    r = rates(sessions)
    lib = {p.name: p for p in ws.library.unique()}
    notes: list[str] = []
    model, why = strategies.fine_tuned_model(ws)
    hypothetical = model is None
    if model is None:
        used = sorted(n for n in r if n in lib)
        model = FineTunedModel("(hypothetical)", used, True)
        notes.append(f"fine_tuned and hybrid assume a model embedding the {len(used)} library persona(s) used in "
                     f"these sessions ({why}); they are not recommended until such a model is registered")
    covered = set(model.personas)
    lazy_hot = propose(ws, sessions, priced=False).hot
    notes.append("lazy_loading and hybrid use the auto-optimised hot set: " + (", ".join(lazy_hot) or "pins only"))
    pins = [n for n in ws.pinned if n in lib]
    eager_hot = [p.name for p in ws.library.eager()] + [h.name for h in ws.hot if h.name not in ws.library.by_name]
    sets = {
        "eager": ("eager", eager_hot, None),
        "lazy_loading": ("lazy_loading", lazy_hot, None),
        "fine_tuned": ("fine_tuned", pins, model),
        "hybrid": ("hybrid", [n for n in lazy_hot if n not in covered], model),
    }
    order = list(ORDER)
    current = ws.hot_names()
    if ws.strategy == "lazy_loading" and sorted(current) != sorted(lazy_hot):
        sets["lazy_loading (current)"] = ("lazy_loading", current, None)
        order.insert(2, "lazy_loading (current)")
    rows = []
    factor = ws.settings.calibrator.factor(ws.model)
    for name in order:
        strategy, hot, row_model = sets[name]
        budget, _ = strategies.project(ws, strategy, hot, row_model)
        cov = covered if row_model is not None else set()
        on_demand = sum(rate * lib[n].full_tokens for n, rate in r.items() if n in lib and n not in hot and n not in cov)
        expected = budget.total_tokens + on_demand
        rows.append(Row(name, len(hot), budget.startup_tokens, budget.context_left, round(expected, 1),
                        round(expected * factor * price_per_mtok / 1e6, 5),
                        hypothetical=hypothetical and row_model is not None))
    return Comparison(rows, len(sessions), sum(len(s.invocations) for s in sessions), price_per_mtok,
                      ws.settings.window, factor, notes)


def recommended(c: Comparison) -> Row | None:
    """The row with the lowest expected tokens per session among strategies that are real."""
    real = [r for r in c.rows if not r.hypothetical]
    return min(real, key=lambda r: r.expected_tokens) if real else None


def intro(c: Comparison) -> str:
    """The report's opening sentence (both forms)."""
    return (f"{c.sessions} sessions, {c.invocations} subagent invocations. Startup tokens are the managed part "
            "(agent lines and ctxtui's block, raw cl100k); expected tokens add the rest of the startup context and "
            f"on-demand loads; context left and cost use the calibration factor x{c.factor} and "
            f"${c.price_per_mtok}/M input tokens.")


def conclusion(c: Comparison) -> str:
    """The recommendation (both forms)."""
    best = recommended(c)
    eager = next((r for r in c.rows if r.strategy == "eager"), None)
    if best is None or eager is None or not eager.expected_tokens:
        return "No strategy can be recommended from these numbers."
    pct = 100 * (1 - best.expected_tokens / eager.expected_tokens)
    if best.strategy == "eager":
        return "Lowest expected tokens per session: eager (every persona hot costs less than any lazy setup here)."
    return f"Lowest expected tokens per session: {best.strategy} ({pct:.1f}% below eager)."


def markdown(c: Comparison) -> str:
    """The report as markdown, with its summary table."""
    lines = [f"# {TITLE}", "", intro(c), "",
             "| " + " | ".join(COLUMNS) + " |", "|---|" + "---:|" * (len(COLUMNS) - 1)]
    lines += ["| " + " | ".join(r.cells()) + " |" for r in c.rows]
    if c.notes:
        lines += ["", *[f"- {n}" for n in c.notes]]
    best = recommended(c)
    text = conclusion(c)
    if best is not None:
        text = text.replace(f": {best.strategy}", f": **{best.strategy}**", 1)
    lines += ["", text]
    return "\n".join(lines) + "\n"


CHAR_PX = 8  # monospace 13px glyph width, rounded up: labels are measured, never clipped


def _bars(title: str, values: list[tuple[str, float]]) -> str:
    width, bar_h, gap = 520, 22, 8
    label_w = CHAR_PX * max((len(label) for label, _ in values), default=8) + 16
    value_w = CHAR_PX * max((len(f"{v:,.0f}") for _, v in values), default=4) + 16
    top = max((v for _, v in values), default=1) or 1
    height = len(values) * (bar_h + gap) + 30
    total_w = max(label_w + width + value_w, CHAR_PX * len(title) + 8)
    parts = [f'<svg width="{total_w}" height="{height}" role="img" aria-label="{html.escape(title)}" '
             'font-family="monospace" font-size="13">',
             f'<text x="0" y="16" font-weight="bold">{html.escape(title)}</text>']
    for i, (label, v) in enumerate(values):
        y = 28 + i * (bar_h + gap)
        w = max(1, round(width * v / top))
        parts.append(f'<text x="0" y="{y + 16}">{html.escape(label)}</text>')
        parts.append(f'<rect x="{label_w}" y="{y}" width="{w}" height="{bar_h}" fill="#5FA8D3"/>')
        parts.append(f'<text x="{label_w + w + 6}" y="{y + 16}">{v:,.0f}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def html_report(c: Comparison) -> str:
    """The report as a self-contained HTML page with bar charts (no scripts, no network); the
    same text as :func:`markdown`."""
    e = html.escape
    head = "".join(f"<th>{e(col)}</th>" for col in COLUMNS)
    rows = "".join("<tr>" + "".join(f"<td>{e(cell)}</td>" for cell in r.cells()) + "</tr>" for r in c.rows)
    notes = f"<ul>{''.join(f'<li>{e(n)}</li>' for n in c.notes)}</ul>" if c.notes else ""
    labels = [r.cells()[0] for r in c.rows]
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>{TITLE}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em;max-width:72em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 10px;text-align:right;white-space:nowrap}}td:first-child,th:first-child{{text-align:left}}
svg{{max-width:100%;height:auto;overflow:visible}}</style>
</head><body><h1>{TITLE}</h1>
<p>{e(intro(c))}</p>
<table><tr>{head}</tr>{rows}</table>
{notes}
<p><strong>{e(conclusion(c))}</strong></p>
{_bars("Startup tokens (agent lines + block)", [(lb, r.startup_tokens) for lb, r in zip(labels, c.rows, strict=True)])}
{_bars("Expected tokens per session", [(lb, r.expected_tokens) for lb, r in zip(labels, c.rows, strict=True)])}
</body></html>
"""


def write_report(c: Comparison, path: Path) -> list[Path]:
    """Write markdown to ``path`` and HTML beside it; returns both paths."""
    md_path = path if path.suffix.lower() in (".md", ".markdown") else path.with_suffix(".md")
    html_path = md_path.with_suffix(".html")
    atomic_write(md_path, markdown(c).encode())
    atomic_write(html_path, html_report(c).encode())
    return [md_path, html_path]
