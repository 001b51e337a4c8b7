"""Every headless command. With no subcommand, ``ctxtui`` opens the TUI.

Start-up stays cheap: this module imports only what Python's start-up loaded already and
``ctxtui``'s version string (argparse comes with :func:`build_parser`). ``ctxtui --help`` lists
:data:`COMMANDS` without importing a command's module; a command's module (and with it the
core, rich, tiktoken, yaml) is imported only when that command is parsed, and Textual only when
the TUI opens. A warm ``status`` is answered before any of that by
:mod:`ctxtui.cli.status_cache`, which replays the last run's output while nothing it read has
changed.

Adding a command (the pattern every command group follows):

1. Write ``ctxtui/cli/<group>.py`` (or add to an existing group) with the handler and, when it
   takes arguments, a function that adds them::

       from ctxtui.cli.base import command

       def _route_args(p: argparse.ArgumentParser) -> None:
           p.add_argument("prompt")

       @command("route", _route_args)
       def cmd_route(args: argparse.Namespace, settings: Settings) -> int:
           ...
           return 0

   Print with :mod:`ctxtui.cli.output` (``console``, ``emit_json``, ``wants_json``); raise
   :class:`ctxtui.cli.base.UserError` (or any ``CtxtuiError``) for a user mistake: ``main``
   prints it as one line on stderr and exits 1.
2. Add one line to :data:`COMMANDS` below: ``"route": ("router", "help shown in --help")``.

Command modules import ``ctxtui.cli.base`` and ``ctxtui.cli.output``, never this package's
``__init__`` (that would be an import cycle), and never each other except one way.
"""

from __future__ import annotations

import os
import sys

from ctxtui import __version__

# ``typing`` and ``pathlib`` are left out on purpose: every millisecond here is paid by --help.
TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (type checkers know the idiom)
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence
    from typing import Any, NoReturn

    from ctxtui.cli.base import Command

#: name -> (module under ``ctxtui.cli``, one-line help). The order is the order in ``--help``.
COMMANDS: dict[str, tuple[str, str]] = {
    "index": ("agents", "index the library and show every persona file with its status"),
    "status": ("agents", "show the hot set and the itemised startup budget"),
    "list": ("agents", "list personas, hot and cold"),
    "activate": ("agents", "make personas hot (copies them into .claude/agents/)"),
    "deactivate": ("agents", "move hot personas back to cold storage"),
    "paths": ("paths", "print where every file and folder ctxtui uses is"),
    "claude-md": ("strategies", "preview (or --write) the CLAUDE.md block for the current hot set"),
    "migrate": ("strategies", "switch strategy: plan, snapshot, apply atomically, record history"),
    "rollback": ("strategies", "restore a history entry's files byte for byte (default: undo the last entry)"),
    "undo": ("strategies", "step back over one change (again: one further back); alias of plain rollback"),
    "history": ("strategies", "list migrations and rollbacks"),
    "profile": ("strategies", "named hot sets: save NAME, use NAME (a migration), list"),
    "find": ("strategies", "rank cold personas for a task (BM25 over name, description, body)"),
    "analyze": ("analytics", "usage per persona, pairs, triggers; --compare all --report FILE compares strategies"),
    "auto-optimize": ("analytics", "propose (and apply as a migration) the hot set that covers the most usage"),
    "export-training": ("analytics", "fine-tuning examples from real usage (redacted, deduplicated, split)"),
    "calibrate": ("analytics", "fit measured startup tokens = fixed + factor x ctxtui's estimate"),
    "init": ("project", "set ctxtui up in this project: find agents and library, record them, adopt hot agents"),
    "doctor": ("project", "check the setup: ctxtui on PATH, library, Claude Code version, journal, block"),
    "reset": ("project", "remove everything ctxtui added to this project in one change (can be rolled back)"),
    "lint": ("lint", "list files Claude Code would skip or read differently from what their author meant"),
    "fix": ("lint", "rewrite frontmatter so Claude Code loads personas as meant (journalled, rollback-able)"),
    "verify": ("lint", "compare what the newest session was given with ctxtui's prediction"),
    "tier": ("tier", "set how personas stay out of the startup context: file, hidden or skill"),
    "watch": ("watch", "live context gauge of the project's active Claude Code session"),
    "router": ("router", "train or evaluate the learned persona router"),
    "route": ("router", "which persona the router names for a prompt (--hook: the UserPromptSubmit hook)"),
    "hook": ("router", "install, remove or show the just-in-time persona hook"),
    "completion": ("completion", "print a shell completion script: ctxtui completion bash|zsh|fish"),
}


def _path(text: str) -> object:
    """argparse type for a folder (pathlib is imported only when a path is given)."""
    from pathlib import Path

    return Path(text)


def positive_int(text: str) -> int:
    """An argparse type: a whole number above zero (argparse says the rest in one line)."""
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{value} must be above zero")
    return value


