"""Strategy comparison on this library and this usage: markdown and HTML (inline SVG charts).

For each strategy: startup tokens (raw cl100k), context left of the window (estimated Claude
tokens), expected tokens per session including on-demand loads of cold personas, and cost
per session at a configurable price. A cold persona used in a session costs its full file
(read on demand); a hot or fine-tuned one costs nothing extra there, because its
invocation is the same in every strategy. Prompt caching is not modelled.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path

from ctxtui.analytics.optimize import propose, rates
from ctxtui.analytics.transcripts import Session
from ctxtui.core import claude_md, strategies
from ctxtui.core.journal import atomic_write
from ctxtui.core.registry import FineTunedModel
from ctxtui.core.tokens import count
from ctxtui.core.workspace import Workspace

ORDER = ("eager", "lazy_loading", "fine_tuned", "hybrid")


@dataclass
class Row:
    """One strategy's numbers."""

    strategy: str
    hot: int
    startup_tokens: int
    context_left: int
    expected_tokens: float
    cost: float
    note: str = ""


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
        return {"rows": [vars(r) for r in self.rows], "sessions": self.sessions, "invocations": self.invocations,
                "price_per_mtok": self.price_per_mtok, "window": self.window, "factor": self.factor,
                "notes": self.notes}


def compare(ws: Workspace, sessions: list[Session], price_per_mtok: float = 3.0) -> Comparison:
    """Numbers for every strategy on this workspace's library and these sessions."""
    r = rates(sessions)
    lib = {p.name: p for p in ws.library.unique()}
    memory = ws.budget(hot=[]).startup_tokens
    block_now = 0
    for f in ws.memory.files:
        span = claude_md.block_span(f.text, strict=False) if f.scope == "project" else None
        if span:
            block_now += count(f.text[span[0]:span[1]])
    memory -= block_now
    notes: list[str] = []
    model, why = strategies.fine_tuned_model(ws)
    if model is None:
        used = sorted(n for n in r if n in lib)
        model = FineTunedModel("(hypothetical)", used, True)
        notes.append(f"fine_tuned and hybrid assume a model embedding the {len(used)} library persona(s) used in "
                     f"these sessions ({why})")
    covered = set(model.personas)
    lazy_hot = propose(ws, sessions).hot
    notes.append("lazy_loading and hybrid use the auto-optimised hot set: " + (", ".join(lazy_hot) or "pins only"))
    pins = [n for n in ws.pinned if n in lib]
    sets = {
        "eager": ([p.name for p in ws.library.eager()], set(), None),
        "lazy_loading": (lazy_hot, set(), "lazy_loading"),
        "fine_tuned": (pins, covered, "fine_tuned"),
        "hybrid": ([n for n in lazy_hot if n not in covered], covered, "hybrid"),
    }
    order = list(ORDER)
    current = ws.hot_names()
    if ws.strategy == "lazy_loading" and sorted(current) != sorted(lazy_hot):
        sets["lazy_loading (current)"] = (current, set(), "lazy_loading")
        order.insert(2, "lazy_loading (current)")
    rows = []
    factor = ws.settings.calibrator.factor(ws.model)
    for name in order:
        hot, cov, block_strategy = sets[name]
        startup = memory + sum(lib[n].startup_tokens for n in hot if n in lib)
        if block_strategy is not None:
            inp = strategies.block_input(ws, block_strategy, hot, model if cov else None)
            density = "search" if name == "fine_tuned" else strategies.choose_density(ws, inp, None)
            startup += count(claude_md.render_block(inp, density))
        on_demand = sum(rate * lib[n].full_tokens for n, rate in r.items() if n in lib and n not in hot and n not in cov)
        expected = startup + on_demand
        rows.append(Row(name, len(hot), startup, ws.settings.window - round(startup * factor),
                        round(expected, 1), round(expected * factor * price_per_mtok / 1e6, 5)))
    return Comparison(rows, len(sessions), sum(len(s.invocations) for s in sessions), price_per_mtok,
                      ws.settings.window, factor, notes)


def markdown(c: Comparison) -> str:
    """The report as markdown, with its summary table."""
    lines = [
        "# ctxtui strategy comparison", "",
        f"{c.sessions} sessions, {c.invocations} subagent invocations. Tokens are raw cl100k; context left and "
        f"cost use the calibration factor x{c.factor} and ${c.price_per_mtok}/M input tokens.", "",
        "| strategy | hot | startup tokens | context left | expected tokens / session | cost / session |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in c.rows:
        lines.append(f"| {r.strategy} | {r.hot} | {r.startup_tokens:,} | {r.context_left:,} | {r.expected_tokens:,.0f} | ${r.cost:.4f} |")
    if c.notes:
        lines += ["", *[f"- {n}" for n in c.notes]]
    eager = c.rows[0].startup_tokens
    best = min(c.rows, key=lambda r: r.expected_tokens)
    lines += ["", f"Lowest expected tokens per session: **{best.strategy}** "
              f"({100 * (1 - best.expected_tokens / eager):.1f}% below eager)." if eager else ""]
    return "\n".join(lines) + "\n"


def _bars(title: str, values: list[tuple[str, float]]) -> str:
    width, bar_h, gap, label_w = 520, 22, 8, 120
    top = max((v for _, v in values), default=1) or 1
    height = len(values) * (bar_h + gap) + 30
    parts = [f'<svg width="{width + label_w + 90}" height="{height}" role="img" aria-label="{html.escape(title)}">',
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
    """The report as a self-contained HTML page with bar charts (no scripts, no network)."""
    rows = "".join(
        f"<tr><td>{r.strategy}</td><td>{r.hot}</td><td>{r.startup_tokens:,}</td><td>{r.context_left:,}</td>"
        f"<td>{r.expected_tokens:,.0f}</td><td>${r.cost:.4f}</td></tr>" for r in c.rows
    )
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in c.notes)
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>ctxtui strategy comparison</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em;max-width:60em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 10px;text-align:right}}td:first-child,th:first-child{{text-align:left}}</style>
</head><body><h1>ctxtui strategy comparison</h1>
<p>{c.sessions} sessions, {c.invocations} subagent invocations. Raw cl100k tokens; context left and cost use x{c.factor}
and ${c.price_per_mtok}/M input tokens.</p>
<table><tr><th>strategy</th><th>hot</th><th>startup tokens</th><th>context left</th><th>expected tokens / session</th><th>cost / session</th></tr>{rows}</table>
<ul>{notes}</ul>
{_bars("Startup tokens", [(r.strategy, r.startup_tokens) for r in c.rows])}
{_bars("Expected tokens per session", [(r.strategy, r.expected_tokens) for r in c.rows])}
</body></html>
"""


def write_report(c: Comparison, path: Path) -> list[Path]:
    """Write markdown to ``path`` and HTML beside it; returns both paths."""
    md_path = path if path.suffix.lower() in (".md", ".markdown") else path.with_suffix(".md")
    html_path = md_path.with_suffix(".html")
    atomic_write(md_path, markdown(c).encode())
    atomic_write(html_path, html_report(c).encode())
    return [md_path, html_path]
