"""The live context gauge: follow the active Claude Code session of a project as it is written.

Claude Code appends one JSON line per record to ``<claude home>/projects/<project dir
name>/<sessionId>.jsonl``. The follower reads only the bytes appended since its last read (a
partial last line is kept until its newline arrives), restarts a file that shrank or was
replaced, and the gauge model turns records into what ``/context`` would say now: the last
request's prompt size, the window, the autocompact point, growth per turn, compactions and the
subagents run. Nothing here imports Textual; ``ctxtui watch`` and the TUI pane both use it.

Claude Code's rules, read from its ``cli.js`` (versions noted where they differ):

* project folder: the absolute project path with every character outside ``[a-zA-Z0-9]``
  (per UTF-16 code unit) replaced by ``-``; names over 200 characters are cut to 200 and
  suffixed with ``-`` + a base-36 hash of the path.
* window: 1,000,000 when the model name carries ``[1m]`` (or the 1M beta is on for a model
  that supports it), else 200,000. Transcripts record the API model id without ``[1m]`` and no
  betas, so we take 1M only when told (``--window`` / a ``[1m]`` model hint) or when the session
  has already sent more than 200,000 tokens, which only a 1M window allows.
* autocompact point: ``effective - 13,000`` with ``effective = window - reserved``, where
  ``reserved`` is ``min(max output tokens, 20,000)`` since 2.1.21 and the full max output
  (32,000 for current models, 8,192 / 4,096 for Claude 3.x) before. ``CLAUDE_CODE_AUTO_COMPACT_WINDOW``
  caps the window used (clamped to 100k-1M), ``CLAUDE_AUTOCOMPACT_PCT_OVERRIDE`` lowers the point
  to that percentage of ``effective``, ``DISABLE_COMPACT`` / ``DISABLE_AUTO_COMPACT`` turn it off.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ctxtui.core.config import Settings
from ctxtui.core.display import visible
from ctxtui.core.errors import CtxtuiError
from ctxtui.core.sessions import (  # noqa: F401  (re-exported)
    PROJECT_NAME_MAX,
    is_main_transcript,
    newest_transcript,
    project_dir_name,
    project_transcripts,
)

MAX_LINE_BYTES = 64 * 1024 * 1024
"""Longer lines are skipped (counted), so one hostile line cannot exhaust memory."""
READ_CHUNK = 1024 * 1024
READ_BUDGET = 16 * 1024 * 1024
"""Bytes parsed per step of a first read, so a huge transcript is never held as records at once."""
GUARD_BYTES = 64
"""Bytes just before the read offset, re-checked on each read to notice a rewritten file."""
DEFAULT_WINDOW = 200_000
LARGE_WINDOW = 1_000_000
AUTOCOMPACT_BUFFER = 13_000
SUMMARY_RESERVE_CAP = 20_000
SUBAGENT_TOOLS = frozenset({"Task", "Agent"})
MAX_PERSONAS = 500
_DECODE = json.JSONDecoder().decode
_WRAPPERS = ("<local-command", "<system-reminder", "<task-notification", "<bash-",
             "<user-prompt-submit-hook", "[Request interrupted")
"""User records Claude Code writes itself (a slash command the user typed is still a turn)."""


# ---------------------------------------------------------------- where transcripts live
# (ctxtui.core.sessions; re-exported here for the gauge's callers)

def session_folder(settings: Settings) -> Path:
    """Where the project's sessions are written (``Settings.session_folder``)."""
    return settings.session_folder


def _written(path: Path) -> tuple[float, str]:
    try:
        return path.stat().st_mtime, path.name
    except OSError:
        return 0.0, path.name



# ---------------------------------------------------------------- the window and autocompact

