"""Text for Textual cells: untrusted text (persona names, descriptions, transcript fields,
error messages that quote them) never read as markup nor an escape sequence on screen, and
long names cut to a width with an ellipsis."""

from __future__ import annotations

from rich.text import Text

from ctxtui.core.display import is_plain, printable


def cell(text: str) -> str | Text:
    """TEXT for a DataTable cell (which reads strings as markup): the string itself when it is
    plain, else a Text of its printable form."""
    return text if is_plain(text) else Text(printable(text))


def middle_ellipsis(text: str, width: int) -> str:
    """TEXT in at most WIDTH cells, cut in the middle: persona names in real libraries share
    long prefixes (``backend-api-security-…``), so the end is what tells two apart."""
    if len(text) <= width:
        return text
    if width <= 1:
        return text[-width:] if width > 0 else ""
    head = (width - 1) // 3
    tail = width - 1 - head
    return f"{text[:head]}…{text[-tail:]}"


def end_ellipsis(text: str, width: int) -> str:
    """TEXT in at most WIDTH cells, cut at the end (a list of words reads from its start)."""
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"[: max(width, 0)]
