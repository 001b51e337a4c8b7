"""The on-disk memo of pure results (token counts, Claude Code's verdicts)."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

from ctxtui.core import memo


def test_values_survive_the_process_and_stay_typed(tmp_path: Path):
    m = memo.DiskMemo(tmp_path / "m.sqlite", "t1")
    m.put(b"a", 3)
    m.put(b"b", b"\x00bytes")
    m.put(b"c", "text")
    m.close()
    again = memo.DiskMemo(tmp_path / "m.sqlite", "t1")
    assert (again.get(b"a"), again.get(b"b"), again.get(b"c"), again.get(b"zz")) == (3, b"\x00bytes", "text", None)
    assert memo.DiskMemo(tmp_path / "m.sqlite", "t2").get(b"a") is None  # tables are apart


def test_known_keys_and_reads_that_are_not_kept(tmp_path: Path):
    m = memo.DiskMemo(tmp_path / "m.sqlite", "t")
    for i in range(3):
        m.put(bytes([i]), f"v{i}")
    m.close()
    again = memo.DiskMemo(tmp_path / "m.sqlite", "t")
    again.put(b"p", "pending")  # not written yet: known all the same
    assert again.known([b"\x00", b"\x02", b"zz", b"p"]) == {b"\x00", b"\x02", b"p"}
    assert again.get_many([b"\x00", b"\x01"], keep=False) == {b"\x00": "v0", b"\x01": "v1"}
    assert again._memo == {}  # a whole-library pass holds what it reads itself
    assert again.get_many([b"\x01"]) == {b"\x01": "v1"} and again._memo == {b"\x01": "v1"}


def test_the_table_keeps_a_bounded_number_of_rows(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(memo.DiskMemo, "MAX_ROWS", 500)
    monkeypatch.setattr(memo.DiskMemo, "MAX_MEMO", 100)
    m = memo.DiskMemo(tmp_path / "m.sqlite", "t")
    for i in range(2100):
        m.put(i.to_bytes(4, "big"), i)
    m.close()
    db = sqlite3.connect(tmp_path / "m.sqlite")
    assert db.execute("SELECT count(*), min(value) FROM t").fetchone() == (500, 1600)  # the newest


def test_an_unwritable_folder_turns_remembering_off_without_an_error(tmp_path: Path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    m = memo.DiskMemo(blocker / "m.sqlite", "t")
    m.put(b"k", 1)
    assert m.get(b"k") == 1  # still remembered in memory
    m.close()


def test_only_one_folder_is_used_at_a_time(tmp_path: Path):
    memo.use_folder(tmp_path / "a")
    try:
        t = memo.table("x")
        assert t is not None and t.path == tmp_path / "a" / memo.FILE_NAME
        memo.use_folder(tmp_path / "b")
        t2 = memo.table("x")
        assert t2 is not None and t2.path == tmp_path / "b" / memo.FILE_NAME
        memo.use_folder(None)
        assert memo.table("x") is None
    finally:
        memo.use_folder(None)


def test_remembered_verdicts_equal_fresh_ones_on_a_real_library(tmp_path: Path, monkeypatch):
    from conftest import WSHOBSON
    from ctxtui.core import verdicts
    from ctxtui.core.claude_code import load_agent, newest, profile_for
    from ctxtui.core.library import discover
    from ctxtui.core.persona import parse_persona

    files = discover(WSHOBSON)[:150] if WSHOBSON.is_dir() else []
    odd = tmp_path / "odd.md"
    odd.write_bytes(b"---\nname: odd\ndescription: [a, b\ntools: 3\n---\n\xff body")
    files.append(odd)
    profiles = [newest(), profile_for("2.1.112")]
    want = {(str(f), p.version): load_agent(str(f), f.read_bytes(), p) for f in files for p in profiles}
    memo.use_folder(tmp_path / "memo")
    try:
        for rounds in range(2):  # judged and kept, then read back in a "new process"
            verdicts.forget()
            if rounds:
                memo.use_folder(None)
                memo.use_folder(tmp_path / "memo")
                monkeypatch.setattr(verdicts, "load_agent", lambda *a: (_ for _ in ()).throw(AssertionError("judged again")))
            for f in files:
                persona = parse_persona(f, f.read_bytes())
                for p in profiles:
                    assert verdicts.verdict_for(persona, p) == want[(str(f), p.version)]
    finally:
        memo.use_folder(None)
        verdicts.forget()


def test_verdicts_for_many_equal_one_by_one_and_see_a_changed_file(tmp_path: Path):
    from conftest import persona_text
    from ctxtui.core import verdicts
    from ctxtui.core.claude_code import newest
    from ctxtui.core.persona import parse_persona

    files = []
    for i, text in enumerate([persona_text("a"), "no frontmatter", persona_text("b", tools="Read"), persona_text("c")]):
        f = tmp_path / f"p{i}.md"
        f.write_text(text)
        files.append(f)
    personas = [parse_persona(f, f.read_bytes()) for f in files]
    for p in personas:
        p.sha256 = hashlib.sha256(p.path.read_bytes()).hexdigest()
    files[3].write_text(persona_text("c", "Changed after indexing."))
    memo.use_folder(tmp_path / "memo")
    try:
        for _ in range(2):  # judged, then remembered
            verdicts.forget()
            many = verdicts.verdicts_for(personas, newest())
            assert many == [verdicts.verdict_for(p, newest()) for p in personas]
            assert [v.loaded for v in many] == [True, False, True, False]
            assert verdicts.is_stale(many[3])
    finally:
        memo.use_folder(None)
        verdicts.forget()


def test_count_many_mixes_remembered_and_new_counts(tmp_path: Path):
    from ctxtui.core import tokens

    memo.use_folder(tmp_path / "memo")
    try:
        first = tokens.count_many(["one two", "three"])
        texts = ["three", "four five six", "one two", "three"]
        assert tokens.count_many(texts) == [len(tokens.encoding().encode_ordinary(t)) for t in texts]
        assert first == tokens.count_many(["one two", "three"])
    finally:
        memo.use_folder(None)


def test_a_warm_workspace_judges_nothing_and_reads_each_file_once_per_refresh(tmp_path: Path, monkeypatch):
    """A second start finds every verdict in one memo lookup (nothing parsed), and however
    often views ask, each persona file is read once per refresh."""
    from conftest import persona_text
    from ctxtui.core import safe_io, verdicts
    from ctxtui.core.config import load_settings
    from ctxtui.core.workspace import Workspace

    lib = tmp_path / "lib"
    lib.mkdir()
    for i in range(30):
        (lib / f"p{i:02d}.md").write_text(persona_text(f"p{i:02d}", f"Persona {i}."))
    ws_dir = tmp_path / "ws"
    ws_dir.mkdir()
    settings = load_settings(workspace=ws_dir, library_dirs=[lib], cache_path=tmp_path / "c" / "tokens.sqlite")
    try:
        first = {p.name: Workspace(settings).verdict(p) for p in Workspace(settings).library.personas}
        memo.flush_all()
        verdicts.forget()
        monkeypatch.setattr(verdicts, "load_agent", lambda *a: (_ for _ in ()).throw(AssertionError("judged again")))
        ws = Workspace(settings)
        reads: list[str] = []
        real = safe_io.read_regular
        monkeypatch.setattr(verdicts, "read_regular", lambda p, *a, **k: reads.append(str(p)) or real(p, *a, **k))
        for _ in range(3):
            again = {p.name: ws.verdict(p) for p in ws.library.personas}
        assert again == first
        assert len(reads) == len(set(reads)) == len(ws.library.personas)
    finally:
        memo.use_folder(None)
        verdicts.forget()


def test_a_helper_process_judges_every_other_chunk_to_the_same_verdicts(tmp_path: Path, monkeypatch):
    from conftest import persona_text
    from ctxtui.core import verdicts
    from ctxtui.core.claude_code import newest
    from ctxtui.core.persona import parse_persona

    texts = [persona_text(f"p{i}", f"Persona {i}.", tools="Read, Grep") for i in range(30)]
    texts[5], texts[9] = "no frontmatter", "---\nname: x\ndescription: [a, b\n---\n"
    files = []
    for i, text in enumerate(texts):
        f = tmp_path / f"p{i:02d}.md"
        f.write_text(text)
        files.append(f)
    personas = [parse_persona(f, f.read_bytes()) for f in files]
    for p in personas:
        p.sha256 = hashlib.sha256(p.path.read_bytes()).hexdigest()
    files[6].write_text(persona_text("p6", "Changed after indexing."))  # in a helper's chunk
    files[7].unlink()  # so is this one: unreadable
    monkeypatch.setattr(verdicts, "CHUNK", 4)
    started = []
    real_helper = verdicts._helper
    monkeypatch.setattr(verdicts, "_helper", lambda *a: started.append(h := real_helper(*a)) or h)
    alone = []
    for helper_min, folder in ((10**9, "a"), (8, "b"), (8, "b")):  # alone; helper; remembered
        monkeypatch.setattr(verdicts, "HELPER_MIN", helper_min)
        memo.use_folder(tmp_path / folder)
        try:
            verdicts.forget()
            got = verdicts.verdicts_for(personas, newest())
        finally:
            memo.use_folder(None)
        if not alone:
            alone = got
        assert got == alone
    verdicts.forget()
    assert started[0] is None and started[1] is not None and started[2] is None
    assert verdicts.is_stale(alone[6]) and alone[7].reason.startswith("unreadable")
    assert [v.loaded for v in alone].count(True) == 27  # all but 5, 6 and 7
