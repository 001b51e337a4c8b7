"""The TUI in a real terminal (tmux) at 80x24 and 160x45 on the wshobson library: what a person
reads on screen. Skipped without tmux or without the corpus."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

CORPUS = Path(os.environ.get("CTXTUI_WSHOBSON", "/work/shared/corpora/wshobson__agents"))
pytestmark = [
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux not installed"),
    pytest.mark.skipif(not CORPUS.is_dir(), reason="wshobson corpus not available"),
]


def tmux(*args: str, check: bool = False) -> subprocess.CompletedProcess:
    """tmux on a private server: no user config, no other session can resize ours."""
    return subprocess.run(["tmux", "-f", "/dev/null", "-L", f"ctxtui-fit-{os.getpid()}", *args],
                          capture_output=True, text=True, check=check)


class Terminal:
    """One tmux session running ctxtui."""

    def __init__(self, tmp: Path, width: int, height: int) -> None:
        self.name = f"ctxtui-fit-{os.getpid()}-{width}"
        (tmp / "ws").mkdir()
        env = " ".join(f"{k}={shlex.quote(str(tmp / v))}" for k, v in
                       (("CTXTUI_CONFIG_DIR", "cfg"), ("CTXTUI_CACHE_DIR", "cache"),
                        ("CTXTUI_DATA_DIR", "data"), ("CTXTUI_CLAUDE_HOME", "home")))
        # The short sleep lets tmux give the pane its final size before the app reads it.
        cmd = (f"sleep 0.5; env {env} {shlex.quote(sys.executable)} -m ctxtui --workspace {shlex.quote(str(tmp / 'ws'))} "
               f"--library {shlex.quote(str(CORPUS))}")
        for _ in range(3):  # the last test's session may still be taking its server down
            started = tmux("new-session", "-d", "-s", self.name, "-x", str(width), "-y", str(height), cmd)
            if started.returncode == 0:
                break
            time.sleep(0.3)
        else:
            raise AssertionError(f"tmux new-session failed: {started.stderr}")

    def wait_gone(self, seconds: float, why: str) -> None:
        """Wait until the app has quit (its session ends); fail with WHY and the screen."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if tmux("has-session", "-t", self.name).returncode:
                return
            time.sleep(0.2)
        raise AssertionError(f"{why}:\n{self.screen()}")

    def screen(self) -> str:
        return tmux("capture-pane", "-p", "-t", self.name).stdout

    def wait_for(self, pattern: str, seconds: float = 20) -> str:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            text = self.screen()
            if re.search(pattern, text):
                return text
            time.sleep(0.2)
        raise AssertionError(f"did not see /{pattern}/ on screen:\n{self.screen()}")

    def filter(self, text: str) -> str:
        """Press / and type TEXT; the screen once every shown cold row matches it."""
        for key in ["/", *text]:  # one key at a time, as typed
            self.keys("-l", key)
            time.sleep(0.03)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            screen = self.screen()
            cold = screen.split("Hot ", 1)[0]
            rows = re.findall(r"^\W+\d+\s+[\d,]+\s+(\S+)", cold, re.M)
            if re.search(r"Cold \(\d+ of \d+\)", cold) and rows and all(text in r for r in rows):
                return screen
            time.sleep(0.2)
        raise AssertionError(f"filter {text!r} not applied on screen:\n{self.screen()}")

    def keys(self, *keys: str) -> None:
        tmux("send-keys", "-t", self.name, *keys, check=True)

    def close(self) -> None:
        tmux("kill-session", "-t", self.name)


@pytest.fixture
def terminal(tmp_path):
    opened: list[Terminal] = []

    def open_(width: int, height: int) -> Terminal:
        (tmp_path / f"{width}x{height}").mkdir(exist_ok=True)
        t = Terminal(tmp_path / f"{width}x{height}", width, height)
        opened.append(t)
        return t

    yield open_
    for t in opened:
        t.close()


def _security_rows(text: str) -> list[str]:
    """The cold list's rows of the two backend-api-security personas (the detail pane beside
    it may show the highlighted one's name too: that is not a row)."""
    cold = text.split("Hot ", 1)[0]
    return re.findall(r"^\W+\d+\s+[\d,]+\s+(backend-api-security-\S+)", cold, re.M)


def test_wide_terminal_shows_long_names_in_full_and_the_hot_cap(terminal):
    t = terminal(160, 45)
    text = t.wait_for(r"Hot 0 / \d+")
    t.wait_for("q Quit")
    text = t.filter("backend-api")
    rows = _security_rows(text)
    # 38 characters, a shared prefix: both rows readable in full and different.
    assert "backend-api-security-backend-architect" in rows, text
    assert len(set(rows)) == len(rows) >= 2, text
    t.keys("Escape")
    text = t.wait_for(r"Cold \(\d+\)")
    assert "application-performance-observability-engineer" in text  # 46 characters, in full
    assert re.search(r"Hot 0 / \d+", text)


def test_80x24_keeps_names_distinguishable_and_quit_in_the_footer(terminal):
    t = terminal(80, 24)
    text = t.wait_for(r"Hot 0 / \d+")
    footer = t.wait_for("q Quit").splitlines()[-1]
    for key in ("q Quit", "t Toggle", "? Help", "u Undo"):
        assert key in footer, footer
    text = t.filter("backend-api")
    rows = _security_rows(text)
    assert len(rows) >= 2 and len(set(rows)) == len(rows), text
    # The hot pane is one Tab from the cold list, and t moves a persona there.
    t.keys("Enter", "t")  # in the same instant, as a fast typist's keys arrive: t still moves the persona
    text = t.wait_for(r"Hot 1 / \d+")
    assert "backend-api-security-" in text.split("Hot 1 /", 1)[1]
    t.keys("q")
    t.wait_gone(10, "q did not quit")


@pytest.mark.parametrize("width", [120, 128, 136])
def test_quit_stays_in_the_footer_between_the_narrow_and_the_full_layout(terminal, width):
    """At widths where not every key fits, the footer keeps the essential ones (Quit last)."""
    t = terminal(width, 30)
    t.wait_for(r"Hot 0 / \d+")
    footer = t.wait_for(r"q\s+Quit").splitlines()[-1]
    assert re.search(r"\?\s+Help", footer), footer


def test_q_typed_while_the_app_starts_quits_it(terminal):
    """Textual focuses a screen's first focusable widget when it mounts; that was the filter,
    so a `q` typed during start-up became filter text and the app stayed open."""
    t = terminal(120, 30)
    time.sleep(0.75)  # the pane's 0.5 s wait, then the app's first moments
    t.keys("q")
    t.wait_gone(20, "q typed at start-up did not quit")
