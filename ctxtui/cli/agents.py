"""Persona commands: index, status, list, activate, deactivate."""

from __future__ import annotations

import argparse
import json
import os
import sys

import msgspec

from ctxtui.cli.base import command, open_workspace
from ctxtui.cli.output import (
    _plain_dumps,
    console,
    emit_json,
    new_table,
    printable,
    styled,
    wants_json,
)
from ctxtui.core import tokens, verdicts
from ctxtui.core.budget import Budget
from ctxtui.core.claude_code import AgentVerdict
from ctxtui.core.config import Settings
from ctxtui.core.persona import Persona
from ctxtui.core.workspace import Workspace


def persona_json(p: Persona, verdict: AgentVerdict | None = None, startup: int | None = None) -> dict:
    """The stable JSON shape of one persona: ctxtui's own reading, and with VERDICT what
    Claude Code makes of the file (``claude_code``: loads, reason, name, description, tools,
    line). With VERDICT, ``startup_tokens`` is what its listing line adds to the startup
    context, as every table and the eager total count it (0 when Claude Code skips it;
    STARTUP: that count, when the caller counted it already)."""
    extra = {"claude_code": verdicts.to_json(verdict)} if verdict is not None else {}
    if verdict is None:
        startup = p.startup_tokens
    elif startup is None:
        startup = verdicts.line_tokens(verdict)
    return {
        "name": p.name,
        "path": str(p.path),
        "status": p.status.value,
        "problem": p.problem,
        "problems": p.problems,
        "startup_tokens": startup,
        "full_tokens": p.full_tokens,
        "description": p.description,
        "tools": p.tools,
        "model": p.model,
        **extra,
    }


def _json_piece(value: object, depth: int) -> bytes:
    """VALUE as ``json.dumps(..., indent=2)`` writes it DEPTH levels down (ASCII bytes)."""
    try:  # ASCII (nearly every persona): nothing to escape, no scan for it
        raw = msgspec.json.format(msgspec.json.encode(value), indent=2)
    except (msgspec.EncodeError, TypeError, ValueError, OverflowError):
        raw = None
    if raw is None or not raw.isascii():
        raw = _plain_dumps(value)
    if raw is None:
        raw = json.dumps(value, indent=2, default=str).encode("ascii")
    return raw.replace(b"\n", b"\n" + b"  " * depth)


def _json_items(items: list[dict]) -> bytes:
    """Items of the ``personas`` array as ``json.dumps(..., indent=2)`` writes them there, each
    after its line break (``,`` between them): the chunk encoded at once when it is ASCII."""
    try:
        raw = msgspec.json.format(msgspec.json.encode(items), indent=2)
    except (msgspec.EncodeError, TypeError, ValueError, OverflowError):
        raw = None
    if raw is not None and raw.isascii() and raw.startswith(b"[\n") and raw.endswith(b"\n]"):
        # "[\n  {...},\n  {...}\n]": the items one level deeper, without the brackets
        return raw[1:-2].replace(b"\n", b"\n  ")
    return b",".join(b"\n    " + _json_piece(item, 2) for item in items)


def _line_counts(chunk: list[tuple[Persona, AgentVerdict]], remember: bool) -> list[int]:
    """What each loaded verdict's listing line adds to the startup context (``"\n" + line``).

    Where Claude Code's line is ctxtui's own startup entry, the index counted it already: cl100k
    splits a leading newline off as a token of its own (a line starts ``- ``), so the count is
    that one plus one. REMEMBER (the index counted new files): such counts are remembered as
    if counted, so that a later ``status`` finds them."""
    texts, known = [], []
    for p, v in chunk:
        if v.loaded:
            texts.append("\n" + v.line)
            known.append(p.startup_tokens + 1 if p.usable and p.startup_tokens and v.line == p.startup_text else -1)
    todo = [t for t, n in zip(texts, known, strict=True) if n < 0]
    counted = iter(tokens.count_many(todo)) if todo else iter(())
    if remember:
        tokens.remember_counts({t: n for t, n in zip(texts, known, strict=True) if n >= 0})
    return [n if n >= 0 else next(counted) for n in known]


