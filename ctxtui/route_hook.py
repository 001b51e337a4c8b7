"""``ctxtui route --hook``: Claude Code's UserPromptSubmit hook, on a fast path.

Claude Code runs the hook before each prompt and passes ``{"prompt", "cwd", ...}`` on stdin.
When the router is confident, we print ``{"hookSpecificOutput": {"hookEventName":
"UserPromptSubmit", "additionalContext": LINE}}``: Claude Code adds LINE to the prompt's
context (plain stdout would also be shown as "hook success" text). Otherwise we print nothing.
Whatever happens (bad stdin, no model, unreadable files, a slow disk) the exit status is 0 and
the prompt goes on; errors are logged to ``route-hook.log`` in ctxtui's data folder.

Only ``json``, ``os``, ``sys``, ``time`` and the light model module are imported here: no
tiktoken, Textual or YAML. A missing or old model is (re)built by a detached background
process (``python -m ctxtui.route_hook --refresh``); the prompt never waits for it.
"""

from __future__ import annotations

import json
import os
import sys
import time

from ctxtui.analytics.router_model import (
    MAX_MODEL_BYTES,
    NONE,
    REFRESH_SECONDS,
    decide,
    loads,
    project_key,
)

LOCK_STALE_SECONDS = 900
MAX_STDIN_BYTES = 1024 * 1024
WATCHDOG_SECONDS = 2.0
"""Past this the hook gives up silently: a late hint is worth less than a prompt on time."""
LOG_MAX_BYTES = 256 * 1024
MODEL_NAME = "router-model.txt"  # == router.MODEL_FILE, without importing the trainer
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")


def safe_name(name: str) -> bool:
    """A persona name we may echo: 1-80 of [A-Za-z0-9_.-], starting with a letter or digit."""
    return 0 < len(name) <= 80 and name[0].isascii() and name[0].isalnum() and set(name) <= _NAME_CHARS


def _has_control(text: str) -> bool:
    return any(ord(c) < 32 or ord(c) == 127 for c in text)


class _Timeout(BaseException):
    """Raised by the watchdog; BaseException so no ``except Exception`` swallows it."""


def _user_dir(env: str, kind: str) -> str:
    value = os.environ.get(env)
    if value:
        return value
    import platformdirs  # small; only needed when the environment does not say

    return platformdirs.user_cache_dir("ctxtui") if kind == "cache" else platformdirs.user_data_dir("ctxtui")


def model_file() -> str:
    """Where the router model is cached (ctxtui's cache dir, as ``router.model_path``)."""
    return os.path.join(_user_dir("CTXTUI_CACHE_DIR", "cache"), "router", MODEL_NAME)


def claude_home() -> str:
    """The user's Claude Code folder."""
    return os.environ.get("CTXTUI_CLAUDE_HOME") or os.environ.get("CLAUDE_CONFIG_DIR") or os.path.join(
        os.path.expanduser("~"), ".claude")


def _is_file(path: str) -> bool:
    import stat

    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def locate(name: str, cwd: str, locations: dict) -> tuple[str, str] | None:
    """How the persona can be reached from this project: (kind, where), kind being ``agent``
    (hot in the project or user folder), ``skill`` or ``file`` (cold); None when nowhere."""
    # Only a persona found on disk is named: a name read from a transcript alone proves nothing
    # (plugin agents, ``plugin:agent``, are not located yet and so are never named).
    if not safe_name(name):
        return None
    for folder in (os.path.join(cwd, ".claude", "agents"), os.path.join(claude_home(), "agents")):
        if _is_file(os.path.join(folder, f"{name}.md")):
            return ("agent", name)
    for folder in (os.path.join(cwd, ".claude", "skills"), os.path.join(claude_home(), "skills")):
        if _is_file(os.path.join(folder, name, "SKILL.md")):
            return ("skill", name)
    candidates = [os.path.join(cwd, ".claude", "ctxtui", "cold", f"{name}.md")]
    where = locations.get(name) if isinstance(locations, dict) else None
    if isinstance(where, str):
        candidates.append(where)
    for path in candidates:
        if _is_file(path):
            try:
                rel = os.path.relpath(path, cwd)
            except ValueError:  # another drive on Windows
                rel = path
            shown = path if rel.startswith("..") else rel
            if len(shown) <= 300 and not _has_control(shown):
                return ("file", shown)
    return None


def hint(name: str, kind: str, where: str) -> str:
    """The one line of context naming the persona and how to use it."""
    if kind == "agent":
        return (f"ctxtui router: this request matches the `{name}` subagent; consider delegating "
                f"to it (subagent_type \"{name}\").")
    if kind == "skill":
        return f"ctxtui router: this request matches the `{name}` skill; consider using it."
    return (f"ctxtui router: this request matches the `{name}` persona, which is not loaded; its "
            f"instructions are in {where}. Read that file and follow it for this task if it fits.")


