"""The detail pane: the selected persona's frontmatter, problems and rendered body."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from ctxtui.core.persona import Persona


def describe(p: Persona, body: str) -> str:
    """Markdown for one persona (pure, so it is easy to test)."""
    lines = [f"## {p.name}", "", f"**status** {p.status.value} · **startup** {p.startup_tokens:,} · **full** {p.full_tokens:,} tokens (cl100k)", ""]
    if p.problems:
        lines += ["**Problems**", ""] + [f"- {x}" for x in p.problems] + [""]
    lines += [f"**description** {p.description or '(none)'}", ""]
    fields = [("tools", ", ".join(p.tools) if p.tools else "all tools"), ("model", p.model), ("color", p.color)]
    fields += [(k, v) for k, v in p.extra.items()]
    lines += [f"- **{k}** {v}" for k, v in fields if v]
    lines += [f"- **file** `{p.path.name}`", "", "---", "", body]
    return "\n".join(lines)


class PersonaDetail(VerticalScroll):
    """Shows one persona; the body is read by a worker and pushed down."""

    def compose(self) -> ComposeResult:
        yield Static("Select a persona", id="detail-empty")
        yield Static("", id="detail-md")

    def show(self, persona: Persona | None, body: str = "") -> None:
        """Render a persona (or the empty state)."""
        self.query_one("#detail-empty", Static).display = persona is None
        md = self.query_one("#detail-md", Static)
        md.display = persona is not None
        if persona is not None:
            # Rich's markdown renders in one widget; Textual's Markdown mounts a widget per
            # block, which is slow for long persona bodies. Imported here: markdown-it is not
            # needed for the first frame.
            from rich.markdown import Markdown as RichMarkdown

            md.update(RichMarkdown(describe(persona, body)))
