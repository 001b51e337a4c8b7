"""Every headless command. With no subcommand, ``ctxtui`` opens the TUI.

User mistakes print one line on stderr and exit non-zero; tracebacks are for bugs.
Textual is imported only when the TUI is opened.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ctxtui import __version__
from ctxtui.core import notices
from ctxtui.core.config import Settings, load_settings
from ctxtui.core.errors import CtxtuiError
from ctxtui.core.workspace import Workspace

Command = Callable[[argparse.Namespace, Settings], int]
COMMANDS: dict[str, tuple[Command, str, Callable[[argparse.ArgumentParser], None]]] = {}
USER_ERRORS = (CtxtuiError, TimeoutError)


class UserError(Exception):
    """A mistake in how a command was called."""


def command(name: str, help: str, args: Callable[[argparse.ArgumentParser], None] = lambda p: None):
    """Register a subcommand."""

    def wrap(fn: Command) -> Command:
        COMMANDS[name] = (fn, help, args)
        return fn

    return wrap


def _common(p: argparse.ArgumentParser) -> None:
    S = argparse.SUPPRESS
    p.add_argument("--workspace", "-w", type=Path, default=S, help="project folder (default: current folder)")
    p.add_argument("--library", "-l", type=Path, action="append", default=S, help="library folder (repeatable; default: bundled personas/)")
    p.add_argument("--claude-home", type=Path, default=S, help="user Claude Code folder (default ~/.claude)")
    p.add_argument("--no-user-scope", action="store_true", default=S, help="leave ~/.claude out of the budget")
    p.add_argument("--window", type=int, default=S, help="context window in tokens (default 200000)")
    p.add_argument("--json", action="store_true", default=S, help="machine-readable output")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every registered subcommand."""
    import ctxtui.cli_analytics  # noqa: F401
    import ctxtui.cli_commands  # noqa: F401 - registers the commands
    import ctxtui.cli_strategies  # noqa: F401

    parser = argparse.ArgumentParser(
        prog="ctxtui", description="Keep Claude Code's startup context small. No subcommand opens the TUI."
    )
    parser.add_argument("--version", action="version", version=f"ctxtui {__version__}")
    _common(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_, help_text, add_args) in COMMANDS.items():
        sp = sub.add_parser(name, help=help_text, description=help_text)
        _common(sp)
        add_args(sp)
    return parser


def settings_from(args: argparse.Namespace) -> Settings:
    """Settings with the CLI flags applied on top."""
    return load_settings(
        workspace=getattr(args, "workspace", None),
        library_dirs=getattr(args, "library", None),
        claude_home=getattr(args, "claude_home", None),
        include_user_scope=False if getattr(args, "no_user_scope", False) else None,
        window=getattr(args, "window", None),
    )


def wants_json(args: argparse.Namespace) -> bool:
    """Whether --json was given."""
    return bool(getattr(args, "json", False))


def emit_json(data: Any) -> None:
    """Print JSON to stdout."""
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def open_workspace(settings: Settings) -> Workspace:
    """A workspace whose changes are recorded as usage events when tracking is on."""
    ws = Workspace(settings)  # what recovery did is reported through core.notices (see main)
    if ws.config.analytics.track_usage:
        from ctxtui.analytics.events import EventStore

        store = EventStore.default()
        ws.listeners.append(lambda action, persona, data: store.record(settings.workspace, persona, action, data))
    return ws


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``ctxtui`` and ``claude-context``."""
    for stream in (sys.stdout, sys.stderr):  # file names need not be valid UTF-8
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = settings_from(args)
        if not settings.workspace.is_dir():
            raise UserError(f"workspace {settings.workspace} is not a folder")
        if not args.command:
            from ctxtui.tui.app import run_app

            return run_app(settings)
        notices.set_reporter(lambda line: print(f"ctxtui: {line}", file=sys.stderr))  # TUI: its own
        fn = COMMANDS[args.command][0]
        return fn(args, settings)
    except (*USER_ERRORS, UserError) as exc:
        print(f"ctxtui: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except OSError as exc:  # the file system refused (read-only, no space, permission)
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"ctxtui: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 1
    finally:
        notices.set_reporter(None)
