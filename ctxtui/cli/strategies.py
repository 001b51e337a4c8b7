"""Strategy subcommands: claude-md, migrate, rollback, undo, history, profile, find."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ctxtui.analytics.adaptive_choice import adaptive_proposal, plan_adaptive
from ctxtui.cli.base import UserError, command, open_workspace
from ctxtui.cli.output import console, emit_json, new_table, printable, styled, wants_json
from ctxtui.core import profiles, strategies
from ctxtui.core.claude_md import DENSITIES, display_path, trigger
from ctxtui.core.config import STRATEGIES, Settings
from ctxtui.core.history import Entry
from ctxtui.core.library import read_body
from ctxtui.core.search import rank
from ctxtui.core.workspace import Workspace

if TYPE_CHECKING:
    from rich.table import Table

    from ctxtui.analytics.adaptive import AdaptivePlan


def _claude_md_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--density", choices=DENSITIES, help="cold index density (default: by library size)")
    p.add_argument("--write", action="store_true", help="write it to CLAUDE.md (atomic)")
    p.add_argument("--diff", action="store_true", help="show a diff against the file on disk")
    p.add_argument("--force", action="store_true",
                   help="with --write: replace the block even if it was edited by hand (the edit stays in history)")


@command("claude-md", _claude_md_args)
def cmd_claude_md(args: argparse.Namespace, settings: Settings) -> int:
    ws = Workspace(settings)
    pv = strategies.preview(ws, args.density)
    if args.write:
        wrote = strategies.write_preview(ws, args.density, force=args.force)
        if wants_json(args):
            emit_json(pv.to_json() | {"written": wrote})
        else:
            console.print(f"{'wrote' if wrote else 'unchanged:'} {pv.path} ({pv.block_tokens:,} block tokens, density {pv.density}; "
                          f"{_net(pv.net_saving, pv.managed_tokens, pv.eager_tokens)})")
        return 0
    if wants_json(args):
        emit_json(pv.to_json())
        return 0
    print(pv.diff if args.diff else pv.block)
    costs = ", ".join(f"{d} {n:,}" for d, n in pv.costs.items())
    console.print(f"block: {pv.block_tokens:,} tokens (cl100k), density {pv.density} "
                  f"(default for this library: {pv.default_density}); all densities: {costs}", style="dim")
    console.print(_net(pv.net_saving, pv.managed_tokens, pv.eager_tokens), style="dim")
    return 0


def _net(saving: int, managed: int, eager: int) -> str:
    """One line on what the agent lines and block save against eager."""
    if saving >= 0:
        return f"agent lines + block: {managed:,} tokens, {saving:,} fewer than eager ({eager:,})"
    return f"agent lines + block: {managed:,} tokens, {-saving:,} MORE than eager ({eager:,}): eager is cheaper here"


def _migrate_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--to", required=True, choices=STRATEGIES, help="target strategy")
    p.add_argument("--from", dest="from_", choices=STRATEGIES, help="refuse unless the workspace is on this strategy")
    p.add_argument("--reason", default="", help="why (kept in history)")
    p.add_argument("--dry-run", action="store_true", help="print the plan only")
    p.add_argument("--density", choices=DENSITIES, help="cold index density for the CLAUDE.md block")
    p.add_argument("--hot", nargs="+", metavar="NAME", help="hot set for lazy loading (pins are added)")
    p.add_argument("--replace-imports", action="store_true", help="drop @imports of persona files from CLAUDE.md")
    p.add_argument("--force", action="store_true",
                   help="switch even when the plan costs more startup tokens than eager (the net-savings guard)")
    p.add_argument("--yes", "-y", action="store_true",
                   help="adaptive: apply the proposal without asking (otherwise it is shown and confirmed)")
    p.add_argument("--transcripts", type=Path, help="adaptive: transcripts folder (default ~/.claude/projects)")
    p.add_argument("--half-life", type=float, default=14.0, help="adaptive: recency half-life of usage in days")


def print_changes(lines: list[str], limit: int = 12) -> None:
    """Change lines; long lists are summarised by action."""
    if not lines:
        console.print("  nothing to change")
    for line in lines[:limit]:
        console.print(f"  {line}")
    if len(lines) > limit:
        rest: dict[str, int] = {}
        for line in lines[limit:]:
            rest[line.split(" ", 1)[0]] = rest.get(line.split(" ", 1)[0], 0) + 1
        console.print("  … and " + ", ".join(f"{n} more {verb}" for verb, n in rest.items()))


def print_plan(plan: strategies.Plan) -> None:
    """The human form of a plan."""
    console.print(styled((plan.heading(), "bold")))
    print_changes(plan.changes())
    delta = plan.tokens_after - plan.tokens_before
    hot = ", ".join(plan.hot_after[:10]) + (f" … ({len(plan.hot_after)} in all)" if len(plan.hot_after) > 10 else "")
    console.print(f"startup tokens (agent lines + ctxtui's block): {plan.tokens_before:,} → {plan.tokens_after:,} ({delta:+,}); "
                  f"eager {plan.eager_tokens:,}; hot after: {hot or 'none'}")
    for note in plan.notes:
        console.print(styled(("note:", "yellow"), f" {note}"))
    if plan.refusal:
        label = ("forced past the net-savings guard:", "yellow") if plan.request.get("force") else ("refused without --force:", "red")
        console.print(styled(label, f" {plan.refusal}"))


def print_proposal(prop: AdaptivePlan) -> None:
    """The adaptive proposal: each persona's tier, why, and what it costs."""
    table = new_table(title=f"Adaptive proposal (cap {prop.cap})")
    for col in ("persona", "tier", "startup", "on demand", "why"):
        table.add_column(col, justify="right" if col in ("startup", "on demand") else "left")
    unused: dict[str, int] = {}
    for d in prop.decisions:
        tier = "hot file" if d.hot else "cold file" if d.tier == "file" else d.tier
        if not d.hot and d.reason.endswith("not used in the analysed sessions"):
            unused[tier] = unused.get(tier, 0) + 1  # the long tail: one summary line
            continue
        table.add_row(d.name, tier, f"{d.startup_tokens:,}", f"{d.on_demand_tokens:,.0f}",
                      d.reason.split(": ", 1)[-1])
    console.print(table)
    if unused:
        console.print(f"not used in the analysed sessions: {sum(unused.values())} persona(s), "
                      + ", ".join(f"{n} {t}" for t, n in sorted(unused.items()))
                      + " (--json lists each)")
    for note in prop.notes:
        console.print(note, style="dim")


