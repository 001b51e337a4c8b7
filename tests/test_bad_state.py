"""Every bad state file, full disk or read-only folder gives one clear line, never a
traceback; recovery by any command says what it did."""

from __future__ import annotations

import errno
import json
import os

import pytest

from conftest import crash_at
from ctxtui.cli import main
from ctxtui.core import journal
from ctxtui.core.workspace import Workspace


def run(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.mark.parametrize("content", [b'{"id": "0001", "kind": "mig', b"\xff\xff", b"[1, 2]", b'{"id": 5}'])
def test_truncated_or_malformed_history_entry_is_set_aside(settings, library, capsys, content):
    entries = settings.state_dir / "history" / "entries"
    entries.mkdir(parents=True)
    (entries / "0001-20260101T000000.json").write_bytes(content)
    code, out, err = run(capsys, "history", "--json", "-w", settings.workspace, "-l", library)
    assert code == 0 and json.loads(out) == {"entries": []}
    assert "history entry 0001-20260101T000000.json" in one_line(err)
    code, _, err = run(capsys, "history", "-w", settings.workspace, "-l", library)
    assert code == 0 and err == ""  # quarantined once, not fatal forever


@pytest.mark.parametrize("content,why", [
    (b"[]", "not a JSON object"),
    (b"\xff\xfe", "not UTF-8"),
    (b'{"library_dirs": [1, 2]}', "library_dirs"),
    (b'{"window": "big"}', "settings.json: window: Expected int, got str"),
    (b"[" * 100000, "nested too deeply"),
    (b'{"theme": ', "not valid JSON"),
])
def test_bad_user_settings_file_is_one_line(library, workspace, capsys, tmp_path, content, why):
    cfg = tmp_path / "_env" / "config"
    cfg.mkdir(parents=True)
    (cfg / "settings.json").write_bytes(content)
    code, _, err = run(capsys, "status", "-w", workspace, "-l", library)
    assert code == 1 and why in one_line(err)


@pytest.mark.parametrize("content,why", [(b"\xff", "not UTF-8"), (b"[]", "not a JSON object"),
                                         (b'{"lazy_loading": {"max_active_personas": "3"}}', "max_active_personas")])
def test_bad_workspace_config_is_one_line(library, workspace, capsys, content, why):
    (workspace / "hybrid-config.json").write_bytes(content)
    code, _, err = run(capsys, "status", "-w", workspace, "-l", library)
    assert code == 1 and why in one_line(err)


@pytest.mark.parametrize("content,why", [(b"[]", "not a JSON object"), (b"\xff", "not UTF-8"), (b"{", "not valid JSON")])
def test_bad_claude_settings_local_is_one_line_and_kept(settings, library, capsys, content, why):
    from test_strategies import register

    register(settings)
    local = settings.workspace / ".claude" / "settings.local.json"
    local.parent.mkdir(parents=True)
    local.write_bytes(content)
    code, _, err = run(capsys, "migrate", "--to", "hybrid", "-w", settings.workspace, "-l", library)
    assert code == 1 and why in one_line(err)
    assert local.read_bytes() == content


def enospc(*_a, **_k):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_full_disk_while_staging_changes_nothing(settings, library, capsys, monkeypatch):
    Workspace(settings)
    monkeypatch.setattr(journal, "_write_fsync", enospc)
    code, _, err = run(capsys, "activate", "alpha", "-w", settings.workspace, "-l", library)
    assert code == 1 and "No space left on device" in one_line(err) and "nothing changed" in err
    assert not settings.agents_dir.exists() and not journal.pending(settings.state_dir)


def test_full_disk_while_snapshotting_a_migration_is_one_line(settings, library, capsys, monkeypatch):
    monkeypatch.setattr(journal, "atomic_write", lambda *a: enospc())
    code, _, err = run(capsys, "migrate", "--to", "eager", "-w", settings.workspace, "-l", library)
    assert code == 1 and "No space left on device" in one_line(err)
    assert not settings.agents_dir.exists()


def test_read_only_agents_folder_defers_the_change_and_reports_it(settings, library, capsys, monkeypatch):
    """chmod does not bind root, so the refusal is simulated where the file goes in place."""
    Workspace(settings)
    real = journal._link_into_place

    def read_only(src, dst):
        if dst.parent == settings.agents_dir:
            raise PermissionError(errno.EACCES, "Permission denied", str(dst))
        return real(src, dst)

    monkeypatch.setattr(journal, "_link_into_place", read_only)
    code, _, err = run(capsys, "activate", "alpha", "-w", settings.workspace, "-l", library)
    assert code == 1 and "completed on the next run" in one_line(err)
    code, _, err = run(capsys, "status", "-w", settings.workspace, "-l", library)
    assert code == 0 and "will retry" in one_line(err)
    code, _, err = run(capsys, "activate", "beta", "-w", settings.workspace, "-l", library)
    assert code == 1 and "could not be completed yet" in err.splitlines()[-1] and "Traceback" not in err
    monkeypatch.setattr(journal, "_link_into_place", real)
    code, out, err = run(capsys, "list", "--json", "-w", settings.workspace, "-l", library)
    assert code == 0 and "completed interrupted operation" in one_line(err)
    assert (settings.agents_dir / "alpha.md").exists()


def test_read_only_workspace_is_one_line(settings, library, capsys, monkeypatch):
    real_mkdir = os.mkdir

    def erofs(path, *a, **k):
        if str(path).startswith(str(settings.workspace)):
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return real_mkdir(path, *a, **k)

    monkeypatch.setattr(os, "mkdir", erofs)
    code, _, err = run(capsys, "activate", "alpha", "-w", settings.workspace, "-l", library)
    assert code == 1 and "Read-only file system" in one_line(err)
    code, _, err = run(capsys, "status", "-w", settings.workspace, "-l", library)
    assert code == 0 and err == ""


def test_recovery_by_a_read_command_is_reported_on_stderr(settings, library, capsys):
    ws = Workspace(settings)
    with crash_at("step:0"):
        ws.activate(["alpha"])
    code, _, err = run(capsys, "status", "-w", settings.workspace, "-l", library)
    assert code == 0 and "completed interrupted operation" in one_line(err) and "activate alpha" in err


def test_a_manifest_written_by_the_previous_release_still_completes(settings, library):
    """0.1.0 wrote absolute paths and a ``before`` for every step (null: absent)."""
    data = (library / "alpha.md").read_bytes()
    txdir = settings.state_dir / "journal" / "20260101T000000-0a1b2c3d"
    txdir.mkdir(parents=True)
    (txdir / "0.stage").write_bytes(data)
    state = b'{\n "hot": {}\n}\n'
    (txdir / "1.stage").write_bytes(state)
    manifest = {"id": txdir.name, "label": "activate alpha", "steps": [
        {"path": str((settings.agents_dir / "alpha.md").absolute()), "op": "write", "before": None,
         "sha256": journal.sha256_bytes(data)},
        {"path": str((settings.state_dir / "state.json").absolute()), "op": "write", "before": None,
         "sha256": journal.sha256_bytes(state)},
    ]}
    (txdir / "manifest.json").write_text(json.dumps(manifest, indent=1))
    ws = Workspace(settings)
    assert ws.recovered == ["completed interrupted operation 20260101T000000-0a1b2c3d (activate alpha)"]
    assert ws.hot_names() == ["alpha"]


def test_full_disk_at_the_manifest_rename_changes_nothing(settings, library, capsys, monkeypatch):
    Workspace(settings)
    real_replace = os.replace

    def replace(src, dst, *a, **k):
        if str(dst).endswith("manifest.json"):
            raise OSError(errno.ENOSPC, "No space left on device", str(dst))
        return real_replace(src, dst, *a, **k)

    monkeypatch.setattr(os, "replace", replace)
    code, _, err = run(capsys, "activate", "alpha", "-w", settings.workspace, "-l", library)
    assert code == 1 and "No space left on device" in one_line(err) and "nothing changed" in err
    assert not settings.agents_dir.exists() and not journal.pending(settings.state_dir)
