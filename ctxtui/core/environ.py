"""The process environment with a few variables changed, read through rather than copied;
and the cores this process may use.

``dict(os.environ)`` reads every variable, so a result built from the copy depends, as far as
anyone can tell, on all of them (``ctxtui.core.inputs`` then cannot cache it). A view answers
each lookup from its changes or from ``os.environ``, so only the variables looked up count.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping


class EnvView(Mapping[str, str]):
    """``os.environ`` with CHANGES applied (a value of None removes the variable)."""

    def __init__(self, changes: Mapping[str, str | None]) -> None:
        self._changes = dict(changes)

    def __getitem__(self, key: str) -> str:
        if key in self._changes:
            value = self._changes[key]
            if value is None:
                raise KeyError(key)
            return value
        return os.environ[key]

    def __iter__(self) -> Iterator[str]:
        seen = {k for k, v in self._changes.items() if v is not None}
        yield from seen
        yield from (k for k in os.environ if k not in self._changes)

    def __len__(self) -> int:
        return sum(1 for _ in self)


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity where the system tells it)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1
