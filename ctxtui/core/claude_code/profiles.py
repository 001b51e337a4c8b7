"""Claude Code behaviour generations: one :class:`Profile` per set of loader rules.

Each profile was read from the shipped code of the version it is named after and checked
against that version's own requests (``scripts/claude_code/ground_truth.py``, data in
``tests/data/claude_code/<version>/``). A version between two profiles gets the older one: the
rules are known to hold at the profile's version, not before it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache

_VERSION = re.compile(r"^\s*v?(\d+)\.(\d+)\.(\d+)")


def parse_version(text: str) -> tuple[int, int, int] | None:
    """``"2.1.112 (Claude Code)"`` -> ``(2, 1, 112)``; None when there is no X.Y.Z."""
    m = _VERSION.match(text or "")
    return (int(m[1]), int(m[2]), int(m[3])) if m else None


@dataclass(frozen=True)
class Profile:
    """The agent-loading rules of one Claude Code generation."""

    version: str
    """The version the rules were read from and captured with."""
    runtime: str
    """``node`` (npm ``cli.js``) or ``bun`` (native binary)."""
    duplicate_keys_error: bool
    """True: a repeated YAML key makes the frontmatter fail to parse (npm ``yaml``)."""
    strip_bom: bool
    """A leading U+FEFF is removed before the frontmatter is matched."""
    max_file_bytes: int | None
    """Agent files larger than this are skipped; None: no limit."""
    retry_value_pattern: str
    """Regex for a ``key: value`` line the YAML retry may quote (``{ws}``: JavaScript's
    whitespace class, ``{dot}``: JavaScript's ``.``)."""
    retry_keeps_flow_lists: bool
    """The retry leaves ``[a, b]`` values alone when they parse as a list."""
    retry_tabs_to_spaces: bool
    """The retry turns leading tabs into two spaces each."""
    reject_leading_dash: bool
    """Names starting with ``-`` are rejected."""
    reject_colon: bool
    """Names containing ``:`` after NFKC normalisation (plugin namespaces) are rejected."""
    max_name_length: int | None
    """Names longer than this many UTF-16 units are rejected; None: no limit."""
    deeper_folder_wins: bool
    """Among project folders, the one nearest the cwd wins (else: the farthest ancestor)."""
    sorted_discovery: bool
    """Files of one folder are read in sorted path order (else ripgrep's order)."""
    ascii_first_sort: bool
    """Listing sort: ASCII names by locale, then non-ASCII names by code unit."""
    listing_in_message: bool
    """The agent listing is a message (else part of the Agent tool's description)."""
    listing_header: str
    """The line that starts the listing block."""
    keep_block_eof_newline: bool = False
    """Bun quirk: a ``|+``/``>+`` block ending the frontmatter gets one more newline."""
    memory_tools: tuple[str, ...] = ("Write", "Edit", "Read")
    """Tools added to an explicit tools list when the agent has a valid ``memory:``."""
    builtin_lines: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Built-in agents' listing lines per entrypoint: ``interactive`` and ``print`` (-p)."""
    fixed_tokens: dict[str, dict] = field(default_factory=dict)
    """cl100k sizes of the fixed request parts per entrypoint (see ``fixed_<version>.json``)."""
    listing_wrapper_tokens: int = 0
    """cl100k tokens of the listing's own header (and closing note, when it is a message)."""
    agents_watched: bool = False
    """Mid-session: True, the session watches ``.claude/agents`` (project and user; chokidar,
    polling every 2 s, 1 s write-settle) and announces an added agent in the next turn
    ("New agent types are now available for the Agent tool:"), read in the 2.1.332 code
    (skillChangeDetector). False: agent files are read at start and again only on
    ``/reload-plugins`` (interactive; it clears the agent-definition cache), read in the
    2.1.112 code. Versions between were not read: they get the 2.1.112 behaviour."""

    @property
    def key(self) -> tuple[int, int, int]:
        """The version as a sortable tuple."""
        v = parse_version(self.version)
        assert v is not None
        return v

    def builtin_names(self, entrypoint: str = "interactive") -> list[str]:
        """Names of the built-in agents listed for ENTRYPOINT."""
        return [line[2:].split(": ", 1)[0] for line in self.builtin_lines.get(entrypoint, ())]


@dataclass(frozen=True)
class FixedItem:
    """One fixed part of Claude Code's startup request, for the budget."""

    kind: str
    """``builtin-agent`` or ``fixed-text``."""
    label: str
    tokens: int


def fixed_items(profile: Profile, entrypoint: str = "interactive") -> list[FixedItem]:
    """The agent-related fixed text of PROFILE's first request, itemised (cl100k tokens).

    The Agent tool's own text (without the built-in lines) and, where the listing is a
    message, its header and note; then one item per built-in agent line. Memory wrappers are
    modelled with the memory files (core.memory), not here.
    """
    t = profile.fixed_tokens.get(entrypoint, {})
    items = [FixedItem("fixed-text", "Agent tool description",
                       t.get("agent_tool_description_without_builtin_lines", 0))]
    if profile.listing_in_message:
        items.append(FixedItem("fixed-text", "agent listing header", profile.listing_wrapper_tokens))
    items += [FixedItem("builtin-agent", name, n)
              for name, n in t.get("builtin_lines", {}).items()]
    return items


def _fixed(version: str) -> dict:
    """Captured fixed texts and token sizes for VERSION (packaged JSON)."""
    try:
        import pkgutil  # the loader's own read (importlib.resources costs a few ms of imports)

        data = pkgutil.get_data("ctxtui.core.claude_code", f"fixed_{version}.json")
        return json.loads(data.decode("utf-8")) if data is not None else {}
    except (FileNotFoundError, ValueError):
        return {}


def _make(version: str, **rules: object) -> Profile:
    fixed = _fixed(version)
    builtin = {k: tuple(v) for k, v in fixed.get("builtin_lines", {}).items()}
    return Profile(version=version, builtin_lines=builtin, fixed_tokens=fixed.get("tokens", {}),
                   listing_wrapper_tokens=fixed.get("listing_wrapper", {}).get("tokens", 0),
                   **rules)  # type: ignore[arg-type]


_TOOL_HEADER = "Available agent types and the tools they have access to:"
_MESSAGE_HEADER = "Available agent types for the Agent tool:"
_VALUE_ANY = r"^([a-zA-Z_-]+):[{ws}]+({dot}+)\Z"
_VALUE_NON_SPACE = r"^([a-zA-Z_-]+):[{ws}]+([^{ws}]{dot}*)\Z"

#: The 2.1.112 rules (npm ``cli.js`` on Node), read from its code.
_BASE: dict[str, object] = {
    "runtime": "node", "duplicate_keys_error": True, "strip_bom": False, "max_file_bytes": None,
    "retry_value_pattern": _VALUE_ANY, "retry_keeps_flow_lists": False,
    "retry_tabs_to_spaces": False, "reject_leading_dash": False, "reject_colon": False,
    "max_name_length": None, "deeper_folder_wins": False, "sorted_discovery": False,
    "ascii_first_sort": False, "listing_in_message": False, "listing_header": _TOOL_HEADER,
    "keep_block_eof_newline": False,
}

#: Each behaviour change and the first version that has it. Found by running every probed
#: release over the edge corpus (scripts/claude_code/probe_versions.py --bisect; the version
#: before each entry behaves the old way) or, for the retry's rewrite rules the corpus cannot
#: tell apart, by searching the shipped code (--markers).
GENERATIONS: tuple[tuple[str, dict[str, object]], ...] = (
    ("2.1.112", {}),
    ("2.1.113", {"runtime": "bun", "duplicate_keys_error": False, "keep_block_eof_newline": True}),
    ("2.1.146", {"retry_keeps_flow_lists": True}),
    ("2.1.163", {"retry_tabs_to_spaces": True}),
    ("2.1.172", {"reject_leading_dash": True}),
    ("2.1.178", {"listing_in_message": True, "listing_header": _MESSAGE_HEADER,
                 "deeper_folder_wins": True}),
    ("2.1.181", {"keep_block_eof_newline": False}),
    ("2.1.196", {"max_file_bytes": 1024 * 1024}),
    ("2.1.218", {"reject_colon": True}),
    ("2.1.239", {"strip_bom": True}),
    ("2.1.288", {"retry_value_pattern": _VALUE_NON_SPACE}),
    ("2.1.292", {"max_name_length": 256}),
    ("2.1.293", {"ascii_first_sort": True}),
    ("2.1.330", {"sorted_discovery": True}),
    ("2.1.332", {"agents_watched": True}),  # the newest, captured in full (wshobson corpus, per-file edge runs)
)


@lru_cache(maxsize=1)
def profiles() -> tuple[Profile, ...]:
    """All known profiles, oldest first: one per generation in :data:`GENERATIONS`."""
    rules = dict(_BASE)
    out = []
    for version, changes in GENERATIONS:
        rules.update(changes)
        out.append(_make(version, **rules))
    return tuple(out)


@lru_cache(maxsize=1)
def builtin_agent_names() -> frozenset[str]:
    """Claude Code's own agents (``general-purpose``, ``Explore``, ``Plan``…) in every version
    ctxtui models, either entrypoint: a transcript may come from any of them."""
    return frozenset(name for p in profiles() for entry in p.builtin_lines for name in p.builtin_names(entry))


def newest() -> Profile:
    """The newest known profile."""
    return profiles()[-1]


def profile_for(version: str | None) -> Profile:
    """The profile whose rules apply to Claude Code VERSION.

    The newest profile at or below VERSION; versions older than every profile get the oldest;
    None or an unparsable version gets the newest.
    """
    v = parse_version(version or "")
    if v is None:
        return newest()
    chosen = profiles()[0]
    for p in profiles():
        if p.key <= v:
            chosen = p
    return chosen
