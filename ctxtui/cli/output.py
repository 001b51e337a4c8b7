"""The CLI's shared output: the console, JSON on stdout, the one-line error on stderr."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from rich.console import Console

#: Human output (tables, colours). Highlighting is off: names and paths are printed as they are.
console = Console(highlight=False)


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
