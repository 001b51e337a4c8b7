"""The CLI's shared output: the console, JSON on stdout, the one-line error on stderr."""

from __future__ import annotations

import argparse
import json
import re
import sys
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table


class _LazyConsole:
    """The rich Console, imported on first use: ``--json`` output never loads rich (~0.1 s)."""

    _console: Console | None = None

    def __getattr__(self, name: str) -> Any:
        if _LazyConsole._console is None:
            from rich.console import Console

            _LazyConsole._console = Console(highlight=False)
        return getattr(_LazyConsole._console, name)


#: Human output (tables, colours). Highlighting is off: names and paths are printed as they are.
console = cast("Console", _LazyConsole())


def new_table(*args: Any, **kwargs: Any) -> Table:
    """A rich Table (rich is imported only for human output)."""
    from rich.table import Table

    return Table(*args, **kwargs)


def wants_json(args: argparse.Namespace) -> bool:
    """Whether --json was given."""
    return bool(getattr(args, "json", False))


def emit_json(data: Any, *, plain: bool = False) -> None:
    """Print JSON to stdout (indented, ASCII, as ``json.dumps(data, indent=2, default=str)``).

    PLAIN: DATA holds only text, integers, booleans, None, lists and dicts with text keys.
    It is then encoded in C (``json`` indents in pure Python: seconds for a 10,000-persona
    index), to the same bytes."""
    sys.stdout.write((_plain_dumps(data) if plain else None) or json.dumps(data, indent=2, default=str))
    sys.stdout.write("\n")


_NON_ASCII = re.compile(r"[^\x00-\x7e]")


def _escape(m: re.Match[str]) -> str:
    """A character as ``json`` escapes it (astral characters as a surrogate pair)."""
    code = ord(m.group(0))
    if code > 0xFFFF:
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


def _plain_dumps(data: Any) -> str | None:
    """DATA as ``json.dumps(data, indent=2)`` writes it, or None when it cannot be (a lone
    surrogate from a file name that is not UTF-8: ``json`` escapes what msgspec refuses)."""
    import msgspec

    try:
        raw = msgspec.json.format(msgspec.json.encode(data), indent=2)
    except (msgspec.EncodeError, TypeError, ValueError, OverflowError):
        return None
    return _NON_ASCII.sub(_escape, raw.decode("utf-8"))


def error_line(exc: BaseException | str) -> None:
    """A user mistake: one line on stderr (a message spanning lines is joined)."""
    text = " ".join(str(exc).split("\n"))
    print(f"ctxtui: error: {text}", file=sys.stderr)
