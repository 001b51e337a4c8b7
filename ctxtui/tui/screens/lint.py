"""The lint screen (``f``): agent files Claude Code skips or reads differently from what was
written, per version, and the fix; ``x`` fixes them all.

The findings are ``core.fix_op.lint_workspace``'s (what ``ctxtui lint`` prints); fixing is done
by the main screen with ``core.fix_op.apply_fixes`` (``ctxtui fix --all``), after a confirmation
that shows the dry run. The screen dismisses with True when the user asked for the fix.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from ctxtui.core.fix_op import AgentFile
from ctxtui.core.lint import describe_versions
from ctxtui.tui.actions import bindings

_SEVERITY_STYLE = {"error": "bold red", "warning": "bold yellow", "info": "dim"}


def lint_text(files: Sequence[AgentFile]) -> Text:
    """Every flagged file with its findings and fixes, then the count (pure, for tests)."""
    from ctxtui.analytics.live import safe_text  # file text is untrusted: no terminal escapes

    out = Text()
    flagged = [f for f in files if f.lint.findings]
    for f in flagged:
        name = f", {safe_text(f.lint.name)}" if f.lint.name else ""
        out.append(f"{safe_text(str(f.path))}", style="bold")
        out.append(f" ({f.where}{name})\n", style="dim")
        for finding in f.lint.findings:
            where = describe_versions(finding.versions) if finding.versions else "all versions"
            out.append(f"  {finding.severity}", style=_SEVERITY_STYLE.get(finding.severity, ""))
            out.append(f": {safe_text(finding.message)} [{where}]\n")
            out.append(f"    fix: {safe_text(finding.fix)}\n", style="dim")
        out.append("\n")
    need = sum(f.lint.needs_fix for f in files)
    out.append(f"{len(files)} agent files: {need} need a fix, {len(flagged) - need} with notes only",
               style="bold")
    out.append("; x fixes them (recorded in history, u undoes it)" if need else "", style="bold")
    return out


class LintScreen(Screen[bool]):
    """Lint findings of the project's agent files; dismisses True to fix them all."""

    BINDINGS = bindings("lint")

    def __init__(self, files: Sequence[AgentFile]) -> None:
        super().__init__()
        self.files = list(files)

    @property
    def needs_fix(self) -> int:
        """Files some Claude Code version skips or reads differently from what was written."""
        return sum(f.lint.needs_fix for f in self.files)

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="lint-body"):
            yield Static(lint_text(self.files), id="lint-text")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#lint-body").focus()

    def action_fix_all(self) -> None:
        if self.needs_fix:
            self.dismiss(True)
        else:
            self.notify("Nothing to fix: every agent file loads as written", markup=False)
