"""One-line notices from the core (recovery done, a bad state file quarantined).

The core never prints. A face installs a reporter (the CLI prints to stderr for the length
of a command); without one, notices are kept for the face to :func:`take` and show.
"""

from __future__ import annotations

from collections.abc import Callable

Reporter = Callable[[str], None]
_reporter: Reporter | None = None
_kept: list[str] = []


def set_reporter(reporter: Reporter | None) -> None:
    """Send every later notice to ``reporter`` (None: keep them for :func:`take`)."""
    global _reporter
    _reporter = reporter


def report(line: str) -> None:
    """Tell the user something the core did on its own."""
    if _reporter is not None:
        _reporter(line)
    else:
        _kept.append(line)
        del _kept[:-200]  # never grow without bound in a long-lived process


def take() -> list[str]:
    """Notices kept because no reporter was set (and forget them)."""
    out = list(_kept)
    _kept.clear()
    return out
