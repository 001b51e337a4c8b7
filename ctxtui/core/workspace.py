"""A workspace: the project's hot set, the library behind it, and safe moves between them.

Hot personas are the files in ``<workspace>/.claude/agents/`` (recursive) plus, in user
scope, ``~/.claude/agents/``. Claude Code identifies an agent by its ``name``; on a clash the
project scope wins. ctxtui remembers what it activated (and the content hash at the time) in
``.claude/ctxtui/state.json`` so it can tell an edited hot file from a pristine one.

Every change goes through one journalled :class:`~ctxtui.core.journal.Transaction`, and no
persona content is ever deleted: a hot file leaves the agents folder only when its bytes
are also in the library, the cold store, or a version kept beside it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ctxtui.core import block, claude_settings, journal, lock, memory, notices, startup, verdicts
from ctxtui.core.budget import AGENT_WARN_TOKENS, Budget, BudgetItem
from ctxtui.core.claude_code import AgentVerdict, sort_key
from ctxtui.core.config import (
    STRATEGIES,
    WORKSPACE_CONFIG_NAME,
    Settings,
    WorkspaceConfig,
    bundled_dir,
    load_workspace_config,
)
from ctxtui.core.confine import Guard, quarantine
from ctxtui.core.environ import EnvView
from ctxtui.core.errors import (
    CapError,
    CtxtuiError,
    UnsafePathError,
    WorkspaceError,
    WriteError,
    did_you_mean,
)
from ctxtui.core.library import Library, TokenCache, index_files, index_library, is_doc_file
from ctxtui.core.persona import Persona, safe_stem
from ctxtui.core.safe_io import read_regular
from ctxtui.core.sessions import newest_transcript

__all__ = ["CapError", "HotPersona", "Workspace", "WorkspaceError", "file_stem", "parse_state"]

Listener = Callable[[str, str, dict[str, Any]], None]

# Names Windows reserves for devices: a file CON.md cannot exist there.
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10))}


def file_stem(name: str) -> str:
    """The file stem ctxtui writes a persona under (hot folder and cold store): the safe
    stem, suffixed when it would read as a documentation file (``SRE``, ``README``) that
    library scans skip, or as a Windows device name (``CON``)."""
    stem = safe_stem(name)
    if is_doc_file(f"{stem}.md") or stem.split(".")[0].upper() in _RESERVED:
        stem = f"{stem}-agent"
    return stem


def discover_hot(folder: Path) -> list[Path]:
    """Markdown files in an agents folder, as Claude Code finds them: every ``*.md`` below
    it (recursive, hidden names skipped), whatever the case of the stem."""
    found = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        found += [Path(dirpath, f) for f in sorted(filenames) if f.endswith(".md") and not f.startswith(".")]
    return found


# where a skill record's paths may point (state.json is read as untrusted input)
_SKILL_REL = re.compile(r"^\.claude/skills/(?!\.\.?/)[^/\\]+/SKILL\.md$")
_KEPT_REL = re.compile(r"^\.claude/ctxtui/tiers/[^/\\]+\.md$")
_AGENT_REL = re.compile(r"^(?!/)(?!.*(?:^|/)\.\.?(?:/|$))[^\\]+\.md$")


def _problem_in_state(data: Any) -> str | None:
    if not isinstance(data, dict):
        return "is not a JSON object"
    hot = data.get("hot", {})
    if not isinstance(hot, dict):
        return "'hot' is not an object"
    for rel, rec in hot.items():
        parts = Path(rel).parts
        if not rel or Path(rel).is_absolute() or ".." in parts or "\\" in rel:
            return f"hot file {rel!r} is outside the agents folder"
        if not isinstance(rec, dict) or not all(isinstance(rec.get(k, ""), str) for k in ("name", "source", "sha256")):
            return f"hot file {rel!r} has a malformed record"
    if data.get("strategy") not in (None, *STRATEGIES):
        return f"unknown strategy {data.get('strategy')!r}"
    for key in ("model", "density"):
        if not isinstance(data.get(key), (str, type(None))):
            return f"'{key}' is not text"
    tiers = data.get("tiers", {})
    if not isinstance(tiers, dict):
        return "'tiers' is not an object"
    for name, rec in tiers.items():
        if not isinstance(rec, dict) or rec.get("tier") not in ("hidden", "skill") or not all(
            isinstance(v, (str, bool)) for v in rec.values()
        ):
            return f"tier record of {name!r} is malformed"
        if rec["tier"] == "skill" and not (
            _SKILL_REL.match(str(rec.get("skill", ""))) and _KEPT_REL.match(str(rec.get("kept", "")))
            and _AGENT_REL.match(str(rec.get("agent", "")) or "x.md")
        ):
            return f"tier record of {name!r} names files outside the skill and ctxtui folders"
    lazy = data.get("lazy_hot", [])
    if not isinstance(lazy, list) or not all(isinstance(n, str) for n in lazy):
        return "'lazy_hot' is not a list of names"
    return None


def parse_state(raw: bytes | None) -> tuple[dict[str, Any], str | None]:
    """state.json bytes -> (state, why it was refused or None). Refused state reads as empty."""
    if raw is None:
        return {"hot": {}}, None
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return {"hot": {}}, "is not valid JSON"
    problem = _problem_in_state(data)
    if problem:
        return {"hot": {}}, problem
    data.setdefault("hot", {})
    return data, None


@dataclass
class HotPersona:
    """A persona file in an agents folder."""

    persona: Persona
    scope: str  # "project" or "user"
    managed: bool = False
    source: str | None = None
    edited: bool = False
    in_library: bool = False
    shadowed: bool = False
    pinned: bool = False
    claude_code: AgentVerdict | None = None
    """Claude Code's verdict on the file (``core.verdicts``) for the project's version."""

    @property
    def listed(self) -> bool:
        """Claude Code loads this file (a skipped file lists nothing and costs 0 tokens)."""
        return self.claude_code is None or self.claude_code.loaded

    @property
    def takes_slot(self) -> bool:
        """Counts against the cap: Claude Code lists it, or it is no persona by either reading
        (empty or half-written: it may be listed once its writer is done), or it changed while
        being read. A persona that only Claude Code's stricter loader skips takes no slot."""
        return (self.listed or not self.persona.usable
                or (self.claude_code is not None and verdicts.is_stale(self.claude_code)))

    @property
    def name(self) -> str:
        """The agent name Claude Code knows it by."""
        return self.persona.name

    @property
    def flags(self) -> list[str]:
        """Short flags for views: edited, unmanaged, shadowed, repaired, invalid, pinned."""
        out = []
        if self.pinned:
            out.append("pinned")
        if self.edited:
            out.append("edited")
        if not self.in_library:
            out.append("unmanaged")
        if self.shadowed:
            out.append("shadowed")
        if self.persona.status.value != "ok":
            out.append(self.persona.status.value)
        if not self.listed:
            out.append("skipped by Claude Code")
        return out




