"""``ctxtui init``: set a project up from what it already has, in one rollback-able change.

Finds the project's own agents (``.claude/agents``), the user scope (``~/.claude/agents``) and a
library folder (given with ``--library``, already recorded, or found: a folder of many agent
files in the project, beside it, or in a common place; the result says which). It then

* records the library in ``hybrid-config.json`` as a portable path (relative to the project,
  or ``~/...``), so every later command and the TUI use it without ``--library``;
* adopts the project's hot agents: their bytes join ctxtui's cold store and ctxtui's state
  records them, so no later move can lose one;
* adds the project slash command ``/persona NAME`` (``.claude/commands/persona.md``);
* with ``gitignore``, appends the lines for ctxtui's own state and ``settings.local.json``.

Everything is written through :meth:`Workspace.transaction` with a history entry, so
``ctxtui rollback`` undoes it. Nothing is read before the lock except to find candidates.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from ctxtui.core import block, journal
from ctxtui.core.config import WORKSPACE_CONFIG_NAME, Settings, bundled_dir, decode_workspace_config
from ctxtui.core.errors import CtxtuiError, WorkspaceError
from ctxtui.core.history import Entry, History
from ctxtui.core.safe_io import read_head
from ctxtui.core.workspace import Workspace, file_stem

GITIGNORE_LINES = (".claude/ctxtui/", ".claude/settings.local.json")
"""What stays per person: ctxtui's state, journal, history and cold store; local settings."""
TEAM_FILES = ("hybrid-config.json", "CLAUDE.md", ".claude/agents/", ".claude/commands/persona.md")
"""What a team commits."""
PERSONA_COMMAND = ".claude/commands/persona.md"
MIN_LIBRARY = 10
"""A folder counts as a library when it holds at least this many agent files."""
_SCAN_CAP = 5000
"""Files looked at per candidate folder (a home folder can be huge)."""
_SKIP = {".git", "node_modules", ".venv", "venv", "__pycache__", ".tox", ".mypy_cache", ".claude"}

PERSONA_COMMAND_TEXT = """\
---
description: Make a ctxtui persona a real subagent now (tools and model included)
argument-hint: NAME
allowed-tools: Bash(ctxtui activate:*), Bash(ctxtui find:*)
---
Run `ctxtui activate $ARGUMENTS` in the project folder. If it reports that the name is not in
the library, run `ctxtui find "$ARGUMENTS"` and activate the best match instead. If it is refused
by the cap, tell me which hot persona to deactivate (`ctxtui deactivate NAME`).

Once it is activated, the persona is an agent file in `.claude/agents`; when Claude Code
announces the new agent type, launch it with the Agent tool by its name. If no such
announcement arrives (older Claude Code), ask me to run `/reload-plugins` (or restart).
"""


class InitError(WorkspaceError):
    """``ctxtui init`` cannot go ahead; nothing was written."""


@dataclass
class Found:
    """What a project and its user already have."""

    project_agents: list[str]
    user_agents: list[str]
    library: Path | None
    library_source: str
    """``--library``, ``recorded``, ``found in WHERE``, ``demo`` or ``none``."""
    library_files: int
    candidates: list[tuple[Path, int]] = field(default_factory=list)


@dataclass
class InitResult:
    """What ``init`` did and what to tell the user."""

    found: Found
    library_entry: str | None
    adopted: list[str]
    changes: list[str]
    notes: list[str]
    entry: str | None
    lines: list[str]
    """The few-line explanation."""

    def to_json(self) -> dict:
        """JSON form."""
        return {
            "project_agents": self.found.project_agents, "user_agents": self.found.user_agents,
            "library": self.library_entry, "library_source": self.found.library_source,
            "library_files": self.found.library_files, "adopted": self.adopted,
            "changes": self.changes, "notes": self.notes, "entry": self.entry,
            "commit": list(TEAM_FILES), "per_person": list(GITIGNORE_LINES),
        }


def home_problem(settings: Settings) -> str | None:
    """Why this workspace cannot be set up as a project: its ``.claude`` is the user scope."""
    ws = settings.workspace.absolute()
    same = os.path.realpath(settings.agents_dir) == os.path.realpath(settings.user_agents_dir)
    if same or os.path.realpath(ws) == os.path.realpath(Path.home()):
        return (f"{ws} is your home folder: its .claude/agents is the user scope, shared by every "
                "project; run ctxtui in a project folder (or pass --workspace PROJECT)")
    return None


