"""``ctxtui watch``: the live context gauge of the project's active Claude Code session.

Plain output redraws a small block in place on a terminal (one block per update otherwise);
``--json`` prints one JSON object per line, flushed, per update; ``--once`` prints the current
state and exits. Ctrl-C exits with code 0. Wire it with ``register(subparsers)`` and ``run(args)``;
``python -m ctxtui.cli.watch`` runs it alone.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import textwrap
from pathlib import Path
from typing import Any

from ctxtui.analytics.live import (
    LiveGauge,
    Predictor,
    WindowPolicy,
    follow,
    format_lines,
    session_folder,
    workspace_prediction,
)
from ctxtui.core.config import Settings, load_settings
from ctxtui.core.errors import CtxtuiError

EMPTY_JSON_KEYS = ("session", "context_tokens", "window", "turns", "compactions")


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``watch`` subcommand (``conflict_handler="resolve"``: shared options may be re-added)."""
    help_text = "follow the active Claude Code session: context used, window, autocompact, subagents"
    p = subparsers.add_parser("watch", help=help_text, description=help_text, conflict_handler="resolve")
    add_arguments(p)
    return p


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``watch``."""
    S = argparse.SUPPRESS
    p.add_argument("--workspace", "-w", type=Path, default=S, help="project folder (default: current folder)")
    p.add_argument("--claude-home", type=Path, default=S, help="user Claude Code folder (default ~/.claude)")
    p.add_argument("--projects", "--transcripts", dest="projects", type=Path, default=S,
                   help="Claude Code transcripts folder (default CLAUDE_HOME/projects)")
    p.add_argument("--window", type=int, default=S, help="context window in tokens (default: 200000, or 1M when the session shows it)")
    p.add_argument("--model", default=S, help="the model as chosen in Claude Code (e.g. 'sonnet[1m]' selects the 1M window)")
    p.add_argument("--json", action="store_true", default=S, help="one JSON object per line, per update")
    p.add_argument("--once", action="store_true", default=S, help="print the current state and exit")
    p.add_argument("--no-predict", action="store_true", default=S, help="skip ctxtui's startup prediction")


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(
        workspace=getattr(args, "workspace", None),
        claude_home=getattr(args, "claude_home", None),
        transcripts_dir=getattr(args, "projects", None),
    )


def snapshot_json(snap: Any) -> dict[str, Any]:
    """The JSON object of one update (``session`` is null while there is none)."""
    if snap is None:
        return {k: None for k in EMPTY_JSON_KEYS}
    return snap.to_json()


class _Printer:
    """Writes updates: JSON lines, or a block redrawn in place on a terminal."""

    def __init__(self, as_json: bool, out: Any) -> None:
        self.as_json = as_json
        self.out = out
        self.tty = not as_json and hasattr(out, "isatty") and out.isatty()
        self.drawn = 0

    def show(self, snap: Any) -> None:
        if self.as_json:
            self.out.write(json.dumps(snapshot_json(snap), separators=(",", ":")) + "\n")
        else:
            lines = format_lines(snap)  # already safe for a terminal
            if self.tty:
                width = max(20, shutil.get_terminal_size().columns - 1)
                lines = [row for line in lines for row in textwrap.wrap(line, width) or [""]]
                self.out.write((f"\x1b[{self.drawn}F\x1b[J" if self.drawn else "") + "\n".join(lines) + "\n")
                self.drawn = len(lines)
            else:
                self.out.write("\n".join(lines) + "\n\n")
        self.out.flush()


def run(args: argparse.Namespace, predict: Predictor | None = None) -> int:
    """Run ``ctxtui watch``; ``predict`` overrides ctxtui's startup prediction."""
    try:
        settings = _settings(args)
        if not settings.workspace.is_dir():
            raise CtxtuiError(f"workspace {settings.workspace} is not a folder")
        window = getattr(args, "window", None)
        if window is not None and window <= 0:
            raise CtxtuiError("--window must be a positive number of tokens")
        policy = WindowPolicy.from_env(os.environ, window=window, model_hint=getattr(args, "model", "") or "")
        if predict is None and not getattr(args, "no_predict", False):
            predict = workspace_prediction(settings)
        live = LiveGauge(session_folder(settings), policy, predict)
        printer = _Printer(bool(getattr(args, "json", False)), sys.stdout)
        for snap in follow(live):
            printer.show(snap)
            if getattr(args, "once", False):
                break
        return 0
    except CtxtuiError as exc:
        print(f"ctxtui: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    except BrokenPipeError:  # `ctxtui watch --json | head`: the reader left
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m ctxtui.cli.watch [options]``."""
    parser = argparse.ArgumentParser(prog="ctxtui watch", description="follow the active Claude Code session")
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())


def _adopt() -> None:
    from ctxtui.cli.base import adopt

    adopt(('watch',), register, lambda args, settings: run(args))


_adopt()