def _confirmed(args: argparse.Namespace) -> bool:
    """--yes, or the user's yes at a terminal; refused in one line without either."""
    if args.yes:
        return True
    if not (sys.stdin.isatty() and sys.stdout.isatty()) or wants_json(args):
        raise UserError("the adaptive proposal changes the hot set and tiers: review it with --dry-run, "
                        "then apply it with --yes")
    try:
        answer = input("apply this proposal? [y/N] ")
    except EOFError:
        answer = ""
    return answer.strip().lower() in ("y", "yes")


def _ask_first(args: argparse.Namespace, show: Callable[[], object]) -> tuple[bool, bool]:
    """(shown, confirmed): at a terminal without --yes, SHOW what would change, then ask
    (:func:`_confirmed`); a no is said in one line."""
    shown = not args.yes and not wants_json(args) and sys.stdin.isatty() and sys.stdout.isatty()
    if shown:
        show()
    ok = _confirmed(args)
    if not ok:
        console.print("not applied; nothing changed")
    return shown, ok


def run_adaptive(args: argparse.Namespace, ws: Workspace, prop: AdaptivePlan, *, reason: str = "adaptive proposal",
                 kind: str = "migrate") -> int:
    """Show an adaptive proposal and apply it (lazy loading with its hot set and tiers, one
    journalled change) with ``--yes`` or the user's yes at a terminal; ``--dry-run`` shows it."""
    # prop.decide runs again under the lock: a project changed since the proposal is refused
    plan = plan_adaptive(ws, prop, from_=getattr(args, "from_", None), reason=reason,
                         density=getattr(args, "density", None), kind=kind,
                         replace_imports=getattr(args, "replace_imports", False), force=args.force)
    if args.dry_run:
        if wants_json(args):
            emit_json({"proposal": prop.to_json(), "plan": plan.to_json()})
        else:
            print_proposal(prop)
            print_plan(plan)
        return 0
    def show() -> None:
        print_proposal(prop)
        print_plan(plan)

    shown, ok = _ask_first(args, show)
    if not ok:
        return 1
    entry = _apply(args, ws, plan)
    if entry is None:
        return 0
    if wants_json(args):
        emit_json({"proposal": prop.to_json(), "entry": entry.to_json()})
        return 0
    if not shown:
        show()
    console.print(f"recorded as history entry {entry.id}; undo with `ctxtui undo`")
    return 0


