"""Claude Code's verdict on ctxtui's personas, for the Claude Code version a project runs.

ctxtui's own reading of a persona (``core.persona``) is lenient: it recovers a name and a
description from files Claude Code skips. What Claude Code will actually list is decided by
its loader (``core.claude_code.load_agent``) for one version profile; this module picks that
profile (:func:`select`) and joins each persona to its verdict (:func:`verdict_for`), so the
budget, the hot count, the cap and the views count what Claude Code loads.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import json
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from ctxtui.core import claude_version, memo, tokens
from ctxtui.core.claude_code import AgentVerdict, Profile, load_agent, newest, profile_for
from ctxtui.core.persona import Persona
from ctxtui.core.safe_io import read_regular

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

#: Largest persona file read for a verdict (Claude Code 2.1.196+ skips files over 1 MiB; older
#: versions read any size, and the library index refuses files far smaller than this anyway).
MAX_READ = 16 * 1024 * 1024
CHANGED = "the file changed while ctxtui read it (it is read again on the next refresh)"
"""The reason of a verdict on bytes that are not the ones ctxtui parsed: see :func:`is_stale`."""


@dataclass(frozen=True)
class Target:
    """The Claude Code version whose loader rules apply, and how it was chosen."""

    version: str
    """The profile's version (the behaviour generation the rules come from)."""
    detected: str | None
    """The version found (None: no source answered, the newest profile is used)."""
    source: str
    """``option``, ``setting``, ``workspace``, ``claude --version``, ``transcript`` or
    ``newest profile``."""
    profile: Profile

    def describe(self) -> str:
        """One line for ``status``: ``Claude Code 2.1.112 (from claude --version)``."""
        if self.detected is None:
            return f"Claude Code {self.version} (newest known; no version found)"
        rules = "" if self.detected == self.version else f", rules of {self.version}"
        return f"Claude Code {self.detected} (from {self.source}{rules})"

    def to_json(self) -> dict[str, Any]:
        """``{"version", "profile", "source"}`` for ``status --json``."""
        return {"version": self.detected, "profile": self.version, "source": self.source}


def select(*, option: str | None, setting: str | None, workspace_setting: str | None,
           workspace: Path, projects_dir: Path, cache_dir: Path | None,
           probe_path: bool = True) -> Target:
    """The version by precedence: ``--claude-version`` (OPTION), the user ``claude_version``
    setting, the workspace config's ``claude_version``, ``claude --version`` on PATH (cached
    per binary), the newest transcript's ``version``, else the newest profile."""
    found = claude_version.detect(option=option, setting=setting or workspace_setting,
                                  workspace=workspace, projects_dir=projects_dir,
                                  cache_dir=cache_dir, probe_path=probe_path)
    source = found.source
    if source == "setting" and not setting:
        source = "workspace"
    if found.version is None:
        prof = newest()
        return Target(prof.version, None, "newest profile", prof)
    prof = profile_for(found.version)
    return Target(prof.version, found.version, source, prof)


VERDICTS_TABLE = "verdicts_v1"


@lru_cache(maxsize=8)
def _loader_tag(version: str) -> bytes | None:
    """What a verdict depends on besides the bytes: the version and the loader's own code
    (any change to it is a new tag). None: the code cannot be read (verdicts are not kept)."""
    h = hashlib.blake2b(version.encode(), digest_size=16)
    try:
        for name in ("agents", "profiles", "yaml_js", "yaml_c"):  # found, not imported
            spec = importlib.util.find_spec(f"ctxtui.core.claude_code.{name}")
            h.update(Path(spec.origin if spec is not None and spec.origin else "").read_bytes())
    except (OSError, ImportError, ValueError):
        return None
    return h.digest()


_FIELDS = [f.name for f in dataclasses.fields(AgentVerdict) if f.name != "path"]


def _memo_key(tag: bytes, sha256: str) -> bytes:
    return hashlib.blake2b(tag + bytes.fromhex(sha256), digest_size=16).digest()


_ROW = msgspec.json.Decoder()


def _from_memo(path: str, kept: object) -> AgentVerdict | None:
    if isinstance(kept, str):
        try:
            return AgentVerdict(path, **dict(zip(_FIELDS, _ROW.decode(kept), strict=True)))
        except (msgspec.DecodeError, ValueError, TypeError):  # a damaged row: judge the file again
            pass
    return None


_judged: dict[tuple[str, str, str], AgentVerdict] = {}
"""Verdicts of this process by (path, content hash, version); the bytes are not kept."""
_MAX_JUDGED = 4096
_judged_lock = threading.Lock()


def forget() -> None:
    """Forget this process's verdicts (the on-disk memo stays)."""
    _judged.clear()


_UNKNOWN = object()
"""A memo row not looked up yet (None: looked up, not there)."""


