"""Text for Textual cells: untrusted text (persona names, descriptions, transcript fields,
error messages that quote them) never read as markup nor an escape sequence on screen, and
long names cut to a width with an ellipsis. Widths are terminal cells: a wide character (CJK,
most emoji) takes two."""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text

from ctxtui.core.display import is_plain, printable

ELLIPSIS = "…"


def cell(text: str) -> str | Text:
    """TEXT for a DataTable cell (which reads strings as markup): the string itself when it is
    plain, else a Text of its printable form."""
    return text if is_plain(text) else Text(printable(text))


def cells(text: str) -> int:
    """Terminal cells TEXT takes (its length when it is ASCII: the common case, and cheap)."""
    return len(text) if text.isascii() else cell_len(text)


def _head(text: str, width: int) -> str:
    """The longest start of TEXT that fits in WIDTH cells."""
    if text.isascii():
        return text[:width]
    used = 0
    for i, char in enumerate(text):
        used += cell_len(char)
        if used > width:
            return text[:i]
    return text


def _tail(text: str, width: int) -> str:
    """The longest end of TEXT that fits in WIDTH cells."""
    if width <= 0:
        return ""
    if text.isascii():
        return text[-width:]
    return _head(text[::-1], width)[::-1]


def middle_ellipsis(text: str, width: int) -> str:
    """TEXT in at most WIDTH cells, cut in the middle: persona names in real libraries share
    long prefixes (``backend-api-security-…``), so the end is what tells two apart."""
    if cells(text) <= width:
        return text
    if width <= 1:
        return ELLIPSIS[:max(width, 0)]
    head = _head(text, (width - 1) // 3)
    return head + ELLIPSIS + _tail(text, width - 1 - cells(head))


def end_ellipsis(text: str, width: int) -> str:
    """TEXT in at most WIDTH cells, cut at the end (a list of words reads from its start)."""
    if cells(text) <= width:
        return text
    if width <= 0:
        return ""
    return _head(text, width - 1) + ELLIPSIS