def portable(path: Path, workspace: Path) -> str:
    """A library path as a team can commit it: relative to the project when inside it or
    beside it (``../lib``), ``~/...`` under the home folder, else relative all the same (the
    workspace config takes no absolute paths: a cloned repository must not point ctxtui
    anywhere on the machine)."""
    path, workspace = Path(os.path.abspath(path)), Path(os.path.abspath(workspace))
    home = Path(os.path.abspath(Path.home()))
    try:
        rel = os.path.relpath(path, workspace)
    except ValueError:  # another drive (Windows)
        rel = None
    near = path.is_relative_to(workspace) or path.is_relative_to(workspace.parent)
    if rel is not None and (near or not path.is_relative_to(home)):
        return Path(rel).as_posix()
    if path.is_relative_to(home):
        return "~/" + path.relative_to(home).as_posix() if path != home else "~/"
    raise InitError(f"{path} cannot be written as a path relative to {workspace}; move the library nearer")


def _looks_like_agent(path: Path) -> bool:
    try:
        head = read_head(path, 512)  # a FIFO or device named x.md is not read (never blocks)
    except OSError:
        return False
    return head.lstrip(b"\xef\xbb\xbf").startswith(b"---") and b"name:" in head


def count_agent_files(folder: Path, cap: int = _SCAN_CAP) -> int:
    """Agent-looking ``.md`` files below a folder (frontmatter with a name), bounded."""
    n = seen = 0
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        dirnames[:] = [d for d in dirnames if d not in _SKIP and not d.startswith(".")]
        for f in filenames:
            if not f.endswith(".md"):
                continue
            seen += 1
            if seen > cap:
                return n
            if _looks_like_agent(Path(dirpath, f)):
                n += 1
    return n


def library_candidates(workspace: Path, home: Path) -> list[tuple[Path, int]]:
    """Folders that look like a persona library, most agent files first: children of the
    project, folders beside it, and ``~/agents``, ``~/.claude/library``, ``~/.config/ctxtui/library``."""
    places: list[Path] = []
    for base in (workspace, workspace.parent):
        try:
            places += [p for p in sorted(base.iterdir()) if p.is_dir() and not p.is_symlink()
                       and p.name not in _SKIP and not p.name.startswith(".") and p != workspace]
        except OSError:
            continue
    places += [home / "agents", home / ".claude" / "library", home / ".config" / "ctxtui" / "library"]
    out = []
    for p in dict.fromkeys(places):
        if p.is_dir() and p.resolve() != home.resolve():
            n = count_agent_files(p)
            if n >= MIN_LIBRARY:
                out.append((p, n))
    return sorted(out, key=lambda t: -t[1])[:5]


def find(ws: Workspace, library: Path | None, *, search: bool = True) -> Found:
    """What exists: project and user agents, and the library to record."""
    s = ws.settings
    project = sorted({h.name for h in ws.hot})
    user = sorted({h.name for h in ws.user_hot})
    if library is not None:
        lib = Path(os.path.abspath(library.expanduser()))
        if not lib.is_dir():
            raise InitError(f"library {library} is not a folder")
        if not os.access(lib, os.R_OK | os.X_OK):
            raise InitError(f"library {library} cannot be read")
        n = count_agent_files(lib)
        if n == 0:
            raise InitError(f"library {library} holds no agent files (.md with a name in the frontmatter)")
        return Found(project, user, lib, "--library", n)
    recorded = ws.config.library_paths(s.workspace)
    if recorded:
        return Found(project, user, recorded[0], "recorded", count_agent_files(recorded[0]) if recorded[0].is_dir() else 0)
    cands = library_candidates(s.workspace, Path.home()) if search else []
    if cands:
        where = cands[0][0]
        inside = "in the project" if where.is_relative_to(s.workspace) else "beside the project" \
            if where.parent == s.workspace.parent else "in your home folder"
        return Found(project, user, where, f"found {inside}", cands[0][1], cands)
    if s.demo or (not project and not user):
        return Found(project, user, None, "demo", 0)
    return Found(project, user, None, "none", 0)


