"""Hostile library files cost a moment and one line: FIFOs, devices, oversize files, YAML
alias bombs, deep YAML, deep folder trees and folder-link loops."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
import yaml

from conftest import persona_text
from ctxtui.core import persona as persona_mod
from ctxtui.core.config import load_settings
from ctxtui.core.library import TokenCache, discover, index_library, read_body
from ctxtui.core.persona import MAX_FILE_BYTES, Status, parse_persona
from ctxtui.core.workspace import Workspace

# 340 bytes that a naive YAML loader expands to 9**9 strings (gigabytes).
ALIAS_BOMB = (
    b"---\nname: bomb\ndescription: boom\n"
    b'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    b"b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    b"d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
    b"f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
    b"h: [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n---\nbody\n"
)


def within(seconds: float, fn, *args):
    """Run fn in a thread; fail (instead of hanging the suite) if it takes too long."""
    result: dict = {}

    def target():
        try:
            result["value"] = fn(*args)
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            result["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    start = time.monotonic()
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"{fn.__name__} still running after {seconds}s"
    if "error" in result:
        raise result["error"]
    return result["value"], time.monotonic() - start


def write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def by_file(lib) -> dict:
    return {p.path.name: p for p in lib.personas}


def test_fifo_named_like_a_persona_is_flagged_not_waited_on(tmp_path):
    write(tmp_path / "l/ok.md", persona_text("ok"))
    os.mkfifo(tmp_path / "l/x.md")
    lib, took = within(5, index_library, [tmp_path / "l"], TokenCache(None))
    assert took < 1
    fifo = by_file(lib)["x.md"]
    assert fifo.status is Status.INVALID and "named pipe (FIFO)" in fifo.problem and "not read" in fifo.problem
    assert by_file(lib)["ok.md"].usable
    assert within(5, read_body, fifo)[0] == ""


def test_fifo_in_the_hot_folder_does_not_hang_status(tmp_path, library, workspace):
    agents = workspace / ".claude" / "agents"
    agents.mkdir(parents=True)
    os.mkfifo(agents / "x.md")
    ws, took = within(10, Workspace, load_settings(workspace=workspace, library_dirs=[library]))
    assert took < 5
    (hot,) = [h for h in ws.hot if h.persona.path.name == "x.md"]
    assert not hot.persona.usable and "FIFO" in hot.persona.problem


def test_link_to_dev_zero_is_flagged_without_reading(tmp_path):
    (tmp_path / "l").mkdir()
    os.symlink("/dev/zero", tmp_path / "l/zero.md")
    lib, took = within(5, index_library, [tmp_path / "l"], TokenCache(None))
    p = by_file(lib)["zero.md"]
    assert took < 1 and p.is_symlink and p.status is Status.INVALID
    assert "character device (symlink to /dev/zero)" in p.problem


def test_several_mib_persona_is_read_and_over_the_cap_is_flagged(tmp_path):
    assert MAX_FILE_BYTES == 8 * 1024 * 1024  # Claude Code reads any size; ours is stated in persona.py
    big = b"---\nname: big\ndescription: d\n---\n" + b"word " * (6 * 1024 * 1024 // 5)
    from ctxtui.core.library import _read

    data, placeholder, _ = _read(write(tmp_path / "l/big.md", big))
    assert placeholder is None and parse_persona(tmp_path / "l/big.md", data).status is Status.OK
    sparse = tmp_path / "l/huge.md"
    with open(sparse, "wb") as f:
        f.truncate(2 * 1024**3)  # a 2 GiB sparse file: refused from its size, never read
    data, placeholder, _ = within(5, _read, sparse)[0]
    assert data is None and "over the 8 MiB limit; not read" in placeholder.problem


def test_alias_bomb_is_refused_in_milliseconds_and_does_not_grow_the_cache(tmp_path):
    assert len(ALIAS_BOMB) < 400
    start = time.perf_counter()
    p = parse_persona(tmp_path / "bomb.md", ALIAS_BOMB)
    assert time.perf_counter() - start < 0.05
    assert p.status is Status.REPAIRED  # name and description recovered as plain text
    assert any("alias *a" in x and "not expanded" in x for x in p.problems)
    assert all(len(repr(v)) < 200 for v in p.extra.values())
    db = tmp_path / "cache.db"
    write(tmp_path / "l/bomb.md", ALIAS_BOMB)
    cache = TokenCache(db)
    before = os.path.getsize(db)
    index_library([tmp_path / "l"], cache)
    cache.close()
    assert os.path.getsize(db) + sum(
        os.path.getsize(f) for f in tmp_path.glob("cache.db-*")
    ) - before < 200_000


def test_alias_bomb_without_recoverable_fields_is_invalid_with_the_reason(tmp_path):
    bomb = b"---\n" + b"\n".join(ALIAS_BOMB.split(b"\n")[3:12]) + b"\n---\n"
    p = parse_persona(tmp_path / "b.md", bomb)
    assert p.status is Status.INVALID and "refused" in p.problem and "alias" in p.problem


@pytest.mark.parametrize("pure_python", [False, True])
def test_deep_yaml_is_flagged_not_a_recursion_error(tmp_path, monkeypatch, pure_python):
    if pure_python:  # the fallback loader recurses in Python: the depth cap must stop it first
        monkeypatch.setattr(persona_mod, "_Loader", yaml.SafeLoader)
    for depth in (200, 5000):
        deep = f"---\nname: deep\ndescription: d\nx: {'[' * depth}{']' * depth}\n---\n".encode()
        p = parse_persona(tmp_path / "d.md", deep)
        assert p.usable and p.name == "deep" and p.problems
        if depth == 200:  # libyaml stops deeper ones itself ("while increasing flow level")
            assert any("nested more than 64 levels" in x for x in p.problems)
        nested = "".join(" " * i + "k:\n" for i in range(depth))
        p = parse_persona(tmp_path / "d.md", f"---\nname: n\ndescription: d\nx:\n{nested}---\n".encode())
        assert p.name == "n" and p.problems


def test_ordinary_yaml_with_ampersands_and_bold_text_is_unchanged(tmp_path):
    text = "---\nname: rd\ndescription: R&D helper for **bold** work & more\ntools: [Read, Grep]\n---\nb\n"
    p = parse_persona(tmp_path / "rd.md", text.encode())
    assert p.status is Status.OK and p.description == "R&D helper for **bold** work & more"


def test_folder_tree_1100_deep_is_walked_without_recursion(tmp_path):
    path = str(tmp_path / "l")
    os.mkdir(path)
    for _ in range(1100):
        path = os.path.join(path, "d")
        os.mkdir(path)
    write(Path(path) / "bottom.md", persona_text("bottom"))
    try:
        lib, took = within(30, index_library, [tmp_path / "l"], TokenCache(None))
        assert [p.name for p in lib.personas] == ["bottom"]
    finally:  # shutil.rmtree (and so pytest's tmp cleanup) recurses on Python < 3.12
        os.unlink(Path(path) / "bottom.md")
        while path != str(tmp_path):
            os.rmdir(path)
            path = os.path.dirname(path)


def test_folder_links_are_not_followed_so_loops_and_links_to_root_end_quickly(tmp_path):
    write(tmp_path / "l/cat/a.md", persona_text("a"))
    os.symlink("..", tmp_path / "l/cat/loop")
    os.symlink(tmp_path / "l", tmp_path / "l/self")
    os.symlink("/", tmp_path / "l/root")
    os.symlink(tmp_path / "l/cat", tmp_path / "l/cat.md")  # a folder link named like a persona
    found, took = within(5, discover, tmp_path / "l")
    assert found == [tmp_path / "l/cat/a.md"] and took < 1


def test_file_link_loop_and_unreadable_file_are_one_line_each(tmp_path, monkeypatch):
    (tmp_path / "l").mkdir()
    os.symlink("me.md", tmp_path / "l/me.md")
    write(tmp_path / "l/locked.md", persona_text("locked"))
    from ctxtui.core import library

    real = library.read_regular

    def deny(path, *a, **k):
        if str(path).endswith("locked.md"):
            raise PermissionError(13, "Permission denied", str(path))
        return real(path, *a, **k)

    monkeypatch.setattr(library, "read_regular", deny)
    lib = index_library([tmp_path / "l"], TokenCache(None))
    files = by_file(lib)
    assert files["me.md"].status is Status.INVALID and "symbolic links" in files["me.md"].problem
    assert files["locked.md"].problem == "cannot read: Permission denied"
    assert all("\n" not in p.problem for p in lib.personas)


def test_fifo_in_the_library_does_not_hang_init_or_doctor(tmp_path, workspace, monkeypatch):
    from ctxtui.analytics.doctor import run_checks
    from ctxtui.core.project_init import init

    home = tmp_path / "home"
    (home / ".claude").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    lib = tmp_path / "evil-lib" / "agents"
    write(lib / "ok.md", persona_text("ok"))
    os.mkfifo(lib / "x.md")
    settings = load_settings(workspace=workspace)
    result, took = within(10, init, Workspace(settings), lib.parent)
    assert took < 5 and result.library_entry
    checks, took = within(10, run_checks, Workspace(load_settings(workspace=workspace)))
    assert took < 5 and checks
