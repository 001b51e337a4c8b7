"""The one write path: every race window, held closed by pausing a change at that window."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from conftest import persona_text, snapshot_tree
from ctxtui.core import journal, lock, profiles, strategies
from ctxtui.core.errors import BusyError, CapError, ConflictError
from ctxtui.core.workspace import Workspace


@contextlib.contextmanager
def at(point: str, action):
    """Run ``action`` once when a commit reaches ``point`` (the process is paused there)."""
    done = []

    def hook(p: str) -> None:
        if p == point and not done:
            done.append(p)
            action()

    journal.set_fault_hook(hook)
    try:
        yield done
    finally:
        journal.set_fault_hook(None)


def lazy_with_block(settings) -> Workspace:
    ws = Workspace(settings)
    (settings.workspace / "CLAUDE.md").write_text("# Notes\nmy own rules\n")
    strategies.migrate(ws, "lazy_loading", hot=["alpha"], force=True)
    return ws


# ---------------------------------------------------------------- race windows


def test_migrate_planned_before_an_edit_applies_against_the_edit(settings):
    ws = lazy_with_block(settings)
    plan = strategies.plan(ws, "lazy_loading", hot=["beta"], force=True)  # shown to the user, no lock
    md = settings.workspace / "CLAUDE.md"
    md.write_text(md.read_text() + "edit made while the plan was on screen\n")
    strategies.apply(ws, plan)
    text = md.read_text()
    assert "edit made while the plan was on screen" in text and "my own rules" in text
    assert ws.hot_names() == ["beta", "persona-manager"]


def test_claude_md_edit_after_the_check_is_never_overwritten(settings):
    ws = lazy_with_block(settings)
    md = settings.workspace / "CLAUDE.md"
    edit = md.read_text() + "edit after the check\n"
    before = snapshot_tree(settings.state_dir / "cold")
    with at("checked", lambda: md.write_text(edit)), pytest.raises(ConflictError, match="changed"):
        ws.activate(["beta"])  # the block sync rewrites CLAUDE.md
    assert md.read_text() == edit
    assert not (settings.agents_dir / "beta.md").exists()  # nothing else changed either
    assert snapshot_tree(settings.state_dir / "cold") == before


def test_hot_file_edited_after_the_check_is_not_removed(settings):
    ws = Workspace(settings)
    ws.activate(["alpha"])
    hot = settings.agents_dir / "alpha.md"
    edit = persona_text("alpha", "edited after the check")
    with at("checked", lambda: hot.write_text(edit)), pytest.raises(ConflictError):
        ws.deactivate(["alpha"])
    assert hot.read_text() == edit
    assert not (settings.cold_store / "alpha.md").exists()


def test_hot_file_written_while_moved_aside_is_put_back(settings, monkeypatch):
    """An editor holding the file open writes into it after ctxtui renamed it aside."""
    ws = Workspace(settings)
    ws.activate(["alpha"])
    hot = settings.agents_dir / "alpha.md"
    edit = persona_text("alpha", "written through an open descriptor")
    real_move = journal._move_aside

    def move_then_write(path, aside):
        real_move(path, aside)
        if path == hot:
            aside.write_text(edit)

    monkeypatch.setattr(journal, "_move_aside", move_then_write)
    with pytest.raises(ConflictError, match="changed while ctxtui was changing it"):
        ws.deactivate(["alpha"])
    assert hot.read_text() == edit
    assert json.loads((settings.state_dir / "state.json").read_text())["hot"]  # still recorded hot
    assert not journal.pending(settings.state_dir)


def test_file_created_while_ctxtui_places_its_own_is_kept(settings):
    ws = Workspace(settings)
    settings.agents_dir.mkdir(parents=True)
    target = settings.agents_dir / "beta.md"
    theirs = persona_text("beta", "Claude Code wrote this meanwhile")
    with at("aside", lambda: target.write_text(theirs)), pytest.raises(ConflictError, match="appeared"):
        ws.activate(["beta"])
    assert target.read_text() == theirs
    kept = [p.read_bytes() for p in (settings.state_dir / "conflicts").rglob("*.stage")]
    assert (Path(settings.library_dirs[0]) / "beta.md").read_bytes() in kept


def test_settings_edit_after_the_check_survives_a_migration(settings):
    from test_strategies import register

    register(settings)
    local = settings.workspace / ".claude" / "settings.local.json"
    local.parent.mkdir(parents=True)
    local.write_text('{"permissions": {}}\n')
    ws = Workspace(settings)
    edit = '{"permissions": {}, "editor": "mine"}\n'
    with at("checked", lambda: local.write_text(edit)), pytest.raises(ConflictError):
        strategies.migrate(ws, "hybrid", hot=["gamma"], force=True)
    assert local.read_text() == edit
    assert strategies.history(ws) == []


def test_profile_save_keeps_a_config_edit_made_before_the_lock(settings):
    ws = Workspace(settings)
    cfg = settings.workspace / "hybrid-config.json"
    cfg.write_text('{"lazy_loading": {"max_active_personas": 4}}\n')
    profiles.save(ws, "backend", ["alpha"])
    data = json.loads(cfg.read_text())
    assert data["lazy_loading"]["max_active_personas"] == 4 and data["profiles"] == {"backend": ["alpha"]}


def test_a_second_ctxtui_waits_for_the_first_and_finds_nothing_to_do(settings):
    ws_a, ws_b = Workspace(settings), Workspace(settings)
    paused, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def hook(point: str) -> None:
        if point == "checked" and threading.current_thread().name == "A":
            paused.set()
            release.wait(10)

    def run(ws):
        try:
            strategies.migrate(ws, "lazy_loading", hot=["alpha", "beta"], force=True)
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    journal.set_fault_hook(hook)
    try:
        a = threading.Thread(target=run, args=(ws_a,), name="A")
        a.start()
        assert paused.wait(10)
        b = threading.Thread(target=run, args=(ws_b,), name="B")
        b.start()
        b.join(0.5)
        assert b.is_alive()  # B waits on the lock instead of planning from stale files
        release.set()
        a.join(10)
        b.join(10)
    finally:
        journal.set_fault_hook(None)
    # B plans from A's result and finds nothing to do: it says so and records nothing
    assert len(errors) == 1 and isinstance(errors[0], strategies.NothingToChange)
    files = sorted(p.name for p in settings.agents_dir.iterdir())
    assert files == ["alpha.md", "beta.md", "persona-manager.md"]  # no alpha-2.md
    assert len(strategies.history(ws_b)) == 1


def test_lock_timeout_is_one_clear_line(settings, library):
    done, release = threading.Event(), threading.Event()

    def hold():
        with lock.locked(settings.state_dir):
            done.set()
            release.wait(10)

    t = threading.Thread(target=hold)
    t.start()
    done.wait(5)
    try:
        env = dict(os.environ, CTXTUI_LOCK_TIMEOUT="0.3")
        r = subprocess.run(
            [sys.executable, "-m", "ctxtui", "activate", "alpha", "-w", str(settings.workspace), "-l", str(library)],
            capture_output=True, text=True, env=env, timeout=60,
        )
    finally:
        release.set()
        t.join()
    assert r.returncode == 1
    assert r.stderr.strip().splitlines() == [
        f"ctxtui: error: another ctxtui is changing this project ({settings.state_dir / 'lock'}); try again"
    ]
    with lock.locked(settings.state_dir), lock.locked(settings.state_dir, timeout=0.1):
        pass  # re-entrant within one thread: no self-deadlock


def test_another_thread_is_refused_after_the_timeout(settings):
    with lock.locked(settings.state_dir):
        seen: list[BaseException] = []

        def other():
            try:
                with lock.locked(settings.state_dir, timeout=0.2):
                    pass
            except BusyError as exc:
                seen.append(exc)

        t = threading.Thread(target=other)
        t.start()
        t.join(5)
    assert len(seen) == 1 and "try again" in str(seen[0])


def test_two_eager_migrations_at_once_both_finish_cleanly(settings, library):
    args = [sys.executable, "-m", "ctxtui", "migrate", "--to", "eager", "-w", str(settings.workspace), "-l", str(library)]
    procs = [subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results
    assert not any("Traceback" in err for _, err in results)
    names = sorted(p.name for p in settings.agents_dir.iterdir())
    assert names == sorted({f"{n}.md" for n in ["alpha", "beta", "gamma", "delta", "epsilon"]})


def test_cap_never_refuses_a_change_that_adds_nothing_hot(settings):
    settings.agents_dir.mkdir(parents=True)
    for n in ["alpha", "beta", "gamma", "delta", "epsilon"]:
        (settings.agents_dir / f"{n}.md").write_text(persona_text(n, "hand placed"))
    ws = Workspace(settings)
    assert len(ws.hot) == 5 > ws.cap
    (settings.workspace / "CLAUDE.md").write_text("notes\n")
    assert strategies.write_preview(ws)  # a block write
    assert ws.deactivate(["alpha"]) == ["alpha"]
    with pytest.raises(CapError):
        ws.activate(["persona-manager"])


# ---------------------------------------------------------------- upper-case names


@pytest.mark.parametrize("name", ["SRE", "CON", "README"])
def test_upper_case_and_reserved_names_work_like_any_other(settings, library, name):
    (library / f"x-{name.lower()}.md").write_text(persona_text(name, f"Use {name}."))
    ws = Workspace(settings)
    ws.activate([name])
    ws.activate([name])
    assert ws.hot_names() == [name]
    assert len(list(settings.agents_dir.iterdir())) == 1
    (settings.agents_dir.iterdir().__next__()).write_text(persona_text(name, "edited"))
    ws.activate(["alpha", "beta"])
    with pytest.raises(CapError):
        ws.activate(["gamma"])
    ws.deactivate([name])
    assert name not in ws.hot_names()
    assert ws.library.get(name).description == "edited"  # the cold store copy is visible
    ws.activate([name])
    assert ws.find_hot(name).persona.description == "edited"


def test_two_identical_lazy_migrations_at_once_leave_no_duplicates(settings, library):
    args = [sys.executable, "-m", "ctxtui", "migrate", "--to", "lazy_loading", "--force", "--hot", "alpha", "beta",
            "-w", str(settings.workspace), "-l", str(library)]
    procs = [subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results
    assert not any(err for _, err in results)
    assert sorted(p.name for p in settings.agents_dir.iterdir()) == ["alpha.md", "beta.md", "persona-manager.md"]
    assert any("nothing to change" in out for out, _ in results)


def test_an_empty_hot_file_is_still_that_persona_so_activate_makes_no_duplicate(settings):
    """An editor truncates before it writes: for that moment the file is empty."""
    ws = Workspace(settings)
    ws.activate(["alpha", "beta"])
    (settings.agents_dir / "alpha.md").write_text("")
    (settings.agents_dir / "beta.md").write_text("")  # same (empty) content as alpha.md now
    ws.refresh()
    assert sorted(ws.hot_names()) == ["alpha", "beta"]
    ws.activate(["beta"])
    assert sorted(p.name for p in settings.agents_dir.iterdir()) == ["alpha.md", "beta.md"]
    ws.deactivate(["alpha"])
    assert not (settings.cold_store / "alpha.md").exists()  # nothing to keep, nothing shadowed


def test_claude_md_write_never_overwrites_an_edit_after_the_check(settings):
    ws = lazy_with_block(settings)
    ws.activate(["beta"])
    md = settings.workspace / "CLAUDE.md"
    edit = md.read_text() + "typed while ctxtui wrote\n"
    with at("checked", lambda: md.write_text(edit)), pytest.raises(ConflictError):
        strategies.write_preview(ws, "search")  # a different density: the block is rewritten
    assert md.read_text() == edit


def test_claude_md_bytes_survive_a_migration_and_rollback_exactly(settings):
    md = settings.workspace / "CLAUDE.md"
    original = b"# Notes\r\n\xff\xfe not UTF-8\r\nlast line without newline"
    md.write_bytes(original)
    ws = Workspace(settings)
    strategies.migrate(ws, "lazy_loading", hot=["alpha"], force=True)
    assert md.read_bytes().startswith(b"# Notes\r\n\xff\xfe not UTF-8\r\n")
    strategies.rollback(ws, reason="undo")
    assert md.read_bytes() == original


def test_a_crash_while_putting_back_a_refused_change_never_applies_it(settings, monkeypatch):
    ws = lazy_with_block(settings)
    ws.activate(["beta"])
    md = settings.workspace / "CLAUDE.md"
    hot = settings.agents_dir / "beta.md"
    edit = persona_text("beta", "edited after the check")
    real_move, real_link = journal._move_aside, journal._link_into_place

    def move_then_write(path, aside):
        real_move(path, aside)
        if path == hot:
            aside.write_text(edit)

    def crash_on_second_put_back(src, dst, calls=[]):  # noqa: B006 - counts calls
        calls.append(dst)
        if len(calls) == 2:
            raise KeyboardInterrupt("killed while putting back")
        return real_link(src, dst)

    monkeypatch.setattr(journal, "_move_aside", move_then_write)
    monkeypatch.setattr(journal, "_link_into_place", crash_on_second_put_back)
    md_before = md.read_bytes()
    with pytest.raises(KeyboardInterrupt):
        ws.deactivate(["alpha", "beta"])  # alpha moves aside fine, beta is edited: refused
    monkeypatch.setattr(journal, "_link_into_place", real_link)
    monkeypatch.setattr(journal, "_move_aside", real_move)
    ws2 = Workspace(settings)
    assert any("finished undoing refused operation" in line for line in ws2.recovered)
    assert sorted(ws2.hot_names()) == ["alpha", "beta", "persona-manager"]
    assert hot.read_text() == edit and md.read_bytes() == md_before


def test_rollback_leaves_an_editors_swap_file_in_the_agents_folder_alone(settings):
    ws = Workspace(settings)
    strategies.migrate(ws, "lazy_loading", hot=["alpha"], force=True)
    swap = settings.agents_dir / ".alpha.md.swp"
    swap.write_bytes(b"vim swap")
    strategies.rollback(ws, reason="undo")
    assert swap.read_bytes() == b"vim swap"