def _config_bytes(raw: bytes | None, library: str | None) -> bytes | None:
    """hybrid-config.json with ``library`` recorded (None: nothing to change). A broken file
    is refused, never replaced."""
    data: dict = {}
    if raw is not None:
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise InitError(f"{WORKSPACE_CONFIG_NAME} is not valid JSON; fix it, then run init again") from None
        if not isinstance(data, dict):
            raise InitError(f"{WORKSPACE_CONFIG_NAME} is not a JSON object; fix it, then run init again")
        decode_workspace_config(data)  # names the bad key, if any
    if library is None or data.get("library", [None])[:1] == [library]:
        return None
    data["library"] = [library, *[x for x in data.get("library", []) if x != library]]
    decode_workspace_config(data)
    return (json.dumps(data, indent=2) + "\n").encode()


def _gitignore_bytes(raw: bytes | None) -> bytes | None:
    text = block.decode(raw)
    have = {line.strip() for line in text.splitlines()}
    missing = [line for line in GITIGNORE_LINES if line not in have and line.rstrip("/") not in have]
    if not missing:
        return None
    nl = "\r\n" if "\r\n" in text else "\n"
    sep = "" if not text or text.endswith(("\n", "\r\n")) else nl
    return block.encode(text + sep + f"# ctxtui: per-person state{nl}" + nl.join(missing) + nl)


class _DryRun(Exception):  # noqa: N818 - control flow: leave the transaction unapplied
    pass


def init(ws: Workspace, library: Path | None = None, *, gitignore: bool = False,
         search: bool = True, reason: str = "", dry_run: bool = False) -> InitResult:
    """Set the project up (see the module docstring). Raises InitError, nothing written.
    DRY_RUN: plan it under the lock and say what it would change, writing nothing."""
    s = ws.settings
    problem = home_problem(s)
    if problem:
        raise InitError(problem)
    found = find(ws, library, search=search)
    entry_text = portable(found.library, s.workspace) if found.library is not None else None
    history = History(s)
    notes: list[str] = []
    changes: list[str] = []
    adopted: list[str] = []
    entry: Entry | None = None
    root = s.workspace.absolute()
    try:
        with ws.transaction("init", library=True, dry_run=dry_run) as tx:
            state = ws.read_state(tx)
            before = history.snapshot(tx, store=False)
            tokens_before = ws.budget().startup_tokens
            cfg_path = root / WORKSPACE_CONFIG_NAME
            new_cfg = _config_bytes(tx.read(cfg_path), entry_text)
            if new_cfg is not None:
                tx.write(cfg_path, new_cfg)
                changes.append(f"record library {entry_text} in {WORKSPACE_CONFIG_NAME}")
            cold = s.cold_store.absolute()
            agents = s.agents_dir.absolute()
            for h in ws.hot:
                path = h.persona.path.absolute()
                if not h.persona.usable or h.persona.is_symlink or path.is_symlink():
                    if not h.persona.usable:
                        notes.append(f"{path.relative_to(root).as_posix()} is not a valid agent ({h.persona.problem}); left as it is")
                    continue
                rel = path.relative_to(agents).as_posix()
                data = tx.read(path)
                if data is None:
                    continue
                sha = journal.sha256_bytes(data)
                if rel not in state["hot"]:
                    keep = cold / f"{file_stem(h.name)}.md"
                    old = tx.read(keep)
                    if old is not None and old != data:
                        keep = cold / f"{file_stem(h.name)}-{sha[:8]}.md"
                        old = tx.read(keep)
                    if old is None:
                        tx.write(keep, data, expect=None)
                    state["hot"][rel] = {"name": h.name, "source": str(keep), "sha256": sha,
                                         "activated": time.strftime("%Y-%m-%dT%H:%M:%S")}
                    adopted.append(h.name)
            if adopted:
                changes.append(f"adopt {len(adopted)} project agent(s) into .claude/ctxtui/cold: {', '.join(adopted[:8])}"
                               + (" ..." if len(adopted) > 8 else ""))
            cmd = root / PERSONA_COMMAND
            have = tx.read(cmd)
            if have is None:
                tx.write(cmd, PERSONA_COMMAND_TEXT.encode(), expect=None)
                changes.append(f"add {PERSONA_COMMAND} (/persona NAME)")
            elif have != PERSONA_COMMAND_TEXT.encode():
                notes.append(f"{PERSONA_COMMAND} exists and is not ctxtui's; left as it is")
            if gitignore:
                gi = root / ".gitignore"
                new_gi = _gitignore_bytes(tx.read(gi))
                if new_gi is not None:
                    tx.write(gi, new_gi)
                    changes.append("add " + ", ".join(GITIGNORE_LINES) + " to .gitignore")
            if dry_run:
                raise _DryRun
            if changes:
                state["initialised"] = time.strftime("%Y-%m-%dT%H:%M:%S")
                ws.write_state(tx, state)
                entry = Entry(
                    id=history.next_id(), time=time.strftime("%Y-%m-%dT%H:%M:%S"), kind="init",
                    from_strategy=ws.strategy, to_strategy=ws.strategy, reason=reason or "ctxtui init",
                    tokens_before=tokens_before, tokens_after=tokens_before, changes=changes, before=before,
                    notes=notes,
                )
                entry.after = history.after_of(before, tx)
                history.entry_step(entry, tx)
    except _DryRun:  # planned under the lock; nothing applied
        entry = None
    if entry is not None:
        with ws._locked():
            entry.tokens_after = ws.budget().startup_tokens
            history.rewrite_entry(entry)
    result = InitResult(found, entry_text, adopted, changes, notes, entry.id if entry else None, [])
    result.lines = explain(ws, result, gitignore)
    return result


