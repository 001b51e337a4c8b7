"""Run the real Claude Code CLI offline and record the exact requests it sends.

The CLI runs inside a fresh network namespace (``unshare -n``, only ``lo`` up, so there is no
route to any host), with a fake HOME, a dummy API key and ``ANTHROPIC_BASE_URL`` pointing at the
stand-in Messages API (standin_api.py) on 127.0.0.1 inside the same namespace. Every request
body lands in OUT as ``NNN.json``; ``messages_requests(OUT)`` returns the ``/v1/messages``
bodies in order.

Library use (H8 and the ground-truth scripts)::

    from capture import capture
    reqs = capture(["node", "/x/cli.js"], project=P, home=H, out=O)   # list of request bodies

Command line::

    python3 scripts/claude_code/capture.py --claude "node /x/cli.js" \
        --project DIR --home DIR --out DIR [--prompt hello] [--git-init] [-- EXTRA CLI ARGS]

The environment is rebuilt from scratch (nothing from the caller's shell leaks in, so a
developer's own ``CLAUDE_*`` settings cannot change the capture); telemetry, auto-update,
error reporting and all non-essential traffic are disabled.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

# Variables that keep the CLI quiet and local. Values are strings, as the CLI reads them.
QUIET_ENV = {
    "DISABLE_TELEMETRY": "1",
    "DISABLE_AUTOUPDATER": "1",
    "DISABLE_ERROR_REPORTING": "1",
    "DISABLE_BUG_COMMAND": "1",
    "DISABLE_COST_WARNINGS": "1",
    "DISABLE_NON_ESSENTIAL_MODEL_CALLS": "1",
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    "CLAUDE_CODE_DISABLE_FEEDBACK_SURVEY": "1",
    "CLAUDE_CODE_DISABLE_TERMINAL_TITLE": "1",
    "CLAUDE_CODE_IDE_SKIP_AUTO_INSTALL": "1",
    "CLAUDE_CODE_ENABLE_TELEMETRY": "0",
    "ANTHROPIC_API_KEY": "sk-ant-standin-dummy-key-000000000000",
    "NO_COLOR": "1",
    "TERM": "dumb",
    "LANG": "C.UTF-8",
    "TZ": "UTC",
}


def _base_env(home: Path, port: int, extra: dict[str, str] | None) -> dict[str, str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home),
           "USER": "tester", "SHELL": "/bin/bash", "TMPDIR": str(home / "tmp")}
    env.update(QUIET_ENV)
    env["ANTHROPIC_BASE_URL"] = f"http://127.0.0.1:{port}"
    env.update(extra or {})
    return env


def _assert_no_route() -> None:
    """Refuse to run unless this namespace has no route beyond loopback."""
    routes = subprocess.run(["ip", "-o", "route", "show"], capture_output=True, text=True).stdout
    routes6 = subprocess.run(["ip", "-o", "-6", "route", "show"], capture_output=True,
                             text=True).stdout
    links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout
    ifaces = [ln.split(":")[1].strip() for ln in links.splitlines() if ":" in ln]
    non_lo_routes = [r for r in (routes + routes6).splitlines() if r and " lo " not in f" {r} "
                     and not r.startswith(("local", "::1", "fe80"))]
    if ifaces != ["lo"] or non_lo_routes:
        raise SystemExit(f"capture: refusing, namespace is not isolated: {ifaces} {non_lo_routes}")


def _seed_interactive_state(home: Path, project: Path) -> None:
    """Pre-answer the first-run questions (theme, trust, custom key) in HOME/.claude.json."""
    key = QUIET_ENV["ANTHROPIC_API_KEY"]
    state_file = home / ".claude.json"
    state = json.loads(state_file.read_text(encoding="utf-8")) if state_file.exists() else {}
    state.update({
        "hasCompletedOnboarding": True, "theme": "dark", "numStartups": 1,
        "customApiKeyResponses": {"approved": [key[-20:]], "rejected": []},
        "bypassPermissionsModeAccepted": True,
    })
    projects = state.setdefault("projects", {})
    projects.setdefault(str(project), {}).update(
        {"hasTrustDialogAccepted": True, "hasCompletedProjectOnboarding": True,
         "projectOnboardingSeenCount": 1})
    state_file.write_text(json.dumps(state, indent=1), encoding="utf-8")


def _run_interactive(cmd: list[str], cwd: str, env: dict[str, str], recorder: object,
                     timeout: float) -> tuple[int, bytes]:
    """Run the TUI on a pseudo-terminal until its first /v1/messages request, then stop it."""
    import pty
    import select
    import signal
    import time

    env = dict(env, TERM="xterm-256color", COLUMNS="120", LINES="40")
    pid, fd = pty.fork()
    if pid == 0:  # child
        os.chdir(cwd)
        os.execvpe(cmd[0], cmd, env)
    screen = b""
    deadline = time.monotonic() + timeout
    sent_at = None
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            screen = (screen + chunk)[-20000:]
        if sent_at is None and any(p.endswith("/v1/messages") for p in recorder.paths):
            sent_at = time.monotonic()
        if sent_at is not None and time.monotonic() - sent_at > 3:
            break
    os.kill(pid, signal.SIGTERM)
    time.sleep(0.5)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return (0 if sent_at is not None else -1), screen


def _inside(args: argparse.Namespace) -> int:
    """Runs in the new namespace: lo up, stand-in up, CLI run, requests written."""
    import standin_api

    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    _assert_no_route()
    home = Path(args.home).resolve()
    (home / "tmp").mkdir(parents=True, exist_ok=True)
    out = Path(args.out).resolve()
    server, recorder = standin_api.serve(out)
    env = _base_env(home, server.server_port, json.loads(args.env_json))
    try:
        if args.interactive:
            _seed_interactive_state(home, Path(args.project).resolve())
            cmd = shlex.split(args.claude) + list(args.extra) + [args.prompt]
            rc, screen = _run_interactive(cmd, args.project, env, recorder, args.timeout)
            stdout, stderr = screen, b""
        else:
            cmd = shlex.split(args.claude) + ["-p", args.prompt] + list(args.extra)
            try:
                proc = subprocess.run(cmd, cwd=args.project, env=env, capture_output=True,
                                      timeout=args.timeout, stdin=subprocess.DEVNULL)
                rc, stdout, stderr = proc.returncode, proc.stdout, proc.stderr
            except subprocess.TimeoutExpired as exc:
                rc, stdout, stderr = -1, exc.stdout or b"", exc.stderr or b""
    finally:
        server.shutdown()
    (out / "cli_run.json").write_text(json.dumps({
        "cmd": cmd, "cwd": str(args.project), "returncode": rc,
        "stdout": stdout.decode("utf-8", "replace")[-4000:],
        "stderr": stderr.decode("utf-8", "replace")[-4000:],
    }, indent=1), encoding="utf-8")
    return 0 if rc == 0 else 3


def messages_requests(out: Path) -> list[dict]:
    """The JSON bodies POSTed to /v1/messages, in arrival order."""
    bodies = []
    for f in sorted(out.glob("[0-9][0-9][0-9].json")):
        entry = json.loads(f.read_text(encoding="utf-8"))
        if entry["method"] == "POST" and entry["path"].split("?")[0].endswith("/v1/messages"):
            bodies.append(entry["body"])
    return bodies


def capture(claude: list[str], project: Path, home: Path, out: Path, prompt: str = "hello",
            extra_args: list[str] | None = None, env: dict[str, str] | None = None,
            timeout: float = 180, git_init: bool = False,
            interactive: bool = False) -> list[dict]:
    """Run ``claude -p PROMPT`` in PROJECT isolated from the network; return /v1/messages bodies.

    ``interactive=True`` runs ``claude PROMPT`` on a pseudo-terminal instead (the session a
    user sees: entrypoint "cli", not "sdk-cli"), with the first-run questions pre-answered in
    HOME/.claude.json, and stops it once the first request is in.
    OUT is emptied first. Raises RuntimeError (with the CLI's output) if it sent nothing.
    """
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    home.mkdir(parents=True, exist_ok=True)
    if git_init and not (project / ".git").exists():
        subprocess.run(["git", "init", "-q", str(project)], check=True)
    unshare = ["unshare", "-n"] if os.geteuid() == 0 else ["unshare", "-rn"]
    cmd = unshare + [sys.executable, str(Path(__file__).resolve()), "--inside",
                     "--claude", shlex.join(claude), "--project", str(project.resolve()),
                     "--home", str(home.resolve()), "--out", str(out.resolve()),
                     "--prompt", prompt, "--timeout", str(timeout),
                     "--env-json", json.dumps(env or {}),
                     *(["--interactive"] if interactive else []), "--", *(extra_args or [])]
    subprocess.run(cmd, check=False, timeout=timeout + 30)
    reqs = messages_requests(out)
    if not reqs:
        run = out / "cli_run.json"
        detail = run.read_text(encoding="utf-8") if run.exists() else "(no run record)"
        raise RuntimeError(f"claude sent no /v1/messages request: {detail}")
    return reqs


def version_commands(ap: argparse.ArgumentParser) -> tuple[argparse.Namespace, list[tuple[str, list[str]]]]:
    """Parse AP with the repeatable ``--cli VERSION=COMMAND`` of every capture script added:
    the options, and each (version, command as argv)."""
    ap.add_argument("--cli", action="append", required=True, help="VERSION=COMMAND")
    args = ap.parse_args()
    pairs = []
    for spec in args.cli:
        version, _, command = spec.partition("=")
        pairs.append((version, shlex.split(command)))
    return args, pairs


def main() -> int:
    ap = argparse.ArgumentParser(description="Capture Claude Code's requests offline.")
    ap.add_argument("--claude", required=True, help='command, e.g. "node /x/cli.js"')
    ap.add_argument("--project", required=True)
    ap.add_argument("--home", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--prompt", default="hello")
    ap.add_argument("--timeout", type=float, default=180)
    ap.add_argument("--env-json", default="{}", help="extra environment as a JSON object")
    ap.add_argument("--git-init", action="store_true", help="git init the project first")
    ap.add_argument("--interactive", action="store_true",
                    help="run the interactive TUI on a pty instead of -p")
    ap.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("extra", nargs="*", help="extra CLI arguments after --")
    args = ap.parse_args()
    if args.inside:
        return _inside(args)
    reqs = capture(shlex.split(args.claude), Path(args.project), Path(args.home),
                   Path(args.out), args.prompt, args.extra, json.loads(args.env_json),
                   args.timeout, args.git_init, args.interactive)
    print(f"{len(reqs)} /v1/messages request(s) recorded in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
