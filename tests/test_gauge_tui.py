"""The gauge pane follows a session in the TUI, and `ctxtui watch` is readable in a real terminal."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
import time

import pytest
from textual.app import App, ComposeResult

from ctxtui.analytics.live import GaugeSnapshot, SubagentRuns, project_dir_name
from ctxtui.tui.widgets.gauge import ContextGauge, gauge_text


def line(rec: dict) -> bytes:
    return (json.dumps(rec) + "\n").encode()


def assistant(mid: str, prompt: int, sid: str = "S1", content: list | None = None) -> dict:
    return {"type": "assistant", "sessionId": sid, "version": "2.1.39",
            "message": {"id": mid, "model": "claude-opus-4-6", "content": content or [],
                        "usage": {"input_tokens": 3, "cache_creation_input_tokens": 0, "cache_read_input_tokens": prompt - 3}}}


def snapshot(context: int, **kw) -> GaugeSnapshot:
    base = dict(session="S1", path="/x", model="claude-opus-4-6", version="2.1.39", context_tokens=context,
                window=200_000, autocompact_at=167_000, turns=3, requests=9, compactions=0, growth_per_turn=4_000.0,
                last_turn_growth=3_000, startup_tokens=25_000, predicted_startup_tokens=24_000, subagents=())
    base.update(kw)
    return GaugeSnapshot(**base)


class GaugeApp(App):
    def __init__(self, gauge: ContextGauge) -> None:
        super().__init__()
        self.gauge = gauge

    def compose(self) -> ComposeResult:
        yield self.gauge


async def wait_for(pilot, cond, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise AssertionError("the gauge did not update in time")
        await pilot.pause(0.02)


def test_gauge_text_shows_the_numbers_and_marks_autocompact():
    snap = snapshot(100_000, subagents=(SubagentRuns("code-reviewer", runs=2, tokens=13_345),))
    text = gauge_text(snap).plain
    assert "100,000 / 200,000 (50.0%)" in text and "Autocompact 167,000 (67,000 left)" in text
    assert "┃" in text and "code-reviewer ×2 13,345" in text and "24,000 predicted" in text
    assert "No Claude Code session" in gauge_text(None).plain


def test_transcript_text_cannot_inject_terminal_escapes():
    snap = snapshot(1, model="m\x1b]0;pwned\x07", subagents=(SubagentRuns("a\x1b[2Jb", runs=1),))
    assert "\x1b" not in gauge_text(snap).plain


async def test_pane_warns_near_and_past_the_autocompact_point():
    gauge = ContextGauge()
    async with GaugeApp(gauge).run_test() as pilot:
        gauge.show(snapshot(100_000))
        await pilot.pause()
        assert not gauge.has_class("-warning") and not gauge.has_class("-over")
        gauge.show(snapshot(150_000))
        await pilot.pause()
        assert gauge.has_class("-warning")
        gauge.show(snapshot(170_000))
        await pilot.pause()
        assert gauge.has_class("-over") and not gauge.has_class("-warning")


async def test_pane_follows_appends_and_a_new_session(tmp_path):
    folder = tmp_path / "-ws"
    folder.mkdir()
    log = folder / "s1.jsonl"
    log.write_bytes(line(assistant("m1", 20_000)))
    gauge = ContextGauge(folder, predict=lambda: 18_000)
    async with GaugeApp(gauge).run_test() as pilot:
        await wait_for(pilot, lambda: gauge.snapshot is not None and gauge.snapshot.context_tokens == 20_000)
        assert "18,000 predicted" in str(gauge.render())
        with open(log, "ab") as fh:
            fh.write(line(assistant("m2", 61_000, content=[{"type": "tool_use", "id": "t1", "name": "Task",
                                                            "input": {"subagent_type": "Plan"}}])))
        await wait_for(pilot, lambda: gauge.snapshot.context_tokens == 61_000)
        assert "Plan ×1 0 tokens (+0 running)" in str(gauge.render())
        (folder / "s2.jsonl").write_bytes(line(assistant("n1", 30_000, sid="S2")))
        await wait_for(pilot, lambda: gauge.snapshot.session == "S2")
        workers = [w for w in pilot.app.workers if w.group == "context-gauge"]
    assert workers
    for _ in range(500):  # the follower thread ends with the pane (10 s at most)
        if not any(w.is_running for w in workers):
            break
        await asyncio.sleep(0.02)
    assert not any(w.is_running for w in workers)


# ---------------------------------------------------------------- a real terminal

def _tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, timeout=10).stdout


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux not installed")
def test_watch_in_tmux_redraws_the_gauge_in_place(tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    home = tmp_path / "home"
    folder = home / "projects" / project_dir_name(str(ws.resolve()))
    folder.mkdir(parents=True)
    log = folder / "s.jsonl"
    log.write_bytes(line(assistant("m1", 25_353)))
    sock = str(tmp_path / "tmux.sock")
    cmd = (f"CTXTUI_CONFIG_DIR={tmp_path / 'cfg'} {sys.executable} -m ctxtui.cli.watch -w {ws} "
           f"--claude-home {home} --no-predict; echo EXIT=$?; sleep 30")
    subprocess.run(["tmux", "-S", sock, "new-session", "-d", "-x", "120", "-y", "20", cmd], check=True, timeout=10)
    try:
        def screen_has(text: str, timeout: float = 20) -> str:
            end = time.monotonic() + timeout
            while time.monotonic() < end:
                out = _tmux("-S", sock, "capture-pane", "-p")
                if text in out:
                    return out
                time.sleep(0.1)
            raise AssertionError(f"{text!r} never appeared:\n{out}")

        screen_has("25,353 / 200,000 tokens")
        with open(log, "ab") as fh:
            fh.write(line(assistant("m2", 98_765)))
        out = screen_has("98,765 / 200,000 tokens")
        assert "25,353 / 200,000" not in out  # redrawn in place, not scrolled
        assert "autocompact at 167,000" in out
        _tmux("-S", sock, "send-keys", "C-c")
        screen_has("EXIT=0", timeout=5)
    finally:
        _tmux("-S", sock, "kill-server")


RUNNER = """
import sys
from pathlib import Path
from textual.app import App
from ctxtui.tui.widgets.gauge import ContextGauge