class Workspace:
    """The model every face (CLI, TUI) works through."""

    def __init__(self, settings: Settings, cache: TokenCache | None = None) -> None:
        self.settings = settings
        self.cache = cache or TokenCache(settings.cache_path)
        self.listeners: list[Listener] = []
        self.recovered: list[str] = []
        self.library = Library([])
        self.hot: list[HotPersona] = []
        self.user_hot: list[HotPersona] = []
        self.clashes: list[str] = []
        self.memory = memory.MemoryScan()
        self.config = WorkspaceConfig()
        self.denied: set[str] = set()
        """Agents hidden by ``Agent(NAME)``/``Task(NAME)`` deny rules in the project settings."""
        self.tier_records: dict[str, dict[str, Any]] = {}
        self.guard = Guard(settings.workspace)
        self._holding_lock = False
        self._target: verdicts.Target | None = None
        self._account: startup.StartupAccount | None = None
        self._verdicts: dict[tuple[str, str, str], AgentVerdict] = {}
        self.library_warnings: list[str] = []
        self.refresh()

    # ------------------------------------------------------------------ reading

    @property
    def state_dir(self) -> Path:
        """ctxtui's folder inside the workspace."""
        return self.settings.state_dir

    @property
    def cap(self) -> int:
        """The max-active cap from the workspace config."""
        return self.config.lazy_loading.max_active_personas

    @property
    def pinned(self) -> list[str]:
        """Personas that stay hot in lazy loading (they count against the cap)."""
        return list(self.config.lazy_loading.pinned)

    def library_roots(self) -> list[Path]:
        """Library folders: the cold store, then the settings' folders, else the workspace
        config's ``library``, else the bundled library."""
        missing = next((p for p in self.settings.library_dirs if not p.is_dir()), None)
        if missing is not None:  # a mistyped --library would otherwise read as an empty library
            raise WorkspaceError(f"library {missing} is not a folder")
        if not self.settings.library_dirs and self.config.library:
            paths = self.config.library_paths(self.settings.workspace)
            for entry, path in zip(self.config.library, paths, strict=True):
                problem = _too_wide(path, self.settings.workspace)
                if problem:
                    raise WorkspaceError(f"{WORKSPACE_CONFIG_NAME}: library {entry!r} is {problem}; "
                                         "name the folder that holds the personas")
            self.library_warnings = [
                f"library {entry!r} (recorded in {WORKSPACE_CONFIG_NAME}) is missing; its personas "
                "are not counted (eager and the reduction are understated)"
                for entry, path in zip(self.config.library, paths, strict=True) if not path.is_dir()]
            return [self.settings.cold_store, *paths]
        self.library_warnings = []
        return self.settings.libraries

    def refresh(self, library: bool = True) -> None:
        """Re-read from disk: config, library (unless ``library`` is False), hot folders and
        memory files. Cheap when nothing changed (content-hash cache)."""
        self._recover()
        self.config = load_workspace_config(self.settings.workspace)
        self._target = None
        self._account = None
        if library:
            roots = self.library_roots()  # Claude Code's verdicts are judged as the index reads
            self.library = index_library(roots, self.cache, verdicts.judge_while_indexing(self.claude_code.profile))
            self._add_bundled_pins()
            # views and the eager budget ask for every persona's verdict: one memo lookup
            verdicts.warm(self.library.personas, self.claude_code.profile)
        self._scan_hot()
        verdicts.warm([h.persona for h in [*self.hot, *self.user_hot]], self.claude_code.profile)
        self.memory = memory.scan(
            self.settings.workspace,
            self.settings.claude_home if self.settings.include_user_scope else None,
            profile=memory.profile_for(self.claude_code.version),
        )
        # remembered verdicts of files no longer here go, and those of a file known by no
        # content hash (one per file and content is kept: after a move only the moved file is
        # read again, not the whole library)
        here = {str(p.path) for p in self.library.personas} | {str(h.persona.path) for h in [*self.hot, *self.user_hot]}
        self._verdicts = {k: v for k, v in self._verdicts.items() if k[0] in here and k[1]}

    @property
    def claude_code(self) -> verdicts.Target:
        """The Claude Code version whose rules apply, and where it came from (detected once
        per refresh; ``claude --version`` is cached on disk per binary)."""
        if self._target is None:
            self._target = verdicts.select(
                option=self.settings.claude_version, setting=None,
                workspace_setting=self.config.claude_version, workspace=self.settings.workspace,
                projects_dir=self.settings.transcripts,
                cache_dir=self.settings.cache_path.parent if self.settings.cache_path else None,
            )
        return self._target

    def verdict(self, persona: Persona) -> AgentVerdict:
        """Claude Code's verdict on a persona's file for this project's version, a copy the
        caller may change. Each file is read once for its content and version however often
        views ask, refreshes included (a file caught mid-save, or unreadable, is read again at
        the next ask; a file saved since has another content hash from the next refresh's
        index)."""
        return verdicts.copied(self._judged(persona))

    def _judged(self, persona: Persona) -> AgentVerdict:
        """:meth:`verdict`, the remembered one itself: for reading only."""
        target = self.claude_code
        key = (str(persona.path), persona.sha256, target.version)
        found = self._verdicts.get(key)
        if found is None:
            found = verdicts.verdict_for(persona, target.profile)
            if not verdicts.is_stale(found) and not found.reason.startswith("unreadable"):
                self._verdicts[key] = found
        return found

    def _notice(self, line: str) -> None:
        self.recovered.append(line)
        notices.report(line)

    def _recover(self) -> None:
        """Finish interrupted changes and set aside a malformed state.json, saying so."""
        state_file = self.state_dir / "state.json"
        if not journal.pending(self.state_dir) and not (
            state_file.exists() and parse_state(self._read_state_raw())[1]
        ):
            return
        try:
            self.guard.check_folders(self.state_dir / "journal")
        except UnsafePathError as exc:
            if str(exc) not in self.recovered:
                self._notice(str(exc))
            return
        try:
            with self._locked():
                for line in journal.recover(self.state_dir, self.guard):
                    self._notice(line)
                problem = parse_state(self._read_state_raw())[1] if state_file.exists() else None
                if problem:
                    self._notice(quarantine(self.state_dir, state_file, f"{state_file} {problem}"))
        except OSError as exc:  # read-only project: a read command still works, and says so
            if isinstance(exc, CtxtuiError):
                raise
            line = f"cannot finish ctxtui's own clean-up in {self.state_dir} ({exc.strerror or exc}); will retry"
            if line not in self.recovered:
                self._notice(line)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        if self._holding_lock:
            yield
            return
        with lock.locked(self.state_dir):
            self._holding_lock = True
            try:
                yield
            finally:
                self._holding_lock = False

    def _read_state_raw(self) -> bytes | None:
        try:
            return read_regular(self.state_dir / "state.json", journal.MAX_STATE_BYTES, follow_symlinks=False)
        except FileNotFoundError:
            return None
        except OSError:
            return b"\xff"  # unreadable: reported as malformed

    def _add_bundled_pins(self) -> None:
        """Pinned personas missing from a custom library come from the bundled one, so that
        ``persona-manager`` is always available in lazy loading."""
        bundled = bundled_dir("personas")
        missing = [n for n in self.pinned if n not in self.library.by_name]
        if not missing or bundled in self.library.roots:
            return
        files = [bundled / f"{safe_stem(n)}.md" for n in missing]
        personas, _, _ = index_files([f for f in files if f.is_file()], self.cache)
        for p in personas:
            if p.usable and p.name in missing:
                self.library.personas.append(p)
                self.library.by_name[p.name] = p
                self.library.extras.add(p.name)

    def state(self) -> dict[str, Any]:
        """ctxtui's record of this workspace: hot files it placed, strategy, model (a
        malformed state.json reads as empty; refresh() sets it aside and says so)."""
        return parse_state(self._read_state_raw())[0]

    @staticmethod
    def state_bytes(state: dict[str, Any]) -> bytes:
        """How state.json is written."""
        return (json.dumps(state, indent=1, sort_keys=True) + "\n").encode()

    @property
    def model(self) -> str:
        """The model sessions run on: a fine-tuned one set by ctxtui, else the production model."""
        return self.state().get("model") or self.config.models.production

    @property
    def strategy(self) -> str:
        """The applied strategy: recorded by the last migration, else the configured one."""
        return self.state().get("strategy") or self.config.preferred_strategy

    def _read_denied(self) -> set[str]:
        out: set[str] = set()
        for name in ("settings.json", "settings.local.json"):
            path = self.settings.workspace / ".claude" / name
            try:
                out |= claude_settings.denied_agents(claude_settings.read(path))
            except CtxtuiError:
                continue  # a broken settings file hides nothing (Claude Code ignores it too)
        return out

    def tier_of(self, name: str) -> str:
        """How a persona is kept in or out of the startup listing: ``skill`` (converted by
        ctxtui to ``.claude/skills``), ``hidden`` (a deny rule), else ``file`` (hot when its
        file is in ``.claude/agents``, cold otherwise)."""
        rec = self.tier_records.get(name)
        if rec and rec.get("tier") == "skill" and (self.settings.workspace / rec.get("skill", "")).is_file():
            return "skill"
        return "hidden" if name in self.denied else "file"

    def tiers(self) -> dict[str, str]:
        """Every persona's tier (library, project hot, skills), for ``list --json`` and views."""
        names = [*self.library.by_name, *self.hot_names(), *self.tier_records, *sorted(self.denied)]
        return {n: self.tier_of(n) for n in dict.fromkeys(names)}

    def visible_hot(self) -> list[HotPersona]:
        """Project hot files that count against the cap (:attr:`HotPersona.takes_slot`):
        personas Claude Code skips and agents hidden by a deny rule are left out, and a name
        declared by several files counts once, as Claude Code lists it once (the file it
        lists: the later path)."""
        out: dict[str, HotPersona] = {}
        for n, h in enumerate(sorted(self.hot, key=lambda h: str(h.persona.path))):
            if h.takes_slot and h.name not in self.denied:
                key = h.name if h.persona.usable and h.name else f"\0{n}"
                out.pop(key, None)
                out[key] = h
        return list(out.values())

    def _scan_hot(self) -> None:
        full_state = self.state()
        self.tier_records = dict(full_state.get("tiers", {}))
        self.denied = self._read_denied()
        state = full_state.get("hot", {})
        lib_shas = {p.sha256 for p in self.library.personas}
        pins = set(self.pinned)

        def scan(folder: Path, scope: str) -> list[HotPersona]:
            if not folder.is_dir():
                return []
            personas, _, _ = index_files(discover_hot(folder), self.cache)
            out = []
            for p in personas:
                if not p.usable:
                    if is_doc_file(p.path.name):
                        continue  # a README beside the agents: Claude Code skips it too
                    # an invalid file is known by its file name (the index caches parses by
                    # content, so an empty file could otherwise carry another file's name)
                    p = replace(p, name=p.path.stem)
                rel = str(p.path.relative_to(folder))
                rec = state.get(rel) if scope == "project" else None
                in_lib = p.sha256 in lib_shas or p.name in self.library.by_name
                edited = rec is not None and bool(rec) and rec.get("sha256") != p.sha256
                if rec is None and p.name in self.library.by_name:
                    edited = p.sha256 not in lib_shas
                out.append(HotPersona(
                    p, scope, managed=rec is not None, source=(rec or {}).get("source"),
                    edited=edited, in_library=in_lib, pinned=p.name in pins,
                    claude_code=self.verdict(p),
                ))
            return out

        self.hot = scan(self.settings.agents_dir, "project")
        self.user_hot = (  # run from $HOME, the project folder *is* the user scope: count it once
            scan(self.settings.user_agents_dir, "user")
            if self.settings.include_user_scope and not self.is_user_scope() else []
        )
        self.clashes = []
        project_names: dict[str, Path] = {}
        for h in self.hot:
            if h.name in project_names:
                self.clashes.append(
                    f"{h.name!r} is defined twice in the project: {project_names[h.name]} and {h.persona.path}"
                )
            project_names.setdefault(h.name, h.persona.path)
        for h in self.user_hot:
            if h.name in project_names:
                h.shadowed = True
                self.clashes.append(
                    f"{h.name!r} in user scope ({h.persona.path}) is overridden by the project's {project_names[h.name]}"
                )

    def is_user_scope(self) -> bool:
        """Whether the project's agents folder is the user scope (ctxtui run from $HOME)."""
        return os.path.realpath(self.settings.agents_dir) == os.path.realpath(self.settings.user_agents_dir)

    def hot_names(self) -> list[str]:
        """Names of the project's hot personas."""
        return [h.name for h in self.hot]

    def find_hot(self, name: str) -> HotPersona | None:
        """A project hot persona by name."""
        return next((h for h in self.hot if h.name == name), None)

    def library_after(self, leaving: Iterable[HotPersona] = ()) -> list[Persona]:
        """Usable library personas, one per name, once these hot files have gone cold: a file
        whose bytes are not in the library joins it from the cold store (and wins its name)."""
        lib_shas = {p.sha256 for p in self.library.personas}
        by_name = {p.name: p for p in self.library.unique()}
        for h in leaving:
            if h.persona.usable and h.persona.sha256 not in lib_shas:
                by_name[h.name] = replace(h.persona, path=self.settings.cold_store / f"{safe_stem(h.name)}.md")
        return sorted(by_name.values(), key=lambda p: p.name)

    def cold(self) -> list[Persona]:
        """Library personas that are not hot in the project (one per name)."""
        hot = set(self.hot_names())
        return [p for p in self.library.unique() if p.name not in hot]

    def budget(self, hot: list[Persona] | None = None, claude_md: dict[Path, str] | None = None) -> Budget:
        """The itemised startup budget now, and the eager baseline, as Claude Code will load it.

        Agent items are the custom agents Claude Code lists (its loader's verdict, its
        precedence: project over user, one per name), each costing its listing line; memory
        items are the files as Claude Code sends them (headers, stripping, the text added once).
        ``whole`` adds everything else Claude Code sends (``core.startup``). The managed part
        (``startup_tokens``) is what strategies change: project agent lines, ctxtui's skill
        lines and its CLAUDE.md block; ``eager_startup_tokens`` is that part with every library
        persona hot.

        ``hot`` and ``claude_md`` project a change instead: the project's hot personas and
        memory-file texts as a migration would leave them.
        """
        from ctxtui.core.claude_md import block_span
        from ctxtui.core.tokens import count, count_many

        target = self.claude_code
        scan = self.memory
        if claude_md is not None:
            scan = memory.scan(
                self.settings.workspace,
                self.settings.claude_home if self.settings.include_user_scope else None,
                claude_md, profile=memory.profile_for(target.version),
            )
        block_tokens = 0
        for f in scan.files:
            span = block_span(f.text, strict=False) if f.scope == "project" else None
            if span is not None:
                block_tokens += count(f.text[span[0] : span[1]])
        project = list(hot) if hot is not None else [h.persona for h in self.hot]
        listed = self._listed_agents(project)
        agent_items = [BudgetItem("agent", v.name or "", v.path, scope, verdicts.line_tokens(v))
                       for v, scope in listed]
        mem_items = memory.budget_items(scan)
        whole = self._whole(agent_items, mem_items, block_tokens)
        # ctxtui's skills as the version's skill listing sends them (budget and collapse rules)
        names = {path: name for name, path, _ in self.skill_lines()}
        skill_items = [BudgetItem("skill", names.get(i.source, i.label), i.source, i.scope, i.tokens or 0)
                       for i in whole.items if i.kind == "skill" and i.managed]
        items = mem_items + agent_items + skill_items
        lib_names = set(self.library.by_name)
        outside_library = sum(i.tokens for i in agent_items
                              if i.scope == "project" and i.label not in lib_names)
        # each file read once per refresh (views ask again); remembered verdicts were warmed
        eager_verdicts = [self._judged(p) for p in self.library.eager()]
        eager = sum(count_many(["\n" + v.line for v in eager_verdicts if v.loaded])) + outside_library
        factor = self.settings.calibrator.factor(self.model)
        warnings = list(scan.warnings()) + list(self.clashes) + list(self.library_warnings)
        warnings += [f"{h.persona.path}: Claude Code skips this: {h.claude_code.reason}"
                     for h in self.hot + self.user_hot if h.claude_code and not h.listed]
        warn_tokens = sum(v.warning_tokens for v, _ in listed)
        if warn_tokens > AGENT_WARN_TOKENS:
            warnings.append(
                f"agent descriptions total ~{warn_tokens:,} tokens (characters / 4); "
                f"Claude Code warns above {AGENT_WARN_TOKENS:,}"
            )
        return Budget(
            items, whole.managed, eager, self.settings.window,
            self.settings.target, factor, warnings, whole=whole.to_json(),
        )

    def _listed_agents(self, project: list[Persona]) -> list[tuple[AgentVerdict, str]]:
        """(verdict, scope) of each custom agent Claude Code lists from the project's hot files
        PROJECT and the user's, in listing order: skipped files and deny-rule names left out; a
        name is listed once, the project's over the user's, the later path within a scope."""
        winner: dict[str, tuple[AgentVerdict, str]] = {}
        users = [h.persona for h in self.user_hot]
        for scope, personas in (("user", users), ("project", project)):
            for p in sorted(personas, key=lambda p: str(p.path)):
                v = self._judged(p)  # read only: the budget's items copy what they need
                if v.loaded and v.name is not None and v.name not in self.denied:
                    winner[v.name] = (v, scope)
        prof = self.claude_code.profile
        return [winner[n] for n in sorted(winner, key=lambda n: sort_key(n, prof))]

    def startup_account(self) -> startup.StartupAccount:
        """Claude Code's whole startup context for this project as on disk (cached until the
        next refresh): fixed text of the version, MCP servers, skills, commands, output style
        (see ``core.startup``); :meth:`budget` replaces its agent and memory items with its own.
        The project's newest session transcript supplies what it recorded (its first request,
        MCP tool names): those items are measured, and ``measured_total`` is set."""
        if self._account is None:
            home: Path | None = None
            if self.settings.include_user_scope:
                home = self.settings.claude_home.parent
            # a view, not a copy: only the variables looked up count (see core.inputs)
            user = self.settings.include_user_scope
            env = EnvView({"CLAUDE_CONFIG_DIR": str(self.settings.claude_home) if user else None})
            self._account = startup.account(
                self.settings.workspace, home, version=self.claude_code.version, env=env,
                window=self.settings.window,
                transcript=newest_transcript(self.settings.session_folder),
            )
        return self._account

    def _whole(self, agents: list[BudgetItem], mem: list[BudgetItem], block_tokens: int
               ) -> startup.StartupAccount:
        """The whole startup account with this budget's agent and memory items."""
        acc = self.startup_account()
        own = [self.settings.agents_dir.resolve(), self.settings.user_agents_dir.resolve()]
        ctxtui_skills = {path for _, path, _ in self.skill_lines()}
        fixed, extra_agents, rest = [], [], []
        for i in acc.items:
            if i.kind == "memory" or (i.kind == "agent" and any(
                    Path(i.source).is_relative_to(d) for d in own)):
                continue
            if i.kind == "agent":  # an ancestor's or the managed policy's agents folder
                extra_agents.append(replace(i, managed=False))
            elif i.basis == "version-data":
                fixed.append(i)
            else:
                rest.append(replace(i, managed=i.source in ctxtui_skills))
        items = [
            *fixed,
            *(startup.StartupItem("agent", a.label, a.path, a.tokens, "computed", a.scope,
                                  managed=a.scope == "project") for a in agents),
            *extra_agents,
            *(startup.StartupItem("memory", m.label, m.path, m.tokens, "computed", m.scope)
              for m in mem),
            *rest,
        ]
        whole = startup.StartupAccount(acc.version, acc.entrypoint, items, block_tokens,
                                       measured_total=acc.measured_total,
                                       measured_version=acc.measured_version,
                                       measured_entrypoint=acc.measured_entrypoint)
        whole.suggestions = startup.suggest(whole)
        return whole

    def skill_lines(self) -> list[tuple[str, str, int]]:
        """(name, SKILL.md path, tokens) of each persona ctxtui turned into a skill: its line in
        the skills listing, ``- NAME: DESCRIPTION``, by ``core.skills`` (the one model of
        Claude Code's listing: the description cut at 1,536 characters, and past the listing
        budget, 1% of the window x 4 characters per token, the version's collapse rules).
        Other skills in the listing (the user's, bundled ones) are not counted here (see
        ``core.startup`` for the whole listing)."""
        from ctxtui.core import skills
        from ctxtui.core.tokens import count

        entries: list[tuple[str, skills.Skill]] = []
        for name, rec in sorted(self.tier_records.items()):
            if self.tier_of(name) == "skill":
                path = str(self.settings.workspace / rec["skill"])
                entries.append((name, skills.Skill(name=str(rec.get("dir", name)), path=path, kind="skill",
                                                   description=str(rec.get("description", "")))))
        budget = skills.budget_chars(self.settings.window, env={})
        lines = skills.listing([s for _, s in entries], skills.rules_for(self.claude_code.version), budget=budget)
        return [(name, s.path, count(listed.line)) for (name, s), listed in zip(entries, lines, strict=True)]

    # ------------------------------------------------------------------ changing

    def emit(self, action: str, persona: str, **data: Any) -> None:
        for listener in self.listeners:
            listener(action, persona, data)

    def _hot_target(self, persona: Persona, taken: set[Path]) -> Path:
        folder = self.settings.agents_dir.absolute()
        stem = file_stem(persona.name)
        target = folder / f"{stem}.md"
        n = 2
        while target.exists() or target.is_symlink() or target in taken:
            target = folder / f"{stem}-{n}.md"
            n += 1
        if target.resolve().parent != folder.resolve():  # belt and braces: never outside
            raise WorkspaceError(f"refusing to write {persona.name!r} outside {folder}")
        return target

    def plan_activate(self, names: Iterable[str], tx: journal.Transaction, state: dict) -> list[str]:
        """Add activation steps for names to a transaction; returns names actually added.

        Raises WorkspaceError for unknown or invalid names (nothing is planned then).
        """
        names = list(dict.fromkeys(names))
        hot = set(self.hot_names())
        added: list[str] = []
        taken: set[Path] = {st.path for st in tx.steps}
        for name in names:
            persona = self.library.get(name)
            if persona is None:
                raise WorkspaceError(f"no persona named {name!r} in the library{did_you_mean(name, self.library.by_name)}")
            if not persona.usable:
                raise WorkspaceError(f"{name!r} cannot be activated: {persona.problem}")
            if name in hot:
                continue
            try:
                data = read_regular(persona.path)
            except OSError as exc:
                raise WorkspaceError(f"cannot read {persona.path} ({exc.strerror or exc}); reload the library") from None
            target = self._hot_target(persona, taken)
            taken.add(target)
            tx.write(target, data, expect=None)
            rel = target.relative_to(self.settings.agents_dir.absolute()).as_posix()
            state["hot"][rel] = {
                "name": name, "source": str(persona.path), "sha256": journal.sha256_bytes(data),
                "activated": time.strftime("%Y-%m-%dT%H:%M:%S"),
            }
            added.append(name)
        return added

    def plan_deactivate(self, names: Iterable[str], tx: journal.Transaction, state: dict) -> list[str]:
        """Add deactivation steps; edited or unknown hot files are kept in the cold store.
        The bytes kept are the bytes whose hash guards the removal."""
        removed: list[str] = []
        lib_shas = {p.sha256 for p in self.library.personas if p.sha256}
        stamp = time.strftime("%Y%m%dT%H%M%S")
        for name in dict.fromkeys(names):
            matches = [h for h in self.hot if h.name == name]  # a name can be in several files
            if not matches:
                if any(u.name == name for u in self.user_hot):
                    raise WorkspaceError(
                        f"{name!r} is hot in user scope ({self.settings.user_agents_dir}); ctxtui only moves project personas"
                    )
                raise WorkspaceError(f"{name!r} is not hot in {self.settings.agents_dir}"
                                     f"{did_you_mean(name, self.hot_names())}")
            for h in matches:
                path = h.persona.path
                if h.persona.is_symlink or path.is_symlink():
                    raise WorkspaceError(f"{path} is a symlink; ctxtui leaves symlinks in place")
                data = tx.read(path)
                if data is None:
                    continue  # removed by someone else since the scan: nothing to move
                sha = journal.sha256_bytes(data)
                if sha not in lib_shas and data.strip():  # an empty file holds nothing to keep
                    self._plan_keep(h.persona, data, tx, stamp)
                    lib_shas.add(sha)
                tx.remove(path)
                state["hot"].pop(path.absolute().relative_to(self.settings.agents_dir.absolute()).as_posix(), None)
            removed.append(name)
        return removed

    def plan_deny(self, tx: journal.Transaction, state: dict, *, hide: set[str], show: set[str],
                  raw: bytes | None | bool = False) -> str | None:
        """Plan the deny rules of ``settings.local.json``: ``Agent(NAME)`` added for ``hide``,
        every agent rule of ``show`` removed, and the ``hidden`` tier records in ``state`` kept
        in step. ``raw``: the bytes to start from when another step of the same change already
        rewrote them (default: read through ``tx``). Rules in the shared ``settings.json`` are
        the team's: never touched. A file ctxtui created for its rules alone is removed once it
        holds nothing. Returns the change line, or None when the file does not change."""
        path = claude_settings.settings_path(self.settings.workspace)
        if raw is False:
            raw = tx.read(path)
        assert not isinstance(raw, bool)
        records: dict[str, Any] = state.setdefault("tiers", {})
        created_before = any(r.get("created_settings") for r in records.values() if r.get("tier") == "hidden")
        local = claude_settings.denied_agents(claude_settings.parse(path, raw))
        new = claude_settings.with_deny(path, raw, hide, show & local)
        for name in hide:
            records[name] = {"tier": "hidden", "created_settings": raw is None or created_before}
        for name in show:
            if records.get(name, {}).get("tier") == "hidden":
                records.pop(name)
        if not records:
            state.pop("tiers", None)
        if new is None:
            return None
        if json.loads(new) == {} and created_before and raw is not None:
            tx.remove(path)
            return "remove .claude/settings.local.json (it only held ctxtui's rules)"
        tx.write(path, new)
        return ("rewrite .claude/settings.local.json (permissions.deny: "
                + ", ".join([f"+Agent({n})" for n in sorted(hide)] + [f"-{n}" for n in sorted(show & local)]) + ")")

    def _plan_keep(self, persona: Persona, data: bytes, tx: journal.Transaction, stamp: str) -> None:
        """Save a hot file's content into the cold store, keeping any earlier version."""
        stem = file_stem(persona.name)
        target = self.settings.cold_store.absolute() / f"{stem}.md"
        if any(step.path == target for step in tx.steps):  # two hot files, one name
            target = target.with_name(f"{stem}-{journal.sha256_bytes(data)[:8]}.md")
        old = tx.read(target)
        if old is not None:
            if old == data:
                return
            keep = self.state_dir.absolute() / "versions" / stem / f"{stamp}-{journal.sha256_bytes(old)[:8]}.md"
            if tx.read(keep) is None and all(st.path != keep for st in tx.steps):
                tx.write(keep, old)
        tx.write(target, data)

    @contextlib.contextmanager
    def transaction(self, label: str, *, library: bool = False, dry_run: bool = False) -> Iterator[journal.Transaction]:
        """The one write path: lock, then re-read (hot folder, state, config; the library
        too if ``library``), plan into the yielded transaction, commit on exit. A ``dry_run``
        in a project ctxtui has never written to takes no lock (the lock file would be its
        first write); the caller must raise before the block ends.

        Everything the plan reads must be read inside the block (``tx.read`` for files it
        changes), so every precondition is the hash of the bytes the plan used. Raises
        BusyError when another ctxtui holds the lock past the timeout, WriteError when the
        file system refuses (nothing changed unless the message says otherwise).
        """
        self.guard.check_folders(self.state_dir / "journal")
        if self.is_user_scope():
            raise WorkspaceError(
                f"{self.settings.workspace} is your home folder: its .claude/agents is the user scope, "
                "shared by every project; run ctxtui in a project folder (or pass --workspace PROJECT)"
            )
        tx: journal.Transaction | None = None
        unlocked = dry_run and not os.path.lexists(self.state_dir)
        try:
            with contextlib.nullcontext() if unlocked else self._locked():
                self.refresh(library=library)
                stuck = journal.pending(self.state_dir)
                if stuck:  # recovery could not finish it: never interleave a new change with it
                    raise WriteError(
                        f"an interrupted change in {stuck[0]} could not be completed yet (see the message "
                        "above); make that folder writable and run again"
                    )
                tx = journal.Transaction(self.state_dir, label, guard=self.guard)
                yield tx
                if tx.steps:
                    if dry_run:
                        raise RuntimeError("a dry run reached its commit")
                    tx.commit()
        except OSError as exc:
            if isinstance(exc, CtxtuiError):
                raise
            where = f"{exc.filename}: " if exc.filename else ""
            raise WriteError(f"{label}: {where}{exc.strerror or exc}; nothing changed") from None
        if tx is not None and tx.steps:
            cold = self.settings.cold_store.absolute()
            # re-index the library only when a persona was kept in the cold store
            self.refresh(library=any(st.path.is_relative_to(cold) for st in tx.steps))

    def read_state(self, tx: journal.Transaction) -> dict[str, Any]:
        """state.json as the plan reads it (its hash guards the state write)."""
        state, _ = parse_state(tx.read(self.state_dir / "state.json"))
        state.setdefault("hot", {})
        return state

    def write_state(self, tx: journal.Transaction, state: dict[str, Any]) -> None:
        """Plan writing state.json (read first with :meth:`read_state`)."""
        tx.write(self.state_dir / "state.json", self.state_bytes(state))

    def _commit(self, label: str, plan: Callable[[journal.Transaction, dict], list[str]],
                kind: str | None = None) -> list[str]:
        """Plan and apply a change of the hot set; with KIND it is recorded in history (before
        and after snapshots), so ``undo`` steps back over it like any other change."""
        from ctxtui.core.history import Entry, History

        history = History(self.settings) if kind is not None else None
        entry: Entry | None = None
        with self.transaction(label) as tx:
            state = self.read_state(tx)
            before = history.snapshot(tx, store=False) if history is not None else {}
            tokens_before = self.budget().startup_tokens if history is not None else 0
            names = plan(tx, state)
            if tx.steps:
                self.sync_block(tx, state)
                self.write_state(tx, state)
                if history is not None and kind is not None:
                    strategy = state.get("strategy") or self.config.preferred_strategy
                    entry = Entry(id=history.next_id(), time=time.strftime("%Y-%m-%dT%H:%M:%S"),
                                  kind=kind, from_strategy=strategy, to_strategy=strategy,
                                  reason=label, tokens_before=tokens_before,
                                  tokens_after=tokens_before, changes=[label], before=before)
                    entry.after = history.after_of(before, tx)
                    history.entry_step(entry, tx)
        if entry is not None and history is not None:
            with self._locked():  # ctxtui's own record: its count needs the files on disk
                entry.tokens_after = self.budget().startup_tokens
                history.rewrite_entry(entry)
        return names

    def sync_block(self, tx: journal.Transaction, state: dict) -> None:
        """Keep an existing CLAUDE.md block in step with the hot set (lazy and hybrid)."""
        strategy = state.get("strategy") or self.config.preferred_strategy
        if strategy not in ("lazy_loading", "hybrid"):
            return
        from ctxtui.core import claude_md

        path = self.claude_md_path()
        text = block.decode(tx.read(path))
        if claude_md.block_span(text) is None:
            return
        hot = [n for n in self._hot_after(tx, state) if n not in self._denied_after(state)]
        removed = {st.path for st in tx.steps if st.data is None}
        leaving = [h for h in self.hot if h.persona.path.absolute() in removed]
        density = state.get("density")  # keep the density the last migration chose
        new = self.render_block(strategy, hot, density, leaving, text)
        if new != text:
            block.check_unedited(self, text)
            tx.write(path, block.encode(new))

    def claude_md_path(self) -> Path:
        """The project memory file ctxtui writes its block into."""
        return block.claude_md_path(self)

    def render_block(self, strategy: str, hot: list[str], density: str | None,
                     leaving: list[HotPersona], text: str) -> str:
        """CLAUDE.md text with the block for this hot set under a strategy."""
        model = block.fine_tuned_model(self)[0] if strategy == "hybrid" else None
        new, _ = block.render_claude_md(self, strategy, hot, model, density, leaving=leaving, text=text)
        return new

    def _denied_after(self, state: dict) -> set[str]:
        """Agents hidden by a deny rule once a change that updated STATE is applied: the
        user's own rules as read, and the ones ctxtui's tier records hold now (a hidden agent
        is not loaded: the block lists it with the cold personas, never as hot)."""
        ours_before = {n for n, r in self.tier_records.items() if r.get("tier") == "hidden"}
        ours_now = {n for n, r in state.get("tiers", {}).items()
                    if isinstance(r, dict) and r.get("tier") == "hidden"}
        return (self.denied - ours_before) | ours_now

    def _hot_after(self, tx: journal.Transaction, state: dict) -> list[str]:
        """Project hot names once a transaction is applied."""
        agents = self.settings.agents_dir.absolute()
        removed = {s.path for s in tx.steps if s.data is None}
        added = [
            state["hot"][rel]["name"]
            for s in tx.steps
            if s.data is not None and s.path.is_relative_to(agents)
            and (rel := s.path.relative_to(agents).as_posix()) in state["hot"]
        ]
        return [h.name for h in self.hot if h.persona.path.absolute() not in removed] + added

    def _would_list(self, name: str) -> bool:
        """Whether Claude Code would list a library persona once hot (unknown names: yes, so
        the plan refuses them with its own message)."""
        persona = self.library.get(name)
        if persona is None:
            return True
        v = self._judged(persona)
        return (v.loaded or verdicts.is_stale(v)) and name not in self.denied

    def activate(self, names: Iterable[str]) -> list[str]:
        """Make library personas hot. Refused as a whole if it would exceed the cap."""
        names = list(dict.fromkeys(names))

        def plan(tx: journal.Transaction, state: dict) -> list[str]:
            skills = [n for n in names if self.tier_of(n) == "skill"]
            if skills:
                raise WorkspaceError(
                    f"{skills[0]!r} is a skill now; `ctxtui tier {skills[0]} file` makes it an agent file again"
                )
            unknown = [n for n in names if self.library.get(n) is None and n not in set(self.hot_names())]
            if unknown:  # said before the cap: the cap is not why an unknown name fails
                return self.plan_activate(names, tx, state)
            hot = set(self.hot_names())
            # Only what Claude Code will list takes a slot: hidden or skipped files do not.
            new = [n for n in names if n not in hot and self._would_list(n)]
            visible = len(self.visible_hot())
            if new and visible + len(new) > self.cap:
                raise CapError(
                    f"activating {len(new)} would make {visible + len(new)} hot; the cap is "
                    f"{self.cap}. Deactivate some first or raise lazy_loading.max_active_personas"
                )
            return self.plan_activate(names, tx, state)

        done = self._commit(f"activate {' '.join(names)}", plan, kind="activate")
        for name in done:
            self.emit("activate", name)
        return done

    def deactivate(self, names: Iterable[str]) -> list[str]:
        """Take personas out of the hot folder; nothing is deleted that is not kept elsewhere.
        Never refused by the cap (it adds nothing hot). A hidden persona goes to cold storage
        too, and its deny rule in ``settings.local.json`` goes in the same change: a rule for
        an agent that is no longer there would hide it again the day it is activated."""
        names = list(dict.fromkeys(names))

        def plan(tx: journal.Transaction, state: dict) -> list[str]:
            hidden = {n for n in names if n in self.denied}
            done = self.plan_deactivate(names, tx, state)
            self.plan_deny(tx, state, hide=set(), show=hidden & set(done))
            return done

        done = self._commit(f"deactivate {' '.join(names)}", plan, kind="deactivate")
        for name in done:
            self.emit("deactivate", name)
        return done


def _too_wide(path: Path, workspace: Path) -> str:
    """Why a configured library folder must not be indexed ('' when it may): the filesystem
    root, the home folder, or a folder holding the project (a cloned repository's config could
    otherwise point ctxtui at every file on the machine)."""
    try:
        real, home, ws = path.resolve(), Path.home().resolve(), workspace.resolve()
    except (OSError, RuntimeError):
        return ""
    if real == Path(real.anchor):
        return "the filesystem root"
    if real == home:
        return "your home folder"
    if ws.is_relative_to(real):
        return "a folder that holds this project"
    return ""