def _apply(args: argparse.Namespace, ws: Workspace, plan: strategies.Plan) -> Entry | None:
    """Apply a plan; None (said on stdout) when it would change nothing."""
    try:
        return strategies.apply(ws, plan)
    except strategies.NothingToChange as exc:
        emit_json({"entry": None, "message": str(exc)}) if wants_json(args) else console.print(str(exc))
        return None


@command("migrate", _migrate_args)
def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    ws = open_workspace(settings)
    if args.to == "adaptive" and args.hot is None:
        prop = adaptive_proposal(ws, settings, args.transcripts, args.half_life)
        if prop is not None:
            return run_adaptive(args, ws, prop, reason=args.reason or "adaptive proposal")
    if args.to == "adaptive":  # no usage to go on (or --hot): the context mode picks
        plan = plan_adaptive(ws, None, from_=args.from_, reason=args.reason, hot=args.hot, density=args.density,
                             replace_imports=args.replace_imports, force=args.force)
    else:
        plan = strategies.plan(ws, args.to, from_=args.from_, reason=args.reason, hot=args.hot,
                               density=args.density, replace_imports=args.replace_imports, force=args.force)
    if args.dry_run:
        emit_json(plan.to_json()) if wants_json(args) else print_plan(plan)
        return 0
    if args.to == "adaptive" and not _ask_first(args, lambda: print_plan(plan))[1]:
        return 1  # adaptive applies only with the user's yes, whatever it picked
    entry = _apply(args, ws, plan)
    if entry is None:
        return 0
    if wants_json(args):
        emit_json(entry.to_json())
    else:
        print_plan(plan)
        console.print(f"recorded as history entry {entry.id}; undo with `ctxtui undo`")
    return 0


ROLLBACK_HELP = """Without options (or as `ctxtui undo`): step back over one change; again goes one
further back (not a toggle). --id ID: restore the state BEFORE change ID. --to STRATEGY:
restore the most recent earlier state that used STRATEGY. Files come back byte for byte; the
rollback is recorded as a change of its own (undo it with `rollback --id`). A rollback that
would change nothing is not recorded. A file edited since ctxtui's last change is never
overwritten without --force."""


def _rollback_args(p: argparse.ArgumentParser) -> None:
    p.description = ROLLBACK_HELP
    g = p.add_mutually_exclusive_group()
    g.add_argument("--to", choices=strategies.CONCRETE, help="restore the most recent earlier state that used this strategy")
    g.add_argument("--id", dest="entry_id", help="restore the state before this history entry (its id or number)")
    p.add_argument("--reason", default="", help="why (kept in history; optional)")
    p.add_argument("--force", action="store_true",
                   help="overwrite files edited since ctxtui's last change (the edits are kept in history)")


def _print_rollback(args: argparse.Namespace, entry: Entry) -> None:
    if wants_json(args):
        emit_json(entry.to_json())
        return
    print_changes(entry.changes)
    console.print(f"{'undid' if entry.undoes else 'rolled back'}: {entry.notes[0].removeprefix('restored ')} "
                  f"(now {entry.to_strategy}); recorded as entry {entry.id}")
    for note in entry.notes[1:]:  # edits kept, or overwritten by --force
        console.print(f"  {note}", style="dim")


@command("rollback", _rollback_args)
def cmd_rollback(args: argparse.Namespace, settings: Settings) -> int:
    ws = open_workspace(settings)
    try:
        entry = strategies.rollback(ws, to=args.to, entry_id=args.entry_id, reason=args.reason,
                                    force=args.force)
    except strategies.NothingToChange as exc:
        emit_json({"entry": None, "message": str(exc)}) if wants_json(args) else console.print(str(exc))
        return 0
    _print_rollback(args, entry)
    return 0


def _undo_args(p: argparse.ArgumentParser) -> None:
    p.description = ("Step back over the newest change not undone yet; again goes one further "
                     "back (not a toggle). Files come back byte for byte, and the undo is "
                     "recorded (`rollback --id` reverses it). For --id and --to, see `ctxtui "
                     "rollback --help`. A file edited since is never overwritten without --force.")
    p.add_argument("--reason", default="", help="why (kept in history; optional)")
    p.add_argument("--force", action="store_true",
                   help="overwrite files edited since ctxtui's last change (the edits are kept in history)")


