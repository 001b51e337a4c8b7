"""Hostile state from a cloned repository, symlinks and file modes: ctxtui never writes or
removes outside the project's managed locations."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from conftest import crash_at, persona_text
from ctxtui.cli import main
from ctxtui.core import journal, strategies
from ctxtui.core.errors import UnsafePathError
from ctxtui.core.history import History
from ctxtui.core.workspace import Workspace


def run(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def craft_tx(settings, steps: list[dict], stages: dict[int, bytes] | None = None, name="20260101T000000-deadbeef") -> Path:
    txdir = settings.state_dir / "journal" / name
    txdir.mkdir(parents=True)
    for n, data in (stages or {}).items():
        (txdir / f"{n}.stage").write_bytes(data)
    (txdir / "manifest.json").write_text(json.dumps({"id": name, "label": "crafted", "steps": steps}))
    return txdir


def sha(data: bytes) -> str:
    return journal.sha256_bytes(data)


@pytest.mark.parametrize("where", ["dotdot", "absolute"])
def test_manifest_writing_outside_the_workspace_is_quarantined_not_applied(settings, library, capsys, where, tmp_path):
    outside = tmp_path / "outside.txt"
    path = (settings.agents_dir / ".." / ".." / ".." / "outside.txt") if where == "dotdot" else outside
    payload = b"pwned"
    craft_tx(settings, [{"path": str(path), "op": "write", "before": None, "sha256": sha(payload)}], {0: payload})
    code, _, err = run(capsys, "status", "-w", settings.workspace, "-l", library)
    assert code == 0
    assert not outside.exists()
    assert "refused" in err and "outside the project's managed locations" in err
    assert len(err.strip().splitlines()) == 1
    assert list((settings.state_dir / "quarantine").iterdir())
    assert not journal.pending(settings.state_dir)


def test_manifest_removing_outside_the_workspace_is_quarantined(settings, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    craft_tx(settings, [{"path": str(victim), "op": "remove", "before": sha(b"keep me")}])
    ws = Workspace(settings)
    assert victim.read_text() == "keep me"
    assert any("refused" in line for line in ws.recovered)


def test_manifest_step_without_a_precondition_is_refused(settings):
    target = settings.workspace / "CLAUDE.md"
    target.write_text("user notes\n")
    craft_tx(settings, [{"path": str(target), "op": "write", "sha256": sha(b"x")}], {0: b"x"})
    ws = Workspace(settings)
    assert target.read_text() == "user notes\n"
    assert any("no precondition" in line for line in ws.recovered)


def test_manifest_with_staged_bytes_not_matching_its_hash_is_refused(settings):
    target = settings.workspace / "CLAUDE.md"
    craft_tx(settings, [{"path": str(target), "op": "write", "before": None, "sha256": sha(b"a")}], {0: b"b"})
    ws = Workspace(settings)
    assert not target.exists() and any("does not match" in line for line in ws.recovered)


@pytest.mark.parametrize("content", [b'{"id": "x", "steps": [', b"\xff\xfe", b"[]", b'{"steps": [{"op": 1}]}'])
def test_corrupt_manifest_is_quarantined_once_and_every_command_works(settings, library, capsys, content):
    txdir = craft_tx(settings, [])
    (txdir / "manifest.json").write_bytes(content)
    code, _, err = run(capsys, "status", "-w", settings.workspace, "-l", library)
    assert code == 0 and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and "moved to" in err
    code, _, err = run(capsys, "activate", "alpha", "-w", settings.workspace, "-l", library)
    assert code == 0 and err == ""


def test_symlinked_journal_entry_is_quarantined(settings, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "manifest.json").write_text(json.dumps({"steps": []}))
    (settings.state_dir / "journal").mkdir(parents=True)
    os.symlink(elsewhere, settings.state_dir / "journal" / "tx")
    ws = Workspace(settings)
    assert (elsewhere / "manifest.json").exists()
    assert any("not a journal folder" in line for line in ws.recovered)


def test_history_entry_with_a_dotdot_key_is_quarantined_and_rollback_stays_inside(settings, library, capsys, tmp_path):
    ws = Workspace(settings)
    strategies.migrate(ws, "lazy_loading", hot=["alpha"], force=True)
    history = History(settings)
    blob = history.store_blob(b"pwned")
    entry = json.loads(next(history.entries_dir.glob("*.json")).read_text())
    entry["id"] = "0002-20990101T000000"
    entry["after"]["../../escaped.txt"] = blob
    (history.entries_dir / "0002-20990101T000000.json").write_text(json.dumps(entry))
    code, _, err = run(capsys, "rollback", "--id", "2", "--reason", "x", "-w", settings.workspace, "-l", library)
    assert code == 1
    assert "outside the files ctxtui manages" in err and "Traceback" not in err
    assert not (settings.workspace.parent / "escaped.txt").exists()
    assert not (tmp_path / "escaped.txt").exists()
    assert len(strategies.history(Workspace(settings))) == 1  # the crafted entry is gone
    assert any(p.name.endswith("0002-20990101T000000.json") for p in (settings.state_dir / "quarantine").iterdir())


@pytest.mark.parametrize("state", [
    {"hot": {"../../outside.md": {"name": "x", "sha256": "0"}}},
    {"hot": []},
    {"hot": {}, "strategy": "drop tables"},
    ["not", "an", "object"],
])
def test_state_json_of_the_wrong_shape_is_set_aside_with_one_line(settings, library, capsys, state):
    settings.state_dir.mkdir(parents=True)
    (settings.state_dir / "state.json").write_text(json.dumps(state))
    code, _, err = run(capsys, "activate", "alpha", "-w", settings.workspace, "-l", library)
    assert code == 0, err
    assert len(err.strip().splitlines()) == 1 and "state.json" in err and "moved to" in err
    assert json.loads((settings.state_dir / "state.json").read_text())["hot"]["alpha.md"]["name"] == "alpha"


def test_non_utf8_state_json_is_one_line(settings, library, capsys):
    settings.state_dir.mkdir(parents=True)
    (settings.state_dir / "state.json").write_bytes(b"\xff\xfe{")
    code, _, err = run(capsys, "status", "-w", settings.workspace, "-l", library)
    assert code == 0 and len(err.strip().splitlines()) == 1 and "not valid JSON" in err


# ---------------------------------------------------------------- symlinks


def lazy(ws: Workspace) -> None:
    strategies.migrate(ws, "lazy_loading", hot=["alpha"], force=True)


def test_claude_md_linked_inside_the_workspace_is_edited_through_the_link(settings):
    agents_md = settings.workspace / "AGENTS.md"
    agents_md.write_bytes(b"# Shared notes\r\nkeep\r\n")
    (settings.workspace / "CLAUDE.md").symlink_to("AGENTS.md")
    ws = Workspace(settings)
    lazy(ws)
    link = settings.workspace / "CLAUDE.md"
    assert link.is_symlink() and os.readlink(link) == "AGENTS.md"
    assert agents_md.read_bytes().startswith(b"# Shared notes\r\nkeep\r\n")
    assert b"ctxtui" in agents_md.read_bytes()
    strategies.rollback(ws, reason="undo")
    assert link.is_symlink() and os.readlink(link) == "AGENTS.md"
    assert agents_md.read_bytes() == b"# Shared notes\r\nkeep\r\n"


def test_claude_md_linked_outside_the_workspace_is_refused(settings, tmp_path):
    outside = tmp_path / "global.md"
    outside.write_text("someone else's file\n")
    (settings.workspace / "CLAUDE.md").symlink_to(outside)
    ws = Workspace(settings)
    with pytest.raises(UnsafePathError, match="outside the project"):
        lazy(ws)
    assert outside.read_text() == "someone else's file\n"
    assert (settings.workspace / "CLAUDE.md").is_symlink()


def test_settings_local_linked_outside_is_refused(settings, tmp_path):
    from test_strategies import register

    register(settings)
    outside = tmp_path / "settings.json"
    outside.write_text("{}\n")
    (settings.workspace / ".claude").mkdir()
    (settings.workspace / ".claude" / "settings.local.json").symlink_to(outside)
    with pytest.raises(UnsafePathError):
        strategies.migrate(Workspace(settings), "hybrid", hot=["gamma"], force=True)
    assert outside.read_text() == "{}\n"


def test_rollback_never_removes_a_link_that_replaced_a_file(settings):
    ws = Workspace(settings)
    lazy(ws)  # creates CLAUDE.md
    md = settings.workspace / "CLAUDE.md"
    (settings.workspace / "AGENTS.md").write_bytes(md.read_bytes())
    md.unlink()
    md.symlink_to("AGENTS.md")
    strategies.rollback(ws, reason="undo")  # the snapshot before had no CLAUDE.md
    assert md.is_symlink() and (settings.workspace / "AGENTS.md").exists()


@pytest.mark.parametrize("linked", ["agents", "cold"])
def test_linked_agents_or_cold_store_is_refused(settings, tmp_path, linked):
    target = tmp_path / "linked-target"
    target.mkdir()
    (settings.workspace / ".claude").mkdir()
    if linked == "agents":
        (target / "mine.md").write_text(persona_text("mine"))
        settings.agents_dir.symlink_to(target)
        ws = Workspace(settings)
        with pytest.raises(UnsafePathError, match=r"\.claude/agents is a symlink"):
            ws.activate(["alpha"])
    else:
        settings.state_dir.mkdir()
        settings.cold_store.symlink_to(target)
        settings.agents_dir.mkdir()
        (settings.agents_dir / "mine.md").write_text(persona_text("mine"))
        ws = Workspace(settings)
        with pytest.raises(UnsafePathError, match=r"\.claude/ctxtui/cold is a symlink"):
            ws.deactivate(["mine"])
        assert (settings.agents_dir / "mine.md").exists()
    assert sorted(p.name for p in target.iterdir()) == (["mine.md"] if linked == "agents" else [])


def test_linked_state_folder_is_never_written(settings, tmp_path):
    target = tmp_path / "state-elsewhere"
    (target / "journal" / "tx").mkdir(parents=True)
    (target / "journal" / "tx" / "manifest.json").write_text(json.dumps({"steps": []}))
    (settings.workspace / ".claude").mkdir()
    settings.state_dir.symlink_to(target)
    ws = Workspace(settings)
    assert any("is a symlink" in line for line in ws.recovered)
    with pytest.raises(UnsafePathError):
        ws.activate(["alpha"])
    assert sorted(p.name for p in target.iterdir()) == ["journal"]


# ---------------------------------------------------------------- file modes


def test_read_only_claude_md_keeps_its_mode_through_write_and_rollback(settings):
    md = settings.workspace / "CLAUDE.md"
    md.write_text("notes\n")
    md.chmod(0o444)
    ws = Workspace(settings)
    lazy(ws)
    assert stat.S_IMODE(md.stat().st_mode) == 0o444 and "ctxtui" in md.read_text()
    strategies.rollback(ws, reason="undo")
    assert stat.S_IMODE(md.stat().st_mode) == 0o444 and md.read_text() == "notes\n"


def test_new_files_get_normal_modes(settings):
    old = os.umask(0o022)
    try:
        ws = Workspace(settings)
        ws.activate(["alpha"])
    finally:
        os.umask(old)
    assert stat.S_IMODE((settings.agents_dir / "alpha.md").stat().st_mode) == 0o644


def test_a_private_claude_md_keeps_its_mode_through_crash_recovery(settings):
    ws = Workspace(settings)
    lazy(ws)
    md = settings.workspace / "CLAUDE.md"
    md.chmod(0o600)
    with crash_at("step:0"):
        ws.activate(["beta"])
    Workspace(settings)
    assert stat.S_IMODE(md.stat().st_mode) == 0o600
    assert "beta" in md.read_text()