def _verdict(path: str, sha256: str, data: bytes, version: str, kept: object = _UNKNOWN) -> AgentVerdict:
    """The verdict on DATA, whose SHA-256 is SHA256 (KEPT: its memo row, when looked up)."""
    verdict = _judged.get((path, sha256, version))
    if verdict is None:
        verdict = _judge(path, sha256, data, version, kept)
        with _judged_lock:  # views ask from worker threads
            if len(_judged) >= _MAX_JUDGED:
                _judged.pop(next(iter(_judged)), None)  # the oldest
            _judged[(path, sha256, version)] = verdict
    return verdict


def _judge(path: str, sha256: str, data: bytes, version: str, kept: object) -> AgentVerdict:
    store = memo.table(VERDICTS_TABLE)
    tag = _loader_tag(version) if store is not None else None
    if store is None or tag is None:
        return load_agent(path, data, profile_for(version))
    key = _memo_key(tag, sha256)
    verdict = _from_memo(path, store.get(key) if kept is _UNKNOWN else kept)
    if verdict is None:
        verdict = load_agent(path, data, profile_for(version))
        store.put(key, _row(verdict))
    return verdict


def _read(persona: Persona) -> tuple[bytes, str] | AgentVerdict:
    """PERSONA's bytes and their SHA-256, or the verdict on a file that cannot be judged."""
    try:
        data = read_regular(persona.path, MAX_READ)
    except OSError as exc:
        return AgentVerdict(str(persona.path), False, f"unreadable: {exc.strerror or exc}")
    digest = hashlib.sha256(data).hexdigest()
    if persona.sha256 and digest != persona.sha256:
        return AgentVerdict(str(persona.path), False, CHANGED)
    return data, digest


def verdict_for(persona: Persona, profile: Profile, data: bytes | None = None) -> AgentVerdict:
    """Claude Code's verdict on PERSONA's file (DATA: its bytes, read when not given).

    An unreadable file gets a skipped verdict saying so; a file whose bytes are no longer the
    ones PERSONA was parsed from (an editor is saving it) gets a stale one (:func:`is_stale`).
    Verdicts are cached by content and version (in memory, and on disk in ``core.memo``), so
    views can ask freely.
    """
    if data is None:
        got = _read(persona)
        if isinstance(got, AgentVerdict):
            return got
        data, digest = got
    else:
        digest = hashlib.sha256(data).hexdigest()
    return copied(_verdict(str(persona.path), digest, data, profile.version))


CHUNK = 256
"""Files read and judged together: only one chunk's bytes are held at a time."""


_ROW_ENCODER = msgspec.json.Encoder()


def _row(verdict: AgentVerdict) -> str:
    """A verdict as its memo row: a JSON list of its fields (``json.dumps`` when msgspec
    cannot write a value, such as a lone surrogate)."""
    values = [getattr(verdict, f) for f in _FIELDS]
    try:
        return _ROW_ENCODER.encode(values).decode()
    except (msgspec.EncodeError, TypeError, UnicodeError):
        return json.dumps(values)


def judge_while_indexing(profile: Profile) -> Callable[[list[tuple[str, str, bytes]]], None] | None:
    """A judge for the library index (``index_library(..., judge=)``): it judges each block of
    files the index reads, from the bytes it holds, and remembers the verdicts on disk (not in
    this process), so that :func:`iter_verdicts` with ``unchanged`` reads no file again and the
    YAML work runs beside the index's token counting. None when verdicts are not remembered
    (no cache folder): each file is then read again when its verdict is asked for."""
    store = memo.table(VERDICTS_TABLE)
    tag = _loader_tag(profile.version) if store is not None else None
    if store is None or tag is None:
        return None

    def judge(items: list[tuple[str, str, bytes]]) -> None:
        keys = [_memo_key(tag, sha) for _, sha, _ in items]
        have = store.known(keys)
        for (path, _, data), key in zip(items, keys, strict=True):
            if key not in have:
                have.add(key)
                store.put(key, _row(load_agent(path, data, profile)))

    return judge


def verdicts_for(personas: list[Persona], profile: Profile) -> list[AgentVerdict]:
    """:func:`verdict_for` of each persona, the remembered ones looked up together."""
    return [v for chunk in iter_verdicts(personas, profile) for _, v in chunk]


