"""Using a cold persona mid-session keeps it whole: the block says how, per Claude Code version.

Facts (read in Claude Code's code, see ``Profile.agents_watched``): 2.1.332 watches
``.claude/agents`` and announces "New agent types are now available for the Agent tool:";
2.1.112 re-reads agent files only on ``/reload-plugins``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ctxtui.core import strategies
from ctxtui.core.claude_code import load_agent
from ctxtui.core.claude_code.profiles import profile_for
from ctxtui.core.claude_md import display_path
from ctxtui.core.config import bundled_dir, load_settings
from ctxtui.core.project_init import PERSONA_COMMAND, PERSONA_COMMAND_TEXT, init
from ctxtui.core.workspace import Workspace


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    h = tmp_path / "elsewhere" / "home"
    (h / ".claude").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(h))
    return h


MID_SESSION = Path(__file__).parent / "data" / "claude_code" / "mid_session.json"


def test_agents_watched_matches_what_claude_codes_own_code_watches():
    """Data from scripts/claude_code/mid_session.py over the shipped CLIs."""
    data = json.loads(MID_SESSION.read_text())
    assert set(data) == {"2.1.112", "2.1.332"}
    for version, facts in data.items():
        watched = ["projectSettings", "agents"] in facts["watched"]
        assert profile_for(version).agents_watched is watched, version
        assert facts["reload_plugins"] and facts["new_agent_note"]  # both generations have both


def test_profiles_say_where_new_agents_are_picked_up_mid_session():
    assert profile_for("2.1.332").agents_watched is True
    assert profile_for("2.1.112").agents_watched is False
    assert profile_for("2.1.200").agents_watched is False  # not read there: the older, safe rule


def block_for(settings, version: str | None) -> str:
    if version:
        (settings.workspace / "hybrid-config.json").write_text(json.dumps({"claude_version": version}))
    ws = Workspace(settings)
    strategies.migrate(ws, "lazy_loading", hot=["alpha"], force=True)
    return (settings.workspace / "CLAUDE.md").read_text()


def test_newer_claude_code_is_told_to_wait_for_the_new_agent_announcement(settings, home):
    init(Workspace(settings), settings.library_dirs[0])
    text = block_for(settings, "2.1.332")
    assert "ctxtui activate NAME" in text and "/persona NAME" in text
    assert "New agent types are now available" in text
    assert "/reload-plugins" not in text


def test_older_claude_code_is_told_to_reload(settings, home):
    text = block_for(settings, "2.1.112")
    assert "/reload-plugins" in text and "New agent types" not in text
    assert "/persona" not in text  # no such command in this project: the block does not name it


def test_unknown_version_gets_both_ways(settings, home, monkeypatch):
    monkeypatch.setenv("PATH", "")  # no `claude` to ask
    text = block_for(settings, None)
    assert "New agent types are now available" in text and "/reload-plugins" in text


def test_the_fallback_passes_the_personas_tools_and_model_along(settings, home):
    text = block_for(settings, "2.1.112")
    assert "persona's `model` as the Agent tool's model" in text
    assert "only the\npersona's `tools`" in text
    assert "Claude Code reads agent files only when a session starts" not in text  # the old, wrong claim


def test_block_paths_are_portable_never_absolute(tmp_path, home, library):
    work = tmp_path / "work"
    proj = work / "app"
    proj.mkdir(parents=True)
    lib = work / "lib"
    library.rename(lib)
    ws = Workspace(load_settings(workspace=proj))
    init(ws, lib)
    ws = Workspace(load_settings(workspace=proj))
    strategies.migrate(ws, "lazy_loading", hot=[], density="full", force=True)
    text = (proj / "CLAUDE.md").read_text()
    assert "../lib/beta.md" in text
    assert str(tmp_path) not in text and str(bundled_dir("personas")) not in text
    assert not re.search(r"(^|\s)/\S+\.md", text)


def test_display_path_rules(tmp_path, home):
    proj = tmp_path / "w" / "p"
    assert display_path(proj / ".claude" / "ctxtui" / "cold" / "x.md", proj) == ".claude/ctxtui/cold/x.md"
    assert display_path(tmp_path / "w" / "lib" / "x.md", proj) == "../lib/x.md"
    assert display_path(home / "agents" / "x.md", proj) == "~/agents/x.md"
    assert display_path(bundled_dir("personas") / "debugger.md", proj).startswith("demo: debugger.md")
    assert not display_path(Path("/opt/team/x.md"), proj).startswith("/")


def test_persona_command_is_created_by_init_and_only_runs_ctxtui(settings, home):
    init(Workspace(settings), settings.library_dirs[0])
    cmd = settings.workspace / PERSONA_COMMAND
    assert cmd.read_text() == PERSONA_COMMAND_TEXT
    head = PERSONA_COMMAND_TEXT.split("---")[1]
    allowed = re.search(r"allowed-tools: (.*)", head).group(1)
    assert allowed == "Bash(ctxtui activate:*), Bash(ctxtui find:*)"
    assert "$ARGUMENTS" in PERSONA_COMMAND_TEXT


def test_activate_mid_session_makes_a_real_agent_with_its_tools_and_model(settings, home):
    ws = Workspace(settings)
    (settings.library_dirs[0] / "omega.md").write_text(
        "---\nname: omega\ndescription: Deploys.\ntools: Bash, Read\nmodel: opus\n---\nYou deploy.\n")
    ws = Workspace(settings)
    ws.activate(["omega"])
    path = settings.agents_dir / "omega.md"
    verdict = load_agent(path, path.read_bytes(), profile_for("2.1.332"))
    assert verdict.loaded and verdict.name == "omega" and verdict.tools == ["Bash", "Read"]
    assert path.read_bytes() == (settings.library_dirs[0] / "omega.md").read_bytes()  # model: opus kept