@dataclass(frozen=True)
class WindowPolicy:
    """What decides the window and the autocompact point, besides the transcript itself."""

    window: int | None = None
    """An explicit window (``--window``); None means decide from the model and the session."""
    model_hint: str = ""
    """The model as the user chose it (``sonnet[1m]``); ``[1m]`` selects the 1M window."""
    auto_compact_window: int | None = None
    """``CLAUDE_CODE_AUTO_COMPACT_WINDOW``: caps the window autocompact works against."""
    autocompact_pct: float | None = None
    """``CLAUDE_AUTOCOMPACT_PCT_OVERRIDE``: compact at this percentage of the effective window."""
    max_output_tokens: int | None = None
    """``CLAUDE_CODE_MAX_OUTPUT_TOKENS``."""
    autocompact: bool = True
    """False when ``DISABLE_COMPACT`` or ``DISABLE_AUTO_COMPACT`` is set."""

    @classmethod
    def from_env(cls, env: Mapping[str, str], *, window: int | None = None, model_hint: str = "") -> WindowPolicy:
        """The policy Claude Code would apply in an environment like ``env``."""
        def num(name: str) -> float | None:
            try:
                v = float(env.get(name, "") or "nan")
            except ValueError:
                return None
            return v if math.isfinite(v) and v > 0 else None

        pct = num("CLAUDE_AUTOCOMPACT_PCT_OVERRIDE")
        acw = num("CLAUDE_CODE_AUTO_COMPACT_WINDOW")
        mot = num("CLAUDE_CODE_MAX_OUTPUT_TOKENS")
        off = any(env.get(k, "").strip().lower() in ("1", "true", "yes", "on") for k in ("DISABLE_COMPACT", "DISABLE_AUTO_COMPACT"))
        return cls(
            window=window, model_hint=model_hint or env.get("ANTHROPIC_MODEL", ""),
            auto_compact_window=int(min(max(acw, 100_000), LARGE_WINDOW)) if acw else None,
            autocompact_pct=pct if pct is not None and pct <= 100 else None,
            max_output_tokens=int(mot) if mot else None, autocompact=not off,
        )

    def window_for(self, model: str, peak_context: int) -> int:
        """The context window of a session that used ``model`` and peaked at ``peak_context``."""
        if self.window:
            return self.window
        if "[1m]" in self.model_hint.lower() or "[1m]" in model.lower() or peak_context > DEFAULT_WINDOW:
            return LARGE_WINDOW
        return DEFAULT_WINDOW

    def autocompact_at(self, window: int, model: str, version: str) -> int | None:
        """Prompt size at which Claude Code compacts automatically; None when it is off."""
        if not self.autocompact:
            return None
        if self.auto_compact_window:
            window = min(window, self.auto_compact_window)
        effective = window - reserved_for_summary(model, version, self.max_output_tokens)
        point = effective - AUTOCOMPACT_BUFFER
        if self.autocompact_pct is not None:
            point = min(int(effective * self.autocompact_pct / 100), point)
        return max(point, 0)


def _model_max_output(model: str) -> int:
    m = model.lower()
    if "3-5" in m or "claude-3-sonnet" in m:
        return 8_192
    if "claude-3-opus" in m or "claude-3-haiku" in m:
        return 4_096
    return 32_000  # every Claude 4 / 3.7 model defaults to at least this


def _version(v: str) -> tuple[int, ...]:
    nums = re.findall(r"\d+", v.split("-")[0])
    return tuple(int(n) for n in nums[:3]) if nums else (9_999,)


def reserved_for_summary(model: str, version: str, max_output_tokens: int | None = None) -> int:
    """Tokens Claude Code keeps free for the compaction summary (the version difference is here)."""
    out = _model_max_output(model)
    if max_output_tokens:
        out = min(out, max_output_tokens) if _version(version) < (2, 1, 21) else max_output_tokens
    return min(out, SUMMARY_RESERVE_CAP) if _version(version) >= (2, 1, 21) else out


# ---------------------------------------------------------------- reading appended bytes

@dataclass
class ReadCounters:
    """What the follower skipped or restarted, so nothing fails silently."""

    lines: int = 0
    malformed: int = 0
    oversize: int = 0
    restarts: int = 0
    bytes_read: int = 0


