"""The CLI's shared output: the console, JSON on stdout, the one-line error on stderr."""

from __future__ import annotations

import argparse
import json
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


def emit_json(data: Any) -> None:
    """Print JSON to stdout."""
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def error_line(exc: BaseException | str) -> None:
    """A user mistake: one line on stderr (a message spanning lines is joined)."""
    text = " ".join(str(exc).split("\n"))
    print(f"ctxtui: error: {text}", file=sys.stderr)
