"""``ctxtui tier NAME... file|hidden|skill [--json]``: move personas between tiers.

Wiring (the CLI package imports this module only when ``tier`` runs)::

    cli_tier.register(subparsers)            # adds the ``tier`` parser
    return cli_tier.run(args, settings)      # 0 on success; raises CtxtuiError on a refusal

A refusal is a :class:`~ctxtui.core.errors.CtxtuiError` whose text is one line: the CLI's
``main`` prints it on stderr and exits 1, like every other command.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ctxtui.cli.base import settings_from
from ctxtui.core.config import TIERS, Settings

HELP = "keep personas as files, hidden by a deny rule, or as skills (one rollback-able change)"
DESCRIPTION = """\
Tiers decide how each persona is kept in or out of Claude Code's startup context:
  file    a plain agent file in .claude/agents (listed at startup); the hot/cold move
  hidden  the file stays; a deny rule Agent(NAME) in .claude/settings.local.json hides it
          (costs nothing at startup; agents of plugins can only be hidden)
  skill   converted to .claude/skills/NAME/SKILL.md, run as a forked subagent (one listing
          line at startup; the persona's body arrives as the task prompt, not as a system
          prompt, and its tools are granted, not restricted)
Every change is journalled and recorded in history: `ctxtui rollback` undoes it byte for byte.
"""


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``tier`` command to an argparse subparsers object."""
    p = subparsers.add_parser("tier", help=HELP, description=DESCRIPTION,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("names", nargs="+", metavar="NAME", help="persona (agent) names")
    p.add_argument("tier", choices=TIERS, help="the tier to move them to")
    p.add_argument("--reason", default="", help="why (kept in history)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    return p


def run(args: argparse.Namespace, settings: Settings | None = None) -> int:
    """Run ``tier``; returns the exit code (refusals raise CtxtuiError)."""
    from ctxtui.core.tiers import set_tier
    from ctxtui.core.workspace import Workspace

    ws = Workspace(settings or settings_from(args))
    result = set_tier(ws, list(args.names), args.tier, reason=args.reason)
    if args.json:
        sys.stdout.write(json.dumps(result.to_json(), indent=2) + "\n")
        return 0
    for c in result.changed:
        print(f"{c.name}: {c.before} -> {c.after}")
    for name in result.unchanged:
        print(f"{name}: already {args.tier}")
    for line in result.changes:
        print(f"  {line}")
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    if result.entry:
        print(f"history entry {result.entry} (undo: ctxtui undo)")
    return 0


def _adopt() -> None:
    from ctxtui.cli.base import adopt

    adopt(('tier',), register, run)


_adopt()
