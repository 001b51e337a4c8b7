"""The UserPromptSubmit hook never breaks a prompt, and speaks only when the router is sure."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ctxtui import route_hook
from ctxtui.analytics import router
from ctxtui.analytics.router import Example
from ctxtui.analytics.router_model import FORMAT

HEAVY = ("tiktoken", "textual", "yaml", "rich", "platformdirs")


def _toy() -> list[Example]:
    exs = []
    for s in range(40):
        day = f"2026-02-{1 + s % 28:02d}T{s // 28:02d}"
        exs += [
            Example(f"optimise the postgres query plan and indexes {s}", "sql-pro", "-proj", day, f"s{s}"),
            Example(f"kubernetes helm chart for the cluster rollout {s}", "k8s-architect", "-proj", day, f"s{s}"),
            Example("run the tests and commit", "", "-proj", day, f"s{s}"),
            Example("rename the variable in utils", "", "-proj", day, f"s{s}"),
            Example("why does it fail on startup", "", "-proj", day, f"s{s}"),
        ]
    return exs


@pytest.fixture
def model_file() -> Path:
    """A trained model in ctxtui's (test) cache dir, freshly checked."""
    model, _ = router.train(_toy())
    path = Path(route_hook.model_file())
    router.save(model, path)
    return path


@pytest.fixture
def project(tmp_path: Path) -> Path:
    p = tmp_path / "proj"
    (p / ".claude" / "agents").mkdir(parents=True)
    return p


def run_hook(stdin: bytes, timeout: float = 20) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ctxtui.route_hook"], input=stdin, capture_output=True,
                          timeout=timeout)


def payload(prompt: object, cwd: Path | str) -> bytes:
    return json.dumps({"session_id": "x", "transcript_path": "/nowhere.jsonl", "cwd": str(cwd),
                       "hook_event_name": "UserPromptSubmit", "prompt": prompt}).encode()


def test_a_confident_prompt_names_exactly_one_hot_agent(model_file: Path, project: Path) -> None:
    (project / ".claude" / "agents" / "sql-pro.md").write_text("---\nname: sql-pro\n---\n")
    r = run_hook(payload("the postgres indexes are slow, check the query plan", project))
    assert r.returncode == 0 and r.stderr == b""
    out = json.loads(r.stdout)
    assert out["hookSpecificOutput"]["hookEventName"] == "UserPromptSubmit"
    line = out["hookSpecificOutput"]["additionalContext"]
    assert "`sql-pro` subagent" in line and "k8s-architect" not in line and "\n" not in line


def test_a_cold_persona_is_named_with_its_file_relative_to_the_project(model_file: Path, project: Path) -> None:
    cold = project / ".claude" / "ctxtui" / "cold"
    cold.mkdir(parents=True)
    (cold / "k8s-architect.md").write_text("---\nname: k8s-architect\n---\n")
    r = run_hook(payload("helm chart for the kubernetes cluster", project))
    line = json.loads(r.stdout)["hookSpecificOutput"]["additionalContext"]
    assert os.path.join(".claude", "ctxtui", "cold", "k8s-architect.md") in line
    assert "not loaded" in line


@pytest.mark.parametrize("prompt", ["run the tests and commit", "zebra giraffe", ""])
def test_everyday_or_unknown_prompts_get_no_output(model_file: Path, project: Path, prompt: str) -> None:
    (project / ".claude" / "agents" / "sql-pro.md").write_text("x")
    r = run_hook(payload(prompt, project))
    assert (r.returncode, r.stdout, r.stderr) == (0, b"", b"")


def test_a_persona_that_is_nowhere_to_be_found_is_not_named(model_file: Path, project: Path) -> None:
    r = run_hook(payload("the postgres indexes are slow, check the query plan", project))
    assert (r.returncode, r.stdout) == (0, b"")


@pytest.mark.parametrize("stdin", [b"", b"not json", b"[1, 2]", b'{"prompt": 3}', b"\xff\xfe{",
                                   b'{"prompt": "' + b"a" * (2 * 1024 * 1024) + b'"}'],
                         ids=["empty", "not-json", "array", "prompt-not-text", "not-utf8", "oversize"])
def test_bad_stdin_never_breaks_the_prompt(model_file: Path, stdin: bytes) -> None:
    r = run_hook(stdin)
    assert (r.returncode, r.stdout, r.stderr) == (0, b"", b"")


def test_a_corrupt_model_is_silent_and_logged(model_file: Path, project: Path) -> None:
    model_file.write_bytes(b'{"format": %d, "classes": "oops"}\nrubbish\n' % FORMAT)
    r = run_hook(payload("the postgres indexes are slow", project))
    assert (r.returncode, r.stdout, r.stderr) == (0, b"", b"")
    log = Path(os.environ["CTXTUI_DATA_DIR"]) / "route-hook.log"
    assert "malformed" in log.read_text()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_in_place_of_the_model_does_not_hang(project: Path) -> None:
    path = Path(route_hook.model_file())
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)
    start = time.monotonic()
    r = run_hook(payload("the postgres indexes are slow", project), timeout=10)
    assert (r.returncode, r.stdout) == (0, b"")
    assert time.monotonic() - start < 5


