"""``ctxtui reset``: everything ctxtui added goes in one change that rollback undoes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ctxtui.core import claude_hooks, strategies
from ctxtui.core.claude_md import BEGIN
from ctxtui.core.config import load_settings
from ctxtui.core.errors import CtxtuiError
from ctxtui.core.history import History
from ctxtui.core.project_init import PERSONA_COMMAND, init
from ctxtui.core.reset import reset
from ctxtui.core.tiers import set_tier
from ctxtui.core.workspace import Workspace
from tests.conftest import persona_text, snapshot_tree

USER_TEXT = b"# Our project\r\n\r\nBuild with make.\r\n"
LOCAL = b'{\n  "env": {"A": "1"},\n  "permissions": {"deny": ["Bash(rm:*)"]}\n}\n'


@pytest.fixture
def full(workspace: Path, library: Path, home: Path) -> Workspace:
    """A project where ctxtui added all it can: block, deny rule, skill, hook, /persona."""
    (workspace / "CLAUDE.md").write_bytes(USER_TEXT)
    (workspace / ".claude").mkdir()
    (workspace / ".claude" / "settings.local.json").write_bytes(LOCAL)
    ws = Workspace(load_settings(workspace=workspace, library_dirs=[library]))
    init(ws, library)
    strategies.migrate(ws, "lazy_loading", hot=["alpha", "beta"], force=True)
    set_tier(ws, ["beta"], "hidden")
    set_tier(ws, ["gamma"], "skill")
    path = workspace / ".claude" / "settings.local.json"
    with ws.transaction("install hook") as tx:
        tx.write(path, claude_hooks.plan_install(tx.read(path)))
    return ws


def managed(ws: Workspace) -> dict[str, bytes]:
    return {History(ws.settings).rel(p): p.read_bytes() for p in History(ws.settings).managed_paths()}


def test_reset_removes_every_addition_and_keeps_personas_as_plain_files(full):
    root = full.settings.workspace
    assert BEGIN in (root / "CLAUDE.md").read_text()
    r = reset(full)
    assert r.entry is not None
    assert (root / "CLAUDE.md").read_bytes() == USER_TEXT  # the user's text, CRLF and all
    local = json.loads((root / ".claude" / "settings.local.json").read_text())
    assert local == {"env": {"A": "1"}, "permissions": {"deny": ["Bash(rm:*)"]}}  # only ours went
    assert not (root / ".claude" / "skills" / "gamma").exists()
    assert not (root / PERSONA_COMMAND).exists()
    names = sorted(p.stem for p in (root / ".claude" / "agents").glob("*.md"))
    assert names == ["alpha", "beta", "gamma"]  # gamma back as its original agent file; ctxtui's manager gone
    assert (root / ".claude" / "agents" / "gamma.md").read_bytes() == (full.settings.library_dirs[0] / "gamma.md").read_bytes()
    ws = Workspace(full.settings)
    assert ws.strategy == "eager" and ws.denied == set() and ws.tier_records == {}


def test_reset_is_one_change_that_rollback_undoes_byte_for_byte(full):
    before = managed(full)
    entries = len(History(full.settings).entries())
    reset(full)
    assert len(History(full.settings).entries()) == entries + 1
    strategies.rollback(Workspace(full.settings), reason="undo reset")
    assert managed(Workspace(full.settings)) == before


def test_reset_with_nothing_to_remove_records_nothing(workspace, library, home):
    ws = Workspace(load_settings(workspace=workspace, library_dirs=[library]))
    tree = snapshot_tree(workspace)
    r = reset(ws)
    assert r.changes == [] and r.entry is None
    after = {k: v for k, v in snapshot_tree(workspace).items() if not k.endswith("/.claude/ctxtui/lock")}
    assert after == tree  # nothing but the (empty) lock file


def test_an_edited_persona_command_is_the_users_and_stays(full):
    cmd = full.settings.workspace / PERSONA_COMMAND
    cmd.write_text("my own version\n")
    r = reset(full)
    assert cmd.read_text() == "my own version\n"
    assert any("edited" in n for n in r.notes)


def test_a_broken_settings_file_stops_reset_before_anything_changes(full):
    path = full.settings.workspace / ".claude" / "settings.local.json"
    path.write_text("{not json")
    tree = snapshot_tree(full.settings.workspace)
    with pytest.raises(CtxtuiError, match="settings.local.json"):
        reset(full)
    after = {k: v for k, v in snapshot_tree(full.settings.workspace).items() if "/history/blobs/" not in k}
    assert after == {k: v for k, v in tree.items() if "/history/blobs/" not in k}  # blobs: ctxtui's cache


def test_persona_files_written_by_hand_are_never_touched(full):
    extra = full.settings.agents_dir / "handmade.md"
    extra.write_text(persona_text("handmade"))
    reset(full)
    assert extra.read_text() == persona_text("handmade")


def test_reset_removes_a_settings_file_ctxtui_created_for_its_rules(workspace, library, home):
    ws = Workspace(load_settings(workspace=workspace, library_dirs=[library]))
    ws.activate(["alpha"])
    path = workspace / ".claude" / "settings.local.json"
    assert not path.exists()
    set_tier(ws, ["alpha"], "hidden")
    assert path.exists()
    reset(Workspace(ws.settings))
    assert not path.exists()
    strategies.undo(Workspace(ws.settings))
    assert "Agent(alpha)" in path.read_text()  # and undo brings it back


def test_a_claude_md_that_held_only_the_block_goes_and_an_edited_manager_stays(workspace, library, home):
    ws = Workspace(load_settings(workspace=workspace, library_dirs=[library]))
    strategies.migrate(ws, "lazy_loading", hot=["alpha"], force=True)
    root = workspace
    assert (root / "CLAUDE.md").exists() and (root / ".claude" / "agents" / "persona-manager.md").exists()
    manager = root / ".claude" / "agents" / "persona-manager.md"
    manager.write_bytes(manager.read_bytes() + b"\nMy own rule.\n")
    edited = manager.read_bytes()
    before = snapshot_tree(root / ".claude" / "agents") | {"md": (root / "CLAUDE.md").read_bytes()}
    reset(Workspace(ws.settings))
    assert not (root / "CLAUDE.md").exists()  # ctxtui made it for its block; nothing else was in it
    assert manager.read_bytes() == edited  # changed by someone: theirs now, left hot
    strategies.undo(Workspace(ws.settings))
    assert snapshot_tree(root / ".claude" / "agents") | {"md": (root / "CLAUDE.md").read_bytes()} == before
