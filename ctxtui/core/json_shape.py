"""Rewriting someone's JSON file so that only the change shows: the file's indentation unit,
line endings, final newline and byte-order mark are read from its bytes and used again.

Claude Code's settings files are edited by people and by Claude Code itself; a rewrite that
turned a CRLF file into LF, or four spaces into two, would show every line as changed in a diff.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class Shape:
    """How a JSON file is laid out (the defaults are a new file's)."""

    bom: bool = False
    newline: str = "\n"
    indent: int | str | None = 2
    """Spaces (int) or the literal unit (``"\\t"``); None: everything on one line."""
    trailing_newline: bool = True


def split_bom(data: bytes) -> tuple[bool, bytes]:
    """(whether DATA starts with a UTF-8 byte-order mark, the bytes after it)."""
    return (True, data[len(BOM):]) if data.startswith(BOM) else (False, data)


def _indent(text: str) -> int | str | None:
    m = re.search(r"\n([ \t]+)\S", text)
    if not m:
        return 2 if "\n" not in text.strip() else None
    unit = m.group(1)
    return len(unit) if unit.strip(" ") == "" else unit


def shape_of(data: bytes | None) -> Shape:
    """The layout of a file's bytes (a new file's for None or blank bytes)."""
    if data is None:
        return Shape()
    bom, raw = split_bom(data)
    text = raw.decode("utf-8", "replace")
    if not text.strip():
        return Shape(bom=bom)
    return Shape(bom, "\r\n" if "\r\n" in text else "\n", _indent(text),
                 text.endswith(("\n", "\r\n")))


def dump(obj: Any, shape: Shape) -> bytes:
    """OBJ as JSON laid out like SHAPE (non-ASCII text kept as it is)."""
    text = json.dumps(obj, indent=shape.indent if shape.indent is not None else 2,
                      ensure_ascii=False)
    if shape.trailing_newline:
        text += "\n"
    if shape.newline == "\r\n":
        text = text.replace("\n", "\r\n")
    return (BOM if shape.bom else b"") + text.encode("utf-8")
