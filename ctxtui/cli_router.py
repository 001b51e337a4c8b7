"""Router and hook commands: ``router train|eval``, ``route [--hook]``, ``hook install|remove|status``.

``register(subparsers)`` adds the parsers; ``run(args, settings)`` runs one. ``route --hook``
must be dispatched before anything heavy is imported: the CLI entry point should call
``ctxtui.route_hook.main()`` straight away when ``argv[1:3] == ["route", "--hook"]``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ctxtui.core.errors import CtxtuiError


class RouterCommandError(CtxtuiError):
    """A router or hook command cannot do what was asked."""


def register(subparsers: Any) -> None:
    """Add ``router``, ``route`` and ``hook`` to an argparse subparsers object."""
    r = subparsers.add_parser("router", help="train or evaluate the learned persona router",
                              description="Train or evaluate the learned persona router.")
    rsub = r.add_subparsers(dest="router_action", metavar="ACTION", required=True)
    train = rsub.add_parser("train", help="build the cached model now (the hook also does it by itself)")
    train.add_argument("--force", action="store_true", help="rebuild even if the transcripts did not change")
    ev = rsub.add_parser("eval", help="held-out precision, recall and abstention vs BM25 over descriptions")
    ev.add_argument("--test-share", type=float, default=0.3, help="latest share of sessions held out (default 0.3)")
    ev.add_argument("--with-nb", action="store_true", help="also score a naive Bayes router for comparison")
    for p in (train, ev):
        p.add_argument("--transcripts", type=Path, help="transcripts folder (default ~/.claude/projects)")
        p.add_argument("--library", "-l", type=Path, action="append", dest="router_library",
                       help="persona library folder for descriptions and paths (repeatable)")
        p.add_argument("--json", action="store_true", help="machine-readable output")
    ev.add_argument("--project", help="only sessions of this project (folder name or path part)")
    r.set_defaults(router_command="router")

    rt = subparsers.add_parser("route", help="which persona the router names for a prompt",
                               description="Which persona the router names for a prompt; --hook is the "
                                           "Claude Code UserPromptSubmit hook (JSON on stdin).")
    rt.add_argument("prompt", nargs="?", help="the prompt text (ignored with --hook)")
    rt.add_argument("--hook", action="store_true", help="act as the UserPromptSubmit hook (stdin JSON)")
    rt.add_argument("--json", action="store_true", help="machine-readable output")
    rt.set_defaults(router_command="route")

    hk = subparsers.add_parser("hook", help="install, remove or show the just-in-time persona hook",
                               description="Manage ctxtui's UserPromptSubmit hook in .claude/settings.local.json.")
    hk.add_argument("hook_action", choices=("install", "remove", "status"))
    hk.add_argument("--command", dest="hook_command", help="hook command (default: this ctxtui's `route --hook`)")
    hk.add_argument("--workspace", "-w", type=Path, default=argparse.SUPPRESS, help="project folder")
    hk.add_argument("--json", action="store_true", help="machine-readable output")
    hk.set_defaults(router_command="hook")


def run(args: argparse.Namespace, settings: Any = None) -> int:
    """Run a command registered by ``register``."""
    cmd = getattr(args, "router_command", None)
    if cmd == "route" and getattr(args, "hook", False):
        from ctxtui import route_hook

        return route_hook.main([])
    if settings is None:
        from ctxtui.core.config import load_settings

        settings = load_settings(workspace=getattr(args, "workspace", None))
    if cmd == "router":
        return _router(args, settings)
    if cmd == "route":
        return _route(args, settings)
    if cmd == "hook":
        return _hook(args, settings)
    raise RouterCommandError(f"unknown router command {cmd!r}")


def _library(args: argparse.Namespace, settings: Any) -> tuple[dict[str, str], dict[str, str]]:
    from ctxtui.analytics.router import library_personas
    from ctxtui.core.config import bundled_dir

    dirs = getattr(args, "router_library", None) or settings.library_dirs or [bundled_dir("personas")]
    return library_personas([Path(d).expanduser() for d in dirs])


def _out(args: argparse.Namespace, data: dict, text: str) -> None:
    print(json.dumps(data, indent=2) if getattr(args, "json", False) else text)


def _router(args: argparse.Namespace, settings: Any) -> int:
    from ctxtui.analytics import router

    root = args.transcripts or settings.transcripts
    if not root.exists():
        raise RouterCommandError(f"no transcripts at {root} (use --transcripts DIR)")
    descriptions, paths = _library(args, settings)
    if args.router_action == "train":
        from ctxtui.core.config import cache_dir

        res = router.build(root, cache_dir(), locations=paths, descriptions=descriptions, force=args.force)
        th = "never fires (too little data)" if res.threshold >= router.NEVER else f"threshold {res.threshold:.3f}"
        _out(args, {"model": str(res.path), "rebuilt": res.rebuilt, "personas": res.classes,
                    "examples": res.examples, "threshold": res.threshold, "seconds": round(res.seconds, 3)},
             f"{'built' if res.rebuilt else 'up to date'}: {res.path} ({res.classes} personas learned "
             f"from {res.examples} prompts, {th})")
        return 0
    from ctxtui.analytics.router_eval import evaluate, table
    from ctxtui.analytics.transcripts import read_all

    if not 0 < args.test_share < 1:
        raise RouterCommandError("--test-share must be between 0 and 1")
    sessions, _ = read_all(root, project=args.project)
    exs = router.examples(sessions)
    if not exs:
        raise RouterCommandError(f"no prompts in the transcripts at {root}")
    ev = evaluate(exs, descriptions, test_share=args.test_share, with_nb=args.with_nb)
    _out(args, ev.to_json(), table(ev))
    return 0


def _route(args: argparse.Namespace, settings: Any) -> int:
    from ctxtui import route_hook
    from ctxtui.analytics.router import load, model_path
    from ctxtui.analytics.router_model import NONE, predict, project_key
    from ctxtui.core.config import cache_dir

    if not args.prompt:
        raise RouterCommandError("give a prompt to route (or --hook to read the hook's JSON)")
    model = load(model_path(cache_dir()))
    if model is None:
        raise RouterCommandError("no router model yet: run `ctxtui router train`")
    cwd = str(settings.workspace)
    name, conf = predict(model, args.prompt, project_key(cwd))
    fires = name != NONE and conf >= model["threshold"]
    found = route_hook.locate(name, cwd, model.get("locations") or {}) if fires else None
    line = route_hook.hint(name, *found) if found else ""
    _out(args, {"persona": name or None, "confidence": round(conf, 4), "threshold": model["threshold"],
                "fires": bool(found), "context": line},
         line or f"silent (top: {name or 'no persona'} at {conf:.2f}, threshold {model['threshold']:.2f})")
    return 0


def hook_command() -> str:
    """The command the hook runs: this installation's ``ctxtui``, by absolute path if found."""
    import shlex
    import shutil

    exe = shutil.which("ctxtui")
    if exe:
        return f"{shlex.quote(exe)} route --hook"
    return f"{shlex.quote(sys.executable)} -m ctxtui route --hook"


