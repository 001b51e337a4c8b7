"""``ctxtui completion bash|zsh|fish``: a shell completion script (built with shtab).

The script covers every command and its options: all command parsers are built here (the
normal start-up builds only the one being run).
"""

from __future__ import annotations

import argparse

from ctxtui.cli.base import command
from ctxtui.core.config import Settings

SHELLS = ("bash", "zsh", "fish")
PERSONAS = {"bash": "_ctxtui_personas", "zsh": "_ctxtui_personas",
            "fish": "(ctxtui list --names 2>/dev/null)"}
"""Persona names complete from ``ctxtui list --names`` run in the current folder."""
PREAMBLE = {
    "bash": '_ctxtui_personas() {\n  compgen -W "$(ctxtui list --names 2>/dev/null)" -- "$1"\n}\n',
    "zsh": '_ctxtui_personas() {\n  compadd -- ${(f)"$(ctxtui list --names 2>/dev/null)"}\n}\n',
}


def full_parser() -> argparse.ArgumentParser:
    """The parser with every subcommand's arguments (imports every command module)."""
    from ctxtui import cli

    parser = argparse.ArgumentParser(prog="ctxtui", description="Keep Claude Code's startup context small.")
    cli.add_common(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_, help_text) in cli.COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        cli.add_common(p)
        cli.load_command(name).add_arguments(p)
        for action in p._actions:
            if action.dest == "names" and not action.option_strings:
                action.complete = PERSONAS  # type: ignore[attr-defined]
    return parser


def _args(p: argparse.ArgumentParser) -> None:
    p.add_argument("shell", choices=SHELLS, help="the shell to complete for")


@command("completion", _args)
def cmd_completion(args: argparse.Namespace, settings: Settings) -> int:
    """Print the script; e.g. ``ctxtui completion bash > ~/.local/share/bash-completion/completions/ctxtui``."""
    import shtab

    print(shtab.complete(full_parser(), shell=args.shell, preamble=PREAMBLE.get(args.shell, "")))
    return 0
