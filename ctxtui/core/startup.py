"""The whole startup context of a Claude Code session, itemised like its ``/context``.

Fixed parts (system prompt, built-in tools, built-in agents, bundled skills, environment and
reminders) come from per-version figures measured from the request Claude Code really sends
(``ctxtui/data/claude_code/startup_<version>.json``, made by ``scripts/claude_code/``). The
project's parts are computed from its files with the loaders of the same version: custom
agents (core.claude_code), memory files (core.memory), skills and slash commands
(core.skills, core.slash_commands) and MCP servers (core.mcp; their tools are unknown unless a
transcript recorded them). Every item says where its figure comes from (``basis``):
``version-data`` (measured once per version, estimated for this project), ``computed`` (from
this project's files), ``measured`` (from this session's transcript) or ``unknown``.

Tokens are cl100k: a tool is its compact JSON, text is its text.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ctxtui.core import mcp, memory, output_styles, skills, slash_commands, tokens
from ctxtui.core.claude_code import effective_agents, profile_for
from ctxtui.core.claude_code.agents import user_config_dir

if TYPE_CHECKING:
    from ctxtui.core.first_request import RecordedRequest

ENTRYPOINTS = ("interactive", "print")
LARGE_ITEM_TOKENS = 500
"""Memory files at least this large get a suggestion."""
MIN_SAVING_TOKENS = 10
"""Agents, skills and commands whose line is at least this large get a suggestion."""


@dataclass
class StartupItem:
    """One part of the startup context."""

    kind: str
    """``system-prompt``, ``builtin-tools``, ``builtin-agents``, ``bundled-skills``,
    ``deferred-tools``, ``environment``, ``agent``, ``memory``, ``mcp-server``, ``skill``,
    ``command``, ``output-style``."""
    label: str
    source: str
    """The file it comes from ("" for Claude Code's own text)."""
    tokens: int | None
    """cl100k tokens; None when unknown (never guessed)."""
    basis: str
    """``version-data``, ``computed``, ``measured`` or ``unknown``."""
    scope: str = ""
    managed: bool = False
    """Part of what ctxtui's strategies change (hot agents, ctxtui's CLAUDE.md block)."""


@dataclass
class Suggestion:
    """One way to make the startup context smaller, with its saving."""

    item: str
    action: str
    by: str
    """``ctxtui`` (it can do it) or ``user`` (only the user can)."""
    saving: int
    """cl100k tokens saved at every session start (0 when the item's size is unknown)."""


@dataclass
class StartupAccount:
    """The itemised startup context of one project for one Claude Code version."""

    version: str
    entrypoint: str
    items: list[StartupItem]
    block_tokens: int = 0
    suggestions: list[Suggestion] = field(default_factory=list)
    measured_total: int | None = None
    """The session's first request as its transcript recorded it (None: not recorded)."""
    measured_version: str | None = None
    """The Claude Code version that sent that request (its figures replace the version data
    only when it is this account's version)."""
    measured_entrypoint: str | None = None
    """``interactive`` or ``print`` (``-p``): how that session was started, when recorded."""

    @property
    def total(self) -> int:
        """Sum of every known item (the whole startup context)."""
        return sum(i.tokens or 0 for i in self.items)

    @property
    def managed(self) -> int:
        """The part strategies change: custom agent lines plus ctxtui's CLAUDE.md block."""
        return sum(i.tokens or 0 for i in self.items if i.managed) + self.block_tokens

    @property
    def unknown(self) -> list[StartupItem]:
        """Items whose size is not known (counted as 0 in ``total``)."""
        return [i for i in self.items if i.tokens is None]

    def by_kind(self) -> dict[str, int]:
        """Known tokens per kind, largest first (for a chart)."""
        out: dict[str, int] = {}
        for i in self.items:
            out[i.kind] = out.get(i.kind, 0) + (i.tokens or 0)
        return dict(sorted(out.items(), key=lambda kv: -kv[1]))

    def to_json(self) -> dict[str, Any]:
        """The JSON shape ``status --json`` embeds."""
        return {
            "claude_code_version": self.version, "entrypoint": self.entrypoint,
            "total": self.total, "managed": self.managed,
            "measured_total": self.measured_total, "measured_version": self.measured_version,
            "measured_entrypoint": self.measured_entrypoint,
            "unknown_items": len(self.unknown), "by_kind": self.by_kind(),
            "items": [asdict(i) for i in self.items],
            "suggestions": [asdict(s) for s in self.suggestions],
        }


@lru_cache(maxsize=8)
def fixed_figures(version: str) -> dict[str, Any]:
    """The packaged fixed figures of VERSION (a profile version), {} when none ship."""
    import pkgutil  # the package loader's own read: importlib.resources costs a few ms more

    try:
        data = pkgutil.get_data("ctxtui.data.claude_code", f"startup_{version}.json")
        return json.loads(data.decode("utf-8")) if data is not None else {}
    except (FileNotFoundError, ValueError):
        return {}


def _fixed_items(version: str, entrypoint: str) -> list[StartupItem]:
    data = fixed_figures(version).get(entrypoint, {})
    if not data:
        return []
    prof = profile_for(version)
    tools = sum(data["tools"].values())
    items = [StartupItem("system-prompt", "System prompt", "", data["system_prompt"],
                         "version-data")]
    if prof.listing_in_message:
        agents = data["agents_listing"]
    else:  # the built-in agents' lines are part of the Agent tool's description
        lines = prof.builtin_lines.get(entrypoint, ())
        agents = sum(tokens.count_many("\n" + ln for ln in lines))
        tools -= agents
    items.append(StartupItem("builtin-tools", f"Built-in tools ({len(data['tools'])})", "",
                             tools, "version-data"))
    items.append(StartupItem("builtin-agents", "Built-in agents", "", agents, "version-data"))
    items.append(StartupItem("bundled-skills", "Bundled skills and built-in commands", "",
                             data["skills_listing"], "version-data"))
    if data.get("deferred_tools"):
        items.append(StartupItem("deferred-tools", "Deferred tool names", "",
                                 data["deferred_tools"], "version-data"))
    items.append(StartupItem("environment", "Environment, date, git status, reminders", "",
                             data["other_messages"], "version-data"))
    return items


def _use_recorded(request: RecordedRequest, found: list[mcp.McpServer],
                  items: list[StartupItem], data: Mapping[str, Any]) -> None:
    """Replace the version figures of the system prompt and built-in tools with what the
    session's transcript recorded, and measure MCP servers whose tool schemas it sent."""
    sizes = request.tool_tokens()
    builtin = {n: t for n, t in sizes.items() if not n.startswith("mcp__")}
    for item in items:
        if item.kind == "system-prompt":
            item.tokens = request.system_tokens() + data.get("billing_header", 0)
            item.basis = "measured"
        elif item.kind == "builtin-tools":
            agents = next((i.tokens or 0 for i in items if i.kind == "builtin-agents"), 0)
            in_tool = not data.get("agents_listing")
            item.tokens = sum(builtin.values()) - (agents if in_tool else 0)
            item.label = f"Built-in tools ({len(builtin)})"
            item.basis = "measured"
    for s in found:
        prefix = f"mcp__{mcp.tool_prefix_name(s.name)}__"
        sent = {n: t for n, t in sizes.items() if n.startswith(prefix)}
        if sent and s.enabled:
            s.tools, s.tokens = list(sent), sum(sent.values())


def _style_items(style: output_styles.OutputStyle, data: Mapping[str, Any],
                 items: list[StartupItem]) -> list[StartupItem]:
    """The selected output style's item; the coding instructions it removes come off the
    system prompt item."""
    figures = data.get("output_style", {})
    section = style.section
    size = None if section is None else tokens.count(section) + figures.get("fixed", 0)
    if not style.keep_coding_instructions and figures.get("coding_instructions"):
        prompt = next(i for i in items if i.kind == "system-prompt")
        prompt.tokens = (prompt.tokens or 0) - figures["coding_instructions"]
        prompt.label += " (coding instructions replaced by the output style)"
    return [StartupItem("output-style", f"Output style {style.name}", style.path, size,
                        "computed" if size is not None else "unknown")]


def _bundled(version: str, entrypoint: str) -> list[skills.Skill]:
    out = []
    for entry in fixed_figures(version).get(entrypoint, {}).get("skill_entries", []):
        name, _, desc = entry[2:].partition(": ")
        out.append(skills.Skill(name, desc, "", "bundled", "builtin"))
    return out


def account(cwd: Path, home: Path | None, *, version: str | None = None,
            entrypoint: str = "interactive", managed_dir: Path | None = None,
            env: Mapping[str, str] | None = None, window: int | None = None,
            mcp_recorded: Mapping[str, list[str]] | None = None,
            transcript: Path | None = None, block_tokens: int = 0, hot_names: frozenset[str] | None = None) -> StartupAccount:
    """Every part of the startup context of a session started in CWD.

    HOME is the user's home (``~``; None leaves user config out); VERSION the Claude Code
    version (default: the newest known); ENTRYPOINT ``interactive`` or ``print`` (``-p``).
    MCP_RECORDED maps an MCP server to the tool names a transcript recorded
    (:func:`mcp.recorded_tools`); TRANSCRIPT (this project's latest session) supplies them. BLOCK_TOKENS is the size of ctxtui's CLAUDE.md block (part of
    ``managed``); HOT_NAMES the agents ctxtui manages (default: every custom agent); WINDOW
    the session model's context window (default: the version's default model's).
    """
    if entrypoint not in ENTRYPOINTS:
        raise ValueError(f"entrypoint must be one of {ENTRYPOINTS}")
    prof = profile_for(version)
    cwd = cwd.resolve()
    claude_home = user_config_dir(home, env) if home is not None else None
    mdir = managed_dir if managed_dir is not None else Path("/etc/claude-code")
    items = _fixed_items(prof.version, entrypoint)

    agent_set = effective_agents(cwd, prof, home=home, env=env)
    for v in agent_set.listed:
        items.append(StartupItem(
            "agent", v.name or "", v.path, tokens.count("\n" + v.line), "computed",
            "user" if v.source == "userSettings" else "project",
            managed=hot_names is None or v.name in hot_names))

    mem = memory.load(cwd, claude_home, profile=memory.profile_for(prof.version),
                      managed_dir=mdir, home=home)
    for b in memory.budget_items(mem):
        items.append(StartupItem("memory", b.label, b.path, b.tokens, "computed", b.scope))

    merged = mcp.merged_settings(mcp.settings_files(cwd, claude_home, mdir))
    found = mcp.servers(cwd, claude_home,
                        config_file=(home / ".claude.json") if home is not None else None,
                        managed_dir=mdir,
                        plugin_dirs=mcp.enabled_plugin_dirs(claude_home, merged, cwd))
    deferred = bool(fixed_figures(prof.version).get(entrypoint, {}).get("deferred_names"))
    recorded = dict(mcp.recorded_tools(transcript)) if transcript is not None else {}
    recorded.update(mcp_recorded or {})
    mcp.apply_recorded(found, recorded, deferred)
    request = None
    if transcript is not None:  # the request parser is imported only when there is a session
        from ctxtui.core.first_request import first_request

        request = first_request(transcript)
    if request is not None and request.version in ("", prof.version) and (
            request.entrypoint in ("", entrypoint)):
        _use_recorded(request, found, items, fixed_figures(prof.version).get(entrypoint, {}))
    for s in found:
        if s.enabled:
            items.append(StartupItem(
                "mcp-server", f"MCP {s.name} ({len(s.tools) or '?'} tools)", s.source,
                s.tokens, "measured" if s.tokens is not None else "unknown", s.scope))

    listed = skill_listing(cwd, home, claude_home, prof.version, entrypoint, merged, env,
                           window)
    for ls in listed:
        if ls.skill.kind == "bundled":
            continue
        label = ls.skill.name + (" (name only)" if ls.collapsed else "")
        items.append(StartupItem(ls.skill.kind, label, ls.skill.path,
                                 tokens.count("\n" + ls.line), "computed", ls.skill.scope))
    style = output_styles.selected(cwd, claude_home, merged.get("outputStyle"))
    if style is not None:
        items += _style_items(style, fixed_figures(prof.version).get(entrypoint, {}), items)
    result = StartupAccount(prof.version, entrypoint, items, block_tokens)
    if request is not None:
        sent_by = profile_for(request.version).version if request.version else prof.version
        billing = fixed_figures(sent_by).get(request.entrypoint or entrypoint, {}).get(
            "billing_header", 0)
        result.measured_total = request.total() + billing
        result.measured_version = request.version or None
        result.measured_entrypoint = request.entrypoint or None
    result.suggestions = suggest(result)
    return result


def skill_listing(cwd: Path, home: Path | None, claude_home: Path | None, version: str,
                  entrypoint: str, settings: Mapping[str, Any],
                  env: Mapping[str, str] | None = None,
                  window: int | None = None) -> list[skills.ListedSkill]:
    """The skill listing VERSION sends for CWD: bundled entries, skills and slash commands,
    with the budget, collapse and ``skillOverrides`` rules applied (SETTINGS: merged)."""
    user_state = mcp.read_json_object(home / ".claude.json") if home is not None else {}
    custom = skills.project_skills(cwd, claude_home) + slash_commands.project_commands(
        cwd, claude_home)
    sb = fixed_figures(version).get(entrypoint, {}).get("skill_budget", {})
    budget = skills.budget_chars(window or sb.get("window", 200_000),
                                 settings.get("skillListingBudgetFraction"), env,
                                 sb.get("chars_per_token", skills.CHARS_PER_TOKEN))
    overrides = settings.get("skillOverrides")
    usage = user_state.get("skillUsage")
    max_desc = settings.get("skillListingMaxDescChars")
    return skills.listing(
        _bundled(version, entrypoint) + custom, skills.rules_for(version), budget=budget,
        overrides=overrides if isinstance(overrides, dict) else None,
        usage=usage if isinstance(usage, dict) else None,
        max_desc=max_desc if isinstance(max_desc, int) and max_desc > 0
        else skills.DEFAULT_MAX_DESC)


def suggest(acc: StartupAccount, *, large: int = LARGE_ITEM_TOKENS,
            minimum: int = MIN_SAVING_TOKENS) -> list[Suggestion]:
    """What would make the startup context smaller, largest saving first.

    ctxtui can move a hot agent to cold storage (its listing line goes), and trim its own
    CLAUDE.md block; only the user can disable an MCP server, set a skill to ``name-only``
    (2.1.332+: ``skillOverrides``) or turn off a slash command's model listing
    (``disable-model-invocation``), or shorten a memory file.
    """
    out: list[Suggestion] = []
    agents = [i for i in acc.items if i.kind == "agent"]
    managed_agents = [i for i in agents if i.managed]
    if len(managed_agents) > 1:
        out.append(Suggestion(f"{len(managed_agents)} custom agents",
                              "move them all to cold storage; load on demand", "ctxtui",
                              sum(i.tokens or 0 for i in managed_agents)))
    for i in agents:
        if i.managed and (i.tokens or 0) >= minimum:
            out.append(Suggestion(i.label, "move to cold storage (reachable on demand)",
                                  "ctxtui", i.tokens or 0))
    if acc.block_tokens >= minimum:
        out.append(Suggestion("ctxtui CLAUDE.md block", "trim the block (fewer hot names)",
                              "ctxtui", acc.block_tokens))
    honours = skills.rules_for(acc.version).honours_overrides
    for i in acc.items:
        size = i.tokens or 0
        if i.kind == "mcp-server":
            out.append(Suggestion(i.label, "disable this MCP server for the project "
                                  "(/mcp, or disabledMcpjsonServers)", "user", size))
        elif i.kind in ("skill", "command") and size >= minimum:
            bare = tokens.count("\n- " + i.label.split(" ")[0])
            if honours:
                out.append(Suggestion(i.label, 'set skillOverrides to "name-only"', "user",
                                      max(size - bare, 0)))
            out.append(Suggestion(i.label, "set disable-model-invocation: true "
                                  "(typed by you only)", "user", size))
        elif i.kind == "memory" and size >= large and i.source:
            out.append(Suggestion(i.label, "shorten, or move detail to an imported file "
                                  "read on demand", "user", 0))
    out.sort(key=lambda s: -s.saving)
    return out


def predictor(cwd: Path, home: Path | None, *, version: str | None = None,
              factor: float = 1.0, **kwargs: Any) -> Callable[[], int | None]:
    """A ``predict`` callable for the live gauge: the whole startup total x FACTOR."""

    def predict() -> int | None:
        acc = account(cwd, home, version=version, **kwargs)
        return round(acc.total * factor) if acc.items else None

    return predict