def add_common(p: argparse.ArgumentParser) -> None:
    """Options every command accepts, before or after its name."""
    import argparse

    s = argparse.SUPPRESS
    p.add_argument("--workspace", "-w", type=_path, default=s, help="project folder (default: current folder)")
    p.add_argument("--library", "-l", type=_path, action="append", default=s,
                   help="library folder (repeatable; default: the one `init` recorded in hybrid-config.json, else the demo personas)")
    p.add_argument("--claude-home", type=_path, default=s, help="user Claude Code folder (default ~/.claude)")
    p.add_argument("--no-user-scope", action="store_true", default=s, help="leave ~/.claude out of the budget")
    p.add_argument("--window", type=positive_int, default=s, help="context window in tokens (default 200000)")
    p.add_argument("--claude-version", metavar="X.Y.Z", default=s,
                   help="Claude Code version whose loader rules apply (default: detect)")
    p.add_argument("--json", action="store_true", default=s, help="machine-readable output")


def load_command(name: str) -> Command:
    """The registered :class:`ctxtui.cli.base.Command` for ``name`` (imports its module)."""
    from importlib import import_module

    module, _ = COMMANDS[name]
    import_module(f"ctxtui.cli.{module}")
    from ctxtui.cli.base import REGISTRY

    return REGISTRY[name]


def _lazy_subcommands() -> type[argparse._SubParsersAction]:
    """The subparsers action that lists commands by name and help; a command's parser (and
    module) is built only when that command is given. Building 16 parsers up front costs more
    than the rest of ``--help`` (argparse looks up translations for every parser). Defined on
    first use: ``import argparse`` is not paid by a cached ``status``."""
    import argparse

    class LazySubcommands(argparse._SubParsersAction):
        """Subcommands listed by name and help, each parser built on use."""

        def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                     values: str | Sequence[Any] | None, option_string: str | None = None) -> None:
            assert isinstance(values, list)  # nargs=PARSER: the command name, then its arguments
            name = values[0]
            if name in self._name_parser_map and self._name_parser_map[name] is None:
                sub = self._parser_class(prog=f"{self._prog_prefix} {name}", description=COMMANDS[name][1])
                add_common(sub)
                load_command(name).add_arguments(sub)
                self._name_parser_map[name] = sub
            super().__call__(parser, namespace, values, option_string)

    return LazySubcommands


def _add_lazy(sub: argparse._SubParsersAction, name: str, help_text: str) -> None:
    """List a subcommand without building its parser."""
    sub._choices_actions.append(sub._ChoicesPseudoAction(name, (), help_text))
    sub._name_parser_map[name] = None


def build_parser() -> argparse.ArgumentParser:
    """The argument parser: every command's name and help; its arguments are added on use."""
    import argparse

    class OneLineParser(argparse.ArgumentParser):
        """A usage mistake is one line naming the command's --help (exit status 2), not the
        whole usage block."""

        def error(self, message: str) -> NoReturn:
            self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")

    lazy = _lazy_subcommands()
    parser = OneLineParser(
        prog="ctxtui", description="Keep Claude Code's startup context small. Run it without a command to open the TUI."
    )
    parser.add_argument("--version", action="version", version=f"ctxtui {__version__}")
    add_common(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", action=lazy)
    assert isinstance(sub, lazy)
    for name, (_, help_text) in COMMANDS.items():
        _add_lazy(sub, name, help_text)
    return parser


def _suggest_command(raw: list[str]) -> None:
    """Exit with one line and a suggestion when the command name is mistyped."""
    takes_value = {"--workspace", "-w", "--library", "-l", "--claude-home", "--window", "--claude-version"}
    i = 0
    while i < len(raw):
        word = raw[i]
        if word in takes_value:
            i += 2
            continue
        if word.startswith("-"):
            i += 1
            continue
        if word not in COMMANDS:
            import difflib

            close = difflib.get_close_matches(word, list(COMMANDS), n=3, cutoff=0.5)
            hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            print(f"ctxtui: error: unknown command {word!r}{hint} (see ctxtui --help)", file=sys.stderr)
            raise SystemExit(2)
        return


def entry() -> NoReturn:
    """The ``ctxtui`` and ``claude-context`` commands (and ``python -m ctxtui``): :func:`main`,
    then :func:`exit_now`."""
    exit_now(main())


def exit_now(code: int) -> NoReturn:
    """End the process as Python's own exit does (the exit functions run, the streams are
    flushed) but without freeing every object one by one first: after a large analysis that
    takes tens of milliseconds, for nothing. With another thread alive, Python's own exit,
    which waits for it."""
    import atexit
    import contextlib
    import threading

    if threading.active_count() > 1:
        raise SystemExit(code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe or stream: nothing more to say
            stream.flush()
    os._exit(code)


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``ctxtui`` and ``claude-context``."""
    for stream in (sys.stdout, sys.stderr):  # file names need not be valid UTF-8
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    raw = sys.argv[1:] if argv is None else argv
    if raw[:2] == ["route", "--hook"]:  # the prompt hook: answer before importing anything else
        from ctxtui.route_hook import main as hook_main

        return hook_main([])
    session = None
    if argv is None and "status" in raw:  # a process of its own: its reads are all it knows
        from ctxtui.cli import status_cache

        code = status_cache.replay(raw)
        if code is not None:
            return code
        session = status_cache.begin(raw)
    code = 1
    try:
        _suggest_command(raw)
        args = build_parser().parse_args(argv)
        from ctxtui.cli.base import run

        code = run(args)
        return code
    finally:
        if session is not None:
            status_cache.finish(session, code)