def answer(raw: bytes, now: float | None = None) -> str:
    """The hook's stdout for one stdin payload ('' to stay silent)."""
    if len(raw) > MAX_STDIN_BYTES:
        return ""
    data = json.loads(raw.decode("utf-8", "replace"))
    if not isinstance(data, dict) or not isinstance(data.get("prompt"), str):
        return ""
    given = data.get("cwd")
    cwd = given if isinstance(given, str) and given else os.getcwd()
    import stat

    try:  # O_NONBLOCK: a FIFO in place of the model never blocks open()
        fd = os.open(model_file(), os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        spawn_refresh()  # no model yet: build one for the next prompts
        return ""
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_MODEL_BYTES:
            return ""
        if (now or time.time()) - st.st_mtime > REFRESH_SECONDS:
            spawn_refresh()  # answer with the stale model meanwhile
        try:
            model = loads(fh.read(MAX_MODEL_BYTES + 1), lazy=True)
        except ValueError:
            spawn_refresh()  # an old format or a damaged file: rebuild it for the next prompts
            raise
    name, _ = decide(model, data["prompt"], project_key(cwd))
    if name == NONE:
        return ""
    found = locate(name, cwd, model.get("locations") or {})
    if found is None:
        return ""
    out = {"hookSpecificOutput": {"hookEventName": "UserPromptSubmit",
                                  "additionalContext": hint(name, *found)}}
    return json.dumps(out, ensure_ascii=True)


def spawn_refresh() -> bool:
    """Start a detached refresh unless one is running; never waits for it."""
    lock = model_file() + ".lock"
    try:
        os.makedirs(os.path.dirname(lock), exist_ok=True)
        try:
            if time.time() - os.stat(lock).st_mtime > LOCK_STALE_SECONDS:
                os.unlink(lock)  # a refresh that died
        except OSError:
            pass
        fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
    except OSError:
        return False  # another refresh holds the lock (or the cache is not writable)
    import subprocess

    kwargs: dict = {"stdin": subprocess.DEVNULL, "stdout": subprocess.DEVNULL,
                    "stderr": subprocess.DEVNULL, "close_fds": True}
    if os.name == "nt":
        kwargs["creationflags"] = 0x00000008 | 0x00000200  # DETACHED_PROCESS | NEW_PROCESS_GROUP
    else:
        kwargs["start_new_session"] = True
    try:
        subprocess.Popen([sys.executable, "-m", "ctxtui.route_hook", "--refresh"], **kwargs)
    except OSError:
        os.unlink(lock)
        raise
    return True


def refresh() -> int:
    """Rebuild the model if the transcripts changed (the background half of the hook)."""
    lock = model_file() + ".lock"
    try:
        if hasattr(os, "nice"):
            os.nice(10)  # a background chore: never compete with the user's work
        from ctxtui.analytics.router import refresh_from_settings

        refresh_from_settings()
    except Exception as exc:  # noqa: BLE001 - a background job has nobody to tell but the log
        log(f"refresh failed: {type(exc).__name__}: {exc}")
    finally:
        import contextlib

        with contextlib.suppress(OSError):
            os.unlink(lock)
    return 0


def log(message: str) -> None:
    """Append one line to the hook's log (kept small); never raises."""
    try:
        folder = _user_dir("CTXTUI_DATA_DIR", "data")
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, "route-hook.log")
        mode = "w" if os.path.exists(path) and os.path.getsize(path) > LOG_MAX_BYTES else "a"
        line = "".join(" " if ord(c) < 32 or ord(c) == 127 else c for c in message[:1000])
        with open(path, mode, encoding="utf-8") as fh:
            fh.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {line}\n")
    except Exception:  # noqa: BLE001, S110 - logging must not break the prompt either
        pass


def _on_alarm(signum, frame) -> None:  # noqa: ARG001
    raise _Timeout


def main(argv: list[str] | None = None) -> int:
    """Entry point: answer one hook call (or ``--refresh``); always exit 0."""
    argv = sys.argv[1:] if argv is None else argv
    if "--refresh" in argv:
        return refresh()
    try:
        try:  # the C module: ``signal`` itself pulls in enum, a real cost at this scale
            import _signal as signal  # type: ignore[import-not-found]  # CPython's C module: typeshed has no stub
        except ImportError:  # pragma: no cover - other interpreters
            import signal
        timer = hasattr(signal, "setitimer") and hasattr(signal, "SIGALRM")
        if timer:
            signal.signal(signal.SIGALRM, _on_alarm)
            signal.setitimer(signal.ITIMER_REAL, WATCHDOG_SECONDS)
        out = answer(sys.stdin.buffer.read(MAX_STDIN_BYTES + 1))
        if timer:
            signal.setitimer(signal.ITIMER_REAL, 0)
        if out:
            sys.stdout.write(out + "\n")
            sys.stdout.flush()
    except _Timeout:
        log("gave up: no answer within the watchdog time")
    except Exception as exc:  # noqa: BLE001 - the prompt must go on, whatever broke
        log(f"{type(exc).__name__}: {exc}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
