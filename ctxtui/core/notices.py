"""One-line notices from the core (recovery done, a bad state file quarantined).

The core never prints. A face installs a reporter (the CLI prints to stderr); until then
notices are kept so a face that starts later can still show them.
"""

from __future__ import annotations

from collections.abc import Callable

Reporter = Callable[[str], None]
_reporter: Reporter | None = None
_kept: list[str] = []


def set_reporter(reporter: Reporter | None) -> None:
    """Send every later notice (and any kept so far) to ``reporter``."""
    global _reporter
    _reporter = reporter
    if reporter is not None:
        while _kept:
            reporter(_kept.pop(0))


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