class TranscriptFollower:
    """Reads a JSONL file incrementally: each call returns the records appended since the last.

    A partial last line is kept until its newline arrives; a file that shrank, was replaced
    (another inode) or had its bytes before the offset rewritten is read again from the start,
    and ``restarted`` tells the caller to drop what it built from the old content.
    """

    def __init__(self, path: Path, max_line: int = MAX_LINE_BYTES) -> None:
        self.path = path
        self.max_line = max_line
        self.offset = 0
        self.counters = ReadCounters()
        self._ident: tuple[int, int] | None = None
        self._tail = bytearray()
        self._skipping = False
        self._guard = b""
        self.missing = False
        self.more = False
        """True when the last read stopped at its byte budget before the end of the file."""

    def _reset(self) -> None:
        self.offset, self._tail, self._skipping, self._guard = 0, bytearray(), False, b""

    def read(self, max_bytes: int = READ_BUDGET) -> tuple[list[dict[str, Any]], bool]:
        """(new records, restarted), reading at most about ``max_bytes`` (``more`` says if bytes
        remain). A missing or non-regular file sets ``missing`` and yields nothing."""
        restarted = False
        self.more = False
        try:  # O_NONBLOCK: a FIFO planted under a transcript's name must not block the open
            fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
        except OSError:
            self.missing = True
            return [], False
        with os.fdopen(fd, "rb") as fh:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                self.missing = True
                return [], False
            self.missing = False
            ident = (st.st_dev, st.st_ino)
            if self._ident is not None and (ident != self._ident or st.st_size < self.offset or not self._guard_holds(fh)):
                self._reset()
                self.counters.restarts += 1
                restarted = True
            self._ident = ident
            if st.st_size == self.offset:
                return [], restarted
            fh.seek(self.offset)
            records: list[dict[str, Any]] = []
            budget = max_bytes
            while budget > 0:
                chunk = fh.read(min(READ_CHUNK, budget))
                if not chunk:
                    break
                budget -= len(chunk)
                self.offset += len(chunk)
                self.counters.bytes_read += len(chunk)
                self._take(chunk, records)
            self.more = budget <= 0 and self.offset < os.fstat(fd).st_size
            fh.seek(max(0, self.offset - GUARD_BYTES))
            self._guard = fh.read(min(self.offset, GUARD_BYTES))
        return records, restarted

    def _guard_holds(self, fh: Any) -> bool:
        if not self._guard:
            return True
        fh.seek(self.offset - len(self._guard))
        return fh.read(len(self._guard)) == self._guard

    def _take(self, chunk: bytes, records: list[dict[str, Any]]) -> None:
        start = 0
        while True:
            nl = chunk.find(b"\n", start)
            if nl < 0:
                rest = chunk[start:]
                if self._skipping:
                    return
                if len(self._tail) + len(rest) > self.max_line:
                    self.counters.oversize += 1
                    self._tail.clear()
                    self._skipping = True
                    return
                self._tail += rest
                return
            piece = chunk[start:nl]
            start = nl + 1
            if self._skipping:
                self._skipping = False
                continue
            if self._tail:
                if len(self._tail) + len(piece) > self.max_line:
                    self.counters.oversize += 1
                    self._tail.clear()
                    continue
                self._tail += piece
                line = bytes(self._tail)
                self._tail.clear()
            else:
                if len(piece) > self.max_line:
                    self.counters.oversize += 1
                    continue
                line = piece
            rec = self._parse(line)
            if rec is not None:
                records.append(rec)

    def _parse(self, line: bytes) -> dict[str, Any] | None:
        if not line.strip():
            return None
        self.counters.lines += 1
        try:
            text = line.decode("utf-8", "replace")
            rec = _DECODE(text[1:] if text.startswith("\ufeff") else text)
        except (ValueError, RecursionError):  # deep nesting is a bad line, not a crash
            self.counters.malformed += 1
            return None
        if type(rec) is not dict:
            self.counters.malformed += 1
            return None
        return rec


# ---------------------------------------------------------------- the gauge model

