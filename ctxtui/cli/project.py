"""``ctxtui init``, ``ctxtui reset`` and ``ctxtui doctor``: setting a project up, taking
ctxtui out of it, and checking it.

Wiring (import this module only when one of the three runs)::

    cli_project.register(subparsers, common=_common)   # init, reset, doctor (+ shared options)
    return cli_project.run(args)          # exit code; refusals raise CtxtuiError (one line)

``--workspace`` and ``--library`` are added here unless the caller's common options already
define them (``args.library`` may then be a list: the first folder is the one recorded).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ctxtui.core.config import Settings

COMMANDS = ("init", "reset", "doctor")
INIT_HELP = "set this project up: record its library, adopt its agents, add /persona (one rollback-able change)"
INIT_DESCRIPTION = """\
Finds the project's agents (.claude/agents), your user scope (~/.claude/agents) and a persona
library (--library PATH, or a folder of many agent files in or beside the project), records the
library in hybrid-config.json as a portable path, keeps a copy of every hot agent so nothing is
lost, and adds the /persona NAME slash command. Later commands use the recorded library without
--library. The bundled personas are a demo, used only with --demo or when nothing else exists.
Undo with `ctxtui rollback`.
"""
RESET_HELP = "remove everything ctxtui added (block, deny rules, hook, skills, /persona) in one change"
RESET_DESCRIPTION = """\
Takes ctxtui out of the project in one journalled change: the CLAUDE.md block, the deny rules of
hidden personas, ctxtui's prompt hook and model in .claude/settings.local.json, converted skills
(each becomes its original agent file again) and .claude/commands/persona.md. Personas stay as
plain files in .claude/agents. Undo with `ctxtui rollback`.
"""
DOCTOR_HELP = "check the setup: ctxtui on PATH, library, Claude Code version, journal, CLAUDE.md block"


def _add(p: argparse.ArgumentParser, *flags: str, **kwargs: Any) -> None:
    """Add an option unless the caller's common options already did."""
    if not any(f in p._option_string_actions for f in flags):
        p.add_argument(*flags, **kwargs)


def _common(p: argparse.ArgumentParser) -> None:
    _add(p, "--workspace", "-w", type=Path, help="project folder (default: current folder)")
    _add(p, "--json", action="store_true", help="print the result as JSON")


def register(subparsers: Any, common: Callable[[argparse.ArgumentParser], None] | None = None,
             ) -> dict[str, argparse.ArgumentParser]:
    """Add ``init``, ``reset`` and ``doctor`` to an argparse subparsers object. ``common``
    (the CLI's shared options) is applied to each first; options it defines are not added
    again."""
    raw = argparse.RawDescriptionHelpFormatter
    init = subparsers.add_parser("init", help=INIT_HELP, description=INIT_DESCRIPTION, formatter_class=raw)
    if common:
        common(init)
    _common(init)
    _add(init, "--library", "-l", type=Path, help="the persona library folder to record (default: the one found)")
    init.add_argument("--gitignore", action="store_true",
                      help="append .claude/ctxtui/ and .claude/settings.local.json to .gitignore")
    _add(init, "--demo", action="store_true", help="use the bundled demo personas as the library")
    init.add_argument("--no-search", action="store_true", help="do not look for a library folder")
    init.add_argument("--reason", default="", help="why (kept in history)")
    init.add_argument("--dry-run", action="store_true", help="say what init would change; write nothing")
    reset = subparsers.add_parser("reset", help=RESET_HELP, description=RESET_DESCRIPTION, formatter_class=raw)
    if common:
        common(reset)
    _common(reset)
    reset.add_argument("--reason", default="", help="why (kept in history)")
    doctor = subparsers.add_parser("doctor", help=DOCTOR_HELP, description=DOCTOR_HELP)
    if common:
        common(doctor)
    _common(doctor)
    return {"init": init, "reset": reset, "doctor": doctor}


def _library(args: argparse.Namespace) -> Path | None:
    lib = getattr(args, "library", None)
    if isinstance(lib, list):
        return Path(lib[0]) if lib else None
    return Path(lib) if lib else None


def _settings(args: argparse.Namespace) -> Settings:
    from ctxtui.core.config import load_settings

    return load_settings(
        workspace=getattr(args, "workspace", None),
        claude_home=getattr(args, "claude_home", None),
        include_user_scope=False if getattr(args, "no_user_scope", False) else None,
        demo=True if getattr(args, "demo", False) else None,
    )


def run(args: argparse.Namespace, settings: Settings | None = None) -> int:
    """Run ``args.command`` (init, reset or doctor); returns the exit code."""
    from ctxtui.core.errors import WorkspaceError
    from ctxtui.core.workspace import Workspace

    s = settings or _settings(args)
    if not s.workspace.is_dir():
        raise WorkspaceError(f"workspace {s.workspace} is not a folder")
    as_json = bool(getattr(args, "json", False))
    if args.command == "doctor":
        from ctxtui.analytics.doctor import run_checks

        checks = run_checks(Workspace(s))
        if as_json:
            _emit({"checks": [c.to_json() for c in checks]})
        else:
            for c in checks:
                print(c.line())
        return 1 if any(c.status == "fail" for c in checks) else 0
    if args.command == "reset":
        from ctxtui.core.reset import reset

        r = reset(Workspace(s), reason=args.reason)
        if as_json:
            _emit(r.to_json())
            return 0
        for line in r.changes or ["nothing to remove: ctxtui has added nothing here"]:
            print(line)
        for note in r.notes:
            print(f"note: {note}", file=sys.stderr)
        if r.entry:
            print(f"Personas stay as plain files in .claude/agents. History entry {r.entry} (undo: ctxtui undo)")
        return 0
    from ctxtui.core.project_init import init

    library = _library(args)
    if library is not None:
        library = library.expanduser()
        library = library if library.is_absolute() else (Path.cwd() / library)
    ws = Workspace(s)
    dry = getattr(args, "dry_run", False)
    done = init(ws, library, gitignore=args.gitignore, search=not args.no_search, reason=args.reason,
                dry_run=dry)
    if as_json:
        _emit(done.to_json())
        return 0
    if dry:
        for line in done.changes or ["nothing to change: the project is set up already"]:
            print(line)
        for note in done.notes:
            print(f"note: {note}", file=sys.stderr)
        return 0
    for line in done.lines:
        print(line)
    for note in done.notes:
        print(f"note: {note}", file=sys.stderr)
    if not done.changes:
        print("Already set up: nothing changed.")
    return 0


def _emit(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def _adopt() -> None:
    from ctxtui.cli.base import adopt

    adopt(('init', 'reset', 'doctor'), register, run)


_adopt()
