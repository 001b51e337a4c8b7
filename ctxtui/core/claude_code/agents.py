"""Which agent files Claude Code loads, and the exact listing line each one gets.

A port of Claude Code's own loader (see ``profiles.py`` for the versions): the frontmatter
regex, the YAML parse and its one retry with quoted values, the name and description checks,
the ``\\n`` unescaping, the tools syntax, discovery of ``*.md`` files at any depth, the
folders searched, precedence, and the sort of the listing. Pure: no I/O except in
:func:`agent_files` and :func:`effective_agents`, which read bounded regular files only.
"""

from __future__ import annotations

import math
import os
import re
import stat
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ctxtui.core.claude_code import yaml_js
from ctxtui.core.claude_code.profiles import Profile

# JavaScript's \s (differs from Python's: no \x1c-\x1f or \x85; has \ufeff).
JS_WS = "\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_JS_WS_SET = frozenset("\t\n\v\f\r \u00a0\u1680\u2028\u2029\u202f\u205f\u3000\ufeff"
                       + "".join(chr(c) for c in range(0x2000, 0x200B)))
_FRONTMATTER = re.compile(rf"---[{JS_WS}]*\n([\s\S]*?)---[{JS_WS}]*\n?")
_NEEDS_QUOTES = re.compile(r"[{}\[\]*&#!|>%@`]|: ")
# JavaScript's "." (no s flag) stops at these line terminators.
_JS_DOT = r"[^\n\r\u2028\u2029]"
_LEADING_TABS = re.compile(r"^\t+", re.MULTILINE)

#: Valid ``memory:`` values; with one, Claude Code adds the profile's memory tools.
MEMORY_SCOPES = ("user", "project", "local")
#: Claude Code warns when custom agents' ``name: description`` exceeds this many chars / 4.
WARN_TOKENS = 15_000
#: ctxtui's own read cap where a profile has no limit (2.1.112 reads any size).
UNLIMITED_READ_CAP = 16 * 1024 * 1024
#: Discovery bounds: files per folder tree and folder depth.
MAX_FILES = 20_000
MAX_DEPTH = 64


def js_trim(text: str) -> str:
    """``String.prototype.trim``."""
    start, end = 0, len(text)
    while start < end and text[start] in _JS_WS_SET:
        start += 1
    while end > start and text[end - 1] in _JS_WS_SET:
        end -= 1
    return text[start:end]


def utf16_len(text: str) -> int:
    """``String.prototype.length``: UTF-16 code units."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _js_falsy(value: Any) -> bool:
    if value is None or value is False or value == "":
        return True
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value == 0 or (isinstance(value, float) and math.isnan(value))
    return False


# --- frontmatter -------------------------------------------------------------------------


@dataclass(frozen=True)
class Frontmatter:
    """What Claude Code's frontmatter parser returns for one file."""

    data: dict
    """The parsed mapping; empty when absent, unparsable or not a mapping."""
    status: str
    """``none`` (no fence match), ``ok``, ``retried`` (loaded after quoting), ``failed``."""
    error: str = ""


def quote_values(text: str, profile: Profile) -> str:
    """The retry's rewrite: wrap ``key: value`` values holding YAML indicators in quotes."""
    pattern = re.compile(profile.retry_value_pattern.format(ws=JS_WS, dot=_JS_DOT))
    out = []
    for line in text.split("\n"):
        m = pattern.match(line)
        if m and m[1] and m[2]:
            key, value = m[1], m[2]
            if (value.startswith('"') and value.endswith('"')) or (
                    value.startswith("'") and value.endswith("'")):
                out.append(line)
                continue
            if profile.retry_keeps_flow_lists and value.startswith("[") and value.endswith("]"):
                try:
                    if isinstance(yaml_js.parse(value, duplicate_keys_error=False), list):
                        out.append(line)
                        continue
                except yaml_js.JsYamlError:
                    pass
            if _NEEDS_QUOTES.search(value):
                escaped = value.replace("\\", "\\\\").replace('"', '\\"')
                out.append(f'{key}: "{escaped}"')
                continue
        out.append(line)
    joined = "\n".join(out)
    if profile.retry_tabs_to_spaces:
        joined = _LEADING_TABS.sub(lambda m: "  " * len(m[0]), joined)
    return joined