def test_a_slow_answer_is_abandoned_by_the_watchdog(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    if not hasattr(__import__("signal"), "setitimer"):
        pytest.skip("no interval timers on this platform")
    monkeypatch.setattr(route_hook, "WATCHDOG_SECONDS", 0.2)
    monkeypatch.setattr(route_hook, "answer", lambda raw: time.sleep(5) or "late")
    monkeypatch.setattr(sys, "stdin", type("S", (), {"buffer": type("B", (), {"read": lambda self, n: b"{}"})()})())
    start = time.monotonic()
    assert route_hook.main([]) == 0
    assert time.monotonic() - start < 2
    assert capsys.readouterr().out == ""
    assert "gave up" in (Path(os.environ["CTXTUI_DATA_DIR"]) / "route-hook.log").read_text()


def _write_transcripts(home: Path) -> None:
    folder = home / "projects" / "-proj"
    folder.mkdir(parents=True, exist_ok=True)
    for s in range(3):
        recs = [{"type": "user", "sessionId": f"s{s}", "cwd": "/proj", "timestamp": f"2026-01-0{s + 1}T10:00:00Z",
                 "message": {"role": "user", "content": "optimise the postgres query"}}]
        (folder / f"s{s}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))


def _wait_for(cond, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.1)
    return False


def test_without_a_model_the_hook_is_silent_and_builds_one_in_the_background(project: Path) -> None:
    _write_transcripts(Path(os.environ["CTXTUI_CLAUDE_HOME"]))
    path = Path(route_hook.model_file())
    assert not path.exists()
    start = time.monotonic()
    r = run_hook(payload("optimise the postgres query", project))
    assert (r.returncode, r.stdout) == (0, b"")
    assert time.monotonic() - start < 10  # it did not wait for the build
    assert _wait_for(lambda: path.is_file() and not Path(f"{path}.lock").exists())
    model = router.load(path)
    assert model is not None and model["examples"] == 3


def test_a_model_of_an_older_format_is_silent_and_rebuilt(model_file: Path, project: Path) -> None:
    _write_transcripts(Path(os.environ["CTXTUI_CLAUDE_HOME"]))
    head, _, body = model_file.read_bytes().partition(b"\n")
    old = json.loads(head)
    old["format"] = FORMAT - 1  # what the previous release wrote
    model_file.write_bytes(json.dumps(old).encode() + b"\n" + body)
    r = run_hook(payload("the postgres indexes are slow, check the query plan", project))
    assert (r.returncode, r.stdout, r.stderr) == (0, b"", b"")
    assert _wait_for(lambda: (m := router.load(model_file)) is not None and m["format"] == FORMAT
                     and not Path(f"{model_file}.lock").exists())


def test_a_stale_model_still_answers_and_is_refreshed(model_file: Path, project: Path) -> None:
    _write_transcripts(Path(os.environ["CTXTUI_CLAUDE_HOME"]))
    (project / ".claude" / "agents" / "sql-pro.md").write_text("x")
    old = time.time() - 2 * route_hook.REFRESH_SECONDS
    os.utime(model_file, (old, old))
    r = run_hook(payload("the postgres indexes are slow, check the query plan", project))
    assert b"sql-pro" in r.stdout  # answered with the stale model
    assert _wait_for(lambda: model_file.stat().st_mtime > old + 60 and not Path(f"{model_file}.lock").exists())


def test_one_refresh_at_a_time(model_file: Path) -> None:
    lock = Path(f"{model_file}.lock")
    lock.write_text("123")
    assert route_hook.spawn_refresh() is False
    old = time.time() - 2 * route_hook.LOCK_STALE_SECONDS
    os.utime(lock, (old, old))  # a refresh that died long ago does not block forever
    assert route_hook.spawn_refresh() is True
    assert _wait_for(lambda: not lock.exists())


@pytest.mark.parametrize("name", ["../../etc/passwd", "evil\nname", "a b", "-rf", "x" * 200, "`rm`",
                                  "plugin:unverified"])
def test_unsafe_persona_names_from_a_model_are_never_echoed(tmp_path: Path, name: str) -> None:
    assert route_hook.locate(name, str(tmp_path), {name: str(tmp_path / "x.md")}) is None


def test_the_hook_path_imports_nothing_heavy(model_file: Path, project: Path) -> None:
    (project / ".claude" / "agents" / "sql-pro.md").write_text("x")
    code = (
        "import sys\n"
        "from ctxtui import route_hook\n"
        "route_hook.main([])\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})\n"
        "print(bad, file=sys.stderr)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], input=payload("postgres query plan indexes", project),
                       capture_output=True, timeout=20, env={**os.environ, "CTXTUI_CACHE_DIR": os.environ["CTXTUI_CACHE_DIR"]})
    assert b"sql-pro" in r.stdout
    assert r.stderr.decode().strip() == "[]"
