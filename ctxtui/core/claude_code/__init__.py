"""A model of Claude Code itself, version by version: which agents it loads and what it sends.

``profiles`` holds one :class:`Profile` per behaviour generation (``profile_for(version)``);
``agents`` is a port of its agent loader (verdict per file, discovery, precedence, listing).
Everything here was read from Claude Code's shipped code and checked against the requests it
sends (``scripts/claude_code/``, data in ``tests/data/claude_code/``).
"""

from ctxtui.core.claude_code.agents import (
    AgentSet,
    AgentVerdict,
    agent_files,
    effective_agents,
    listing_line,
    load_agent,
    parse_frontmatter,
    sort_key,
)
from ctxtui.core.claude_code.profiles import Profile, newest, parse_version, profile_for, profiles

__all__ = [
    "AgentSet", "AgentVerdict", "Profile", "agent_files", "effective_agents", "listing_line",
    "load_agent", "newest", "parse_frontmatter", "parse_version", "profile_for", "profiles",
    "sort_key",
]