def parse_frontmatter(text: str, profile: Profile) -> Frontmatter:
    """Claude Code's frontmatter parse: fence regex, YAML, one retry with quoted values."""
    if profile.strip_bom and text.startswith("\ufeff"):
        text = text[1:]
    m = _FRONTMATTER.match(text)
    if not m:
        return Frontmatter({}, "none")
    raw = m[1]
    opts = {"duplicate_keys_error": profile.duplicate_keys_error,
            "keep_block_eof_newline": profile.keep_block_eof_newline,
            "lone_cr_is_text": profile.runtime == "node", "reject_nul": profile.runtime == "bun"}
    try:
        value = yaml_js.parse(raw, **opts)
        return Frontmatter(value if isinstance(value, dict) else {}, "ok")
    except yaml_js.JsYamlError as first:
        try:
            value = yaml_js.parse(quote_values(raw, profile), **opts)
            return Frontmatter(value if isinstance(value, dict) else {}, "retried", str(first))
        except yaml_js.JsYamlError as second:
            return Frontmatter({}, "failed", str(second))


# --- tools -------------------------------------------------------------------------------


def split_tools(items: list[str]) -> list[str]:
    """Split tool specs on commas and spaces outside parentheses (no nesting, as Claude Code)."""
    out: list[str] = []
    for item in items:
        if not item:
            continue
        cur, inside = "", False
        for ch in item:
            if ch == "(":
                inside, cur = True, cur + ch
            elif ch == ")":
                inside, cur = False, cur + ch
            elif ch in ", ":
                if inside:
                    cur += ch
                else:
                    if js_trim(cur):
                        out.append(js_trim(cur))
                    cur = ""
            else:
                cur += ch
        if js_trim(cur):
            out.append(js_trim(cur))
    return out


def _tool_list(value: Any) -> list[str] | None:
    if value is None:
        return None
    if _js_falsy(value):
        return []
    if isinstance(value, str):
        items = [value]
    elif isinstance(value, list):
        items = [x for x in value if isinstance(x, str)]
    else:
        items = []
    if not items:
        return []
    tools = split_tools(items)
    return ["*"] if "*" in tools else tools


def parse_tools(fm: dict, key: str) -> list[str] | None:
    """The tools (or disallowed tools) Claude Code reads from KEY; None means all / absent."""
    present = key in fm
    tools = _tool_list(fm.get(key))
    if tools is None:
        return [] if present else None
    if "*" in tools:
        return None
    return tools


def tools_text(tools: list[str] | None, disallowed: list[str] | None) -> str:
    """The text after ``(Tools: `` in a listing line."""
    if tools and disallowed:
        blocked = set(disallowed)
        rest = [t for t in tools if t not in blocked]
        return ", ".join(rest) if rest else "None"
    if tools:
        return ", ".join(tools)
    if disallowed:
        return "All tools except " + ", ".join(disallowed)
    return "All tools"


def listing_line(name: str, description: str, tools: list[str] | None = None,
                 disallowed: list[str] | None = None) -> str:
    """``- NAME: DESCRIPTION (Tools: …)``, exactly as Claude Code lists an agent."""
    return f"- {name}: {description} (Tools: {tools_text(tools, disallowed)})"


# --- one file ------------------------------------------------------------------------------


@dataclass
class AgentVerdict:
    """Claude Code's verdict on one agent file."""

    path: str
    loaded: bool
    reason: str = ""
    """Why it is skipped ("" when loaded)."""
    name: str | None = None
    description: str | None = None
    tools: list[str] | None = None
    """None: all tools."""
    disallowed_tools: list[str] | None = None
    line: str = ""
    frontmatter: str = "none"
    """How the frontmatter parsed: ``none``, ``ok``, ``retried`` or ``failed``."""
    source: str = "projectSettings"
    base_dir: str = ""
    """The agents folder the file was found in."""
    shadowed_by: str | None = None
    """Path of the file whose agent of the same name Claude Code lists instead."""

    @property
    def warning_tokens(self) -> int:
        """This agent's share of Claude Code's own size warning: chars of ``name: desc`` / 4."""
        if not self.loaded or self.name is None or self.description is None:
            return 0
        return math.floor(utf16_len(f"{self.name}: {self.description}") / 4 + 0.5)


