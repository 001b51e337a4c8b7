"""Secret redaction for exported text, with the patterns kept as data.

The rules live in ``ctxtui/data/secrets.toml`` (shipped in the wheel): forms from the
gitleaks default rule set plus the forms it misses (short ``.env`` passwords, passwords in
URLs on any host, private keys without an END line). Each rule carries its own examples,
which the tests run, so adding a form is a data change with its test included.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


@dataclass(frozen=True)
class Rule:
    """One secret form: where it comes from, how it is found, what replaces it."""

    id: str
    source: str
    pattern: re.Pattern[str]
    replace: str
    keywords: tuple[str, ...]
    examples: tuple[str, ...]
    key_filter: re.Pattern[str] | None = None
    """The key name (group ``name``) must match this, or the match is left alone: the
    pattern finds any ``name = value`` in linear time, the filter judges the short name."""

    def sub(self, text: str) -> str:
        """The text with this rule's secrets replaced."""
        if self.key_filter is None:
            return self.pattern.sub(self.replace, text)
        keep = self.key_filter.search
        return self.pattern.sub(lambda m: m.expand(self.replace) if keep(m.group("name")) else m.group(0), text)

    def applies(self, lowered: str) -> bool:
        """Whether the text (lower-cased) has one of the rule's keywords (or it has none)."""
        return not self.keywords or any(k in lowered for k in self.keywords)


def rules_text() -> str:
    """The shipped rule file."""
    return resources.files("ctxtui").joinpath("data").joinpath("secrets.toml").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def rules() -> tuple[Rule, ...]:
    """The rules, compiled once, in file order (specific forms before generic ones)."""
    data = tomllib.loads(rules_text())
    return tuple(
        Rule(
            id=r["id"], source=r.get("source", ""), pattern=re.compile(r["regex"]),
            replace=r["replace"], keywords=tuple(r.get("keywords", ())),
            examples=tuple(r.get("examples", ())),
            key_filter=re.compile(r["key_filter"]) if "key_filter" in r else None,
        )
        for r in data["rules"]
    )


def redact(text: str) -> str:
    """Replace every secret form the rules know with a ``[REDACTED_...]`` placeholder."""
    lowered = text.lower()
    for rule in rules():
        if rule.applies(lowered):
            text = rule.sub(text)
    return text
