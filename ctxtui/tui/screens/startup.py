"""The startup chart screen (``c``): what Claude Code's whole startup context is made of.

It shows the budget the main screen already holds (``Budget.whole``, the figures of ``ctxtui
status``), so opening it reads no file and counts nothing.
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header

from ctxtui.tui.actions import bindings
from ctxtui.tui.widgets.startup_chart import StartupChart


class StartupScreen(Screen[None]):
    """The whole startup context by kind, as bars, with what ctxtui or the user can save."""

    BINDINGS = bindings("startup")

    def __init__(self, whole: dict[str, Any] | None) -> None:
        super().__init__()
        self.whole = whole

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="startup-body"):
            yield StartupChart(self.whole, id="startup-chart")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#startup-body").focus()