def iter_verdicts(personas: list[Persona], profile: Profile, unchanged: Callable[[str], bool] | None = None,
                  ) -> Iterator[list[tuple[Persona, AgentVerdict]]]:
    """(persona, :func:`verdict_for`) of each persona, a chunk of files at a time in order
    (each chunk's remembered verdicts looked up in one query, its bytes dropped once judged).

    UNCHANGED (``Library.unchanged``) says which files still hold the bytes their persona's
    hash was taken from (their stat has not moved since the index trusted it): their
    remembered verdicts are used without reading the file. Others are read, hashed and checked
    as :func:`verdict_for` does.

    When many files were never judged, a helper process judges every other chunk ahead
    (Claude Code's YAML loader is Python: the second core halves a cold index's verdicts)."""
    store = memo.table(VERDICTS_TABLE)
    tag = _loader_tag(profile.version) if store is not None else None
    chunks = [personas[start : start + CHUNK] for start in range(0, len(personas), CHUNK)]
    helper = _helper(personas, profile, store, tag)
    ahead = {} if helper is None else {
        i: helper.submit(_judge_files, [(str(p.path), p.sha256) for p in chunks[i]], profile.version)
        for i in range(1, len(chunks), 2)}
    try:
        for i, chunk in enumerate(chunks):
            done = ahead.pop(i, None)
            try:
                judged = done.result() if done is not None else None
            except Exception:  # noqa: BLE001 - the helper died: judge here, as without one
                judged = None
            yield _own(chunk, profile, store, tag, unchanged) if judged is None else _adopt(chunk, judged, profile, tag)
    finally:
        if helper is not None:
            helper.shutdown(wait=False, cancel_futures=True)


def _own(chunk: list[Persona], profile: Profile, store: memo.DiskMemo | None, tag: bytes | None,
         unchanged: Callable[[str], bool] | None = None) -> list[tuple[Persona, AgentVerdict]]:
    version = profile.version
    paths = [str(p.path) for p in chunk]
    # A file whose stat is unchanged since the index took its hash is not read: its verdict
    # is this process's (copied), or the remembered one (decoded for this caller alone), or
    # when neither exists it is read and judged after all. (None, hash) stands for it.
    read: list[tuple[bytes | None, str] | AgentVerdict] = []
    for p, path in zip(chunk, paths, strict=True):
        if unchanged is not None and p.sha256 and unchanged(path):
            mine = _judged.get((path, p.sha256, version))
            read.append(copied(mine) if mine is not None else (None, p.sha256))
        else:
            read.append(_read(p))
    keys = [None if tag is None or isinstance(r, AgentVerdict) else _memo_key(tag, r[1]) for r in read]
    kept = (store.get_many([k for k in keys if k is not None], keep=False)
            if store is not None and tag is not None else {})
    out = []
    for p, path, r, key in zip(chunk, paths, read, keys, strict=True):
        if isinstance(r, AgentVerdict):
            out.append((p, r))
            continue
        data, digest = r
        found = kept.get(key) if key is not None else _UNKNOWN
        if data is None:
            verdict = _from_memo(path, found)
            if verdict is not None:
                out.append((p, verdict))
                continue
            got = _read(p)  # not remembered after all: judge the bytes, as for any file
            if isinstance(got, AgentVerdict):
                out.append((p, got))
                continue
            (data, digest), found = got, _UNKNOWN
        out.append((p, copied(_verdict(path, digest, data, version, found))))
    return out


def _adopt(chunk: list[Persona], judged: list[tuple[AgentVerdict, str]], profile: Profile,
           tag: bytes | None) -> list[tuple[Persona, AgentVerdict]]:
    """The helper's verdicts, remembered as if judged here."""
    store = memo.table(VERDICTS_TABLE)
    out = []
    for p, (verdict, digest) in zip(chunk, judged, strict=True):
        if digest:  # judged (not unreadable, not changed): remember it
            if store is not None and tag is not None:
                store.put(_memo_key(tag, digest), _row(verdict))
            with _judged_lock:
                if len(_judged) >= _MAX_JUDGED:
                    _judged.pop(next(iter(_judged)), None)
                _judged[(str(p.path), digest, profile.version)] = verdict
        out.append((p, copied(verdict)))
    return out


HELPER_MIN = 1024
"""Files never judged from which a helper process judges every other chunk."""


