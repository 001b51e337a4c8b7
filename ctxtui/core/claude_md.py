"""The managed block ctxtui writes into CLAUDE.md, between marker comments.

Text outside the markers belongs to the user and is preserved byte for byte.
"""

from __future__ import annotations

BEGIN = "<!-- ctxtui:begin -->"
END = "<!-- ctxtui:end -->"


def block_span(text: str) -> tuple[int, int] | None:
    """(start, end) offsets of the managed block including its markers, or None."""
    start = text.find(BEGIN)
    if start < 0:
        return None
    end = text.find(END, start + len(BEGIN))
    if end < 0:
        return None
    return start, end + len(END)