def _index_json(ws: Workspace) -> None:
    """``index --json``, written a chunk of personas at a time (the same bytes as one
    ``json.dumps(..., indent=2)`` of the whole object, without ever holding it): each chunk's
    files are read and judged, their listing lines counted in one memo lookup, and written."""
    lib = ws.library
    profile = ws.claude_code.profile
    out = sys.stdout.buffer
    sys.stdout.flush()
    out.write(b'{\n  "roots": ' + _json_piece([str(r) for r in lib.roots], 1)
              + b',\n  "claude_code": ' + _json_piece(ws.claude_code.to_json(), 1) + b',\n  "personas": [')
    eager = {id(p): p for p in lib.eager()}
    eager_counts: dict[int, int] = {}
    first = True
    for chunk in verdicts.iter_verdicts(lib.personas, profile, lib.unchanged):
        counts = iter(_line_counts(chunk, lib.tokenised > 0))
        items = []
        for p, v in chunk:
            n = next(counts) if v.loaded else 0
            if id(p) in eager:
                eager_counts[id(p)] = n
            items.append({**persona_json(p, v, n), "tier": ws.tier_of(p.name)})
        out.write((b"" if first else b",") + _json_items(items))
        first = False
    out.write(b"]" if first else b"\n  ]")
    # an eager persona outside the indexed files (never expected) is judged on its own
    rest = [ws.verdict(p) for k, p in eager.items() if k not in eager_counts]
    eager_total = sum(eager_counts.values()) + sum(tokens.count_many(["\n" + v.line for v in rest if v.loaded]))
    duplicates = [{"name": d.name, "winner": str(d.winner), "others": [str(o) for o in d.others],
                   "identical": d.identical, "reason": d.reason} for d in lib.duplicates]
    out.write(b',\n  "duplicates": ' + _json_piece(duplicates, 1)
              + b',\n  "cache_hits": ' + _json_piece(lib.cache_hits, 1)
              + b',\n  "tokenised": ' + _json_piece(lib.tokenised, 1)
              + b',\n  "eager_startup_tokens": ' + _json_piece(eager_total, 1) + b"\n}\n")
    out.flush()


@command("index")
def cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    ws = Workspace(settings)
    lib = ws.library
    if wants_json(args):
        if getattr(sys.stdout, "buffer", None) is not None and os.linesep == "\n":
            _index_json(ws)
            return 0
        # each file read and judged once, the remembered verdicts and counts looked up together
        judged = dict(zip(map(id, lib.personas), verdicts.verdicts_for(lib.personas, ws.claude_code.profile),
                          strict=True))
        eager = [judged.get(id(p)) or ws.verdict(p) for p in lib.eager()]
        emit_json({
            "roots": [str(r) for r in lib.roots],
            "claude_code": ws.claude_code.to_json(),
            "personas": [{**persona_json(p, judged[id(p)]), "tier": ws.tier_of(p.name)}
                         for p in lib.personas],
            "duplicates": [
                {"name": d.name, "winner": str(d.winner), "others": [str(o) for o in d.others],
                 "identical": d.identical, "reason": d.reason}
                for d in lib.duplicates
            ],
            "cache_hits": lib.cache_hits,
            "tokenised": lib.tokenised,
            "eager_startup_tokens": sum(tokens.count_many(["\n" + v.line for v in eager if v.loaded])),
        }, plain=True)
        return 0
    table = new_table(title=f"Library: {', '.join(str(r) for r in lib.roots if r.is_dir())}")
    for col in ("name", "status", "startup", "full", "problem"):
        table.add_column(col, justify="right" if col in ("startup", "full") else "left")
    for p in sorted(lib.personas, key=lambda p: (p.status.value != "ok", p.name)):
        style = {"ok": "", "repaired": "yellow", "invalid": "red"}[p.status.value]
        v = ws.verdict(p)
        problem = p.problem if v.loaded else f"Claude Code skips this: {v.reason}"
        table.add_row(p.name, styled((p.status.value, style)),
                      f"{verdicts.line_tokens(v):,}", f"{p.full_tokens:,}", problem)
    console.print(table)
    counts = {s: sum(1 for p in lib.personas if p.status.value == s) for s in ("ok", "repaired", "invalid")}
    console.print(
        f"{len(lib.personas)} files: {counts['ok']} ok, {counts['repaired']} repaired, "
        f"{counts['invalid']} invalid; {len(lib.by_name)} names, {len(lib.duplicates)} duplicated. "
        f"Tokenised {lib.tokenised}, from cache {lib.cache_hits}. Counts are raw cl100k tokens."
    )
    skipped = sum(1 for p in lib.personas if not ws.verdict(p).loaded)
    console.print(f"{ws.claude_code.describe()} skips {skipped} of them; startup is its listing line.")
    for d in lib.duplicates:
        console.print(f"duplicate {d.name!r}: {d.reason}", style="dim")
    return 0


def print_budget(b: Budget, ws: Workspace) -> None:
    """The human form of a budget."""
    table = new_table(title=f"Startup context of {ws.claude_code.describe()} (raw cl100k tokens)")
    for col in ("kind", "item", "scope", "tokens", "basis"):
        table.add_column(col, justify="right" if col == "tokens" else "left")
    rows = b.whole["items"] if b.whole is not None else [{**vars(i), "basis": "computed"} for i in b.items]
    for item in rows:
        size = "unknown" if item["tokens"] is None else f"{item['tokens']:,}"
        label = item["label"] + (" *" if item.get("managed") else "")
        table.add_row(item["kind"], label, item["scope"], size, item["basis"])
    console.print(table)
    colour = "red" if b.over_target else "green"
    console.print(styled(
        f"Hot: {len(ws.visible_hot())} / cap {ws.cap}   Startup: {b.total_tokens:,} tokens "
        f"(≈{b.estimated_claude_tokens:,} Claude tokens at x{b.factor}); managed (*): ",
        (f"{b.startup_tokens:,}", colour),
        f"   Eager: {b.eager_startup_tokens:,}   Reduction: {b.reduction_pct}%   "
        f"Context left: {b.context_left:,} of {b.window:,}"
    ))
    measured = b.whole.get("measured_total") if b.whole is not None else None
    if measured and b.whole is not None:
        how = [f"Claude Code {b.whole['measured_version']}"] if b.whole.get("measured_version") else []
        if b.whole.get("measured_entrypoint") and b.whole.get("measured_entrypoint") != b.whole.get("entrypoint"):
            how.append("a -p session" if b.whole["measured_entrypoint"] == "print" else "an interactive session")
        console.print(
            f"Measured: {measured:,} tokens (cl100k) at the start of this project's newest session"
            + (f" ({', '.join(how)})" if how else "") + f"; predicted now: {b.total_tokens:,}")
    for w in b.warnings:
        console.print(styled(("warning:", "yellow"), f" {w}"))


