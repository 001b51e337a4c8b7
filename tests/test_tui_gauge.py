"""The live context gauge in the main screen: it follows the project's session, toggles, and
never holds the app's exit (the follower thread ends when the app stops)."""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from ctxtui.analytics.live import project_dir_name, session_folder
from ctxtui.tui.app import make_app
from ctxtui.tui.widgets.gauge import ContextGauge
from tests_support import wait_ready

SIZE = (140, 40)


def line(mid: str, prompt: int, sid: str = "S1") -> bytes:
    rec = {"type": "assistant", "sessionId": sid, "version": "2.1.39",
           "message": {"id": mid, "model": "claude-opus-4-6", "content": [],
                       "usage": {"input_tokens": 3, "cache_creation_input_tokens": 0,
                                 "cache_read_input_tokens": prompt - 3}}}
    return (json.dumps(rec) + "\n").encode()


async def until(pilot, cond, timeout: float = 10.0, what: str = "the gauge") -> None:
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise AssertionError(f"{what} did not update in time")
        await pilot.pause(0.05)


def _gauge(app) -> ContextGauge | None:
    found = list(app.screen.query(ContextGauge))
    return found[0] if found else None


async def test_gauge_follows_the_project_session_in_the_main_screen(settings):
    folder = session_folder(settings)
    folder.mkdir(parents=True)
    log = folder / "s1.jsonl"
    log.write_bytes(line("m1", 21_345))
    app = make_app(settings, watch_files=False, remember_theme=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        await until(pilot, lambda: (g := _gauge(app)) is not None and g.snapshot is not None)
        gauge = _gauge(app)
        assert gauge is not None and gauge.snapshot is not None
        assert gauge.snapshot.context_tokens == 21_345
        # the prediction is ctxtui's own (the whole startup total), not a constant
        assert gauge.snapshot.predicted_startup_tokens
        with open(log, "ab") as fh:
            fh.write(line("m2", 87_654))
        await until(pilot, lambda: gauge.snapshot.context_tokens == 87_654)
        assert "87,654 / 200,000" in str(gauge.render())
        await pilot.press("l")
        assert not gauge.display
        await pilot.press("l")
        assert gauge.display


async def test_gauge_sits_above_the_budget_bar_and_says_when_there_is_no_session(settings):
    from ctxtui.tui.widgets.budget_bar import BudgetBar

    app = make_app(settings, watch_files=False, remember_theme=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        await until(pilot, lambda: _gauge(app) is not None)
        gauge = _gauge(app)
        await pilot.pause(0.1)
        assert "No Claude Code session yet" in str(gauge.render())
        bar = app.screen.query_one(BudgetBar)
        assert gauge.region.bottom <= bar.region.y and gauge.region.width == bar.region.width


def test_app_with_a_followed_session_exits_within_two_seconds(settings):
    """asyncio.run joins the executor's threads when the loop closes: a follower still blocked
    in the watcher would hold the exit forever. Time the whole run, loop close included."""
    folder = session_folder(settings)
    folder.mkdir(parents=True)
    (folder / "s.jsonl").write_bytes(line("m1", 30_000))
    marks: dict[str, float] = {}

    async def scenario() -> None:
        app = make_app(settings, watch_files=True, remember_theme=False)
        async with app.run_test(size=SIZE) as pilot:
            await wait_ready(pilot)
            await until(pilot, lambda: (g := _gauge(app)) is not None and g.snapshot is not None)
            await pilot.press("q")
            marks["quit"] = time.monotonic()

    errors: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(scenario())
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)
        marks["closed"] = time.monotonic()

    runner = threading.Thread(target=run, daemon=True)
    runner.start()
    runner.join(60)
    assert not runner.is_alive(), "the app never finished exiting"
    assert not errors, errors
    assert marks["closed"] - marks["quit"] < 2.0


# ---------------------------------------------------------------- a real terminal

def _tmux(sock: str, *args: str) -> str:
    return subprocess.run(["tmux", "-f", "/dev/null", "-S", sock, *args],
                          capture_output=True, text=True, timeout=10).stdout


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux not installed")
@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
def test_gauge_in_tmux_shows_the_appended_context(tmp_path, library, size):
    """ctxtui in tmux, Claude Code's files under a fake CLAUDE_CONFIG_DIR: a line appended to
    the session's transcript shows on screen, and q still quits at once."""
    ws = tmp_path / "ws"
    ws.mkdir()
    home, cc = tmp_path / "home", tmp_path / "claude-config"
    folder = cc / "projects" / project_dir_name(str(ws.resolve()))
    folder.mkdir(parents=True)
    log = folder / "0a1b2c3d.jsonl"
    log.write_bytes(line("m1", 25_353))
    env = {"HOME": home, "CLAUDE_CONFIG_DIR": cc, "CTXTUI_CONFIG_DIR": tmp_path / "cfg",
           "CTXTUI_CACHE_DIR": tmp_path / "cache", "CTXTUI_DATA_DIR": tmp_path / "data"}
    exports = " ".join(f"{k}={shlex.quote(str(v))}" for k, v in env.items())
    cmd = (f"sleep 0.5; env -u CTXTUI_CLAUDE_HOME {exports} {shlex.quote(sys.executable)} -m ctxtui "
           f"--workspace {shlex.quote(str(ws))} --library {shlex.quote(str(library))}; echo EXIT=$?; sleep 30")
    sock = str(tmp_path / "tmux.sock")
    w, h = size
    subprocess.run(["tmux", "-f", "/dev/null", "-S", sock, "new-session", "-d", "-x", str(w), "-y", str(h), cmd],
                   check=True, timeout=10, env={**os.environ, "TERM": "xterm-256color"})
    try:
        def screen_has(text: str, timeout: float = 30) -> str:
            end = time.monotonic() + timeout
            out = ""
            while time.monotonic() < end:
                out = _tmux(sock, "capture-pane", "-p")
                if text in out:
                    return out
                time.sleep(0.1)
            raise AssertionError(f"{text!r} never appeared:\n{out}")

        sep = "/" if w < 120 else " / "  # one compact line in a small terminal
        out = screen_has(f"25,353{sep}200,000")
        assert "q Quit" in out
        with open(log, "ab") as fh:
            fh.write(line("m2", 123_456))
        out = screen_has(f"123,456{sep}200,000")
        assert f"25,353{sep}200,000" not in out
        if w < 120:  # the gauge takes one row: the cold pane keeps its rows
            assert "alpha" in out and "gamma" in out
        assert all(len(row) <= w for row in out.splitlines())
        _tmux(sock, "send-keys", "q")
        screen_has("EXIT=0", timeout=5)
    finally:
        _tmux(sock, "kill-server")


def test_gauge_modules_are_not_imported_by_the_main_screen_module():
    """First paint: the main screen's module does not pull the transcript follower in."""
    code = ("import sys; import ctxtui.tui.screens.main; "
            "print('ctxtui.analytics.live' in sys.modules, 'ctxtui.tui.widgets.gauge' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parent.parent).stdout.split()
    assert out == ["False", "False"]