class GaugeOnly(App):
    def compose(self):
        yield ContextGauge(Path(sys.argv[1]), predict=lambda: 24_000)

GaugeOnly().run()
"""


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux not installed")
def test_pane_in_tmux_shows_the_appended_state(tmp_path):
    folder = tmp_path / "-proj"
    folder.mkdir()
    log = folder / "s.jsonl"
    log.write_bytes(line(assistant("m1", 25_353)))
    runner = tmp_path / "runner.py"
    runner.write_text(RUNNER)
    sock = str(tmp_path / "tmux.sock")
    subprocess.run(["tmux", "-S", sock, "new-session", "-d", "-x", "120", "-y", "12",
                    f"{sys.executable} {runner} {folder}"], check=True, timeout=10)
    try:
        def screen_has(text: str, timeout: float = 30) -> str:
            end = time.monotonic() + timeout
            out = ""
            while time.monotonic() < end:
                out = _tmux("-S", sock, "capture-pane", "-p")
                if text in out:
                    return out
                time.sleep(0.1)
            raise AssertionError(f"{text!r} never appeared:\n{out}")

        out = screen_has("25,353 / 200,000")
        assert "24,000 predicted" in out and "Autocompact 167,000" in out
        with open(log, "ab") as fh:
            fh.write(line(assistant("m2", 170_000)))
        out = screen_has("170,000 / 200,000")
        assert "(0 left)" in out
    finally:
        _tmux("-S", sock, "kill-server")