def decode(data: bytes) -> str:
    """Bytes as Node/Bun read them with ``utf-8``: invalid sequences become U+FFFD."""
    return data.decode("utf-8", errors="replace")


def load_agent(path: str | Path, data: bytes, profile: Profile,
               source: str = "projectSettings") -> AgentVerdict:
    """Claude Code's verdict on one agent file's bytes."""
    p = str(path)
    if profile.max_file_bytes is not None and len(data) > profile.max_file_bytes:
        return AgentVerdict(p, False, f"over the {profile.max_file_bytes:,}-byte limit of "
                            f"Claude Code {profile.version}+", source=source)
    fm = parse_frontmatter(decode(data), profile)
    verdict = AgentVerdict(p, False, frontmatter=fm.status, source=source)
    if fm.status == "none":
        verdict.reason = "no frontmatter: the file must start with a --- line"
        return verdict
    if fm.status == "failed":
        verdict.reason = f"frontmatter is not valid YAML, even with values quoted ({fm.error})"
        return verdict
    data_ = fm.data
    name, desc = data_.get("name"), data_.get("description")
    if _js_falsy(name) or not isinstance(name, str):
        verdict.reason = ('missing "name" in frontmatter' if _js_falsy(name)
                          else f'"name" is not text ({type(name).__name__})')
        return verdict
    verdict.name = name
    if profile.reject_leading_dash and name.startswith("-"):
        verdict.reason = 'name starts with "-"'
        return verdict
    if profile.max_name_length is not None and utf16_len(name) > profile.max_name_length:
        verdict.reason = f"name is over {profile.max_name_length} characters"
        return verdict
    if profile.reject_colon and ":" in unicodedata.normalize("NFKC", name):
        verdict.reason = 'name contains ":" (reserved for plugin namespaces)'
        return verdict
    if _js_falsy(desc) or not isinstance(desc, str):
        verdict.reason = ('missing "description" in frontmatter' if _js_falsy(desc)
                          else f'"description" is not text ({type(desc).__name__})')
        return verdict
    verdict.description = desc.replace("\\n", "\n")
    verdict.tools = parse_tools(data_, "tools")
    if verdict.tools is not None and data_.get("memory") in MEMORY_SCOPES:
        # An agent with memory needs to read and write its memory file.
        verdict.tools += [t for t in profile.memory_tools if t not in verdict.tools]
    verdict.disallowed_tools = parse_tools(data_, "disallowedTools")
    verdict.loaded = True
    verdict.line = listing_line(name, verdict.description, verdict.tools,
                                verdict.disallowed_tools)
    return verdict


# --- plugin agents -------------------------------------------------------------------------


def js_string(value: Any) -> str:
    """``String(value)`` for the values YAML produces."""
    if value is True or value is False:
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        if value.is_integer() and abs(value) < 1e21:
            return str(int(value))
        return repr(value)
    if isinstance(value, list):
        return ",".join("" if v is None else js_string(v) for v in value)
    if isinstance(value, dict):
        return "[object Object]"
    return str(value)


def _plugin_description(value: Any) -> str | None:
    if isinstance(value, str):
        return js_trim(value) or None
    if isinstance(value, (bool, int, float)):
        return js_string(value)
    return None


def load_plugin_agent(path: str | Path, data: bytes, profile: Profile, plugin: str,
                      namespace: tuple[str, ...] = ()) -> AgentVerdict:
    """Claude Code's reading of a plugin's agent file (read from the 2.1.112 code; plugins
    were not captured). The name is ``PLUGIN:[SUBDIR:…]NAME`` with NAME the frontmatter name
    or the file stem; the description falls back to ``when-to-use``, then to
    ``Agent from PLUGIN plugin``; it is trimmed and ``\\n`` is *not* unescaped."""
    p = str(path)
    fm = parse_frontmatter(decode(data), profile)
    raw_name = fm.data.get("name")
    name = (js_string(raw_name) if raw_name is not None else "") or Path(p).name[:-3]
    full = ":".join((plugin, *namespace, name))
    desc = (_plugin_description(fm.data.get("description"))
            or _plugin_description(fm.data.get("when-to-use")) or f"Agent from {plugin} plugin")
    tools = parse_tools(fm.data, "tools")
    if tools is not None and fm.data.get("memory") in MEMORY_SCOPES:
        tools += [t for t in profile.memory_tools if t not in tools]
    disallowed = parse_tools(fm.data, "disallowedTools")
    return AgentVerdict(p, True, name=full, description=desc, tools=tools,
                        disallowed_tools=disallowed, line=listing_line(full, desc, tools, disallowed),
                        frontmatter=fm.status, source="plugin")


