"""MCP servers Claude Code would connect, from every config scope; tool costs never invented."""

from __future__ import annotations

import json
from pathlib import Path

from ctxtui.core import mcp


def write(path: Path, obj: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj), encoding="utf-8")


def stdio(cmd: str = "x") -> dict:
    return {"command": cmd, "args": []}


def test_servers_from_every_scope_with_project_approval(tmp_path):
    proj, home = tmp_path / "proj", tmp_path / "home"
    etc = tmp_path / "etc"
    write(proj / ".mcp.json", {"mcpServers": {"ok": stdio(), "nope": stdio(), "off": stdio()}})
    write(proj / ".claude" / "settings.json", {"enabledMcpjsonServers": ["ok", "off"],
                                               "disabledMcpjsonServers": ["off"]})
    write(home / ".claude.json", {"mcpServers": {"u": {"type": "http", "url": "http://x"}},
                                  "projects": {str(proj.resolve()): {"mcpServers": {
                                      "l": stdio()}}}})
    write(etc / "managed-mcp.json", {"mcpServers": {"m": stdio()}})
    found = mcp.servers(proj, home / ".claude", managed_dir=etc)
    got = {s.name: (s.scope, s.enabled, s.transport) for s in found}
    assert got == {"m": ("managed", True, "stdio"), "l": ("local", True, "stdio"),
                   "u": ("user", True, "http"), "ok": ("project", True, "stdio"),
                   "nope": ("project", False, "stdio"), "off": ("project", False, "stdio")}
    assert all(s.tokens is None for s in found)


def test_enable_all_project_servers_and_shadowing(tmp_path):
    proj, home = tmp_path / "proj", tmp_path / "home"
    write(proj / ".mcp.json", {"mcpServers": {"dup": stdio(), "a": stdio()}})
    write(proj / ".claude" / "settings.local.json", {"enableAllProjectMcpServers": True})
    write(home / ".claude.json", {"mcpServers": {"dup": stdio()}})
    found = mcp.servers(proj, home / ".claude", managed_dir=tmp_path / "etc")
    got = {(s.name, s.scope): s.enabled for s in found}
    assert got == {("dup", "user"): True, ("dup", "project"): False, ("a", "project"): True}


def test_hostile_configs_are_empty_not_errors(tmp_path):
    proj, home = tmp_path / "proj", tmp_path / "home"
    proj.mkdir()
    (proj / ".mcp.json").write_text("{not json")
    write(home / ".claude.json", ["a list"])
    (home / ".claude").mkdir(parents=True)
    import os

    os.mkfifo(home / ".claude" / "settings.json")
    write(tmp_path / "etc" / "managed-mcp.json", {"mcpServers": {"bad": "a string"}})
    assert mcp.servers(proj, home / ".claude", managed_dir=tmp_path / "etc") == []


def test_plugin_servers_are_enumerated(tmp_path):
    plug = tmp_path / "plugins" / "tools"
    write(plug / ".mcp.json", {"mcpServers": {"srv": stdio()}})
    found = mcp.servers(tmp_path, tmp_path / "h", managed_dir=tmp_path / "etc",
                        plugin_dirs=[plug])
    assert [(s.name, s.scope) for s in found] == [("plugin:tools:srv", "plugin")]


def test_recorded_tools_from_a_transcript(tmp_path):
    t = tmp_path / "s.jsonl"
    rec = {"type": "attachment", "attachment": {"type": "deferred_tools_delta",
                                                "addedNames": ["Read", "mcp__a__x",
                                                               "mcp__a__y", "mcp__b__z"]}}
    t.write_text("\n".join(["{", json.dumps(rec), '{"deferred_tools_delta": 1}', ""]))
    assert mcp.recorded_tools(t) == {"a": ["mcp__a__x", "mcp__a__y"], "b": ["mcp__b__z"]}
    assert mcp.recorded_tools(tmp_path / "missing.jsonl") == {}


def test_recorded_names_give_a_cost_only_where_tools_are_deferred():
    s1 = mcp.McpServer("a", "project", "p", "stdio")
    s2 = mcp.McpServer("a", "project", "p", "stdio")
    mcp.apply_recorded([s1], {"a": ["mcp__a__x"]}, deferred=True)
    mcp.apply_recorded([s2], {"a": ["mcp__a__x"]}, deferred=False)
    assert s1.tokens and s1.tokens > 0
    assert s2.tools == ["mcp__a__x"] and s2.tokens is None


def test_enabled_plugins_servers_from_the_install_record(tmp_path):
    claude_home = tmp_path / ".claude"
    on, off, other = (tmp_path / "cache" / n for n in ("on", "off", "other"))
    write(on / ".claude-plugin" / "plugin.json", {"name": "on", "mcpServers": {"db": stdio()}})
    write(off / ".mcp.json", {"mcpServers": {"x": stdio()}})
    write(other / ".mcp.json", {"mcpServers": {"y": stdio()}})
    write(claude_home / "plugins" / "installed_plugins.json", {"version": 2, "plugins": {
        "on@mk": [{"scope": "user", "installPath": str(on)}],
        "off@mk": [{"scope": "user", "installPath": str(off)}],
        "other@mk": [{"scope": "project", "projectPath": "/elsewhere",
                      "installPath": str(other)}]}})
    settings = {"enabledPlugins": {"on@mk": True, "off@mk": False, "other@mk": True}}
    dirs = mcp.enabled_plugin_dirs(claude_home, settings, tmp_path / "proj")
    assert dirs == [on]
    found = mcp.servers(tmp_path / "proj", claude_home, managed_dir=tmp_path / "etc",
                        plugin_dirs=dirs)
    assert [(s.name, s.scope, s.source.endswith("plugin.json")) for s in found] == [
        ("plugin:on:db", "plugin", True)]
    assert mcp.enabled_plugin_dirs(claude_home, {"enabledPlugins": "junk"}) == []


def test_plugin_server_tools_are_matched_by_their_tool_prefix():
    s = mcp.McpServer("plugin:on:db", "plugin", "p", "stdio")
    mcp.apply_recorded([s], {"plugin_on_db": ["mcp__plugin_on_db__q"]}, deferred=True)
    assert s.tools == ["mcp__plugin_on_db__q"] and s.tokens