def _hook(args: argparse.Namespace, settings: Any) -> int:
    from ctxtui.core import claude_hooks
    from ctxtui.core.safe_io import read_regular

    path = settings.workspace / ".claude" / "settings.local.json"
    if args.hook_action == "status":
        data = read_regular(path, 4 * 1024 * 1024) if path.exists() else b""
        st = claude_hooks.status(data)
        _out(args, {"settings": str(path), **st.to_json()},
             (f"installed: {st.command}" if st.installed else "not installed")
             + (f" ({st.other_hooks} other UserPromptSubmit hook(s) also run)" if st.other_hooks else ""))
        return 0
    if args.hook_action == "install":
        command = args.hook_command or hook_command()
        changed = apply_settings_change(settings, lambda b: claude_hooks.plan_install(b, command), "hook install")
        _out(args, {"settings": str(path), "changed": changed, "command": command},
             f"{'installed' if changed else 'already installed'}: {command} in {path}")
        return 0
    changed = apply_settings_change(settings, claude_hooks.plan_remove, "hook remove")
    _out(args, {"settings": str(path), "changed": changed},
         f"{'removed from' if changed else 'not installed in'} {path}")
    return 0


def apply_settings_change(settings: Any, plan: Any, label: str) -> bool:
    """Lock, read, plan, journal and apply a change of ``.claude/settings.local.json``, recorded
    in the history so ``rollback`` restores the bytes. False when nothing changes."""
    from ctxtui.core import journal
    from ctxtui.core.history import Entry, History
    from ctxtui.core.safe_io import read_regular

    path = settings.workspace / ".claude" / "settings.local.json"
    history = History(settings)
    with journal.locked(settings.state_dir):  # the lock comes before the read the plan uses
        if path.is_symlink():
            raise RouterCommandError(f"{path} is a symbolic link; ctxtui does not write through links")
        old = read_regular(path, 4 * 1024 * 1024) if path.exists() or path.is_symlink() else None
        new = plan(old or b"")
        if new == (old or b""):
            return False
        strategy = _strategy(settings)
        before = history.snapshot()
        tx = journal.Transaction(settings.state_dir, label)
        tx.write(path, new, expect=journal.sha256_bytes(old) if old is not None else None)
        entry = Entry(id=history.next_id(), time=_now(), kind="hook", from_strategy=strategy,
                      to_strategy=strategy, reason=label, tokens_before=0, tokens_after=0,
                      changes=[f"{label}: {path.relative_to(settings.workspace)}"], before=before)
        entry.after = history.after_of(before, tx)
        history.entry_step(entry, tx)
        tx.commit()
    return True


def _strategy(settings: Any) -> str:
    try:
        data = json.loads((settings.state_dir / "state.json").read_text(encoding="utf-8"))
        return str(data.get("strategy") or "") if isinstance(data, dict) else ""
    except (OSError, ValueError):
        return ""


def _now() -> str:
    import time

    return time.strftime("%Y-%m-%dT%H:%M:%S")
