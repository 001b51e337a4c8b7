"""YAML as Claude Code's JavaScript parsers read frontmatter, emulated with PyYAML.

Claude Code 2.1.112 on Node parses with the ``yaml`` npm package (YAML 1.2, core schema,
duplicate keys are an error); newer releases run on Bun and use ``Bun.YAML.parse`` (YAML 1.2,
duplicate keys accepted). PyYAML implements YAML 1.1 (``yes``/``on`` are booleans, ``1:20``
is a number, ``2024-01-01`` a date), so the implicit types are replaced by the 1.2 core schema
here. Aliases are counted and refused past :data:`MAX_ALIASES`, so a "billion laughs" file
costs nothing; documents are parsed with the pure-Python parser so that count is exact.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

#: The ``yaml`` package refuses documents whose alias expansion is excessive (maxAliasCount
#: 100); we refuse more than this many alias nodes outright, in every profile.
MAX_ALIASES = 100


class JsYamlError(ValueError):
    """The frontmatter does not parse (the JS parser would throw)."""


_INT = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_FLOAT = re.compile(
    r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)
_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")


class _Loader(yaml.SafeLoader):
    """SafeLoader with the YAML 1.2 core schema, alias cap and duplicate-key policy."""

    yaml_implicit_resolvers: dict = {}
    duplicate_keys_error = True

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._aliases = 0

    def compose_node(self, parent: Any, index: Any) -> Any:  # noqa: D102
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise JsYamlError(f"more than {MAX_ALIASES} aliases")
        return super().compose_node(parent, index)

    def construct_mapping(self, node: Any, deep: bool = False) -> dict:  # noqa: D102
        if self.duplicate_keys_error:
            seen: set = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=True)
                try:
                    dup = key in seen
                    seen.add(key)
                except TypeError as exc:
                    raise JsYamlError("unhashable mapping key") from exc
                if dup:
                    raise JsYamlError(f"Map keys must be unique: {key!r}")
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_int(self, node: Any) -> int:  # noqa: D102
        value = self.construct_scalar(node)
        if value.startswith("0o"):
            return int(value[2:], 8)
        if value.startswith("0x"):
            return int(value[2:], 16)
        return int(value)

    def construct_yaml_float(self, node: Any) -> float:  # noqa: D102
        value = self.construct_scalar(node).lower()
        if value.endswith(".inf"):
            return float("-inf") if value.startswith("-") else float("inf")
        if value == ".nan":
            return float("nan")
        return float(value)


class _LoaderLastKeyWins(_Loader):
    duplicate_keys_error = False


for _cls in (_Loader, _LoaderLastKeyWins):
    _cls.yaml_implicit_resolvers = {}
    _cls.add_implicit_resolver("tag:yaml.org,2002:bool", _BOOL, list("tTfF"))
    _cls.add_implicit_resolver("tag:yaml.org,2002:int", _INT, list("-+0123456789"))
    _cls.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT, list("-+.0123456789"))
    _cls.add_implicit_resolver("tag:yaml.org,2002:null", _NULL, ["~", "n", "N", ""])
    _cls.add_constructor("tag:yaml.org,2002:int", _Loader.construct_yaml_int)
    _cls.add_constructor("tag:yaml.org,2002:float", _Loader.construct_yaml_float)
    # 1.2 has no timestamps, no merge keys, no "=" value: those stay strings.
    for _tag in ("timestamp", "merge", "value"):
        _cls.add_constructor(f"tag:yaml.org,2002:{_tag}", yaml.SafeLoader.construct_yaml_str)


def _keep_block_at_end(node: Any, text: str) -> None:
    """Add the newline older Bun parsers add to a ``|+``/``>+`` block ending the document."""
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, yaml.ScalarNode):
            if n.style in ("|", ">") and n.end_mark.index >= len(text.rstrip("\n")):
                header = text[n.start_mark.index:].split("\n", 1)[0]
                if "+" in header:
                    n.value += "\n"
        elif isinstance(n, yaml.SequenceNode):
            stack.extend(n.value)
        elif isinstance(n, yaml.MappingNode):
            stack.extend(v for pair in n.value for v in pair)


def parse(text: str, *, duplicate_keys_error: bool, keep_block_eof_newline: bool = False) -> Any:
    """Parse one YAML document as the JS parser would; raise :class:`JsYamlError` on failure.

    ``keep_block_eof_newline``: emulate Bun builds that give a keep-chomped block scalar at
    the very end of the document one more trailing newline.
    """
    loader_cls = _Loader if duplicate_keys_error else _LoaderLastKeyWins
    loader = loader_cls(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if keep_block_eof_newline:
            _keep_block_at_end(node, text)
        return loader.construct_document(node)
    except JsYamlError:
        raise
    except (yaml.YAMLError, ValueError, TypeError, RecursionError) as exc:
        raise JsYamlError(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from exc
    finally:
        loader.dispose()
