"""``ctxtui lint``, ``ctxtui fix`` and ``ctxtui verify``: the Claude Code loader's verdicts.

``register(subparsers)`` adds the three subcommands; ``run(args)`` runs the one parsed. The
core work is in ``ctxtui.core.lint`` / ``fix`` / ``fix_op`` and ``ctxtui.analytics.verify``;
this module only reads options and prints.

Exit codes: ``lint`` 0 when every file loads as meant in every version, 1 when some file
needs a fix (like other linters), 2 on a usage error; ``fix`` and ``verify`` 0 on success,
1 on an error (one line on stderr).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ctxtui.cli.base import settings_from
from ctxtui.core.config import Settings
from ctxtui.core.errors import CtxtuiError

__all__ = ["register", "run"]

COMMANDS = ("lint", "fix", "verify")


def _common(p: argparse.ArgumentParser) -> None:
    S = argparse.SUPPRESS
    p.add_argument("--workspace", "-w", type=Path, default=S, help="project folder (default: current folder)")
    p.add_argument("--library", "-l", type=Path, action="append", default=S,
                   help="library folder (repeatable; default: the configured ones)")
    p.add_argument("--claude-home", type=Path, default=S, help="user Claude Code folder (default ~/.claude)")
    p.add_argument("--no-user-scope", action="store_true", default=S, help="leave ~/.claude out")
    p.add_argument("--json", action="store_true", default=S, help="machine-readable output")


def register(subparsers: Any) -> dict[str, argparse.ArgumentParser]:
    """Add ``lint``, ``fix`` and ``verify`` (``conflict_handler="resolve"``: shared options
    may be re-added by the caller)."""
    out = {}
    text = "list agent files Claude Code skips or reads differently from what was written"
    p = subparsers.add_parser("lint", help=text, description=text, conflict_handler="resolve")
    _common(p)
    p.add_argument("names", nargs="*", metavar="NAME", help="only these personas (name or file stem)")
    p.add_argument("--claude-version", default=argparse.SUPPRESS,
                   help="check against this Claude Code version only (default: every known one)")
    out["lint"] = p
    text = ("rewrite agent frontmatter so every Claude Code version loads it as written "
            "(journalled; undo with `ctxtui rollback`)")
    p = subparsers.add_parser("fix", help=text, description=text, conflict_handler="resolve")
    _common(p)
    p.add_argument("names", nargs="*", metavar="NAME", help="personas to fix (name or file stem)")
    p.add_argument("--all", action="store_true", default=False, help="fix every file that needs it")
    p.add_argument("--dry-run", action="store_true", default=False, help="show what would change")
    out["fix"] = p
    text = "compare the newest Claude Code session of this project with ctxtui's prediction"
    p = subparsers.add_parser("verify", help=text, description=text, conflict_handler="resolve")
    _common(p)
    p.add_argument("--transcript", type=Path, default=argparse.SUPPRESS,
                   help="a transcript file (default: the project's newest session)")
    out["verify"] = p
    return out


def _emit(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str, ensure_ascii=False) + "\n")


def run(args: argparse.Namespace) -> int:
    """Run the parsed subcommand (``args.command`` is ``lint``, ``fix`` or ``verify``)."""
    try:
        settings = settings_from(args)
        if not settings.workspace.is_dir():
            raise CtxtuiError(f"workspace {settings.workspace} is not a folder")
        return {"lint": _lint, "fix": _fix, "verify": _verify}[args.command](args, settings)
    except CtxtuiError as exc:
        print(f"ctxtui: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"ctxtui: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 1


def _profiles(args: argparse.Namespace) -> tuple:
    from ctxtui.core.claude_code.profiles import parse_version, profile_for

    version = getattr(args, "claude_version", None)
    if version is None:
        return ()
    if parse_version(version) is None:
        raise CtxtuiError(f"--claude-version {version!r} is not a version like 2.1.112")
    return (profile_for(version),)


def _lint(args: argparse.Namespace, settings: Settings) -> int:
    from ctxtui.core import fix_op
    from ctxtui.core.lint import describe_versions
    from ctxtui.core.workspace import Workspace

    every = _profiles(args) or None
    files = fix_op.lint_workspace(Workspace(settings), args.names or None, every)
    flagged = [f for f in files if f.lint.findings]
    if getattr(args, "json", False):
        _emit({"files": [f.to_json() for f in files],
               "needs_fix": sum(f.lint.needs_fix for f in files)})
        return 1 if any(f.lint.needs_fix for f in files) else 0
    for f in flagged:
        print(f"{f.path} ({f.where}{', ' + f.lint.name if f.lint.name else ''})")
        for finding in f.lint.findings:
            where = describe_versions(finding.versions) if finding.versions else "all versions"
            print(f"  {finding.severity}: {finding.message} [{where}]")
            print(f"    fix: {finding.fix}")
    need = sum(f.lint.needs_fix for f in files)
    skipped = sum(any(x.severity == "error" for x in f.lint.findings) for f in files)
    print(f"{len(files)} agent files: {need} need a fix ({skipped} skipped by some Claude Code "
          f"version), {len(flagged) - need} with notes only"
          + ("; run `ctxtui fix --all` (undo with `ctxtui rollback`)" if need else ""))
    return 1 if need else 0


def _fix(args: argparse.Namespace, settings: Settings) -> int:
    from ctxtui.core import fix_op
    from ctxtui.core.workspace import Workspace

    if bool(args.names) == bool(args.all):
        raise CtxtuiError("name the personas to fix, or give --all (not both)")
    report = fix_op.apply_fixes(Workspace(settings), None if args.all else list(args.names),
                                dry_run=args.dry_run)
    if getattr(args, "json", False):
        _emit({"dry_run": report.dry_run, "entry": report.entry.id if report.entry else None,
               "items": [i.to_json() for i in report.items]})
        return 0
    verb = "would fix" if report.dry_run else "fixed"
    for item in report.items:
        r = item.result
        if r.status == "fixed" and item.dest is not None:
            if item.dest == item.source:
                print(f"{verb} {item.source}")
            else:
                print(f"{verb} {item.source} as a copy in the cold store: {item.dest}")
            for note in r.notes:
                print(f"  note: {note}")
        elif r.status == "cannot":
            print(f"cannot fix {item.source}: {r.reason}")
    n = len(report.written)
    unchanged = sum(i.result.status == "unchanged" for i in report.items)
    tail = ""
    if report.entry is not None:
        tail = f"; history entry {report.entry.id} (undo with `ctxtui rollback`)"
    print(f"{n} file(s) {verb}, {unchanged} already load as written{tail}")
    return 0


def _verify(args: argparse.Namespace, settings: Settings) -> int:
    from ctxtui.analytics.verify import verify

    report = verify(settings, getattr(args, "transcript", None))
    if getattr(args, "json", False):
        _emit(report.to_json())
    else:
        print("\n".join(report.lines()))
    return 0


def _adopt() -> None:
    from ctxtui.cli.base import adopt

    adopt(('lint', 'fix', 'verify'), register, lambda args, settings: run(args))


_adopt()
