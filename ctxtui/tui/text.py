"""Untrusted text (persona names, descriptions, transcript fields, error messages that quote
them) for Textual: never read as markup, never an escape sequence on screen."""

from __future__ import annotations

from rich.text import Text

from ctxtui.core.display import is_plain, printable


def cell(text: str) -> str | Text:
    """TEXT for a DataTable cell (which reads strings as markup): the string itself when it is
    plain, else a Text of its printable form."""
    return text if is_plain(text) else Text(printable(text))
