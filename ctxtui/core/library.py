"""The cold-storage library: which files are personas, their index and its on-disk cache.

What counts as a persona, by layout (documented in README):

* Only ``*.md`` files. Hidden folders, ``node_modules``, and the folders that real plugin
  libraries use for other frontmatter markdown (``skills/``, ``commands/``, ``hooks/``) are
  skipped, as are documentation files (``README.md``, ``SKILL.md``, ``CLAUDE.md``,
  ``CONTRIBUTING.md``...). Another all-upper-case stem (``SECURITY.md``) is documentation
  unless the file opens with frontmatter naming a persona, so ``SRE.md`` or ``CON.md``
  written for a persona called ``SRE`` or ``CON`` still counts.
* Plugin layout: if any folder below a library root is named ``agents``, only files under
  an ``agents/`` folder count (wshobson's ``plugins/*/agents/*.md``).
* Flat layout otherwise: every remaining markdown file counts, in any sub-folder
  (category folders such as ``engineering/``).
* Folder symlinks below a root are not followed (a cloned library could point one at
  ``/`` or at itself); a root that is a link is read through. File symlinks are read and
  flagged. The walk is iterative, so a tree thousands of folders deep is fine.
* Every candidate is read with :func:`ctxtui.core.safe_io.read_regular`: a FIFO, device or
  socket named ``x.md``, a file over the size cap, an unreadable or vanished file becomes an
  invalid persona with a one-line reason instead of a hang or a traceback.

Token counts and parsed frontmatter are cached in SQLite keyed by the file's content hash,
so an unchanged library re-indexes without re-reading YAML or re-tokenising.

A warm index does not even read: a file whose stat (size, mtime, ctime, inode) equals the one
recorded when it was last read is taken to hold the same bytes. A stat is only recorded once it
has settled (mtime and ctime at least ``SETTLE_NS`` before the moment the file was read), so a
write in the same timestamp tick as the read (the "racy mtime" problem) is never hidden; ctime,
which no user call can set, catches an edit whose mtime was put back. What a stat cannot see:
a write that keeps size, mtime, ctime and inode all equal (a clock set back, or a file system
whose timestamps are coarser than ``SETTLE_NS``), and a change behind a symlink (links are
always read). ``index --json`` and the views read a trusted file again only if its stat moved.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import stat
import struct
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from ctxtui.core import memo, tokens
from ctxtui.core.persona import (
    MAX_FILE_BYTES,
    Persona,
    Status,
    oversize_persona,
    parse_persona,
    unreadable_persona,
)
from ctxtui.core.safe_io import TooLargeError, UnsafeReadError, read_head, read_regular

if TYPE_CHECKING:
    from concurrent.futures import Future

PARSER_VERSION = 8  # bump when parsing or the startup entry text changes (8: records name their stem)
SKIP_DIRS = {"skills", "commands", "hooks", "node_modules", "__pycache__"}
_DOC_STEMS = {"readme", "changelog", "contributing", "license", "skill", "claude", "agents"}
_NAME_FIELD = re.compile(r"(?m)^[ \t]*name[ \t]*:")
SETTLE_NS = 2_000_000_000
"""A stat younger than this (mtime or ctime within 2 s of the read) is not trusted later."""
Stamp = bytes
"""(size, mtime_ns, ctime_ns, inode) packed (a 32-byte value, against ~200 bytes for a tuple of
four ints, 10,000 of them in a large index): what a later stat must equal for a file to count as
the same."""
_STAMP = struct.Struct("<qqqQ")
Judge = Callable[[list[tuple[str, str, bytes]]], None]
"""Called with (path, content hash, bytes) of each block of files the index reads, so that
other results of the same bytes (Claude Code's verdicts) are computed while they are in hand."""


def stamp(st: os.stat_result) -> Stamp:
    """The parts of a stat that change when a file is written."""
    return _pack(st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def _pack(*parts: int) -> Stamp:
    try:
        return _STAMP.pack(*parts)
    except struct.error:  # out of range (a timestamp past 2262...): the same facts as text
        return repr(parts).encode()


def settled(st: os.stat_result, read_at_ns: int) -> bool:
    """Whether a stat taken after a read that started at READ_AT_NS may be trusted later: its
    last write was at least ``SETTLE_NS`` before the read (a later write moves the ctime)."""
    return read_at_ns - max(st.st_mtime_ns, st.st_ctime_ns) >= SETTLE_NS


def is_doc_file(path: Path | str) -> bool:
    """Markdown that documents a library rather than defining a persona, by its name alone
    (:func:`discover` also looks inside an all-upper-case one, see the module docstring)."""
    name = path if isinstance(path, str) else path.name
    stem = name[:-3] if name.endswith(".md") else name
    return stem.lower() in _DOC_STEMS or (stem.isupper() and len(stem) > 1)


def _is_persona_despite_name(path: str) -> bool:
    """An all-upper-case stem that is not a known doc name, in a file that opens with
    frontmatter naming a persona (``SRE.md`` for a persona ``SRE``)."""
    name = os.path.basename(path)
    if name[:-3].lower() in _DOC_STEMS:
        return False
    try:
        head = read_head(path, 4096).decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    except OSError:
        return False
    return head.startswith("---") and _NAME_FIELD.search(head) is not None


def _entries(folder: str) -> tuple[list[str], list[str]]:
    """(sub-folders, other names) of one folder, sorted; links to folders count as neither.
    An unreadable folder reads as empty."""
    dirs: list[str] = []
    files: list[str] = []
    try:
        with os.scandir(folder) as it:
            for entry in it:
                try:
                    if entry.is_dir(follow_symlinks=False):
                        dirs.append(entry.name)
                    elif not (entry.is_symlink() and entry.is_dir()):
                        files.append(entry.name)  # FIFOs and devices too: _read flags them
                except OSError:
                    files.append(entry.name)
    except OSError:
        pass
    return sorted(dirs), sorted(files)


def discover(root: Path) -> list[Path]:
    """Persona files below a library root, by the layout rule in this module's docstring.

    Depth first in sorted order, with an explicit stack (no recursion limit)."""
    found: list[tuple[bool, Path]] = []
    plugin_layout = False
    stack: list[tuple[str, bool]] = [(str(root), False)]
    while stack:
        dirpath, in_agents = stack.pop()
        dirnames, filenames = _entries(dirpath)
        dirnames = [d for d in dirnames if not d.startswith(".") and d.lower() not in SKIP_DIRS]
        plugin_layout = plugin_layout or in_agents or "agents" in dirnames
        child: Callable[[str], Path] | None = None  # one Path per folder, a child per name
        for name in filenames:
            if not name.endswith(".md") or name.startswith("."):
                continue
            if not is_doc_file(name) or _is_persona_despite_name(os.path.join(dirpath, name)):
                if child is None:
                    folder = Path(dirpath)
                    # pathlib's own way to add a name known to be one plain part (how iterdir
                    # makes its children): `folder / name` parses it, a third of a warm index
                    child = getattr(folder, "_make_child_relpath", folder.joinpath)
                found.append((in_agents, child(name)))
        stack.extend((os.path.join(dirpath, d), in_agents or d == "agents") for d in reversed(dirnames))
    if plugin_layout:
        return [p for in_agents, p in found if in_agents]
    return [p for _, p in found]


@dataclass
class Duplicate:
    """Several library files share one persona name; one wins."""

    name: str
    winner: Path
    others: list[Path]
    identical: bool
    reason: str


@dataclass
class Library:
    """An indexed library: every persona file found, and the winner for each name."""

    roots: list[Path]
    personas: list[Persona] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    by_name: dict[str, Persona] = field(default_factory=dict)
    cache_hits: int = 0
    tokenised: int = 0
    extras: set[str] = field(default_factory=set)
    """Names added from the bundled library for pins (not part of the user's library)."""
    stamps: dict[str, Stamp] = field(default_factory=dict)
    """The settled stat of each file whose content hash the index trusts (links never)."""

    def unchanged(self, path: str) -> bool:
        """Whether the file at PATH still has the settled stat the index trusted, so it still
        holds the bytes of its persona's ``sha256`` (see the module docstring for the limits)."""
        known = self.stamps.get(path)
        if known is None:
            return False
        try:
            st = os.lstat(path)
        except OSError:
            return False
        return not stat.S_ISLNK(st.st_mode) and stamp(st) == known

    def same_body(self) -> dict[str, list[str]]:
        """Names of usable winners that are one persona copied under several names (a persona
        copied into several plugins under prefixed names): the same body and the same
        description, which is what Claude Code routes by. Keyed by the shortest name; groups of
        two or more only. Personas that share a body but are described differently are not
        copies: each keeps its own line."""
        groups: dict[tuple[str, str], list[str]] = {}
        for p in self.unique():
            if p.body_sha:
                groups.setdefault((p.body_sha, " ".join(p.description.split())), []).append(p.name)
        out = {}
        for names in groups.values():
            if len(names) > 1:
                names.sort(key=lambda n: (len(n), n))
                out[names[0]] = names[1:]
        return out

    def get(self, name: str) -> Persona | None:
        """The winning persona with this name, if any."""
        return self.by_name.get(name)

    def unique(self) -> list[Persona]:
        """One persona per name (the winners), usable ones only, sorted by name."""
        return sorted((p for p in self.by_name.values() if p.usable), key=lambda p: p.name)

    def eager(self) -> list[Persona]:
        """What the eager strategy makes hot: every usable name of the user's library."""
        return [p for p in self.unique() if p.name not in self.extras]

    @property
    def eager_startup_tokens(self) -> int:
        """Startup tokens if every library persona were hot (Claude Code dedupes by name)."""
        return sum(p.startup_tokens for p in self.eager())


SETUP_WAIT = 10.0  # seconds a cache busy with another process's setup is waited for
_SCHEMA = """
    PRAGMA journal_mode=WAL;
    PRAGMA synchronous=NORMAL;
    CREATE TABLE IF NOT EXISTS parsed(
        sha TEXT PRIMARY KEY, version INT, data TEXT);
    DROP TABLE IF EXISTS stat;
    CREATE TABLE IF NOT EXISTS stamps(
        path TEXT PRIMARY KEY, size INT, mtime_ns INT, ctime_ns INT, ino INT, sha TEXT);
    CREATE TABLE IF NOT EXISTS snapshot(
        key TEXT PRIMARY KEY, used REAL, data TEXT);
"""


def _busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc)
    return "locked" in text or "busy" in text


class TokenCache:
    """SQLite cache: parsed persona + token counts keyed by content hash; stat shortcut."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            # other pure results (counts of listing lines and memory files, Claude Code's
            # verdicts) are remembered beside it, in their own file so that they never wait on
            # an index being written
            memo.use_folder(path.parent)
        # Callers serialise access (the TUI runs core work under one lock, from worker threads).
        self.db = sqlite3.connect(str(path) if path else ":memory:", check_same_thread=False)
        # The cache is shared by every ctxtui of this user, so another process may be setting
        # it up at this moment. SQLite answers "locked" at once, without waiting, when the WAL
        # switch meets another connection's write: retry for a while, then run uncached (a
        # cache is a speed-up, never a reason to fail).
        deadline = time.monotonic() + SETUP_WAIT
        delay = 0.005
        while True:
            try:
                self.db.executescript(_SCHEMA)
                return
            except sqlite3.OperationalError as exc:
                if not _busy(exc):
                    raise
                if time.monotonic() >= deadline:
                    break
            time.sleep(delay)
            delay = min(delay * 2, 0.2)
        self.db.close()
        self.path = None
        self.db = sqlite3.connect(":memory:", check_same_thread=False)
        self.db.executescript(_SCHEMA)

    def snapshot(self, key: str) -> list[str] | None:
        """The content hashes of a whole file set, in order, if that exact set (paths and
        stats) was indexed; a file that was not read (too large...) has no hash (``""``)."""
        row = self.db.execute("SELECT data FROM snapshot WHERE key=?", (key,)).fetchone()
        if row is None:
            return None
        items = _load_json(row[0])
        return items if isinstance(items, list) and all(isinstance(i, str) for i in items) else None

    def store_snapshot(self, key: str, items: list[str], keep: int = 16) -> None:
        """Remember a file set's content hashes; only the most recent ``keep`` sets are kept.
        (Hashes, not results: a set of 10,000 results would double a cold index's memory.)"""
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO snapshot VALUES (?,?,?)", (key, time.time(), _dump_json(items)))
            self.db.execute(
                "DELETE FROM snapshot WHERE key NOT IN (SELECT key FROM snapshot ORDER BY used DESC LIMIT ?)", (keep,)
            )

    def stats(self, paths: list[str]) -> dict[str, tuple[Stamp, str]]:
        """Remembered (settled stamp, sha) of these paths."""
        out: dict[str, tuple[Stamp, str]] = {}
        keys = [os.fsencode(p) for p in paths]
        for i in range(0, len(keys), 500):
            chunk = keys[i : i + 500]
            rows = self.db.execute(
                "SELECT path, size, mtime_ns, ctime_ns, ino, sha FROM stamps "
                f"WHERE path IN ({','.join('?' * len(chunk))})", chunk
            )
            for r in rows:
                if all(isinstance(v, int) for v in r[1:5]) and isinstance(r[5], str):  # else damaged
                    out[_path_text(r[0])] = (_pack(*r[1:5]), r[5])
        return out

    def parsed(self, shas: Iterable[str]) -> dict[str, dict]:
        """Cached parse results for these content hashes (current parser version only)."""
        wanted = sorted(set(shas))
        out: dict[str, dict] = {}
        if not wanted:
            return out
        try:  # one query for any number of hashes
            rows = self.db.execute(
                "SELECT p.sha, p.data FROM json_each(?) AS w JOIN parsed AS p ON p.sha = w.value WHERE p.version=?",
                (_dump_json(wanted), PARSER_VERSION),
            ).fetchall()
        except sqlite3.OperationalError:  # an SQLite built without JSON functions
            rows = []
            for i in range(0, len(wanted), 500):
                chunk = wanted[i : i + 500]
                rows += self.db.execute(
                    f"SELECT sha, data FROM parsed WHERE version=? AND sha IN ({','.join('?' * len(chunk))})",
                    [PARSER_VERSION, *chunk],
                ).fetchall()
        for sha, data in rows:
            item = _load_json(data)
            if isinstance(item, dict):
                out[sha] = item
        return out

    def store(self, stat_rows: list[tuple], parsed_rows: Iterable[tuple[str, dict]]) -> None:
        """Remember stats and parse results in one transaction."""
        with self.db:
            self.add(stat_rows, parsed_rows)

    def add(self, stat_rows: list[tuple], parsed_rows: Iterable[tuple[str, dict]]) -> None:
        """Stats and parse results into the open transaction (the caller commits)."""
        self.db.executemany(
            "INSERT OR REPLACE INTO stamps VALUES (?,?,?,?,?,?)",
            [(os.fsencode(r[0]), *r[1:]) for r in stat_rows],  # bytes: file names need not be UTF-8
        )
        self.db.executemany(
            "INSERT OR REPLACE INTO parsed VALUES (?,?,?)",
            ((sha, PARSER_VERSION, _dump_json(d)) for sha, d in parsed_rows),
        )

    def close(self) -> None:
        """Close the database."""
        self.db.close()


_JSON = msgspec.json.Decoder()
_ENCODER = msgspec.json.Encoder(enc_hook=str)  # a YAML value JSON lacks (a set...) as its text


def _dump_json(value: object) -> bytes:
    return _ENCODER.encode(value)


def _load_json(data: str | bytes) -> object:
    """A cached JSON value; None if the cache row is damaged."""
    try:
        return _JSON.decode(data)
    except (msgspec.MsgspecError, UnicodeDecodeError):  # json.dumps also writes NaN: ask json
        try:
            return json.loads(data)
        except (ValueError, RecursionError):
            return None


def _path_text(value: bytes | str) -> str:
    return os.fsdecode(value) if isinstance(value, bytes) else value


def _to_cache(p: Persona) -> dict:
    # The record is the content's, shared by every file with these bytes: a link's own note
    # (always its last problem, added after parsing) belongs to the link, not to the content.
    problems = p.problems[:-1] if p.is_symlink else p.problems
    stem = p.path.stem
    # A file without a name field (or an invalid one) is named after its file: that record is
    # only this file name's, not every file with these bytes.
    by_name = stem if p.name == stem or any(stem in x for x in problems) else None
    return {"stem": by_name,
        "name": p.name, "description": p.description, "tools": p.tools, "model": p.model,
        "color": p.color, "extra": p.extra, "status": p.status.value, "problems": problems,
        "startup": p.startup_tokens, "full": p.full_tokens, "size": p.size, "body_sha": p.body_sha,
    }


_STATUS = {s.value: s for s in Status}  # Status(value) is an enum search: slow 10,000 times


def _fits(d: dict, path: Path) -> bool:
    """Whether a cached record holds for PATH (its name may come from its file name)."""
    return d.get("stem") in (None, path.stem)


def _from_cache(path: Path, sha: str, d: dict, is_symlink: bool) -> Persona:
    return Persona(
        path=path, name=d["name"], description=d["description"], tools=d["tools"],
        model=d["model"], color=d["color"], extra=d["extra"], body="",
        status=_STATUS[d["status"]], problems=list(d["problems"]), sha256=sha, size=d["size"],
        body_sha=d["body_sha"],
        startup_tokens=d["startup"], full_tokens=d["full"], is_symlink=is_symlink,
    )


def _kind(path: Path) -> str:
    """What a non-regular file is, in words."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return "not a regular file"
    for test, word in ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a folder")):
        if test(mode):
            return word
    return "not a regular file"


def _read(path: Path) -> tuple[bytes | None, Persona | None, bool]:
    """(bytes, placeholder-if-unreadable, is_symlink) for a candidate file.

    Bounded: regular files only (never blocks on a FIFO), at most ``MAX_FILE_BYTES``."""
    is_link = os.path.islink(path)

    def refused(reason: str) -> tuple[None, Persona, bool]:
        return None, unreadable_persona(path, reason, is_symlink=is_link), is_link

    try:
        return read_regular(path, MAX_FILE_BYTES), None, is_link
    except TooLargeError:
        try:
            size = os.stat(path).st_size
        except OSError:
            size = MAX_FILE_BYTES + 1
        return None, oversize_persona(path, size, is_symlink=is_link), is_link
    except UnsafeReadError:
        via = f" (symlink to {_readlink(path)})" if is_link else ""
        return refused(f"{_kind(path)}{via}, not a regular file; not read")
    except FileNotFoundError:
        return refused(f"broken symlink to {_readlink(path)}" if is_link else "file vanished while reading")
    except OSError as exc:
        return refused(f"cannot read: {exc.strerror or exc}")


def _readlink(path: Path) -> str:
    try:
        return os.readlink(path)
    except OSError:
        return "?"


def _set_key(names: list[str]) -> tuple[str, dict[str, Stamp]] | None:
    """A key for a file set by paths and stats, and each file's stamp; None if any file is a
    link or unreadable (a link's target can change without the link's own stat changing), or
    has not settled (written within ``SETTLE_NS``: see the module docstring)."""
    now = time.time_ns()
    h = hashlib.sha256(f"v{PARSER_VERSION}/shas".encode())
    stamps: dict[str, Stamp] = {}
    for name in names:
        try:
            st = os.lstat(name)
        except OSError:
            return None
        if stat.S_ISLNK(st.st_mode) or not settled(st, now):
            return None
        stamps[name] = stamp(st)
        h.update(f"{name}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ctime_ns}\0{st.st_ino}\n".encode("utf-8", "surrogateescape"))
    return h.hexdigest(), stamps


def index_files(paths: list[Path], cache: TokenCache) -> tuple[list[Persona], int, int]:
    """Parse and count files, using the cache. Returns (personas, cache hits, tokenised)."""
    personas, hits, fresh, _ = _index_files(paths, cache)
    return personas, hits, fresh


def _index_files(paths: list[Path], cache: TokenCache,
                 judge: Judge | None = None) -> tuple[list[Persona], int, int, dict[str, Stamp]]:
    """:func:`index_files`, and the settled stamp of each file whose hash is trusted.

    Fast path: the very same file set (paths and settled stats) as before loads in one read.
    Otherwise each file is looked up by its settled stat, then by content hash; only new
    content is parsed and tokenised. JUDGE sees the bytes of every file read.
    """
    names = [str(p) for p in paths]
    keyed = _set_key(names)
    if keyed is not None:
        personas = _from_snapshot(paths, cache, keyed[0])
        if personas is not None:
            return personas, len(paths), 0, keyed[1]
    personas, hits, fresh, stamps = _index_each(paths, names, cache, judge)
    if keyed is not None:
        cache.store_snapshot(keyed[0], [p.sha256 for p in personas])
    return personas, hits, fresh, stamps


def _from_snapshot(paths: list[Path], cache: TokenCache, key: str) -> list[Persona] | None:
    shas = cache.snapshot(key)
    if shas is None or len(shas) != len(paths) or "" in shas:
        return None
    parsed = cache.parsed(shas)
    try:
        if not all(_fits(parsed[sha], p) for p, sha in zip(paths, shas, strict=True)):
            return None
        return [_from_cache(p, sha, parsed[sha], False) for p, sha in zip(paths, shas, strict=True)]
    except (KeyError, TypeError, ValueError):  # a result has gone or is damaged: index again
        return None


_BLOCK = 64
"""Files read, looked up and parsed together; their texts then go to the counters as one job."""
_IN_FLIGHT = 4
"""Jobs queued at most: bounds the texts held in memory while the counters catch up."""


@dataclass
class _Fresh:
    """Personas parsed in this run whose token counts are pending."""

    personas: list[Persona] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    stat_rows: list[tuple] = field(default_factory=list)
    """(path, size, mtime_ns, ctime_ns, inode, sha) of every settled file read in the block."""

    def add(self, persona: Persona, text: str) -> None:
        self.personas.append(persona)
        self.texts.append(text)
        if persona.usable:
            self.texts.append(persona.startup_text)

    def apply(self, counts: list[int]) -> None:
        """Counts come as each persona's full text, then its startup entry if it is usable."""
        it = iter(counts)
        for p in self.personas:
            p.full_tokens = next(it)
            p.startup_tokens = next(it) if p.usable else 0


def _index_each(paths: list[Path], names: list[str], cache: TokenCache,
                judge: Judge | None) -> tuple[list[Persona], int, int, dict[str, Stamp]]:
    known = cache.stats(names)
    shas: dict[Path, str] = {}
    stamps: dict[str, Stamp] = {}
    for path, key in zip(paths, names, strict=True):
        if key not in known:
            continue
        try:
            lst = os.lstat(key)
        except OSError:
            continue
        # a link's target can change without the link's own stat changing: always re-read
        # links. A stored stamp had settled when stored, so any later write moved it.
        if not stat.S_ISLNK(lst.st_mode) and stamp(lst) == known[key][0]:
            shas[path] = known[key][1]
            stamps[key] = known[key][0]
    hits = cache.parsed(shas.values())
    out: dict[Path, Persona] = {}
    for path in paths:
        sha = shas.get(path)
        if sha is not None and sha in hits and _fits(hits[sha], path):
            out[path] = _from_cache(path, sha, hits[sha], False)
    todo = [p for p in paths if p not in out]
    fresh: list[Persona] = []
    # This thread reads and parses (Python, under the GIL) while worker threads count the
    # blocks before (tiktoken drops the GIL), so parsing hides behind counting on a second core.
    # Each block goes to the cache as soon as it is counted, in one transaction for the run.
    counter = tokens.BackgroundCounter() if len(todo) > _BLOCK else None
    jobs: deque[tuple[_Fresh, list[Future[list[int]]]]] = deque()
    try:
        with cache.db:
            if counter is not None:
                counter.submit([])  # load the encoding while the first block is read
            for start in range(0, len(todo), _BLOCK):
                block = _read_block(todo[start : start + _BLOCK], cache, out, judge, stamps)
                fresh += block.personas
                if counter is None:
                    block.apply(tokens.count_many(block.texts))
                    _finish(block, [], cache)
                    continue
                jobs.append((block, counter.submit_split(block.texts)))
                while len(jobs) > _IN_FLIGHT:
                    _finish(*jobs.popleft(), cache)
            while jobs:
                _finish(*jobs.popleft(), cache)
    finally:
        if counter is not None:
            counter.close()
    return [out[p] for p in paths], len(paths) - len(fresh), len(fresh), stamps


def _finish(block: _Fresh, futures: list[Future[list[int]]], cache: TokenCache) -> None:
    if futures:
        block.apply([n for f in futures for n in f.result()])
    block.texts.clear()
    cache.add(block.stat_rows, ((p.sha256, _to_cache(p)) for p in block.personas))


def _read_block(paths: list[Path], cache: TokenCache, out: dict[Path, Persona], judge: Judge | None,
                stamps: dict[str, Stamp]) -> _Fresh:
    """Read files, reuse what the cache knows by content hash, parse the rest; record the
    stamp of each settled file (stat after the read: a write meanwhile leaves it unsettled)."""
    read: list[tuple[Path, bytes, str, bool]] = []
    stat_rows: list[tuple] = []
    for path in paths:
        read_at = time.time_ns()
        data, placeholder, is_link = _read(path)
        if placeholder is not None:
            out[path] = placeholder
            continue
        assert data is not None
        sha = hashlib.sha256(data).hexdigest()
        if not is_link:
            try:
                st = os.stat(path)
            except OSError:  # gone since the read: read again next time
                st = None
            if st is not None and settled(st, read_at):
                name = str(path)
                stat_rows.append((name, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, sha))
                stamps[name] = stamp(st)
        read.append((path, data, sha, is_link))
    if judge is not None and read:
        judge([(str(path), sha, data) for path, data, sha, _ in read])
    known = cache.parsed(sha for _, _, sha, _ in read)
    fresh = _Fresh(stat_rows=stat_rows)
    for path, data, sha, is_link in read:
        if sha in known and _fits(known[sha], path):
            persona = _from_cache(path, sha, known[sha], is_link)
        else:
            persona = parse_persona(path, data, is_symlink=is_link)
            persona.sha256 = sha
            persona.body = ""  # the index keeps no bodies, fresh or cached: read_body() reads one
            fresh.add(persona, data.decode("utf-8", errors="replace"))
        if is_link:
            persona.problems.append(f"symlink to {os.readlink(path)}")
        out[path] = persona
    return fresh


def resolve_duplicates(personas: list[Persona], roots: list[Path]) -> tuple[dict[str, Persona], list[Duplicate]]:
    """Pick one persona per name: earliest library root, then ok over repaired, then the
    shallower path, then the path's sort order. Identical copies are noted as such."""

    prefixes = [str(r).rstrip(os.sep) + os.sep for r in roots]

    def root_rank(p: Persona) -> int:
        text = str(p.path)
        return next((i for i, pre in enumerate(prefixes) if text.startswith(pre)), len(roots))

    groups: dict[str, list[Persona]] = {}
    for p in personas:
        if p.usable:
            groups.setdefault(p.name, []).append(p)
    by_name: dict[str, Persona] = {}
    dups: list[Duplicate] = []
    for name, group in groups.items():
        if len(group) == 1:
            by_name[name] = group[0]
            continue
        group.sort(key=lambda p: (root_rank(p), p.status is not Status.OK, len(p.path.parts), str(p.path)))
        winner = group[0]
        by_name[name] = winner
        identical = len({p.sha256 for p in group}) == 1
        why = "identical copies" if identical else "different contents"
        reason = f"{why}; {winner.path} wins (earlier library folder, then ok over repaired, then shallower path, then path order)"
        dups.append(Duplicate(name, winner.path, [p.path for p in group[1:]], identical, reason))
        for p in group[1:]:
            p.problems.append(f"duplicate name {name!r}: {winner.path} is used instead")
    for p in personas:
        if not p.usable:
            by_name.setdefault(p.name, p)
    return by_name, dups


def index_library(roots: list[Path], cache: TokenCache, judge: Judge | None = None) -> Library:
    """Index every persona below the given roots (JUDGE: see :data:`Judge`)."""
    roots = [Path(r).absolute() for r in roots]
    paths: list[Path] = []
    seen: set[str] = set()  # by text: hashing 10,000 Paths costs more than the rest of a warm index
    for root in roots:
        if root.is_dir():
            for p in discover(root):
                if (key := str(p)) not in seen:
                    seen.add(key)
                    paths.append(p)
    personas, hits, fresh, stamps = _index_files(paths, cache, judge)
    by_name, dups = resolve_duplicates(personas, roots)
    return Library(roots, personas, dups, by_name, hits, fresh, stamps=stamps)


def read_body(persona: Persona) -> str:
    """The markdown body of a persona, read from disk on demand (the index does not keep it)."""
    if persona.body:
        return persona.body
    data, placeholder, _ = _read(persona.path)
    if data is None:
        return ""
    return parse_persona(persona.path, data).body