def _helper(personas: list[Persona], profile: Profile, store: memo.DiskMemo | None,
            tag: bytes | None) -> ProcessPoolExecutor | None:
    if len(personas) < HELPER_MIN or (os.cpu_count() or 1) < 2:
        return None
    if store is not None and tag is not None:
        # how many were never judged, estimated from an even sample (the index judges the
        # files it reads, so a warm or a cold library is all or nothing): one small query
        sample = personas[:: max(1, len(personas) // 256)]
        keys = [_memo_key(tag, p.sha256) for p in sample if p.sha256]
        unknown = len(sample) - len(store.known(keys))
        if unknown * len(personas) < HELPER_MIN * len(sample):
            return None
    import multiprocessing as mp  # only for a large cold index: off every start-up path
    from concurrent.futures import ProcessPoolExecutor

    if "fork" not in mp.get_all_start_methods():
        return None
    try:  # fork: the helper starts at once with the loader imported, and touches no memo
        return ProcessPoolExecutor(1, mp_context=mp.get_context("fork"))
    except (OSError, ValueError):
        return None


def _judge_files(items: list[tuple[str, str]], version: str) -> list[tuple[AgentVerdict, str]]:
    """In the helper: the verdict on each (path, indexed hash)'s file, and the hash of the bytes
    judged ("" when none were: unreadable, or changed since the index), as :func:`_read` and
    :func:`_judge` give them."""
    out = []
    prof = profile_for(version)
    for path, sha in items:
        try:
            data = read_regular(Path(path), MAX_READ)
        except OSError as exc:
            out.append((AgentVerdict(path, False, f"unreadable: {exc.strerror or exc}"), ""))
            continue
        digest = hashlib.sha256(data).hexdigest()
        if sha and digest != sha:
            out.append((AgentVerdict(path, False, CHANGED), ""))
        else:
            out.append((load_agent(path, data, prof), digest))
    return out


def warm(personas: list[Persona], profile: Profile) -> None:
    """Bring the remembered verdicts of PERSONAS (by the content hash their index recorded)
    into this process in one memo lookup, without reading a file: the next
    :func:`verdict_for` of each parses nothing. Files still get read to see they did not
    change; verdicts not remembered are judged then."""
    store = memo.table(VERDICTS_TABLE)
    tag = _loader_tag(profile.version) if store is not None else None
    if store is None or tag is None:
        return
    missing = [ident for p in personas
               if p.sha256 and (ident := (str(p.path), p.sha256, profile.version)) not in _judged]
    if not missing or len(missing) > _MAX_JUDGED - len(_judged):
        # Not all would be kept: the views then look most of them up one by one anyway, and a
        # pass over the whole library (iter_verdicts) looks up each chunk together.
        return
    wanted = {ident: _memo_key(tag, ident[1]) for ident in missing}
    kept = store.get_many(list(wanted.values()), keep=False)
    with _judged_lock:
        for (path, sha, version), key in wanted.items():
            if len(_judged) >= _MAX_JUDGED:  # full: decoding the rest would keep nothing
                break
            verdict = _from_memo(path, kept.get(key))
            if verdict is not None:
                _judged[(path, sha, version)] = verdict


def remembered(personas: list[Persona], profile: Profile) -> dict[str, AgentVerdict]:
    """Verdicts remembered (in this process, else on disk in one lookup) for the bytes each
    persona's index hashed, by path, without reading a file (a first view; :func:`verdict_for`
    checks the file). Shared: do not change them."""
    with _judged_lock:
        found = {str(p.path): _judged.get((str(p.path), p.sha256, profile.version)) for p in personas if p.sha256}
    out = {path: v for path, v in found.items() if v is not None}
    store = memo.table(VERDICTS_TABLE)
    tag = _loader_tag(profile.version) if store is not None else None
    if store is None or tag is None or len(out) == len(found):
        return out
    keys = {str(p.path): _memo_key(tag, p.sha256) for p in personas if p.sha256 and str(p.path) not in out}
    kept = store.get_many(list(set(keys.values())))
    for path, key in keys.items():
        verdict = _from_memo(path, kept.get(key))
        if verdict is not None:
            out[path] = verdict
    return out


def copied(verdict: AgentVerdict) -> AgentVerdict:
    """A copy callers may change (the cached verdict stays as it was)."""
    return AgentVerdict(**{**vars(verdict), "tools": _copy(verdict.tools),
                           "disallowed_tools": _copy(verdict.disallowed_tools)})


def _copy(items: list[str] | None) -> list[str] | None:
    return list(items) if items is not None else None


def is_stale(verdict: AgentVerdict) -> bool:
    """The verdict is on bytes other than ctxtui's reading (the file was being written)."""
    return verdict.reason == CHANGED


def line_tokens(verdict: AgentVerdict) -> int:
    """What the agent adds to the startup context: its listing line and the newline joining it
    (0 when Claude Code skips the file)."""
    return tokens.count("\n" + verdict.line) if verdict.loaded else 0


def line_tokens_many(verdicts: list[AgentVerdict]) -> list[int]:
    """:func:`line_tokens` of each verdict, counted (or looked up) together."""
    loaded = [v for v in verdicts if v.loaded]
    counts = iter(tokens.count_many(["\n" + v.line for v in loaded]))
    return [next(counts) if v.loaded else 0 for v in verdicts]


def to_json(verdict: AgentVerdict) -> dict[str, Any]:
    """The ``claude_code`` object of ``index --json`` / ``list --json``."""
    return {
        "loads": verdict.loaded, "reason": verdict.reason or None, "name": verdict.name,
        "description": verdict.description if verdict.loaded else None,
        "tools": verdict.tools, "line": verdict.line or None,
    }
