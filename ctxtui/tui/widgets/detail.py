"""The detail pane: the selected persona's frontmatter, problems and rendered body."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from ctxtui.core.display import visible

if TYPE_CHECKING:
    from ctxtui.core.claude_code import AgentVerdict
    from ctxtui.core.persona import Persona

TIER_TEXT = {
    "file": "an agent file when hot, in the library when cold",
    "hidden": "the file stays in .claude/agents; a deny rule in settings.local.json hides it",
    "skill": "a skill in .claude/skills, run as a forked subagent (one listing line)",
}


def describe(p: Persona, body: str, verdict: AgentVerdict | None = None, tier: str | None = None) -> str:
    """Markdown for one persona (pure, so it is easy to test). With VERDICT, the startup
    figure is Claude Code's listing line, and a file it skips says so first; with TIER, how
    it is kept in or out of the listing."""
    from ctxtui.core.verdicts import line_tokens  # not needed before a persona is shown

    startup = line_tokens(verdict) if verdict is not None else p.startup_tokens
    lines = [f"## {p.name}", "", f"**status** {p.status.value} · **startup** {startup:,} · **full** {p.full_tokens:,} tokens (cl100k)", ""]
    if tier is not None:
        lines += [f"**tier** {tier}: {TIER_TEXT.get(tier, '')} (i changes it)", ""]
    if verdict is not None and not verdict.loaded:
        lines += [f"**Claude Code skips this:** {verdict.reason}", ""]
    elif verdict is not None and verdict.name != p.name:
        lines += [f"**Claude Code lists it as** `{verdict.name}`", ""]
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

    def show(self, persona: Persona | None, body: str = "", verdict: AgentVerdict | None = None,
             tier: str | None = None) -> None:
        """Render a persona (or the empty state), with Claude Code's VERDICT on it and its TIER."""
        self.query_one("#detail-empty", Static).display = persona is None
        md = self.query_one("#detail-md", Static)
        md.display = persona is not None
        if persona is not None:
            # Rich's markdown renders in one widget; Textual's Markdown mounts a widget per
            # block, which is slow for long persona bodies. Imported here: markdown-it is not
            # needed for the first frame.
            from rich.markdown import Markdown as RichMarkdown

            md.update(RichMarkdown(visible(describe(persona, body, verdict, tier))))
