"""Shared fixtures: every test runs with its own config, cache, data and ~/.claude folders."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from ctxtui.core import claude_version
from ctxtui.core.config import Settings, load_settings

REPO = Path(__file__).resolve().parent.parent
CORPORA = next(
    (p / "shared" / "corpora" for p in (REPO.parent, Path("/work")) if (p / "shared" / "corpora").is_dir()),
    REPO.parent / "shared" / "corpora",
)
WSHOBSON = CORPORA / "wshobson__agents"
TRANSCRIPTS = CORPORA / "transcripts"


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep tests away from the real ~/.claude, config, cache and event store."""
    for var, sub in (
        ("CTXTUI_CONFIG_DIR", "config"),
        ("CTXTUI_CACHE_DIR", "cache"),
        ("CTXTUI_DATA_DIR", "data"),
        ("CTXTUI_CLAUDE_HOME", "home/.claude"),
    ):
        monkeypatch.setenv(var, str(tmp_path / "_env" / sub))
    monkeypatch.delenv("CTXTUI_LIBRARY", raising=False)
    # Never run the `claude` of the machine running the tests: the Claude Code version (and so
    # every loader rule and budget figure) must not depend on it. Explicit binaries still work.
    probe = claude_version.from_path
    monkeypatch.setattr(claude_version, "from_path",
                        lambda cache_dir, *, which=None: probe(cache_dir, which=which) if which else None)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home folder of its own (``$HOME``, with ``~/.claude`` as Claude Code's home)."""
    h = tmp_path / "home"
    (h / ".claude").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(h))
    monkeypatch.setenv("CTXTUI_CLAUDE_HOME", str(h / ".claude"))
    return h


def persona_text(name: str, description: str = "Does things.", body: str = "Body text.\n", **extra: str) -> str:
    """A well-formed persona file."""
    lines = ["---", f"name: {name}", f"description: {description}"]
    lines += [f"{k}: {v}" for k, v in extra.items()]
    return "\n".join(lines) + "\n---\n\n" + body


@pytest.fixture
def library(tmp_path: Path) -> Path:
    """A small flat library of five personas."""
    lib = tmp_path / "lib"
    lib.mkdir()
    for i, name in enumerate(["alpha", "beta", "gamma", "delta", "epsilon"]):
        (lib / f"{name}.md").write_text(
            persona_text(name, f"Use {name} for task number {i}.", f"You are {name}.\n" * (i + 1), tools="Read, Grep")
        )
    return lib


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """An empty project folder."""
    ws = tmp_path / "project"
    ws.mkdir()
    return ws


@pytest.fixture
def settings(workspace: Path, library: Path) -> Settings:
    """Settings for the small library and empty workspace."""
    return load_settings(workspace=workspace, library_dirs=[library])


def hotdir(s: Settings) -> Path:
    """The project's agents folder."""
    return s.agents_dir


def snapshot_tree(*roots: Path) -> dict[str, bytes]:
    """Every file under the roots by path -> bytes."""
    out = {}
    for root in roots:
        if root.exists():
            for p in sorted(root.rglob("*")):
                if p.is_file():
                    out[str(p)] = p.read_bytes()
    return out


@contextlib.contextmanager
def crash_at(point: str) -> Iterator[None]:
    """Simulate the process being killed at a journal step ("staged", "step:N")."""
    from ctxtui.core import journal

    def hook(at: str) -> None:
        if at == point:
            raise KeyboardInterrupt(f"killed at {point}")

    journal.set_fault_hook(hook)
    try:
        with pytest.raises(KeyboardInterrupt):
            yield
    finally:
        journal.set_fault_hook(None)


def delegations(transcripts: Path, personas: list[str], prompt: str = "review {i}") -> Path:
    """TRANSCRIPTS (returned) with one session in ``-proj``: for each persona, a prompt
    (PROMPT with its number) and the Task call it led to."""
    import json

    proj = transcripts / "-proj"
    proj.mkdir(parents=True, exist_ok=True)
    lines = []
    for i, persona in enumerate(personas):
        lines.append({"type": "user", "timestamp": "2026-11-01T10:00:00Z", "message": {"content": prompt.format(i=i)}})
        lines.append({"type": "assistant", "requestId": f"r{i}", "timestamp": "2026-11-01T10:00:01Z", "message": {
            "id": f"m{i}", "content": [{"type": "tool_use", "id": f"t{i}", "name": "Task",
                                        "input": {"subagent_type": persona, "prompt": "go"}}]}})
    (proj / "s.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    return transcripts

