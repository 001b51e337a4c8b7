"""Results that are pure functions of their input, remembered on disk between runs.

A warm ``ctxtui status`` or ``index`` would otherwise load the tokenizer to count texts it
counted last time, and run Claude Code's YAML loader over files it judged last time. Each kind
of result has its own table (its name carries what the result depends on besides the key),
rows are keyed by a hash of the input, and new rows are written in batches.

Only ever a speed-up: any SQLite error (a read-only, damaged or locked file) turns a table off
for the process and the caller computes the result as if it had never been remembered.
"""

from __future__ import annotations

import atexit
import sqlite3
import threading
from pathlib import Path
from typing import Any

FILE_NAME = "memo.sqlite"


class DiskMemo:
    """One table of remembered results: ``key (bytes) -> value`` (an int, text or bytes)."""

    MAX_ROWS = 100_000
    """Rows kept on disk; the oldest are dropped when a batch is written."""
    MAX_MEMO = 50_000
    """Values held in memory by one process."""
    BATCH = 512
    """New values written together."""

    def __init__(self, path: Path, table: str) -> None:
        if not table.replace("_", "").isalnum():
            raise ValueError(f"bad table name {table!r}")
        self.path, self.table = path, table
        self._db: sqlite3.Connection | None = None
        self._broken = False
        self._lock = threading.Lock()
        self._memo: dict[bytes, Any] = {}
        self._pending: dict[bytes, Any] = {}

    def _connect(self) -> sqlite3.Connection | None:
        if self._db is None and not self._broken:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(str(self.path), timeout=0.5, isolation_level=None,
                                     check_same_thread=False)
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")  # a cache: no fsync per commit
                db.execute(f"CREATE TABLE IF NOT EXISTS {self.table}(key BLOB PRIMARY KEY, value)")
                self._db = db
            except (sqlite3.Error, OSError):
                self._broken = True
        return self._db

    def get(self, key: bytes) -> Any:
        """The remembered value for this key, or None."""
        with self._lock:
            if key in self._memo:
                return self._memo[key]
            if key in self._pending:
                return self._pending[key]
            db = self._connect()
            if db is None:
                return None
            try:
                row = db.execute(f"SELECT value FROM {self.table} WHERE key=?", (key,)).fetchone()
            except sqlite3.Error:  # a cache never fails a command
                self._broken, self._db = True, None
                return None
            if row is None:
                return None
            self._keep(key, row[0])
            return row[0]

    def get_many(self, keys: list[bytes], keep: bool = True) -> dict[bytes, Any]:
        """The remembered values of these keys (absent keys are left out), in few queries.

        KEEP False: values read from disk are not also held in this process's memo (a caller
        that reads each value once, such as a pass over a whole library, holds them itself)."""
        with self._lock:
            out = {k: self._memo[k] for k in keys if k in self._memo}
            out.update((k, self._pending[k]) for k in keys if k in self._pending)
            for key, value in self._stored([k for k in keys if k not in out], "key, value"):
                if keep:
                    self._keep(key, value)
                out[key] = value
            return out

    def known(self, keys: list[bytes]) -> set[bytes]:
        """Those of these keys that have a remembered value (no value is read)."""
        with self._lock:
            out = {k for k in keys if k in self._memo or k in self._pending}
            out.update(k for (k,) in self._stored([k for k in keys if k not in out], "key"))
            return out

    def _stored(self, keys: list[bytes], columns: str) -> list[tuple[Any, ...]]:
        """COLUMNS of the stored rows of these keys, 500 keys a query (none when the database
        is missing or broken: a cache never fails a command). Call with the lock held."""
        wanted = list(dict.fromkeys(keys))
        db = self._connect() if wanted else None
        if db is None:
            return []
        rows: list[tuple[Any, ...]] = []
        try:
            for i in range(0, len(wanted), 500):
                chunk = wanted[i : i + 500]
                rows += db.execute(f"SELECT {columns} FROM {self.table} WHERE key IN "
                                   f"({','.join('?' * len(chunk))})", chunk).fetchall()
        except sqlite3.Error:
            self._broken, self._db = True, None
        return rows

    def _keep(self, key: bytes, value: Any) -> None:
        if len(self._memo) >= self.MAX_MEMO:
            self._memo.clear()
        self._memo[key] = value

    def put(self, key: bytes, value: Any) -> None:
        """Remember a value (written with others in one transaction: see :meth:`flush`)."""
        with self._lock:
            # held until written, not after: a run that judges 10,000 new files keeps none
            self._memo.pop(key, None)
            self._pending[key] = value
            if len(self._pending) >= self.BATCH:
                self._flush()

    def flush(self) -> None:
        """Write the values not yet on disk (also done at exit)."""
        with self._lock:
            self._flush()

    def _flush(self) -> None:
        rows, self._pending = list(self._pending.items()), {}
        db = self._connect() if rows else None
        if db is None:
            return
        try:
            with db:
                db.execute("BEGIN")
                db.executemany(f"INSERT OR REPLACE INTO {self.table} VALUES (?, ?)", rows)
                top = db.execute(f"SELECT max(rowid) FROM {self.table}").fetchone()[0] or 0
                if top > self.MAX_ROWS:
                    db.execute(f"DELETE FROM {self.table} WHERE rowid <= ?", (top - self.MAX_ROWS,))
        except sqlite3.Error:  # busy (another ctxtui is writing): these are not remembered
            pass

    def close(self) -> None:
        """Write pending values and close the file (the in-process memo is kept)."""
        with self._lock:
            self._flush()
            if self._db is not None:
                self._db.close()
                self._db = None


_folder: Path | None = None
_tables: dict[str, DiskMemo] = {}
_guard = threading.Lock()


def use_folder(folder: Path | None) -> None:
    """Remember results in FOLDER's ``memo.sqlite`` from now on (None: stop remembering)."""
    global _folder
    with _guard:
        if folder == _folder:
            return
        for table in _tables.values():
            table.close()
        _tables.clear()
        _folder = folder


def table(name: str) -> DiskMemo | None:
    """The table NAME in the current folder, or None when nothing is remembered."""
    with _guard:
        if _folder is None:
            return None
        memo = _tables.get(name)
        if memo is None:
            memo = _tables[name] = DiskMemo(_folder / FILE_NAME, name)
        return memo


@atexit.register
def flush_all() -> None:
    """Write every table's pending values."""
    with _guard:
        for memo in _tables.values():
            memo.flush()
