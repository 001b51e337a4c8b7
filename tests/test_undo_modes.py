"""A file undo or rollback brings back gets the permission bits it had (a hot persona kept at
0600 does not come back 0644), through history and through a crash completed from the
journal; only ``mode & 0o777`` is ever recorded or applied, entries and journals without
modes keep working, and a crafted mode is ignored with one line, never a traceback."""

from __future__ import annotations

import json
import os
import stat

import pytest

from conftest import crash_at
from ctxtui.cli import main
from ctxtui.core import journal, notices, strategies
from ctxtui.core.history import History
from ctxtui.core.workspace import Workspace


def run(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def default_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def private_alpha_then_deactivated(settings, bits: int = 0o600):
    """alpha hot with BITS, then deactivated (ctxtui removes its hot file)."""
    ws = Workspace(settings)
    ws.activate(["alpha"])
    hot = next(settings.agents_dir.glob("alpha*.md"))
    os.chmod(hot, bits)
    data = hot.read_bytes()
    Workspace(settings).deactivate(["alpha"])
    assert not hot.exists()
    return hot, data


def rewrite_entries(settings, change) -> None:
    for p in History(settings).entries_dir.glob("*.json"):
        entry = json.loads(p.read_text())
        change(entry)
        p.write_text(json.dumps(entry))


def test_undo_brings_a_removed_file_back_with_its_mode(settings):
    assert default_mode() != 0o600  # the test means something only then
    hot, data = private_alpha_then_deactivated(settings)
    strategies.undo(Workspace(settings))
    assert hot.read_bytes() == data and mode(hot) == 0o600


def test_rollback_by_id_and_a_second_round_keep_the_mode(settings):
    hot, _ = private_alpha_then_deactivated(settings, 0o640)
    deactivate = History(settings).entries()[-1]
    strategies.rollback(Workspace(settings), entry_id=deactivate.id)
    assert mode(hot) == 0o640
    Workspace(settings).deactivate(["alpha"])
    strategies.undo(Workspace(settings))
    assert mode(hot) == 0o640


def test_history_records_the_permission_bits_only(settings):
    hot, _ = private_alpha_then_deactivated(settings, 0o4750 | stat.S_ISVTX)
    entry = History(settings).entries()[-1]
    rel = History(settings).rel(hot)
    assert entry.before_modes[rel] == 0o750
    strategies.undo(Workspace(settings))
    assert os.stat(hot).st_mode & 0o7777 == 0o750  # never setuid, setgid or sticky


def test_a_replaced_file_keeps_its_own_mode(settings):
    ws = Workspace(settings)
    strategies.migrate(ws, "lazy_loading", force=True)
    md = settings.workspace / "CLAUDE.md"
    os.chmod(md, 0o600)
    Workspace(settings).activate(["alpha"])  # rewrites the block
    os.chmod(md, 0o640)  # the user's choice since
    strategies.undo(Workspace(settings))
    assert mode(md) == 0o640


def test_entries_written_before_modes_existed_restore_with_the_default_mode(capsys, settings):
    hot, data = private_alpha_then_deactivated(settings)

    def drop(entry):
        entry.pop("before_modes")
        entry.pop("after_modes")

    rewrite_entries(settings, drop)
    code, _, err = run(capsys, "undo", "-l", settings.library_dirs[0], "-w", settings.workspace)
    assert code == 0 and err == ""
    assert hot.read_bytes() == data and mode(hot) == default_mode()


@pytest.mark.parametrize("bad", [0o4777, -1, 1 << 70, "0600", True, 6.0, None, [384]])
def test_a_crafted_mode_in_history_is_ignored_with_one_line(capsys, settings, bad):
    hot, data = private_alpha_then_deactivated(settings)
    rel = History(settings).rel(hot)

    def craft(entry):
        if rel in entry["before_modes"]:
            entry["before_modes"][rel] = bad

    rewrite_entries(settings, craft)
    code, _, err = run(capsys, "undo", "-l", settings.library_dirs[0], "-w", settings.workspace)
    assert code == 0, err
    assert err.count("\n") == 1 and "invalid file mode" in err and "default mode" in err
    assert hot.read_bytes() == data and mode(hot) == default_mode()
    assert len(History(settings).entries()) == 3  # the entry stays usable, not quarantined


@pytest.mark.parametrize("bad", ["junk", [1, 2], {"../../etc/passwd": 0o600}])
def test_a_malformed_modes_field_is_ignored_not_trusted(settings, bad):
    hot, _ = private_alpha_then_deactivated(settings)
    rewrite_entries(settings, lambda entry: entry.update(before_modes=bad))
    notices.take()
    strategies.undo(Workspace(settings))
    assert mode(hot) == default_mode()
    assert len([n for n in notices.take() if "invalid file mode" in n]) == 1


def test_a_crash_halfway_is_completed_with_the_mode(settings):
    hot, data = private_alpha_then_deactivated(settings)
    with crash_at("aside"):
        strategies.undo(Workspace(settings))
    assert not hot.exists()
    ws = Workspace(settings)
    assert any("completed interrupted operation" in line for line in ws.recovered)
    assert hot.read_bytes() == data and mode(hot) == 0o600


@pytest.mark.parametrize("bad", [0o1777, "rw-------", -5, False])
def test_a_crafted_mode_in_the_journal_is_ignored_with_one_line(settings, bad):
    hot, data = private_alpha_then_deactivated(settings)
    with crash_at("aside"):
        strategies.undo(Workspace(settings))
    (txdir,) = journal.pending(settings.state_dir)
    manifest = json.loads((txdir / "manifest.json").read_text())
    moded = [s for s in manifest["steps"] if "mode" in s]
    assert [s["mode"] for s in moded] == [0o600]  # the journal recorded it
    moded[0]["mode"] = bad
    (txdir / "manifest.json").write_text(json.dumps(manifest))
    ws = Workspace(settings)
    bad_lines = [line for line in ws.recovered if "invalid file mode" in line]
    assert len(bad_lines) == 1 and "default mode" in bad_lines[0]
    assert hot.read_bytes() == data and mode(hot) == default_mode()


def test_a_plan_cannot_ask_for_special_bits(settings):
    tx = journal.Transaction(settings.state_dir, guard=None)
    with pytest.raises(ValueError):
        tx.write(settings.workspace / "CLAUDE.md", b"x", expect=None, mode=0o4755)


def test_undoing_a_migration_brings_a_private_hot_persona_back_private(settings):
    Workspace(settings).activate(["alpha", "beta"])
    private = next(settings.agents_dir.glob("alpha*.md"))
    os.chmod(private, 0o600)
    strategies.migrate(Workspace(settings), "lazy_loading", hot=["gamma"], force=True)
    assert not private.exists()
    strategies.undo(Workspace(settings))
    assert mode(private) == 0o600
    assert mode(next(settings.agents_dir.glob("beta*.md"))) == default_mode()


@pytest.mark.parametrize(("recorded", "placed"), [(0o777, 0o775), (0o666, 0o664), (0, 0o400), (0o444, 0o444)])
def test_a_file_brought_back_is_never_writable_by_others_and_always_readable_by_its_owner(settings, recorded, placed):
    hot, data = private_alpha_then_deactivated(settings)
    rel = History(settings).rel(hot)
    rewrite_entries(settings, lambda e: e.get("before_modes", {}).__setitem__(rel, recorded) if rel in e.get("before_modes", {}) else None)
    strategies.undo(Workspace(settings))
    assert hot.read_bytes() == data and mode(hot) == placed
