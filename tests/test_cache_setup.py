"""The token cache is shared by every ctxtui of a user: two processes may set it up at once.

SQLite refuses the WAL switch at once ("database is locked", no busy wait) while another
connection holds a write lock, which is the window two `ctxtui migrate` runs started together
hit on a fresh cache. Opening the cache waits that out; a cache that stays busy is skipped.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from conftest import persona_text
from ctxtui.core import library
from ctxtui.core.library import TokenCache, index_library


def _writer_holding_the_lock(path: Path) -> sqlite3.Connection:
    """Another process's setup caught mid-write: a RESERVED lock on a rollback-journal file."""
    other = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("CREATE TABLE IF NOT EXISTS parsed(sha TEXT PRIMARY KEY, version INT, data TEXT)")
    return other


def test_the_wal_switch_is_refused_at_once_while_another_setup_writes(tmp_path):
    """The SQLite behaviour the cache works around (if this changes, the retry is moot)."""
    path = tmp_path / "c.sqlite"
    other = _writer_holding_the_lock(path)
    try:
        db = sqlite3.connect(str(path), timeout=5)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            db.execute("PRAGMA journal_mode=WAL")
    finally:
        other.execute("COMMIT")


def test_opening_the_cache_waits_for_another_setup_to_finish(tmp_path):
    path = tmp_path / "c.sqlite"
    other = _writer_holding_the_lock(path)
    released = threading.Timer(0.3, lambda: other.execute("COMMIT"))
    released.start()
    try:
        cache = TokenCache(path)
    finally:
        released.join()
    assert cache.path == path  # the shared file, not a fallback
    assert cache.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    lib_dir = tmp_path / "lib"
    lib_dir.mkdir()
    (lib_dir / "alpha.md").write_text(persona_text("alpha", "Use alpha."))
    index_library([lib_dir], cache)
    assert index_library([lib_dir], TokenCache(path)).cache_hits == 1  # stored in the file


def test_a_cache_that_stays_busy_is_skipped_not_fatal(tmp_path, monkeypatch):
    monkeypatch.setattr(library, "SETUP_WAIT", 0.2)
    path = tmp_path / "c.sqlite"
    other = _writer_holding_the_lock(path)
    try:
        cache = TokenCache(path)
        assert cache.path is None  # ran uncached
        lib_dir = tmp_path / "lib"
        lib_dir.mkdir()
        (lib_dir / "alpha.md").write_text(persona_text("alpha", "Use alpha."))
        assert [p.name for p in index_library([lib_dir], cache).personas] == ["alpha"]
    finally:
        other.execute("COMMIT")
