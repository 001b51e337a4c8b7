"""YAML as Claude Code's JavaScript parsers read frontmatter, emulated with PyYAML.

Claude Code 2.1.112 on Node parses with the ``yaml`` npm package (YAML 1.2, core schema,
duplicate keys are an error); newer releases run on Bun and use ``Bun.YAML.parse`` (YAML 1.2,
duplicate keys accepted). PyYAML implements YAML 1.1 (``yes``/``on`` are booleans, ``1:20``
is a number, ``2024-01-01`` a date), so the implicit types are replaced by the 1.2 core schema
here. Aliases are counted and refused past :data:`MAX_ALIASES`, so a "billion laughs" file
costs nothing; documents are parsed with the pure-Python parser so that count is exact.

PyYAML is imported, and the loader classes built, on the first parse: a warm ``status`` takes
every verdict from the memo and never pays for them.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

#: The ``yaml`` package refuses documents whose alias expansion is excessive (maxAliasCount
#: 100); we refuse more than this many alias nodes outright, in every profile.
MAX_ALIASES = 100


#: Deeper ``[[[…`` or ``{{{…`` nesting is refused before parsing: the pure parser takes seconds
#: for a thousand levels, and no agent file means it (the JS parsers' own limits lie near here).
MAX_FLOW_DEPTH = 256


def _flow_depth(text: str) -> int:
    """The deepest run of unclosed ``[``/``{`` in TEXT, counted lexically (quotes ignored, so
    it can only overcount): a cheap bound on the flow nesting a parser would see."""
    if text.count("[") + text.count("{") <= MAX_FLOW_DEPTH:
        return 0
    depth = deepest = 0
    for ch in text:
        if ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}" and depth:
            depth -= 1
    return deepest


class JsYamlError(ValueError):
    """The frontmatter does not parse (the JS parser would throw)."""


# The YAML 1.2 core schema's implicit types (compiled with the loaders, on first use).
_INT = r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"
_FLOAT = (
    r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)
_BOOL = r"^(?:true|True|TRUE|false|False|FALSE)$"
_NULL = r"^(?:~|null|Null|NULL|)$"


@lru_cache(maxsize=1)
def _loaders() -> tuple[type[Any], type[Any]]:
    """The loader classes (duplicate keys an error, last duplicate wins), built once."""
    import yaml

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

        def construct_plain_str(self, node: Any) -> Any:
            """A scalar kept as its text (1.2 timestamps, merge keys, "=")."""
            return self.construct_yaml_str(node)

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

    bool_, int_, float_, null = map(re.compile, (_BOOL, _INT, _FLOAT, _NULL))
    for cls in (_Loader, _LoaderLastKeyWins):
        cls.yaml_implicit_resolvers = {}
        cls.add_implicit_resolver("tag:yaml.org,2002:bool", bool_, list("tTfF"))
        cls.add_implicit_resolver("tag:yaml.org,2002:int", int_, list("-+0123456789"))
        cls.add_implicit_resolver("tag:yaml.org,2002:float", float_, list("-+.0123456789"))
        cls.add_implicit_resolver("tag:yaml.org,2002:null", null, ["~", "n", "N", ""])
        cls.add_constructor("tag:yaml.org,2002:int", _Loader.construct_yaml_int)
        cls.add_constructor("tag:yaml.org,2002:float", _Loader.construct_yaml_float)
        # 1.2 has no timestamps, no merge keys, no "=" value: those stay strings.
        for tag in ("timestamp", "merge", "value"):
            cls.add_constructor(f"tag:yaml.org,2002:{tag}", _Loader.construct_plain_str)
    return _Loader, _LoaderLastKeyWins


def _keep_block_at_end(node: Any, text: str) -> None:
    """Add the newline older Bun parsers add to a ``|+``/``>+`` block ending the document."""
    import yaml

    stack, seen = [node], set()
    while stack:
        n = stack.pop()
        if id(n) in seen:  # an alias to an enclosing node: visited already (never loop)
            continue
        seen.add(id(n))
        if isinstance(n, yaml.ScalarNode):
            if n.style in ("|", ">") and n.end_mark.index >= len(text.rstrip("\n")):
                header = text[n.start_mark.index:].split("\n", 1)[0]
                if "+" in header:
                    n.value += "\n"
        elif isinstance(n, yaml.SequenceNode):
            stack.extend(n.value)
        elif isinstance(n, yaml.MappingNode):
            stack.extend(v for pair in n.value for v in pair)


# Characters PyYAML refuses outright; the JS parsers take them as text (Bun refuses NUL).
_NON_PRINTABLE = ("[^\x09\x0A\x0D\x20-\x7E\x85\xA0-\uD7FF\uE000-\uFFFD"
                  "\U00010000-\U0010ffff]")
_LONE_CR = r"\r(?!\n)"
_PLACEHOLDER_BASE = 0x100000  # Supplementary Private Use Area-B


@lru_cache(maxsize=1)
def _hiding_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """The refused characters and a lone CR, compiled on the first parse."""
    return re.compile(_NON_PRINTABLE), re.compile(_LONE_CR)


def _hide(text: str, lone_cr_is_text: bool, reject_nul: bool) -> tuple[str, bool]:
    """Swap characters PyYAML would refuse for private-use stand-ins (restored after)."""
    if reject_nul and "\x00" in text:
        raise JsYamlError("NUL character in frontmatter")
    pattern, lone_cr = _hiding_patterns()
    if not pattern.search(text) and not (lone_cr_is_text and lone_cr.search(text)):
        return text, False
    if any(ord(ch) >= _PLACEHOLDER_BASE for ch in text):
        return text, False  # cannot hide safely; let PyYAML decide
    text = pattern.sub(lambda m: chr(_PLACEHOLDER_BASE + ord(m[0])), text)
    if lone_cr_is_text:
        text = lone_cr.sub(chr(_PLACEHOLDER_BASE + 0x0D), text)
    return text, True


def _restore_text(text: str) -> str:
    return "".join(chr(ord(ch) - _PLACEHOLDER_BASE) if ord(ch) >= _PLACEHOLDER_BASE else ch
                   for ch in text)


def _restore(value: Any, seen: set[int] | None = None) -> Any:
    seen = set() if seen is None else seen
    if isinstance(value, str):
        return _restore_text(value)
    if id(value) in seen:
        return value
    if isinstance(value, list):
        seen.add(id(value))
        value[:] = [_restore(v, seen) for v in value]
    elif isinstance(value, dict):
        seen.add(id(value))
        items = [(_restore(k, seen), _restore(v, seen)) for k, v in value.items()]
        value.clear()
        value.update(items)
    return value


def parse(text: str, *, duplicate_keys_error: bool, keep_block_eof_newline: bool = False,
          lone_cr_is_text: bool = False, reject_nul: bool = False) -> Any:
    """Parse one YAML document as the JS parser would; raise :class:`JsYamlError` on failure.

    ``keep_block_eof_newline``: emulate Bun builds that give a keep-chomped block scalar at
    the very end of the document one more trailing newline. Control characters are text (the
    npm ``yaml`` package takes even NUL and a lone CR; ``reject_nul`` for Bun, whose parser
    refuses NUL and reads a lone CR as a line break).
    """
    import yaml

    text, hidden = _hide(text, lone_cr_is_text, reject_nul)
    strict, lenient = _loaders()
    loader_cls = strict if duplicate_keys_error else lenient
    if not (keep_block_eof_newline and "+" in text):  # libyaml's marks are not ours to trust
        from ctxtui.core.claude_code import yaml_c  # the same loader, parsed by libyaml

        fast = yaml_c.parse(text, loader_cls)
        if fast is not yaml_c.FALLBACK:
            return _restore(fast) if hidden else fast
    if _flow_depth(text) > MAX_FLOW_DEPTH:  # PyYAML's pure scanner slows down with every level
        raise JsYamlError(f"flow collections nested more than {MAX_FLOW_DEPTH} levels deep")
    try:
        loader = loader_cls(text)
    except yaml.YAMLError as exc:
        raise JsYamlError(str(exc).splitlines()[0]) from exc
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if keep_block_eof_newline:
            _keep_block_at_end(node, text)
        value = loader.construct_document(node)
        return _restore(value) if hidden else value
    except JsYamlError:
        raise
    except (yaml.YAMLError, ValueError, TypeError, RecursionError) as exc:
        raise JsYamlError(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from exc
    finally:
        loader.dispose()