def plugin_agents(agents_dir: Path, plugin: str, profile: Profile) -> list[AgentVerdict]:
    """Every ``.md`` (any case) under a plugin's agents folder, subfolders as namespaces.

    Symlinked folders are not followed (the plugin loader uses ``readdir`` entry types)."""
    from ctxtui.core.safe_io import UnsafeReadError, read_regular

    out: list[AgentVerdict] = []

    def walk(d: Path, ns: tuple[str, ...]) -> None:
        if len(ns) > MAX_DEPTH or len(out) >= MAX_FILES:
            return
        try:
            entries = sorted(os.scandir(d), key=lambda e: e.name)
        except OSError:
            return
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                walk(Path(entry.path), (*ns, entry.name))
            elif entry.is_file(follow_symlinks=False) and entry.name.lower().endswith(".md"):
                try:
                    data = read_regular(entry.path, UNLIMITED_READ_CAP)
                except (UnsafeReadError, OSError):
                    continue
                out.append(load_plugin_agent(entry.path, data, profile, plugin, ns))

    walk(agents_dir, ())
    return out


# --- ordering ------------------------------------------------------------------------------

# CLDR root collation order of ASCII whitespace and punctuation (before digits and letters).
_ASCII_PUNCT = "\t\n\v\f\r _-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$"
_PUNCT_RANK = {ch: i for i, ch in enumerate(_ASCII_PUNCT)}


def _collation_key(text: str) -> tuple:
    """An approximation of ICU root collation (``localeCompare``): exact for ASCII."""
    primary: list[tuple[int, int]] = []
    secondary: list[tuple[int, ...]] = []
    tertiary: list[int] = []
    for ch in unicodedata.normalize("NFD", text):
        if unicodedata.combining(ch):
            if secondary:
                secondary[-1] += (ord(ch),)
            continue
        cat = unicodedata.category(ch)
        if cat == "Cc" and ch not in _PUNCT_RANK:
            continue  # completely ignorable
        low = ch.lower()
        if ch in _PUNCT_RANK:
            primary.append((0, _PUNCT_RANK[ch]))
        elif ch.isdigit():
            primary.append((1, unicodedata.digit(ch, 0)))
        elif ch.isalpha():
            primary.append((2, ord(low[0])))
        else:
            primary.append((0, 100 + ord(ch)))
        secondary.append(())
        tertiary.append(0 if ch == low else 1)
    return (primary, secondary, tertiary)


def _utf16_key(text: str) -> bytes:
    return text.encode("utf-16-be", errors="surrogatepass")


def sort_key(name: str, profile: Profile) -> tuple:
    """The listing's sort key for an agent name under PROFILE."""
    if profile.ascii_first_sort:
        if name.isascii():
            return (0, _collation_key(name), b"")
        return (1, (), _utf16_key(name))
    return (0, _collation_key(name), _utf16_key(name))


# --- discovery -----------------------------------------------------------------------------


def agent_files(folder: Path, profile: Profile) -> list[Path]:
    """Every ``*.md`` file at any depth under FOLDER, hidden folders included, links followed.

    Sorted by path as Claude Code's newer versions read them (2.1.112 takes ripgrep's order,
    which is not stable; see :func:`effective_agents` for what that changes). Bounded by
    :data:`MAX_FILES` and :data:`MAX_DEPTH`; symlink cycles are visited once.
    """
    found: list[Path] = []
    seen: set[tuple[int, int]] = set()

    def walk(d: Path, depth: int) -> None:
        if depth > MAX_DEPTH or len(found) >= MAX_FILES:
            return
        try:
            st = os.stat(d)
        except OSError:
            return
        if (st.st_dev, st.st_ino) in seen:
            return
        seen.add((st.st_dev, st.st_ino))
        try:
            entries = list(os.scandir(d))
        except OSError:
            return
        for entry in entries:
            try:
                est = os.stat(entry.path)
            except OSError:
                continue
            if stat.S_ISDIR(est.st_mode):
                walk(Path(entry.path), depth + 1)
            elif stat.S_ISREG(est.st_mode) and entry.name.endswith(".md"):
                found.append(Path(entry.path))
                if len(found) >= MAX_FILES:
                    return

    if folder.is_dir():
        walk(folder, 0)
    return sorted(found, key=lambda p: _utf16_key(str(p)))