@dataclass
class SubagentRuns:
    """The subagent runs of one persona in a session."""

    persona: str
    runs: int = 0
    running: int = 0
    tokens: int = 0
    """Tokens the finished runs used (Claude Code's ``totalTokens``: last prompt + output)."""
    running_tokens: int = 0
    """The same measure for the runs still going, as far as the transcript has reported them."""

    def to_json(self) -> dict[str, Any]:
        """The JSON form in ``ctxtui watch --json``."""
        return {"persona": self.persona, "runs": self.runs, "running": self.running, "tokens": self.tokens,
                "running_tokens": self.running_tokens}


@dataclass(frozen=True)
class GaugeSnapshot:
    """What the gauge shows at one moment; ``to_json`` is the ``ctxtui watch --json`` line."""

    session: str
    path: str
    model: str
    version: str
    context_tokens: int
    window: int
    autocompact_at: int | None
    turns: int
    requests: int
    compactions: int
    growth_per_turn: float
    last_turn_growth: int
    startup_tokens: int
    """Prompt size of the session's first request (0 before it): the startup context, measured."""
    predicted_startup_tokens: int | None
    subagents: tuple[SubagentRuns, ...]
    last_compaction_pre_tokens: int | None = None
    updated: str = ""
    skipped_lines: int = 0

    @property
    def percent_used(self) -> float:
        """Context used as a percentage of the window."""
        return round(100 * self.context_tokens / self.window, 1) if self.window else 0.0

    @property
    def until_autocompact(self) -> int | None:
        """Tokens left before autocompact (None when it is off)."""
        return None if self.autocompact_at is None else max(0, self.autocompact_at - self.context_tokens)

    @property
    def turns_to_autocompact(self) -> int | None:
        """Turns left at the current growth rate (None when unknown)."""
        left = self.until_autocompact
        if left is None or self.growth_per_turn <= 0:
            return None
        return int(left // self.growth_per_turn)

    def to_json(self) -> dict[str, Any]:
        """One JSON object, as ``ctxtui watch --json`` prints it."""
        return {
            "session": self.session, "path": self.path, "model": self.model, "version": self.version,
            "context_tokens": self.context_tokens, "window": self.window, "percent_used": self.percent_used,
            "autocompact_at": self.autocompact_at, "until_autocompact": self.until_autocompact,
            "turns": self.turns, "requests": self.requests, "compactions": self.compactions,
            "last_compaction_pre_tokens": self.last_compaction_pre_tokens,
            "growth_per_turn": round(self.growth_per_turn, 1), "last_turn_growth": self.last_turn_growth,
            "turns_to_autocompact": self.turns_to_autocompact,
            "startup_tokens": self.startup_tokens or None, "predicted_startup_tokens": self.predicted_startup_tokens,
            "subagents": [s.to_json() for s in self.subagents],
            "updated": self.updated, "skipped_lines": self.skipped_lines,
        }


def _int(v: Any) -> int:
    return v if isinstance(v, int) and not isinstance(v, bool) and v > 0 else 0


def prompt_size(usage: Any) -> int:
    """input + cache creation + cache read tokens of one ``message.usage``."""
    if not isinstance(usage, dict):
        return 0
    return _int(usage.get("input_tokens")) + _int(usage.get("cache_creation_input_tokens")) + _int(usage.get("cache_read_input_tokens"))


def _str(v: Any, limit: int = 200) -> str:
    """A string field of a record, bounded (anything else is empty)."""
    return v[:limit] if isinstance(v, str) else ""


def safe_text(text: str) -> str:
    """Transcript text made safe for a terminal, on one line: control (line breaks and tabs
    included), escape and bidi characters become '?'."""
    return visible(text.replace("\n", "?").replace("\t", "?"))


def _run_tokens(result: Any) -> int:
    """Tokens of a finished subagent run from its ``toolUseResult`` (0 when not recorded)."""
    if not isinstance(result, dict):
        return 0
    usage = result.get("usage")
    used = prompt_size(usage) + _int(usage.get("output_tokens")) if isinstance(usage, dict) else 0
    return _int(result.get("totalTokens")) or used


def _is_prompt(rec: dict[str, Any], content: Any) -> bool:
    """A prompt the user typed: not a tool result, a hook, a meta or compaction record."""
    if rec.get("isMeta") is True or rec.get("isCompactSummary") is True:
        return False
    if isinstance(content, str):
        text = content.lstrip()
        return bool(text) and not text.startswith(_WRAPPERS)
    if not isinstance(content, list):
        return False
    texts = []
    for b in content:
        if not isinstance(b, dict) or b.get("type") == "tool_result":
            return False
        if b.get("type") == "text" and isinstance(b.get("text"), str):
            texts.append(b["text"].lstrip())
    return bool(texts) and not any(t.startswith(_WRAPPERS) for t in texts)


class SessionGauge:
    """Turns one session's records, in order, into a GaugeSnapshot."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.session = path.stem
        self.model = ""
        self.version = ""
        self.context = 0
        self.peak = 0
        self.startup = 0
        self.turns = 0
        self.compactions = 0
        self.pre_tokens: int | None = None
        self._request_ids: set[str] = set()
        self.requests = 0
        self._boundary_pending = False
        self._turn_start: int | None = None
        """Context at the first request after compaction (the base growth is measured from)."""
        self._turns_since_base = 0
        self._prev_turn_end: int | None = None
        self._pending: dict[str, list[Any]] = {}
        """Running subagent calls: tool_use id -> [persona, tokens seen in inline sidechain records]."""
        self.subagents: dict[str, SubagentRuns] = {}
        self.last_time = ""

    def feed(self, rec: dict[str, Any]) -> None:
        """Apply one transcript record."""
        rtype = rec.get("type")
        self.version = _str(rec.get("version"), 40) or self.version
        if self.session == self.path.stem:
            self.session = _str(rec.get("sessionId")) or self.session
        self.last_time = _str(rec.get("timestamp"), 40) or self.last_time
        if rtype == "system":
            if rec.get("subtype") == "compact_boundary":
                self._compacted(rec.get("compactMetadata"))
                self._boundary_pending = True
            return
        if rtype == "progress":
            self._progress(rec)
            return
        msg = rec.get("message")
        if not isinstance(msg, dict):
            return
        if rec.get("isSidechain") is True:  # older versions write subagent turns inline
            if rtype == "assistant" and len(self._pending) == 1:  # only then is the owner certain
                call = next(iter(self._pending.values()))
                usage = msg.get("usage")
                if isinstance(usage, dict) and prompt_size(usage):
                    call[1] = prompt_size(usage) + _int(usage.get("output_tokens"))
            return
        if rtype == "assistant":
            self._assistant(msg)
        elif rtype == "user":
            self._user(rec, msg)

    def _progress(self, rec: dict[str, Any]) -> None:
        """A running subagent's request, relayed into the main transcript (2.1.x ``agent_progress``)."""
        data = rec.get("data")
        call = self._pending.get(_str(rec.get("parentToolUseID")))
        if call is None or not isinstance(data, dict) or data.get("type") != "agent_progress":
            return
        outer = data.get("message")
        msg = outer.get("message") if isinstance(outer, dict) and outer.get("type") == "assistant" else None
        usage = msg.get("usage") if isinstance(msg, dict) else None
        if isinstance(usage, dict) and prompt_size(usage):
            call[1] = prompt_size(usage) + _int(usage.get("output_tokens"))

    def _compacted(self, meta: Any) -> None:
        self.compactions += 1
        pre = meta.get("preTokens") if isinstance(meta, dict) else None
        self.pre_tokens = _int(pre) or self.context or None
        self._turn_start = None
        self._turns_since_base = 0
        self._prev_turn_end = None

    def _assistant(self, msg: dict[str, Any]) -> None:
        size = prompt_size(msg.get("usage"))
        if size:  # synthetic error messages carry zero usage: they say nothing of the context
            mid = msg.get("id")
            if not isinstance(mid, str) or mid not in self._request_ids:
                self.requests += 1
                if isinstance(mid, str) and len(self._request_ids) < 1_000_000:
                    self._request_ids.add(mid)
            self.context = size
            self.peak = max(self.peak, size)
            self.startup = self.startup or size
            if self._turn_start is None:
                self._turn_start = size
            model = _str(msg.get("model"))
            if model and not model.startswith("<"):  # "<synthetic>" marks Claude Code's own messages
                self.model = model
        content = msg.get("content")
        for block in content if isinstance(content, list) else ():
            if isinstance(block, dict) and block.get("type") == "tool_use" and _str(block.get("name")) in SUBAGENT_TOOLS:
                given = block.get("input")
                inp = given if isinstance(given, dict) else {}
                persona = _str(inp.get("subagent_type")) or "general-purpose"
                if persona not in self.subagents and len(self.subagents) >= MAX_PERSONAS:
                    persona = "(other personas)"  # a hostile transcript cannot grow the table forever
                tid = _str(block.get("id"))
                if tid and tid not in self._pending and len(self._pending) < 10_000:
                    self._pending[tid] = [persona, 0]
                    runs = self.subagents.setdefault(persona, SubagentRuns(persona))
                    runs.runs += 1
                    runs.running += 1

    def _user(self, rec: dict[str, Any], msg: dict[str, Any]) -> None:
        content = msg.get("content")
        if rec.get("isCompactSummary") is True:
            if not self._boundary_pending:  # versions that write the summary without a boundary
                self._compacted(None)
            self._boundary_pending = False
            return
        if _is_prompt(rec, content):
            self._boundary_pending = False
            if self._turns_since_base and self.context:
                self._prev_turn_end = self.context
            self.turns += 1
            self._turns_since_base += 1
            return
        if not isinstance(content, list):
            return
        result = rec.get("toolUseResult")
        for block in content:
            if isinstance(block, dict) and block.get("type") == "tool_result":
                call = self._pending.pop(_str(block.get("tool_use_id")), None)
                if call is None:
                    continue
                runs = self.subagents[call[0]]
                runs.running = max(0, runs.running - 1)
                runs.tokens += _run_tokens(result) or call[1]

    def growth(self) -> tuple[float, int]:
        """(mean growth per turn since the last compaction, the current turn counted; growth since
        the end of the previous turn)."""
        if self._turn_start is None or not self._turns_since_base:
            return 0.0, 0
        mean = (self.context - self._turn_start) / self._turns_since_base
        last = self.context - self._prev_turn_end if self._prev_turn_end is not None else 0
        return max(mean, 0.0), last

    def _subagent_runs(self) -> tuple[SubagentRuns, ...]:
        live: dict[str, int] = {}
        for persona, tokens in self._pending.values():
            live[persona] = live.get(persona, 0) + tokens
        runs = [SubagentRuns(s.persona, s.runs, s.running, s.tokens, live.get(s.persona, 0)) for s in self.subagents.values()]
        return tuple(sorted(runs, key=lambda s: (-s.tokens - s.running_tokens, s.persona)))

    def snapshot(self, policy: WindowPolicy, predicted: int | None, skipped: int = 0) -> GaugeSnapshot:
        """The gauge now."""
        window = policy.window_for(self.model, self.peak)
        mean, last = self.growth()
        return GaugeSnapshot(
            session=self.session, path=str(self.path), model=self.model, version=self.version,
            context_tokens=self.context, window=window,
            autocompact_at=policy.autocompact_at(window, self.model, self.version),
            turns=self.turns, requests=self.requests, compactions=self.compactions,
            growth_per_turn=mean, last_turn_growth=last, startup_tokens=self.startup,
            predicted_startup_tokens=predicted,
            subagents=self._subagent_runs(),
            last_compaction_pre_tokens=self.pre_tokens, updated=self.last_time, skipped_lines=skipped,
        )


# ---------------------------------------------------------------- following a project

Predictor = Callable[[], "int | None"]
"""ctxtui's predicted startup tokens for the project (called once per session; None if unknown)."""


def workspace_prediction(settings: Settings) -> Predictor:
    """ctxtui's startup prediction for the project: the whole startup context (version
    figures, tools, MCP, skills, memory, agents as they are on disk now) in Claude tokens
    (``Budget.estimated_claude_tokens``); pass another callable to ``LiveGauge`` /
    ``ContextGauge`` to change it.
    """

    def predict() -> int | None:
        from ctxtui.core.workspace import Workspace  # heavy: loaded when a session first shows up

        return Workspace(settings).budget().estimated_claude_tokens

    return predict


class LiveGauge:
    """Follows the active session of one project folder; ``refresh`` returns a new snapshot on change.

    The active session is the most recently written main transcript. Switching back to a session
    seen before continues from where it was read (up to ``keep`` sessions are remembered), so no
    transcript is read whole more than once unless it was truncated or replaced.
    """

    def __init__(self, folder: Path, policy: WindowPolicy | None = None,
                 predict: Predictor | None = None, keep: int = 8) -> None:
        self.folder = folder
        self.policy = policy or WindowPolicy()
        self.predict = predict
        self.keep = keep
        self._sessions: dict[Path, tuple[TranscriptFollower, SessionGauge]] = {}
        self._predicted: dict[Path, int | None] = {}
        self.active: Path | None = None
        self._last: GaugeSnapshot | None = None

    def _prediction(self, path: Path) -> int | None:
        if path not in self._predicted:
            try:
                self._predicted[path] = self.predict() if self.predict else None
            except (CtxtuiError, OSError):  # a project ctxtui cannot read has no prediction
                self._predicted[path] = None
        return self._predicted[path]

    def _state(self, path: Path) -> tuple[TranscriptFollower, SessionGauge]:
        if path not in self._sessions:
            if len(self._sessions) >= self.keep:
                oldest = next(p for p in self._sessions if p != self.active)
                del self._sessions[oldest]
                self._predicted.pop(oldest, None)
            self._sessions[path] = (TranscriptFollower(path), SessionGauge(path))
        return self._sessions[path]

    def refresh(self, changed: set[Path] | None = None) -> GaugeSnapshot | None:
        """Read what was appended; a snapshot when the gauge changed, else None.

        ``changed`` are transcripts the watcher saw appended to (one other than the active
        session makes it active); None rescans the folder for the newest transcript.
        """
        if changed is None or self.active is None:
            target = newest_transcript(self.folder)
        else:  # the one just written is the active session
            others = [p for p in changed if p != self.active and p.parent == self.folder and p.suffix == ".jsonl"]
            target = max(others, key=_written) if others else self.active
        skipped: set[str] = set()
        while target is not None:
            follower, gauge = self._state(target)
            while True:
                records, restarted = follower.read()
                if follower.missing:
                    break
                if restarted:
                    gauge = SessionGauge(target)
                    self._sessions[target] = (follower, gauge)
                for rec in records:
                    gauge.feed(rec)
                if not follower.more:
                    break
            if not follower.missing:
                self.active = target
                c = follower.counters
                return self._emit(gauge.snapshot(self.policy, self._prediction(target), c.malformed + c.oversize))
            # deleted, unreadable or not a regular file: the next newest, without looping
            self._sessions.pop(target, None)
            skipped.add(target.name)
            target = newest_transcript(self.folder, skipped)
        self.active = None
        return self._emit(None)

    def _emit(self, snap: GaugeSnapshot | None) -> GaugeSnapshot | None:
        if snap == self._last:
            return None
        self._last = snap
        return snap

    @property
    def current(self) -> GaugeSnapshot | None:
        """The last snapshot returned (None before the first or with no session)."""
        return self._last

    def watch_targets(self) -> tuple[Path, bool]:
        """(folder to watch, whether it is the project folder itself rather than an ancestor)."""
        p = self.folder
        while not p.is_dir() and p.parent != p:
            p = p.parent
        return p, p == self.folder


def _watcher(root: Path) -> Any:
    """A watchfiles watcher on one folder, watching from the moment it returns."""
    # watchfiles' low-level API (documented as its Rust backend): unlike ``watch()`` it lets us
    # start watching *before* the first read, so no line appended in between can be missed.
    from watchfiles._rust_notify import RustNotify

    try:
        return RustNotify([str(root)], False, False, 300, False, False)
    except TypeError:  # watchfiles before ignore_permission_denied existed
        # The stub is the installed watchfiles'; older releases take these five arguments.
        return RustNotify([str(root)], False, False, 300, False)  # type: ignore[call-arg]


def follow(live: LiveGauge, stop: Any = None, *, step_ms: int = 50, debounce_ms: int = 200,
           heartbeat_ms: int = 5_000) -> Iterator[GaugeSnapshot | None]:
    """Yield the first state, then each change (None: no session), until ``stop`` is set.

    Uses watchfiles (inotify, FSEvents, ...), so an idle session costs no reads. While the
    project folder does not exist, its nearest existing ancestor is watched until it appears.
    Every ``heartbeat_ms`` without events the folder is rescanned once (a few stat calls), for
    filesystems that do not report events. Ctrl-C raises KeyboardInterrupt.
    """
    from watchfiles import Change

    first = True
    while stop is None or not stop.is_set():
        root, is_project = live.watch_targets()
        try:
            watcher = _watcher(root)
        except (FileNotFoundError, NotADirectoryError):  # vanished between looking and watching
            time.sleep(step_ms / 1000)
            continue
        with watcher:
            if not is_project and live.watch_targets()[0] != root:
                continue  # a nearer folder appeared while the watcher started
            before = live.current
            live.refresh(None)  # after the watcher started: whatever comes next is an event
            if first or live.current is not before:
                first = False
                yield live.current
            while True:
                changes = watcher.watch(debounce_ms, step_ms, heartbeat_ms, stop)
                if changes == "stop":
                    return
                if changes == "signal":
                    raise KeyboardInterrupt
                if changes == "timeout":
                    changes = set()  # the heartbeat: rescan below
                if not is_project:
                    if live.watch_targets()[0] != root:
                        break  # a folder on the way (or the project's own) appeared: watch it instead
                    continue
                jsonl = [(c, Path(p)) for c, p in changes if p.endswith(".jsonl")]
                if changes and not jsonl:
                    continue
                appended = bool(jsonl) and all(c == Change.modified for c, _ in jsonl)
                before = live.current
                live.refresh({p for _, p in jsonl} if appended else None)
                if live.current is not before:
                    yield live.current
                if not live.folder.is_dir():
                    break  # the project folder went away: watch an ancestor again


def format_lines(snap: GaugeSnapshot | None) -> list[str]:
    """The gauge as a few plain lines under 80 columns (``ctxtui watch`` without ``--json``)."""
    if snap is None:
        return ["no Claude Code session yet for this project"]
    ac = (f"autocompact at {snap.autocompact_at:,} ({snap.until_autocompact:,} left)"
          if snap.autocompact_at is not None else "autocompact off")
    to_go = f" (~{snap.turns_to_autocompact} turns)" if snap.turns_to_autocompact is not None else ""
    predicted = f" / {snap.predicted_startup_tokens:,} predicted" if snap.predicted_startup_tokens is not None else ""
    lines = [
        f"{snap.context_tokens:,} / {snap.window:,} tokens ({snap.percent_used}%)  session {snap.session[:8]}  {snap.model or '?'}",
        f"{ac}  growth {snap.growth_per_turn:,.0f}/turn{to_go}",
        f"turns {snap.turns}  requests {snap.requests}  compactions {snap.compactions}",
        (f"startup {snap.startup_tokens:,} measured" if snap.startup_tokens else "startup not measured yet (no request)")
        + predicted,
    ]
    if snap.subagents:
        lines.append("subagents " + ", ".join(
            f"{s.persona} x{s.runs} {s.tokens:,} tokens" + (f" (+{s.running_tokens:,} running)" if s.running else "")
            for s in snap.subagents))
    return [safe_text(line) for line in lines]
