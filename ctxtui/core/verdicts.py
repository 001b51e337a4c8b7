"""Claude Code's verdict on ctxtui's personas, for the Claude Code version a project runs.

ctxtui's own reading of a persona (``core.persona``) is lenient: it recovers a name and a
description from files Claude Code skips. What Claude Code will actually list is decided by
its loader (``core.claude_code.load_agent``) for one version profile; this module picks that
profile (:func:`select`) and joins each persona to its verdict (:func:`verdict_for`), so the
budget, the hot count, the cap and the views count what Claude Code loads.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from ctxtui.core import claude_code, claude_version, tokens
from ctxtui.core.claude_code import AgentVerdict, Profile, load_agent, newest, profile_for
from ctxtui.core.persona import Persona
from ctxtui.core.safe_io import read_regular

if TYPE_CHECKING:
    from ctxtui.core.library import TokenCache

#: Largest persona file read for a verdict (Claude Code 2.1.196+ skips files over 1 MiB; older
#: versions read any size, and the library index refuses files far smaller than this anyway).
MAX_READ = 16 * 1024 * 1024
CHANGED = "the file changed while ctxtui read it (it is read again on the next refresh)"
"""The reason of a verdict on bytes that are not the ones ctxtui parsed: see :func:`is_stale`."""
UNREADABLE = "unreadable: "
"""How the reason of a verdict on a file that could not be read starts."""


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


#: Verdicts on file contents by (content hash, profile version), the path left empty: each
#: content is parsed once per process, or read back from the token cache (:func:`warm`).
_BY_CONTENT: dict[tuple[str, str], AgentVerdict] = {}
#: Token counts of listing lines ("\n" + line), so a warm start loads no tokenizer.
_LINE_TOKENS: dict[str, int] = {}
_MEMO_MAX = 200_000


def _remember(memo: dict, key: Any, value: Any) -> None:
    if len(memo) >= _MEMO_MAX:  # bounded: a long session over many libraries starts afresh
        memo.clear()
    memo[key] = value


def _verdict(sha256: str, data: bytes, version: str) -> AgentVerdict:
    key = (sha256, version)
    verdict = _BY_CONTENT.get(key)
    if verdict is None:
        verdict = load_agent("", data, profile_for(version))
        _remember(_BY_CONTENT, key, verdict)
    return verdict


def verdict_for(persona: Persona, profile: Profile, data: bytes | None = None) -> AgentVerdict:
    """Claude Code's verdict on PERSONA's file (DATA: its bytes, read when not given).

    An unreadable file gets a skipped verdict saying so; a file whose bytes are no longer the
    ones PERSONA was parsed from (an editor is saving it) gets a stale one (:func:`is_stale`).
    Verdicts are cached by content and version, so views can ask freely.
    """
    if data is None:
        try:
            data = read_regular(persona.path, MAX_READ)
        except OSError as exc:
            return AgentVerdict(str(persona.path), False, f"{UNREADABLE}{exc.strerror or exc}")
        sha = hashlib.sha256(data).hexdigest()
        if persona.sha256 and sha != persona.sha256:
            return AgentVerdict(str(persona.path), False, CHANGED)
    else:
        sha = hashlib.sha256(data).hexdigest()
    return clone(_verdict(sha, data, profile.version), str(persona.path))


def clone(verdict: AgentVerdict, path: str | None = None) -> AgentVerdict:
    """A copy of a remembered VERDICT (at PATH) that its caller may change."""
    out = AgentVerdict.__new__(AgentVerdict)  # cheaper than dataclasses.replace: views ask often
    out.__dict__.update(verdict.__dict__)
    if path is not None:
        out.path = path
    out.tools = _copy(verdict.tools)
    out.disallowed_tools = _copy(verdict.disallowed_tools)
    return out


@lru_cache(maxsize=1)
def _loader_fingerprint() -> str | None:
    """The loader's code (and PyYAML's version): a remembered verdict never outlives the rules
    that made it, even when a change forgets to say so. None: no source to fingerprint."""
    import yaml

    h = hashlib.sha256(yaml.__version__.encode())
    for path in sorted(Path(claude_code.__file__).parent.glob("*.py")) + [Path(__file__)]:
        try:
            h.update(path.read_bytes())
        except OSError:
            return None
    return h.hexdigest()[:16]


class _Remembered(msgspec.Struct):
    """One verdict as the token cache keeps it (checked field by field when read back)."""

    verdict: AgentVerdict
    line_tokens: int


_REMEMBERED = msgspec.json.Decoder(_Remembered)


def warm(cache: TokenCache, personas: Iterable[Persona], profile: Profile) -> None:
    """Know the verdicts on these personas' contents before views ask for them: the remembered
    ones are read from CACHE in one go; the others are parsed now and remembered, with their
    listing lines' token counts (a warm start then parses no YAML and loads no tokenizer)."""
    fingerprint = _loader_fingerprint()
    key = f"{profile.version}:{fingerprint}"
    todo = {p.sha256: p for p in personas if p.sha256 and (p.sha256, profile.version) not in _BY_CONTENT}
    if not todo:
        return
    remembered = cache.verdicts(todo, key) if fingerprint else {}  # unverifiable code: parse in memory only
    for sha, data in remembered.items():
        try:
            known = _REMEMBERED.decode(data)
        except msgspec.DecodeError:  # a damaged row (ValidationError too): parse the file again below
            continue
        _remember(_BY_CONTENT, (sha, profile.version), known.verdict)
        if known.verdict.loaded:
            _remember(_LINE_TOKENS, known.verdict.line, known.line_tokens)
        del todo[sha]
    fresh = []
    for sha, persona in todo.items():
        verdict_for(persona, profile)  # reads the file: a changed or unreadable one is not remembered
        parsed = _BY_CONTENT.get((sha, profile.version))
        if parsed is not None:
            fresh.append((sha, msgspec.to_builtins(_Remembered(parsed, line_tokens(parsed)))))
    if fresh and fingerprint:
        cache.store_verdicts(key, fresh, keep_suffix=f":{fingerprint}")


def _copy(items: list[str] | None) -> list[str] | None:
    return list(items) if items is not None else None


def is_stale(verdict: AgentVerdict) -> bool:
    """The verdict is on bytes other than ctxtui's reading (the file was being written)."""
    return verdict.reason == CHANGED


def line_tokens(verdict: AgentVerdict) -> int:
    """What the agent adds to the startup context: its listing line and the newline joining it
    (0 when Claude Code skips the file)."""
    if not verdict.loaded:
        return 0
    count = _LINE_TOKENS.get(verdict.line)
    if count is None:
        count = tokens.count("\n" + verdict.line)
        _remember(_LINE_TOKENS, verdict.line, count)
    return count


def to_json(verdict: AgentVerdict) -> dict[str, Any]:
    """The ``claude_code`` object of ``index --json`` / ``list --json``."""
    return {
        "loads": verdict.loaded, "reason": verdict.reason or None, "name": verdict.name,
        "description": verdict.description if verdict.loaded else None,
        "tools": verdict.tools, "line": verdict.line or None,
    }