#: Where Claude Code looks for managed (policy) settings; agents are in ``<dir>/.claude/agents``.
MANAGED_DIRS = {"linux": "/etc/claude-code", "darwin": "/Library/Application Support/ClaudeCode",
                "win32": "C:\\Program Files\\ClaudeCode"}


def managed_dir(platform: str | None = None) -> Path:
    """The managed settings folder Claude Code uses on PLATFORM (``sys.platform``)."""
    import sys

    plat = platform or sys.platform
    return Path(MANAGED_DIRS.get(plat, MANAGED_DIRS["linux"]))


def user_config_dir(home: Path, env: Mapping[str, str] | None = None) -> Path:
    """Claude Code's config folder: ``$CLAUDE_CONFIG_DIR`` or ``HOME/.claude``."""
    configured = (env if env is not None else os.environ).get("CLAUDE_CONFIG_DIR")
    return Path(configured) if configured else home / ".claude"


def find_git_root(start: Path) -> Path | None:
    """The nearest folder at or above START holding ``.git`` (a folder or a file)."""
    cur = start
    while True:
        if (cur / ".git").exists():
            return cur
        if cur.parent == cur:
            return None
        cur = cur.parent


def project_agent_dirs(cwd: Path, home: Path | None, git_root: Path | None) -> list[Path]:
    """``.claude/agents`` of the cwd and each ancestor up to the git root, never HOME's.

    Nearest first. The walk stops before HOME (its ``.claude/agents`` is the user folder)
    and after the git root; without a git root it goes to the filesystem root.
    """
    out = []
    cur = cwd
    home_r = home.resolve() if home else None
    while True:
        if home_r is not None and cur == home_r:
            break
        candidate = cur / ".claude" / "agents"
        if candidate.exists():
            out.append(candidate)
        if git_root is not None and cur == git_root:
            break
        if cur.parent == cur:
            break
        cur = cur.parent
    return out


@dataclass
class AgentSet:
    """What Claude Code loads for one session: every file's verdict and the listing."""

    profile: Profile
    verdicts: list[AgentVerdict] = field(default_factory=list)
    """Every file read, in Claude Code's order, with ``shadowed_by`` set for losers."""
    listed: list[AgentVerdict] = field(default_factory=list)
    """Custom agents in the listing, in listing order (one per name)."""
    undetermined: dict[str, list[str]] = field(default_factory=dict)
    """Names defined by several files of one folder where the profile reads files in an
    unstable order (2.1.112: ripgrep's), so which one Claude Code lists is not determined;
    ``listed`` shows the last in path order. Name -> the competing paths."""

    def listing(self, entrypoint: str = "interactive", builtins: bool = True) -> str:
        """The listing block's lines (built-ins of ENTRYPOINT included), as sent."""
        merged: dict[str, str] = {}
        if builtins:
            merged.update(zip(self.profile.builtin_names(entrypoint),
                              self.profile.builtin_lines.get(entrypoint, ()), strict=True))
        merged.update((v.name, v.line) for v in self.listed if v.name is not None)
        order = sorted(merged, key=lambda n: sort_key(n, self.profile))
        return "\n".join(merged[n] for n in order)

    def choose(self, name: str, path: str) -> AgentSet:
        """A copy where PATH's agent is the one listed for NAME (for undetermined ties)."""
        pick = next(v for v in self.verdicts if v.path == path and v.name == name and v.loaded)
        listed = [pick if v.name == name else v for v in self.listed]
        return AgentSet(self.profile, self.verdicts, listed, self.undetermined)

    @property
    def warning_tokens(self) -> int:
        """Claude Code's estimate behind its "large cumulative agent descriptions" warning."""
        return sum(v.warning_tokens for v in self.listed)

    @property
    def warns(self) -> bool:
        """Whether Claude Code shows its agent-size warning (above :data:`WARN_TOKENS`)."""
        return self.warning_tokens > WARN_TOKENS


