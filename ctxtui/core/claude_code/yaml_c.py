"""A faster run of :mod:`yaml_js`'s loaders: libyaml scans and parses, Python does the rest.

Only the scanner and parser (where PyYAML's pure-Python loader spends nine tenths of its time)
are libyaml's; composing (with :mod:`yaml_js`'s alias count), resolving the YAML 1.2 core
schema and constructing are the very same Python code as the pure loader's. A document is
only answered here when it is shallow (nesting at most :data:`MAX_DEPTH`, far below any
recursion limit) and libyaml reads it without error; anything else (an error, an alias cap,
deep nesting, no libyaml) returns :data:`FALLBACK` and the caller parses it the pure way, so
every message and every refusal stays the pure loader's own.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

try:
    from yaml import _yaml

    CParser: Any = _yaml.CParser
except ImportError:  # PyYAML built without libyaml
    CParser = None

MAX_DEPTH = 64
"""Deeper documents go to the pure loader (whose recursion limit decides them)."""
_PURE_ONLY = re.compile("[\t!\ufeff]|[|>](?![-+1-9]{0,2}(?:[ \r\n]|$))")
"""Where libyaml and PyYAML read the same text differently (tabs, tags, a byte order mark
inside the text, odd block scalar headers, ``?`` in flow collections), found by ``tests/test_yaml_c.py``: such text is the pure loader's."""
FALLBACK = object()
"""What :func:`parse` returns when the caller must use the pure loader."""


class _TooDeep(Exception):
    pass


@lru_cache(maxsize=8)
def _hybrid(loader_cls: type) -> type | None:
    """LOADER_CLS (a ``yaml_js`` loader) with libyaml's event parser in place of PyYAML's."""
    if CParser is None:
        return None

    def __init__(self: Any, stream: str) -> None:
        CParser.__init__(self, stream)
        Composer.__init__(self)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)
        self._aliases = 0  # yaml_js's alias count
        self._depth = 0

    def compose_node(self: Any, parent: Any, index: Any) -> Any:
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise _TooDeep
        try:
            return loader_cls.compose_node(self, parent, index)  # type: ignore[attr-defined]
        finally:
            self._depth -= 1

    return type(f"C{loader_cls.__name__}", (CParser, loader_cls), {
        "__init__": __init__, "compose_node": compose_node,
        # CParser composes in C; these make it compose in Python, from its events
        "get_single_node": Composer.get_single_node, "get_node": Composer.get_node,
        "check_node": Composer.check_node,
    })


def parse(text: str, loader_cls: type) -> Any:
    """TEXT's value as LOADER_CLS constructs it, or :data:`FALLBACK`."""
    hybrid = _hybrid(loader_cls)
    if hybrid is None or _PURE_ONLY.search(text) or ("?" in text and ("[" in text or "{" in text)):
        return FALLBACK
    try:
        loader = hybrid(text)
    except Exception:  # noqa: BLE001 - any refusal is the pure loader's to word
        return FALLBACK
    try:
        node = loader.get_single_node()
        return None if node is None else loader.construct_document(node)
    except Exception:  # noqa: BLE001 - an error, the alias cap, depth: the pure loader decides
        return FALLBACK
    finally:
        loader.dispose()