@command("status")
def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    ws = Workspace(settings)
    b = ws.budget()
    if wants_json(args):
        data = b.to_json()
        emit_json({
            "workspace": str(settings.workspace),
            "hot": ws.hot_names(),
            "user_hot": [h.name for h in ws.user_hot],
            "cap": ws.cap,
            "cap_used": len(ws.visible_hot()),
            "claude_code": {**ws.claude_code.to_json(), "text": ws.claude_code.describe()},
            "strategy": ws.strategy,
            **data,
            "clashes": ws.clashes,
        })
        return 0
    print_budget(b, ws)
    return 0


def _list_args(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--hot", action="store_true", help="only hot personas")
    g.add_argument("--cold", action="store_true", help="only cold personas")
    p.add_argument("--names", action="store_true", help="names only, one a line (for scripts and shell completion)")


@command("list", _list_args)
def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    ws = Workspace(settings)
    rows = []
    if not args.cold:
        rows += [(h.persona, "hot", h.flags) for h in ws.hot]
        rows += [(h.persona, "user", h.flags) for h in ws.user_hot]
    if not args.hot:
        rows += [(p, "cold", ([p.status.value] if p.status.value != "ok" else [])
                  + ([] if ws.verdict(p).loaded else ["skipped by Claude Code"])) for p in ws.cold()]
    if getattr(args, "names", False):
        for name in dict.fromkeys(printable(p.name) for p, _, _ in rows):
            print(name)
        return 0
    skill_lines = {name: n for name, _, n in ws.skill_lines()}

    def startup(p: Persona) -> int:
        """What the persona adds at startup in its tier: a hidden one nothing, a skill its
        skill-listing line, a file its agent line (when hot; a cold one: when made hot)."""
        tier = ws.tier_of(p.name)
        if tier == "hidden":
            return 0
        if tier == "skill":
            return skill_lines.get(p.name, 0)
        return verdicts.line_tokens(ws.verdict(p))

    if wants_json(args):
        emit_json({"personas": [{**persona_json(p, ws.verdict(p)), "startup_tokens": startup(p),
                                 "where": where, "flags": flags, "tier": ws.tier_of(p.name)}
                                for p, where, flags in rows]}, plain=True)
        return 0
    table = new_table()
    for col in ("name", "where", "tier", "startup", "full", "flags"):
        table.add_column(col, justify="right" if col in ("startup", "full") else "left")
    for p, where, flags in rows:
        table.add_row(p.name, where, ws.tier_of(p.name), f"{startup(p):,}",
                      f"{p.full_tokens:,}", ", ".join(flags))
    console.print(table)
    return 0


def _names(p: argparse.ArgumentParser) -> None:
    p.add_argument("names", nargs="+", metavar="NAME", help="persona name(s)")


@command("activate", _names)
def cmd_activate(args: argparse.Namespace, settings: Settings) -> int:
    ws = open_workspace(settings)
    done = ws.activate(args.names)
    skipped = [n for n in args.names if n not in done]
    if wants_json(args):
        emit_json({"activated": done, "already_hot": skipped, "hot": ws.hot_names()})
    else:
        for n in done:
            console.print(f"activated {n}")
        for n in skipped:
            console.print(f"{n} was already hot")
        print_hot_line(ws)
    return 0


def print_hot_line(ws: Workspace) -> None:
    """The one-line budget after activate or deactivate."""
    b = ws.budget()
    pct = b.reduction_pct
    versus = f"{pct}% below eager" if pct >= 0 else f"{-pct}% above eager: eager is cheaper for this library"
    console.print(f"hot {len(ws.visible_hot())} / {ws.cap}; managed startup {b.startup_tokens:,} tokens "
                  f"({versus}); whole startup {b.total_tokens:,}")


@command("deactivate", _names)
def cmd_deactivate(args: argparse.Namespace, settings: Settings) -> int:
    ws = open_workspace(settings)
    done = ws.deactivate(args.names)
    if wants_json(args):
        emit_json({"deactivated": done, "hot": ws.hot_names()})
    else:
        for n in done:
            console.print(f"deactivated {n}")
        print_hot_line(ws)
    return 0