@command("undo", _undo_args)
def cmd_undo(args: argparse.Namespace, settings: Settings) -> int:
    ws = open_workspace(settings)
    _print_rollback(args, strategies.undo(ws, reason=args.reason, force=args.force))
    return 0


def history_table(entries: list[Entry]) -> Table:
    """History entries as a table."""
    table = new_table(title="Migration history")
    # short cells never wrap; the reason takes what is left (`rollback --id 7` takes the number)
    for col in ("id", "time", "kind", "Δ tokens"):
        table.add_column(col, justify="right" if col in ("id", "Δ tokens") else "left", no_wrap=True)
    table.add_column("strategy")
    table.add_column("reason", ratio=1, min_width=12, overflow="fold")
    for e in entries:
        number = e.id.split("-", 1)[0].lstrip("0") or "0"
        strategy = e.to_strategy if e.from_strategy == e.to_strategy else f"{e.from_strategy} → {e.to_strategy}"
        table.add_row(number, e.time[5:16].replace("T", " "), e.kind, f"{e.token_delta:+,}", strategy, e.reason)
    return table


@command("history")
def cmd_history(args: argparse.Namespace, settings: Settings) -> int:
    entries = strategies.history(Workspace(settings))
    if wants_json(args):
        emit_json({"entries": [e.to_json() for e in entries]})
    else:
        console.print(history_table(entries))
    return 0


def _profile_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=("save", "use", "list"), help="save the hot set, use one (a migration), or list them")
    p.add_argument("name", nargs="?", help="profile name (save, use)")
    p.add_argument("--personas", nargs="+", metavar="NAME", help="with save: these instead of the hot set")
    p.add_argument("--dry-run", action="store_true", help="with use: print the plan only")
    p.add_argument("--force", action="store_true", help="with use: switch even when it costs more than eager")


@command("profile", _profile_args)
def cmd_profile(args: argparse.Namespace, settings: Settings) -> int:
    ws = open_workspace(settings)
    if args.action == "list":
        saved = profiles.profiles(ws)
        if wants_json(args):
            emit_json({"profiles": saved})
        else:
            for name, names in saved.items():
                console.print(f"{name}: {', '.join(names) or '(empty)'}")
            if not saved:
                console.print("no profiles saved; `ctxtui profile save NAME` saves the hot set")
        return 0
    if not args.name:
        raise UserError(f"profile {args.action} needs a NAME")
    if args.action == "save":
        names = profiles.save(ws, args.name, args.personas)
        if wants_json(args):
            emit_json({"profile": args.name, "personas": names})
        else:
            console.print(f"saved profile {args.name}: {', '.join(names) or '(empty)'}")
        return 0
    result = profiles.use(ws, args.name, dry_run=args.dry_run, force=args.force)
    if wants_json(args):
        emit_json({"profile": args.name} | ({"plan": result.to_json()} if isinstance(result, strategies.Plan)
                                           else {"entry": result.to_json(), "hot": ws.hot_names()}))
    elif isinstance(result, strategies.Plan):
        print_plan(result)
    else:
        console.print(f"switched to profile {args.name} (entry {result.id}); hot: {', '.join(ws.hot_names())}")
    return 0


def _find_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("query", nargs="+", help="words describing the task")
    p.add_argument("--all", action="store_true", help="search hot personas too")
    p.add_argument("--limit", type=int, default=5, help="how many personas to show (default 5)")


@command("find", _find_args)
def cmd_find(args: argparse.Namespace, settings: Settings) -> int:
    if not " ".join(args.query).strip():
        raise UserError("find needs words to look for (`ctxtui find sql tuning`)")
    ws = Workspace(settings)
    pool = ws.library.unique() if args.all else ws.cold()
    bodies = {p.name: read_body(p) for p in pool}
    hits = rank(pool, " ".join(args.query), bodies, limit=args.limit)
    if wants_json(args):
        emit_json({"results": [{"name": h.persona.name, "score": round(h.score, 3), "summary": trigger(h.persona.description),
                                "path": str(h.persona.path)} for h in hits]})
        return 0
    for h in hits:
        print("\t".join(printable(t) for t in (
            h.persona.name, trigger(h.persona.description),
            str(display_path(h.persona.path, settings.workspace)))))
    if not hits:
        print("no match; try other words, or `ctxtui list --cold`")
    return 0
