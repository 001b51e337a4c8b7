"""The CLI's shared output: the console, JSON on stdout, the one-line error on stderr."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from typing import TYPE_CHECKING, Any, cast

from ctxtui.core.display import printable as printable  # re-exported: the CLI's one import
from ctxtui.core.display import visible

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table


class _LazyConsole:
    """The rich Console, imported on first use: ``--json`` output never loads rich (~0.1 s)."""

    _console: Console | None = None

    def __getattr__(self, name: str) -> Any:
        if _LazyConsole._console is None:
            _LazyConsole._console = _plain_console()
        return getattr(_LazyConsole._console, name)


def _plain_console() -> Console:
    """A Console that prints every string as it is: no markup (``[bold]`` in a persona name
    stays text), no ``:emoji:`` codes, no highlighting, and control characters (escape
    sequences, bidi overrides) shown as ``?``. Styles come only from :func:`styled`."""
    from rich.console import Console

    class PlainConsole(Console):
        def render_str(self, text: str, **kwargs: Any) -> Any:
            return super().render_str(visible(text), **kwargs)

    # piped (a file, grep, less): no terminal width to fit, so tables are never cut
    piped = not sys.stdout.isatty() and "COLUMNS" not in os.environ
    return PlainConsole(highlight=False, markup=False, emoji=False, width=250 if piped else None)


#: Human output (tables, colours). Every string is printed as it is (see :func:`_plain_console`).
console = cast("Console", _LazyConsole())


def styled(*parts: str | tuple[str, str]) -> Any:
    """A rich Text of plain parts and ``(text, style)`` parts, e.g. ``styled(("note:", "yellow"),
    " ", text)``: the one way CLI output gets colour; nothing in the parts is read as markup."""
    from rich.text import Text

    return Text.assemble(*((visible(p[0]), p[1]) if isinstance(p, tuple) else visible(p) for p in parts))


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
    fast = _plain_dumps(data) if plain else None
    if fast is None:
        sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
        return
    out = getattr(sys.stdout, "buffer", None)
    if out is None or os.linesep != "\n":  # bytes would skip the text layer's newline translation
        sys.stdout.write(fast.decode("ascii") + "\n")
        return
    sys.stdout.flush()  # what was written as text goes first
    out.write(fast)
    out.write(b"\n")
    out.flush()


_NON_ASCII = rb"[\x7f-\xff]+"


def _escape(m: re.Match[bytes]) -> bytes:
    """Characters as ``json`` escapes them (astral ones as a surrogate pair)."""
    out = []
    for ch in m.group(0).decode("utf-8"):
        code = ord(ch)
        if code > 0xFFFF:
            code -= 0x10000
            out.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}")
        else:
            out.append(f"\\u{code:04x}")
    return "".join(out).encode("ascii")


def _plain_dumps(data: Any) -> bytes | None:
    """DATA as ``json.dumps(data, indent=2)`` writes it (ASCII bytes), or None when it cannot
    be (a lone surrogate from a file name that is not UTF-8: ``json`` escapes what msgspec
    refuses)."""
    import msgspec

    try:
        raw = msgspec.json.format(msgspec.json.encode(data), indent=2)
    except (msgspec.EncodeError, TypeError, ValueError, OverflowError):
        return None
    return re.sub(_NON_ASCII, _escape, raw)  # only UTF-8 sequences and DEL: whole characters


def error_line(exc: BaseException | str) -> None:
    """A user mistake: one line on stderr (a message spanning lines is joined)."""
    text = " ".join(str(exc).split("\n"))
    print(f"ctxtui: error: {text}", file=sys.stderr)
