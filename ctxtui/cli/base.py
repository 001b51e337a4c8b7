"""What every command shares: the registry, settings from flags, the workspace, the run loop.

Command modules register with :func:`command`; :func:`run` turns user mistakes into one line on
stderr and exit code 1.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

from ctxtui.core.config import Settings, load_settings
from ctxtui.core.errors import CtxtuiError

if TYPE_CHECKING:
    from ctxtui.core.workspace import Workspace

Handler = Callable[[argparse.Namespace, Settings], int]
ArgsAdder = Callable[[argparse.ArgumentParser], None]


class UserError(CtxtuiError):
    """A mistake in how a command was called."""


USER_ERRORS: tuple[type[BaseException], ...] = (CtxtuiError, TimeoutError)


def _no_arguments(p: argparse.ArgumentParser) -> None:
    """A command without arguments of its own."""


class Command(NamedTuple):  # a NamedTuple: built in a tenth of a frozen dataclass's start-up
    """One subcommand: what it runs and the arguments it takes."""

    name: str
    run: Handler
    add_arguments: ArgsAdder = _no_arguments


#: Commands whose module has been imported, by name (see ``ctxtui.cli.COMMANDS``).
REGISTRY: dict[str, Command] = {}


class _OneParser:
    """Stands in for argparse's subparsers object so that a module written as
    ``register(subparsers)`` adds its arguments to the one parser ``ctxtui`` already built for
    the command being run (other commands it registers go to a throwaway parser)."""

    def __init__(self, parser: argparse.ArgumentParser, name: str) -> None:
        self.parser, self.name = parser, name

    def add_parser(self, name: str, **kwargs: object) -> argparse.ArgumentParser:
        if name != self.name:
            return argparse.ArgumentParser(add_help=False, conflict_handler="resolve")
        p = self.parser
        for container in (p, p._optionals, p._positionals):  # groups keep their own copy
            container.conflict_handler = "resolve"  # the module may repeat the shared options
        for key in ("description", "formatter_class", "epilog"):
            if key in kwargs:
                setattr(p, key, kwargs[key])
        return p


def adopt(names: tuple[str, ...], register: Callable[[_OneParser], object], handler: Handler) -> None:
    """Register commands of a module built as ``register(subparsers)`` + ``run(args, settings)``."""
    for name in names:
        def add_arguments(p: argparse.ArgumentParser, _name: str = name) -> None:
            register(_OneParser(p, _name))

        REGISTRY[name] = Command(name, handler, add_arguments)


def command(name: str, args: ArgsAdder = _no_arguments) -> Callable[[Handler], Handler]:
    """Register a subcommand's handler (its help line lives in ``ctxtui.cli.COMMANDS``)."""

    def wrap(fn: Handler) -> Handler:
        REGISTRY[name] = Command(name, fn, args)
        return fn

    return wrap


def settings_from(args: argparse.Namespace) -> Settings:
    """Settings with the CLI flags applied on top."""
    return load_settings(
        workspace=getattr(args, "workspace", None),
        library_dirs=getattr(args, "library", None),
        claude_home=getattr(args, "claude_home", None),
        include_user_scope=False if getattr(args, "no_user_scope", False) else None,
        window=getattr(args, "window", None),
        claude_version=getattr(args, "claude_version", None),
    )


def open_workspace(settings: Settings) -> Workspace:
    """A workspace whose changes are recorded as usage events when tracking is on."""
    from ctxtui.core.workspace import Workspace

    ws = Workspace(settings)  # what recovery did is reported through core.notices (see run)
    if ws.config.analytics.track_usage:
        from ctxtui.analytics.events import EventStore

        store = EventStore.default()
        ws.listeners.append(lambda action, persona, data: store.record(settings.workspace, persona, action, data))
    return ws


def run(args: argparse.Namespace) -> int:
    """Run the parsed command (or open the TUI); user mistakes become one line on stderr."""
    from ctxtui.cli.output import error_line

    try:
        settings = settings_from(args)
        if not settings.workspace.is_dir():
            raise UserError(f"workspace {settings.workspace} is not a folder")
        if not args.command:
            from ctxtui.tui.app import run_app

            return run_app(settings)
        from ctxtui.core import notices

        notices.set_reporter(lambda line: print(f"ctxtui: {line}", file=sys.stderr))  # TUI: its own
        return REGISTRY[args.command].run(args, settings)
    except USER_ERRORS as exc:
        error_line(exc)
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
        if "ctxtui.core.notices" in sys.modules:
            sys.modules["ctxtui.core.notices"].set_reporter(None)