def read_agent(path: Path, profile: Profile, source: str, base_dir: Path | None = None
               ) -> AgentVerdict:
    """Read PATH (bounded, regular files only) and return its verdict."""
    verdict = _read_agent(path, profile, source)
    verdict.base_dir = str(base_dir) if base_dir is not None else str(path.parent)
    return verdict


def _read_agent(path: Path, profile: Profile, source: str) -> AgentVerdict:
    from ctxtui.core.safe_io import TooLargeError, UnsafeReadError, read_regular

    cap = profile.max_file_bytes if profile.max_file_bytes is not None else UNLIMITED_READ_CAP
    try:
        data = read_regular(path, cap)
    except TooLargeError:
        if profile.max_file_bytes is not None:
            return AgentVerdict(str(path), False, f"over the {cap:,}-byte limit of Claude Code "
                                f"{profile.version}+", source=source)
        return AgentVerdict(str(path), False, f"over ctxtui's {cap:,}-byte read limit "
                            "(Claude Code would read it)", source=source)
    except UnsafeReadError:
        return AgentVerdict(str(path), False, "not a regular file", source=source)
    except OSError as exc:
        return AgentVerdict(str(path), False, f"unreadable: {exc.strerror or exc}",
                            source=source)
    return load_agent(path, data, profile, source)


def resolve(verdicts_by_source: list[tuple[str, list[AgentVerdict]]], profile: Profile) -> AgentSet:
    """Apply precedence: later groups (and later files within a group) win a shared name."""
    result = AgentSet(profile)
    winner: dict[str, AgentVerdict] = {}
    for _, group in verdicts_by_source:
        for v in group:
            result.verdicts.append(v)
            if v.loaded and v.name is not None:
                prev = winner.get(v.name)
                if prev is not None:
                    prev.shadowed_by = v.path
                    if (not profile.sorted_discovery and prev.source == v.source
                            and prev.base_dir == v.base_dir):
                        tied = result.undetermined.setdefault(v.name, [prev.path])
                        tied.append(v.path)
                winner[v.name] = v
    result.listed = sorted(winner.values(), key=lambda v: sort_key(v.name or "", profile))
    return result


def effective_agents(cwd: Path, profile: Profile, home: Path | None = None,
                     git_root: Path | None = None, managed_dir: Path | None = None,
                     plugin_agents: list[AgentVerdict] | None = None,
                     find_git: bool = True, env: Mapping[str, str] | None = None) -> AgentSet:
    """The custom agents Claude Code lists for a session started in CWD.

    Precedence, lowest first: plugin < user (``HOME/.claude/agents``) < project folders <
    managed (MANAGED_DIR/.claude/agents). Among project folders 2.1.112 lets the farthest
    ancestor win a shared name, newer versions the nearest; within one folder the last file in
    path order wins (2.1.112 reads in ripgrep's unstable order, so there a tie between two
    files of one folder is not determined). ENV (default ``os.environ``) supplies
    ``CLAUDE_CONFIG_DIR``; pass :func:`managed_dir` as MANAGED_DIR to include managed agents.
    """
    cwd = cwd.resolve()
    if git_root is None and find_git:
        git_root = find_git_root(cwd)
    groups: list[tuple[str, list[AgentVerdict]]] = []
    if plugin_agents:
        groups.append(("plugin", list(plugin_agents)))
    if home is not None:
        user_dir = user_config_dir(home, env) / "agents"
        groups.append(("userSettings", [read_agent(f, profile, "userSettings", user_dir)
                                        for f in agent_files(user_dir, profile)]))
    dirs = project_agent_dirs(cwd, home, git_root.resolve() if git_root else None)
    if profile.deeper_folder_wins:
        dirs = list(reversed(dirs))
    project: list[AgentVerdict] = []
    for d in dirs:
        project.extend(read_agent(f, profile, "projectSettings", d)
                       for f in agent_files(d, profile))
    groups.append(("projectSettings", project))
    if managed_dir is not None:
        mdir = managed_dir / ".claude" / "agents"
        groups.append(("policySettings", [read_agent(f, profile, "policySettings", mdir)
                                          for f in agent_files(mdir, profile)]))
    return resolve(groups, profile)
