"""Analytics subcommands: analyze (and the strategy report), auto-optimize, export-training,
calibrate. Each reads Claude Code transcripts (``--transcripts DIR``)."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone
from pathlib import Path

from ctxtui.analytics.transcripts import PendingRead, ReadStats, Session, start_read
from ctxtui.cli.base import UserError, command, open_workspace
from ctxtui.cli.output import console, emit_json, new_table, wants_json
from ctxtui.core import config
from ctxtui.core.config import Settings

# The workspace, the strategy report, the optimiser, training export and calibration are
# imported by the command that runs them: ``analyze`` is timed against ccusage
# (bench/bench_transcripts.py), and it starts reading transcripts before the workspace loads.


def _transcripts(p: argparse.ArgumentParser) -> None:
    p.add_argument("--transcripts", type=Path, help="transcripts folder (default ~/.claude/projects)")
    p.add_argument("--project", help="only sessions of this project (folder name or path part)")
    p.add_argument("--since", help="only sessions since this date (YYYY-MM-DD)")
    p.add_argument("--no-cache", action="store_true", dest="no_cache",
                   help="read every transcript again (unchanged ones are otherwise taken from ctxtui's cache)")


def load_sessions(args: argparse.Namespace, settings: Settings) -> tuple[list[Session], ReadStats]:
    """Sessions selected by --transcripts, --project and --since."""
    return start_sessions(args, settings).result()


def start_sessions(args: argparse.Namespace, settings: Settings) -> PendingRead:
    """Start reading the sessions selected by --transcripts, --project and --since (a large
    history is read by other processes meanwhile)."""
    root = args.transcripts or settings.transcripts
    if not root.exists():
        raise UserError(f"no transcripts at {root} (use --transcripts DIR)")
    since = None
    if args.since:
        try:
            since = datetime.fromisoformat(args.since).replace(tzinfo=timezone.utc)
        except ValueError:
            raise UserError(f"--since {args.since!r} is not a date like 2026-01-31") from None
    from ctxtui.analytics.transcript_cache import default_folder

    cache = None if args.no_cache else default_folder()
    return start_read(root, project=args.project, since=since, cache=cache)


def _analyze_args(p: argparse.ArgumentParser) -> None:
    _transcripts(p)
    p.add_argument("--compare", choices=["all"], help="compare every strategy on this library and usage")
    p.add_argument("--report", type=Path, metavar="FILE", help="write the comparison (markdown + HTML)")
    p.add_argument("--generate-report", type=Path, metavar="FILE", dest="generate_report",
                   help="the original scripts' spelling of --compare all --report FILE")
    p.add_argument("--price", type=float, default=3.0, help="USD per million input tokens (default 3.0)")


@command("analyze", _analyze_args)
def cmd_analyze(args: argparse.Namespace, settings: Settings) -> int:
    reading = start_sessions(args, settings)  # first: the readers overlap the imports below
    try:
        from ctxtui.analytics.workspace_usage import workspace_usage
        from ctxtui.core.workspace import Workspace

        ws = Workspace(settings)
    except BaseException:  # a bad workspace config: no reader is left running
        reading.cancel()
        raise
    sessions, stats = reading.result()
    report_path = args.report or args.generate_report
    if args.compare or report_path:
        from ctxtui.analytics import report

        comp = report.compare(ws, sessions, args.price)
        written = report.write_report(comp, report_path) if report_path else []
        if wants_json(args):
            emit_json(comp.to_json() | {"files": [str(p) for p in written]})
        else:
            print(report.markdown(comp))
            for p in written:
                console.print(f"wrote {p}")
        return 0
    a = workspace_usage(ws, sessions, stats)
    if wants_json(args):
        emit_json(a.to_json())
        return 0
    if not a.sessions:
        asked = " and ".join(x for x in (f"--project {args.project!r}" if args.project else "",
                                         f"--since {args.since}" if args.since else "") if x)
        console.print(f"no sessions {'match ' + asked if asked else 'with prompts or usage'} under "
                      f"{args.transcripts or settings.transcripts}", style="yellow")
    t = new_table(title=f"Usage: {a.sessions} sessions, {a.invocations} invocations")
    from ctxtui.analytics.usage import persona_source
    from ctxtui.core.claude_code.profiles import builtin_agent_names

    builtins = builtin_agent_names()
    for col in ("persona", "invocations", "sessions", "projects", "last used", "tokens inside", "source"):
        t.add_column(col, justify="right" if col in ("invocations", "sessions", "projects", "tokens inside") else "left")
    for u in a.personas:
        t.add_row(u.name, str(u.invocations), str(u.sessions), str(u.projects), u.last_used[:16], f"{u.tokens:,}", persona_source(u, builtins))
    console.print(t)
    if a.pairs:
        pt = new_table(title="Used together (lift > 1: more often than chance)")
        for col in ("a", "b", "sessions", "lift"):
            pt.add_column(col)
        for pair in a.pairs[:15]:
            pt.add_row(pair.a, pair.b, str(pair.sessions), f"{pair.lift:.2f}")
        console.print(pt)
    if a.triggers:
        tt = new_table(title="Trigger words (log-odds z-score vs all prompts)")
        tt.add_column("persona")
        tt.add_column("terms")
        for name, trig in a.triggers.items():
            tt.add_row(name, ", ".join(f"{x.term} ({x.z:.1f})" for x in trig))
        console.print(tt)
    console.print(f"never used ({len(a.never_used)}): {', '.join(a.never_used[:20])}{' …' if len(a.never_used) > 20 else ''}")
    console.print(f"hot but rarely used: {', '.join(a.hot_rarely_used) or 'none'}")
    console.print(f"read {stats.files} files, {stats.lines:,} lines; skipped {stats.malformed} malformed, "
                  f"{stats.oversize} oversize lines, {stats.skipped_compaction} compaction files", style="dim")
    return 0


def _optimize_args(p: argparse.ArgumentParser) -> None:
    _transcripts(p)
    p.add_argument("--based-on", choices=["usage_patterns", "usage_and_router"], default="usage_patterns",
                   help="usage_patterns: the hot set that covers the most invocations in transcripts; "
                        "usage_and_router: the adaptive proposal, the hot set and each persona's tier "
                        "(file, hidden, skill) from this project's usage and the router")
    p.add_argument("--yes", "-y", action="store_true",
                   help="usage_and_router: apply without asking (otherwise it is shown and confirmed)")
    p.add_argument("--dry-run", action="store_true", help="show the proposal only")
    p.add_argument("--half-life", type=float, default=14.0, help="recency half-life in days (default 14)")
    p.add_argument("--force", action="store_true", help="apply even when it costs more startup tokens than eager")


@command("auto-optimize", _optimize_args)
def cmd_auto_optimize(args: argparse.Namespace, settings: Settings) -> int:
    from ctxtui.analytics import optimize
    from ctxtui.cli.strategies import adaptive_proposal, print_plan, run_adaptive
    from ctxtui.core import strategies

    ws = open_workspace(settings)
    sessions, _ = load_sessions(args, settings)
    if args.based_on == "usage_and_router":
        adaptive = adaptive_proposal(ws, settings, args.transcripts, args.half_life, sessions)
        if adaptive is None:
            raise UserError("no usage of this project in the transcripts: nothing to base tiers on")
        return run_adaptive(args, ws, adaptive, reason="auto-optimize (usage and router)", kind="optimize")
    prop = optimize.propose(ws, sessions, args.half_life, priced=False)  # the plan is printed below
    result = optimize.apply(ws, prop, dry_run=args.dry_run, force=args.force)
    if wants_json(args):
        emit_json(prop.to_json() | ({"plan": result.to_json()} if isinstance(result, strategies.Plan) else {"entry": result.to_json()}))
        return 0
    console.print(f"proposed hot set: {', '.join(prop.hot) or 'none'} (cap {prop.cap}, suggested cap {prop.suggested_cap}; "
                  f"covers {prop.coverage_pct}% of expected invocations)")
    for r in prop.reasons:
        console.print(f"  {r}")
    if isinstance(result, strategies.Plan):
        print_plan(result)
    else:
        console.print(f"applied as history entry {result.id}; undo with `ctxtui rollback`")
    return 0


def _export_args(p: argparse.ArgumentParser) -> None:
    from ctxtui.analytics import training

    _transcripts(p)
    p.add_argument("--out", type=Path, required=True, help="train file (validation goes beside it)")
    p.add_argument("--format", choices=training.EXPORT_FORMATS, default=training.DEFAULT_FORMAT,
                   help="router (default): prompts and the persona each led to, for a router; "
                        "openai-chat, anthropic, jsonl include Claude's responses (see the provider's terms)")
    p.add_argument("--validation", type=int, default=10, help="percent of examples for validation (default 10)")


@command("export-training", _export_args)
def cmd_export_training(args: argparse.Namespace, settings: Settings) -> int:
    from ctxtui.core.workspace import Workspace

    ws = Workspace(settings)
    sessions, _ = load_sessions(args, settings)
    from ctxtui.analytics import router_export

    summary, notice = router_export.export_any(ws, sessions, args.out, args.format, args.validation)
    if notice:
        print(f"ctxtui: {notice}", file=sys.stderr)
    if wants_json(args):
        emit_json(vars(summary))
        return 0
    console.print(f"train {summary.train}, validation {summary.validation} → {', '.join(summary.files)}")
    for name, n in sorted(summary.per_persona.items(), key=lambda kv: -kv[1]):
        console.print(f"  {name}: {n}")
    for why, n in getattr(summary, "skipped", {}).items():
        console.print(f"  skipped {n}: {why}", style="dim")
    return 0


def _calibrate_args(p: argparse.ArgumentParser) -> None:
    _transcripts(p)
    p.add_argument("--save", action="store_true", help="store the factor in the settings file")


@command("calibrate", _calibrate_args)
def cmd_calibrate(args: argparse.Namespace, settings: Settings) -> int:
    from ctxtui.core.workspace import Workspace

    ws = Workspace(settings)
    from ctxtui.analytics.calibrate import calibrate
    from ctxtui.analytics.events import EventStore

    sessions, _ = load_sessions(args, settings)
    events = EventStore.default().events(settings.workspace)
    cal = calibrate(ws, sessions, events)
    if args.save and cal.factor is not None:
        config.save_setting("default_factor", cal.factor)
    if wants_json(args):
        emit_json(cal.to_json())
        return 0
    if cal.factor is None:
        console.print(f"{cal.n} usable session(s): {cal.note} (x{settings.default_factor})")
        return 0
    console.print(f"factor {cal.factor} (cl100k → Claude), fixed part {cal.fixed:,.0f} tokens "
                  f"(Claude Code's own prompt and tools), from {cal.n} sessions; spread ±{cal.spread:,.0f} tokens, R² {cal.r2}"
                  + ("; saved" if args.save else "; --save stores it"))
    return 0