def explain(ws: Workspace, r: InitResult, gitignore: bool) -> list[str]:
    """The few lines a newcomer reads after ``init``."""
    f = r.found
    lines = []
    own = f"{len(f.project_agents)} agent(s) of its own" if f.project_agents else "no agents of its own"
    user = f"; your user scope (~/.claude/agents) has {len(f.user_agents)}" if f.user_agents else ""
    lines.append(f"Project {ws.settings.workspace.name}: {own}{user}.")
    if r.library_entry:
        lines.append(f"Library: {r.library_entry} ({f.library_source}, {f.library_files} agent files), "
                     f"recorded in {WORKSPACE_CONFIG_NAME}; commands use it without --library.")
        for path, n in f.candidates[1:]:
            lines.append(f"  also found: {portable(path, ws.settings.workspace)} ({n} agent files); "
                         "choose with `ctxtui init --library PATH`")
    elif f.library_source == "demo":
        lines.append(f"Library: none found; the {len(list(bundled_dir('personas').glob('*.md')))} bundled "
                     "personas are a demo (give yours with `ctxtui init --library PATH`).")
    else:
        lines.append("Library: none given or found; your project's agents are the library "
                     "(add one with `ctxtui init --library PATH`).")
    if r.adopted:
        lines.append(f"Adopted {len(r.adopted)} hot agent(s): copies kept in .claude/ctxtui/cold, nothing lost.")
    b = ws.budget()
    unique = ws.library.unique()
    n_lib = len(unique)
    ours = bundled_dir("personas").absolute()
    bundled = sum(1 for p in unique if p.path.absolute().is_relative_to(ours))  # persona-manager, pinned
    counted = f" ({bundled} of them ctxtui's own)" if bundled and f.library_source != "demo" else ""
    lines.append(f"Startup now: {b.startup_tokens:,} tokens; all {n_lib} library personas{counted} hot would be "
                 f"{b.eager_startup_tokens:,}.")
    if n_lib > 40:
        lines.append("Next: `ctxtui migrate --to lazy_loading --dry-run` shows what lazy loading saves; "
                     "`ctxtui doctor` checks the setup.")
    else:
        lines.append("With under ~40 personas lazy loading rarely pays; `ctxtui doctor` checks the setup.")
    lines.append(f"Commit: {', '.join(TEAM_FILES)}. Per person (not committed): {', '.join(GITIGNORE_LINES)}"
                 + ("." if gitignore else " (add them to .gitignore with `ctxtui init --gitignore`)."))
    if r.entry:
        lines.append(f"Recorded as history entry {r.entry}; undo with `ctxtui rollback`.")
    return lines


__all__ = ["GITIGNORE_LINES", "PERSONA_COMMAND", "TEAM_FILES", "CtxtuiError", "Found", "InitError",
           "InitResult", "explain", "find", "home_problem", "init", "library_candidates", "portable"]
