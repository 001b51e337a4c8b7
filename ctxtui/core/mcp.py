"""MCP servers Claude Code connects at startup, and what their tools cost where it is known.

Servers come from the project's ``.mcp.json`` (only those approved in the settings:
``enableAllProjectMcpServers`` or ``enabledMcpjsonServers``, minus ``disabledMcpjsonServers``),
the user's ``~/.claude.json`` (``mcpServers``, and ``projects[<path>].mcpServers`` for the local
scope), the managed ``managed-mcp.json`` and enabled plugins' ``.mcp.json``. ctxtui never starts
a server (a cloned repository's ``.mcp.json`` names commands written by others), so a server's
tool cost is known only when a transcript recorded its tools; otherwise it is ``None``
(unknown), never guessed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ctxtui.core import tokens
from ctxtui.core.safe_io import UnsafeReadError, read_head_lines, read_regular

CONFIG_CAP = 4 * 1024 * 1024
TRANSCRIPT_HEAD = 16 * 1024 * 1024
"""Tools are recorded as a session starts and its servers connect: only this much of a
transcript (whole lines from its start) is read, however long the session has grown."""
MAX_SERVERS = 500


@dataclass
class McpServer:
    """One MCP server Claude Code would connect."""

    name: str
    scope: str
    """``project`` (.mcp.json), ``local``/``user`` (~/.claude.json), ``managed``, ``plugin``."""
    source: str
    """The config file that names it."""
    transport: str
    enabled: bool = True
    why_disabled: str = ""
    tools: list[str] = field(default_factory=list)
    """Tool names recorded in a transcript (empty: not recorded)."""
    tokens: int | None = None
    """What its tools add to the first request, measured; None: unknown."""


def read_json_object(path: Path) -> dict[str, Any]:
    """A JSON object from PATH, or {} when absent, unsafe, too large or not an object."""
    try:
        data = json.loads(read_regular(path, CONFIG_CAP).decode("utf-8", "replace"))
    except (OSError, UnsafeReadError, ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


def _servers(obj: Any) -> dict[str, dict]:
    servers = obj.get("mcpServers") if isinstance(obj, dict) else None
    if not isinstance(servers, dict):
        return {}
    return {str(k): v for k, v in list(servers.items())[:MAX_SERVERS] if isinstance(v, dict)}


def _transport(cfg: dict) -> str:
    kind = cfg.get("type")
    if isinstance(kind, str):
        return kind
    return "stdio" if "command" in cfg else "http" if "url" in cfg else "unknown"


def settings_files(cwd: Path, claude_home: Path | None, managed_dir: Path) -> list[dict[str, Any]]:
    """Settings objects, lowest precedence first (user, project, local, managed)."""
    paths = [cwd / ".claude" / "settings.json", cwd / ".claude" / "settings.local.json",
             managed_dir / "managed-settings.json"]
    if claude_home is not None:
        paths.insert(0, claude_home / "settings.json")
    return [read_json_object(p) for p in paths]


def merged_settings(settings: list[dict[str, Any]]) -> dict[str, Any]:
    """Top-level keys of SETTINGS, later files winning."""
    out: dict[str, Any] = {}
    for s in settings:
        out.update(s)
    return out


def _names(value: Any) -> set[str]:
    return {str(v) for v in value} if isinstance(value, list) else set()


def servers(cwd: Path, claude_home: Path | None, *, config_file: Path | None = None,
            managed_dir: Path = Path("/etc/claude-code"),
            plugin_dirs: Iterable[Path] = ()) -> list[McpServer]:
    """Every MCP server configured for a session in CWD, enabled or not, with its scope.

    CLAUDE_HOME is ``~/.claude`` (None: no user config); CONFIG_FILE the user's
    ``.claude.json`` (default: beside CLAUDE_HOME); PLUGIN_DIRS the install folders of enabled
    plugins.
    """
    cwd = cwd.resolve()
    if config_file is None and claude_home is not None:
        config_file = claude_home.parent / ".claude.json"
    settings = settings_files(cwd, claude_home, managed_dir)
    out: list[McpServer] = []
    managed_file = managed_dir / "managed-mcp.json"
    for name, cfg in _servers(read_json_object(managed_file)).items():
        out.append(McpServer(name, "managed", str(managed_file), _transport(cfg)))
    user = read_json_object(config_file) if config_file is not None else {}
    projects = user.get("projects") if isinstance(user.get("projects"), dict) else {}
    local = projects.get(str(cwd), {}) if isinstance(projects, dict) else {}
    for name, cfg in _servers(local).items():
        out.append(McpServer(name, "local", str(config_file), _transport(cfg)))
    for name, cfg in _servers(user).items():
        out.append(McpServer(name, "user", str(config_file), _transport(cfg)))
    project_file = cwd / ".mcp.json"
    merged = merged_settings(settings)
    allow_all = merged.get("enableAllProjectMcpServers") is True
    enabled = _names(merged.get("enabledMcpjsonServers"))
    disabled = _names(merged.get("disabledMcpjsonServers"))
    if isinstance(local, dict):
        enabled |= _names(local.get("enabledMcpjsonServers"))
        disabled |= _names(local.get("disabledMcpjsonServers"))
    for name, cfg in _servers(read_json_object(project_file)).items():
        s = McpServer(name, "project", str(project_file), _transport(cfg))
        if name in disabled:
            s.enabled, s.why_disabled = False, "in disabledMcpjsonServers"
        elif not (allow_all or name in enabled):
            s.enabled, s.why_disabled = False, "not approved (enabledMcpjsonServers)"
        out.append(s)
    for pdir in plugin_dirs:
        plugin, pfile, found = _plugin_servers(pdir)
        for name, cfg in found.items():
            out.append(McpServer(f"plugin:{plugin}:{name}", "plugin", str(pfile),
                                 _transport(cfg)))
    seen: set[str] = set()
    for s in out:  # the first scope listed wins a shared name (managed, local, user, project)
        if s.name in seen and s.enabled:
            s.enabled, s.why_disabled = False, "shadowed by a server of the same name"
        seen.add(s.name)
    return out


def enabled_plugin_dirs(claude_home: Path | None, settings: dict[str, Any],
                        cwd: Path | None = None) -> list[Path]:
    """Install folders of the plugins ``enabledPlugins`` turns on, from
    ``~/.claude/plugins/installed_plugins.json`` (v1: one record per plugin; v2: a list per
    plugin with a scope, project ones only for CWD)."""
    enabled = settings.get("enabledPlugins")
    if claude_home is None or not isinstance(enabled, dict):
        return []
    installed = read_json_object(claude_home / "plugins" / "installed_plugins.json")
    plugins = installed.get("plugins")
    if not isinstance(plugins, dict):
        return []
    out: list[Path] = []
    for plugin_id, on in list(enabled.items())[:MAX_SERVERS]:
        if on is not True:
            continue
        records = plugins.get(plugin_id)
        records = records if isinstance(records, list) else [records]
        for rec in records:
            if not isinstance(rec, dict) or not isinstance(rec.get("installPath"), str):
                continue
            project = rec.get("projectPath")
            if rec.get("scope") in ("project", "local") and (
                    cwd is None or not isinstance(project, str) or Path(project) != cwd):
                continue
            path = Path(rec["installPath"])
            if path.is_dir():
                out.append(path)
                break
    return out


def _plugin_servers(pdir: Path) -> tuple[str, Path, dict[str, dict]]:
    """A plugin's name (its manifest's, else its folder's) and servers: its ``.mcp.json``,
    else ``mcpServers`` in its plugin.json."""
    manifest_file = pdir / ".claude-plugin" / "plugin.json"
    manifest = read_json_object(manifest_file)
    given = manifest.get("name")
    name = given if isinstance(given, str) else pdir.name
    pfile = pdir / ".mcp.json"
    found = _servers(read_json_object(pfile))
    if found:
        return name, pfile, found
    return name, manifest_file, _servers(manifest)


def recorded_tools(transcript: Path) -> dict[str, list[str]]:
    """MCP tool names per server as a transcript recorded them (``deferred_tools_delta``
    attachments of newer Claude Code); {} when the transcript records none."""
    try:
        data = read_head_lines(transcript, TRANSCRIPT_HEAD)
    except (OSError, UnsafeReadError):
        return {}
    out: dict[str, list[str]] = {}
    for line in data.splitlines():
        if b"deferred_tools_delta" not in line:
            continue
        try:
            rec = json.loads(line)
        except (ValueError, RecursionError):
            continue
        att = rec.get("attachment") if isinstance(rec, dict) else None
        names = att.get("addedNames") if isinstance(att, dict) else None
        for name in names if isinstance(names, list) else []:
            parts = str(name).split("__")
            if len(parts) >= 3 and parts[0] == "mcp":
                out.setdefault(parts[1], []).append(str(name))
    return out


def tool_prefix_name(server: str) -> str:
    """The server's name as it appears in its tools' names (``mcp__NAME__tool``): characters
    outside ``[a-zA-Z0-9_-]`` become ``_`` (``plugin:p:s`` -> ``plugin_p_s``)."""
    return re.sub(r"[^a-zA-Z0-9_-]", "_", server)


def apply_recorded(found: list[McpServer], recorded: dict[str, list[str]],
                   deferred: bool) -> None:
    """Set each server's tools and tokens from RECORDED names.

    DEFERRED: the version lists MCP tools by name only (one line each) until ToolSearch loads
    them, so the names are the whole cost; otherwise the schemas are sent and names alone do
    not give the cost, which stays unknown.
    """
    for s in found:
        names = recorded.get(s.name) or recorded.get(tool_prefix_name(s.name))
        if not names or not s.enabled:
            continue
        s.tools = list(dict.fromkeys(names))
        if deferred:
            s.tokens = sum(tokens.count_many("\n" + n for n in s.tools))
