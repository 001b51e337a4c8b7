"""Text from persona files and transcripts, made safe to show in a terminal.

Names, descriptions and transcript fields are written by others: an escape sequence in them
could recolour or rewrite the screen, a bidi override could reorder a row, and ``[bold]`` or
``[@click=…]`` would be read as markup by rich and Textual. Every face shows such text through
these functions (the CLI's console applies :func:`visible` to every string it prints).
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def visible(text: str) -> str:
    """TEXT with control characters (escape sequences, bells, carriage returns) and bidi or
    zero-width format characters as ``?``; line breaks and tabs are kept."""
    return _CONTROL.sub("?", text)


def printable(text: str) -> str:
    """TEXT on one line: as :func:`visible`, with tabs and line breaks as spaces."""
    return visible(text.replace("\t", " ").replace("\n", " "))


def is_plain(text: str) -> bool:
    """Whether TEXT can go where markup is read as it is: printable, on one line, no ``[``
    (true of nearly every name, and cheap: a 5,000-row table asks it for every cell)."""
    return "[" not in text and text.isprintable()
