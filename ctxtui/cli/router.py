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
    hk.add_argument("hook_action", choices=("install", "remove", "status"), help="install, remove or show the hook")
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
    from ctxtui.core.config import library_roots

    dirs = getattr(args, "router_library", None) or library_roots(settings)
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
    from ctxtui.analytics.transcript_cache import default_folder
    from ctxtui.analytics.transcripts import read_all

    if not 0 < args.test_share < 1:
        raise RouterCommandError("--test-share must be between 0 and 1")
    sessions, _ = read_all(root, project=args.project, cache=default_folder())
    exs = router.examples(sessions)
    if not exs:
        raise RouterCommandError(f"no prompts in the transcripts at {root}")
    ev = evaluate(exs, descriptions, test_share=args.test_share, with_nb=args.with_nb)
    _out(args, ev.to_json(), table(ev))
    return 0


def _route(args: argparse.Namespace, settings: Any) -> int:
    from ctxtui import route_hook
    from ctxtui.analytics.router import load, model_path
    from ctxtui.analytics.router_model import NONE, explain, project_key
    from ctxtui.core.config import cache_dir

    if not args.prompt:
        raise RouterCommandError("give a prompt to route (or --hook to read the hook's JSON)")
    model = load(model_path(cache_dir()))
    if model is None:
        raise RouterCommandError("no router model yet: run `ctxtui router train`")
    cwd = str(settings.workspace)
    name, conf, words, needed = explain(model, args.prompt, project_key(cwd))
    fires = name != NONE and conf >= needed
    found = route_hook.locate(name, cwd, model.get("locations") or {}) if fires else None
    line = route_hook.hint(name, *found) if found else ""
    _out(args, {"persona": name or None, "confidence": round(conf, 4), "threshold": needed,
                "evidence_words": words, "fires": bool(found), "context": line},
         line or f"silent (top: {name or 'no persona'} at {conf:.2f}, {words} evidence words, threshold {needed:.2f})")
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

    path = settings_path(settings)
    if args.hook_action == "status":
        data = read_regular(path, 4 * 1024 * 1024) if path.exists() else b""
        st = claude_hooks.status(data)
        _out(args, {"settings": str(path), **st.to_json()},
             (f"installed: {st.command}" if st.installed else "not installed")
             + (f" ({st.other_hooks} other UserPromptSubmit hook(s) also run)" if st.other_hooks else ""))
        return 0
    if args.hook_action == "install":
        command = args.hook_command or hook_command()
        changed = install_hook(settings, command)
        _out(args, {"settings": str(path), "changed": changed, "command": command},
             f"{'installed' if changed else 'already installed'}: {command} in {path}")
        return 0
    how = remove_hook(settings)
    text = {None: f"not installed in {path}",
            "removed": f"removed {path} (ctxtui's hook install had created it)",
            "restored": f"removed from {path} (the file is back as it was before the install)"}
    _out(args, {"settings": str(path), "changed": how is not None, "how": how},
         text.get(how, f"removed from {path}"))
    return 0


INSTALL_LABEL = "hook install"
REMOVE_LABEL = "hook remove"
SETTINGS_REL = ".claude/settings.local.json"


def settings_path(settings: Any) -> Path:
    """The file the hook lives in: the project's ``.claude/settings.local.json``."""
    return settings.workspace / SETTINGS_REL


def install_hook(settings: Any, command: str) -> bool:
    """Add (or update) our UserPromptSubmit hook through the workspace's write path: locked,
    planned from the bytes read under the lock, recorded in the history. False when it
    already was exactly there."""
    from ctxtui.core import claude_hooks

    def plan(old: bytes | None, _history: Any) -> tuple[bytes | None, str]:
        new = claude_hooks.plan_install(old or b"", command)
        return (None, "") if old is not None and new == old else (new, "written")

    return _settings_change(settings, INSTALL_LABEL, plan) is not None


def remove_hook(settings: Any) -> str | None:
    """Take our hook out through the write path. When the file is still what our install left,
    its bytes from before the install come back exactly, and a file our install created is
    removed. Returns None (our hook is not there), ``"restored"``, ``"removed"`` or
    ``"written"`` (our entry taken out, everything else in the file kept)."""
    return _settings_change(settings, REMOVE_LABEL, plan_remove_hook)


def plan_remove_hook(old: bytes | None, history: Any) -> tuple[bytes | None, str]:
    """(new bytes, or None to remove the file; how) for ``hook remove``; how is "" when our
    hook is not there. Pure apart from reading ``history`` (entries and blobs)."""
    from ctxtui.core import claude_hooks
    from ctxtui.core.journal import sha256_bytes

    if old is None:
        return None, ""
    new = claude_hooks.plan_remove(old)
    if new == old:
        return None, ""
    left = claude_hooks.parse_object(new)
    sha = sha256_bytes(old)
    for entry in reversed(history.entries()):
        if entry.kind != "hook" or entry.reason != INSTALL_LABEL or entry.after.get(SETTINGS_REL) != sha:
            continue
        # The file is byte for byte what our install wrote: undo the install exactly. The
        # bytes kept from before are used only when they hold the same settings as the plain
        # removal (the history is read from the project folder, which a clone can craft).
        was = entry.before.get(SETTINGS_REL)
        if was is None:
            return (None, "removed") if left == {} else (new, "written")
        try:
            before = history.blob(was)
            same = claude_hooks.parse_object(before) == left
        except CtxtuiError:
            same = False
        return (before, "restored") if same else (new, "written")
    return new, "written"


def _settings_change(settings: Any, label: str, plan: Any) -> str | None:
    """Plan and apply one change of settings.local.json inside ``Workspace.transaction``
    (lock before read, precondition = hash of the bytes read, history entry in the same
    transaction). ``plan(old bytes or None, history)`` returns (new bytes, or None to remove
    the file; how, "" for no change). Returns how, or None when nothing changed."""
    from ctxtui.core.history import Entry, History
    from ctxtui.core.workspace import Workspace

    path = settings_path(settings)
    ws = Workspace(settings)
    history = History(settings)
    how: str | None = None
    with ws.transaction(label) as tx:
        old = tx.read(path)  # through the guard: a link out of the project is refused here
        new, what = plan(old, history)
        if not what:
            return None
        before = history.snapshot(tx)
        if new is None and path.is_symlink():  # a link is never removed: empty it instead
            from ctxtui.core.claude_hooks import plan_remove

            new, what = plan_remove(old or b""), "written"
        if new is None:
            tx.remove(path)
        else:
            tx.write(path, new)
        state = ws.read_state(tx)
        strategy = state.get("strategy") or ws.config.context_management.strategy
        entry = Entry(id=history.next_id(), time=_now(), kind="hook", from_strategy=strategy,
                      to_strategy=strategy, reason=label, tokens_before=0, tokens_after=0,
                      changes=[f"{label}: {what} {SETTINGS_REL}"], before=before)
        entry.after = history.after_of(before, tx)
        history.entry_step(entry, tx)
        how = what
    return how


def _now() -> str:
    import time

    return time.strftime("%Y-%m-%dT%H:%M:%S")


def _adopt() -> None:
    from ctxtui.cli.base import adopt

    adopt(('router', 'route', 'hook'), register, run)


_adopt()
