"""``ctxtui doctor``: is this project set up so Claude Code and ctxtui work together?

Each check gives one line: a status (``ok``, ``warn``, ``fail``), what was found, and for
anything not ok the command or edit that fixes it. Checks only read; nothing is written.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import asdict, dataclass

from ctxtui.core import block, claude_md, claude_version, journal
from ctxtui.core.claude_code.profiles import profile_for
from ctxtui.core.config import WORKSPACE_CONFIG_NAME, cache_dir
from ctxtui.core.errors import CtxtuiError
from ctxtui.core.project_init import PERSONA_COMMAND, count_agent_files, home_problem
from ctxtui.core.workspace import Workspace


@dataclass(frozen=True)
class Check:
    """One doctor line."""

    name: str
    status: str  # ok | warn | fail
    detail: str
    fix: str = ""

    def line(self) -> str:
        """``ok    name: detail`` (``; fix: ...`` when not ok)."""
        fix = f" -- fix: {self.fix}" if self.fix and self.status != "ok" else ""
        return f"{self.status:<5} {self.name}: {self.detail}{fix}"

    def to_json(self) -> dict:
        """JSON form."""
        return asdict(self)


def _venv_bins() -> set[str]:
    out = set()
    if sys.prefix != getattr(sys, "base_prefix", sys.prefix):
        out.add(os.path.realpath(os.path.join(sys.prefix, "bin")))
        out.add(os.path.realpath(os.path.join(sys.prefix, "Scripts")))
    env = os.environ.get("VIRTUAL_ENV")
    if env:
        out |= {os.path.realpath(os.path.join(env, "bin")), os.path.realpath(os.path.join(env, "Scripts"))}
    return out


def check_path(path_env: str | None = None) -> Check:
    """``ctxtui`` on PATH outside any virtual environment, where a Claude Code started from
    a plain shell (or a hook) finds it."""
    path_env = os.environ.get("PATH", "") if path_env is None else path_env
    venvs = _venv_bins()
    dirs = [d for d in path_env.split(os.pathsep) if d]
    outside = [d for d in dirs if os.path.realpath(d) not in venvs]
    found = shutil.which("ctxtui", path=os.pathsep.join(outside))
    install = "pipx install PATH/TO/ctxtui (or `uv tool install PATH/TO/ctxtui`)"
    if found:
        return Check("ctxtui on PATH", "ok", found)
    inside = shutil.which("ctxtui", path=path_env)
    if inside:
        return Check("ctxtui on PATH", "fail", f"only inside a virtual environment ({inside}); "
                     "Claude Code started elsewhere cannot run it", install)
    return Check("ctxtui on PATH", "fail", "not found on PATH", install)


def check_library(ws: Workspace) -> Check:
    """The library is recorded in the project config and readable."""
    s = ws.settings
    if s.library_dirs:
        given = ", ".join(str(p) for p in s.library_dirs)
        bad = [p for p in s.library_dirs if not p.is_dir()]
        if bad:
            return Check("library", "fail", f"{bad[0]} is not a folder", "pass an existing folder")
        return Check("library", "warn", f"given by option or CTXTUI_LIBRARY ({given}), not recorded for the project",
                     f"ctxtui init --library {s.library_dirs[0]}")
    if not ws.config.library:
        own = "its own agents only" if ws.hot else "the bundled demo personas"
        return Check("library", "warn", f"none recorded in {WORKSPACE_CONFIG_NAME}; ctxtui uses {own}",
                     "ctxtui init --library PATH")
    for entry, path in zip(ws.config.library, ws.config.library_paths(s.workspace), strict=True):
        if not path.is_dir():
            return Check("library", "fail", f"{entry} (recorded) is not a folder here ({path})",
                         f"put the library there, or `ctxtui init --library PATH` (edits {WORKSPACE_CONFIG_NAME})")
        if not os.access(path, os.R_OK | os.X_OK):
            return Check("library", "fail", f"{entry} cannot be read", f"chmod u+rx {path}")
        if count_agent_files(path) == 0:
            return Check("library", "fail", f"{entry} holds no agent files", "ctxtui init --library PATH")
    n = len(ws.library.unique())
    return Check("library", "ok", f"{', '.join(ws.config.library)} ({n} personas)")


def check_version(ws: Workspace, *, probe_path: bool = True) -> Check:
    """The Claude Code version, so the loader rules and mid-session behaviour are right."""
    try:
        found = claude_version.detect(setting=ws.config.claude_version, workspace=ws.settings.workspace,
                                      projects_dir=ws.settings.transcripts, cache_dir=cache_dir(),
                                      probe_path=probe_path)
    except CtxtuiError as exc:
        return Check("Claude Code version", "fail", str(exc), f"fix claude_version in {WORKSPACE_CONFIG_NAME}")
    if found.version is None:
        p = profile_for(None)
        return Check("Claude Code version", "warn",
                     f"not found (no `claude` on PATH, no transcript); assuming the newest known ({p.version})",
                     f'set "claude_version": "X.Y.Z" in {WORKSPACE_CONFIG_NAME}')
    p = profile_for(found.version)
    mid = "picks up new agents mid-session" if p.agents_watched else "new agents need /reload-plugins or a restart"
    return Check("Claude Code version", "ok", f"{found.version} ({found.source}); rules of {p.version}: {mid}")


def check_journal(ws: Workspace) -> Check:
    """No interrupted change is waiting, and nothing was set aside."""
    stuck = journal.pending(ws.state_dir)
    if stuck:
        return Check("journal", "fail", f"an interrupted change is waiting in {stuck[0]}",
                     "make .claude/ctxtui writable and run any ctxtui command")
    quarantine = ws.state_dir / "quarantine"
    if quarantine.is_dir() and any(quarantine.iterdir()):
        return Check("journal", "warn", f"ctxtui set malformed state aside in {quarantine}",
                     "read the files there, then delete them")
    return Check("journal", "ok", "clean")


def check_block(ws: Workspace) -> Check:
    """The CLAUDE.md block is where the strategy needs it, and current."""
    from ctxtui.core import strategies

    path = ws.claude_md_path()
    rel = path.relative_to(ws.settings.workspace).as_posix()
    try:
        text = block.read_text(path)  # bounded, regular files only
        span = claude_md.block_span(text)
    except claude_md.BlockError as exc:
        return Check("CLAUDE.md block", "fail", str(exc), "fix the marker lines by hand")
    except OSError as exc:
        return Check("CLAUDE.md block", "fail", f"{rel}: {exc.strerror or exc}", f"make {rel} readable")
    strategy = ws.strategy
    if strategy == "eager":
        if span is not None:
            return Check("CLAUDE.md block", "warn", f"{rel} has a block but the strategy is eager", "ctxtui reset")
        return Check("CLAUDE.md block", "ok", "none needed (eager: every persona is an agent file)")
    if span is None and ws.state().get("strategy") is None:
        return Check("CLAUDE.md block", "warn", f"none yet: no strategy applied (configured: {strategy})",
                     f"ctxtui migrate --to {strategy} --dry-run")
    if span is None:
        return Check("CLAUDE.md block", "fail", f"no block in {rel} although the strategy is {strategy}; "
                     "Claude cannot find cold personas", "ctxtui claude-md --write")
    try:
        pv = strategies.preview(ws)
    except CtxtuiError as exc:
        return Check("CLAUDE.md block", "fail", str(exc), "ctxtui claude-md --diff")
    now = text[span[0]:span[1]]
    if pv.changed and not _same_block(now, pv.block):
        return Check("CLAUDE.md block", "warn", f"{rel}: the block is out of date", "ctxtui claude-md --write")
    extra = "" if (ws.settings.workspace / PERSONA_COMMAND).is_file() else f"; {PERSONA_COMMAND} missing (ctxtui init adds it)"
    return Check("CLAUDE.md block", "ok", f"{rel}: in place and current ({pv.block_tokens:,} tokens){extra}")


def _same_block(a: str, b: str) -> bool:
    """Blocks equal but for the order of the hot list (migrations put pins first)."""
    def norm(text: str) -> list[str]:
        out = []
        for line in text.replace("\r\n", "\n").split("\n"):
            if line.startswith("Hot subagents, loaded at startup: "):
                head, _, items = line.partition(": ")
                line = head + ": " + ", ".join(sorted(items.rstrip(".").split(", ")))
            out.append(line)
        return out
    return norm(a) == norm(b)


def check_home(ws: Workspace) -> Check | None:
    """A workspace that is the home folder (its .claude is the user scope)."""
    problem = home_problem(ws.settings)
    return Check("project folder", "fail", problem, "cd PROJECT") if problem else None


def run_checks(ws: Workspace, *, path_env: str | None = None, probe_path: bool = True) -> list[Check]:
    """Every check, in the order a newcomer fixes them."""
    home = check_home(ws)
    checks = [home] if home else []
    checks += [check_path(path_env), check_library(ws), check_version(ws, probe_path=probe_path),
               check_journal(ws), check_block(ws)]
    return checks


__all__ = ["Check", "check_block", "check_journal", "check_library", "check_path", "check_version", "run_checks"]
