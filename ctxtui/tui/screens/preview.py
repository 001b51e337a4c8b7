"""The CLAUDE.md preview: rendered, raw, and a diff against the file on disk."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Markdown, Static, TabbedContent, TabPane, TextArea

from ctxtui.core.strategies import Preview
from ctxtui.tui.actions import bindings


class PreviewScreen(ModalScreen[bool]):
    """Shows a :class:`Preview` from ``strategies.preview``; ``w`` asks the app to write it."""

    BINDINGS = bindings("preview")

    def __init__(self, preview: Preview) -> None:
        super().__init__()
        self.preview = preview

    def compose(self) -> ComposeResult:
        pv = self.preview
        costs = ", ".join(f"{d} {n:,}" for d, n in pv.costs.items())
        with Vertical(id="preview-box"):
            yield Static(
                f"{pv.path} · block {pv.block_tokens:,} tokens (cl100k) · density {pv.density} "
                f"· all densities: {costs} · {'changed' if pv.changed else 'up to date'}",
                id="preview-title", markup=False,
            )
            with TabbedContent(initial="rendered"):
                with TabPane("Rendered", id="rendered"):
                    yield Markdown(pv.block)
                with TabPane("Raw", id="raw"):
                    yield TextArea(pv.text, read_only=True, id="raw-text")
                with TabPane("Diff", id="diff"):
                    yield TextArea(pv.diff or "(no differences)", read_only=True, language=None, id="diff-text")

    def action_write(self) -> None:
        self.dismiss(True)
