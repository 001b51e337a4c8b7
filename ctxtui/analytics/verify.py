"""``ctxtui verify``: what Claude Code was actually given, against what ctxtui predicts.

Reads the newest session transcript of the project (``live.session_folder``) up to the first
API response, and takes from it what the session recorded:

* the agent listing: ``agent_listing_delta`` attachments (added minus removed types, with each
  listing line; Claude Code 2.1.178+). Older versions keep the listing in the Agent tool's
  description, which transcripts do not record;
* the memory files: the ``instructions`` attachment's ``files`` (newer versions);
* the first request's size: ``input_tokens + cache_creation_input_tokens +
  cache_read_input_tokens`` of the first assistant record's ``usage``.

ctxtui's prediction uses the Claude Code model for the transcript's version: the custom agents
``effective_agents`` lists for the project, the memory files ``memory.scan`` finds, and the
captured fixed request size of that version. Agents predicted but not listed are silent drops;
listed but not predicted are extras. Whatever the transcript does not record is said so.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ctxtui.analytics.live import newest_transcript, session_folder
from ctxtui.core.claude_code.agents import AgentSet, AgentVerdict, effective_agents
from ctxtui.core.claude_code.profiles import Profile, profile_for
from ctxtui.core.config import Settings
from ctxtui.core.errors import CtxtuiError

__all__ = ["Recorded", "VerifyError", "VerifyReport", "read_session", "verify"]

MAX_LINE_BYTES = 64 * 1024 * 1024
MAX_RECORDS = 20_000
"""Records read before the first API response is given up on (a hostile file)."""


class VerifyError(CtxtuiError):
    """No transcript to verify against."""


@dataclass
class Recorded:
    """What one session's transcript says Claude Code was given at its first request."""

    path: str
    session_id: str = ""
    version: str = ""
    entrypoint: str = ""
    started: str = ""
    agents: dict[str, str] | None = None
    """Listed agent name -> its listing line; None: not recorded."""
    builtin_agents: list[str] = field(default_factory=list)
    memory_files: list[str] | None = None
    """Paths of the memory files sent; None: not recorded."""
    usage: dict[str, int] | None = None
    """``input``, ``cache_creation``, ``cache_read`` of the first response; None: none yet."""

    @property
    def measured(self) -> int | None:
        """input + cache-creation + cache-read tokens of the first request."""
        return sum(self.usage.values()) if self.usage is not None else None


def _records(path: Path) -> list[dict[str, Any]]:
    """Records up to and including the first main-thread assistant record (bounded)."""
    out: list[dict[str, Any]] = []
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise VerifyError(f"cannot read {path}: {exc.strerror or exc}") from None
    with fh:
        for _ in range(MAX_RECORDS):
            line = fh.readline(MAX_LINE_BYTES + 1)
            if not line:
                break
            if len(line) > MAX_LINE_BYTES:
                while line and not line.endswith(b"\n"):  # skip the rest of an oversized line
                    line = fh.readline(MAX_LINE_BYTES)
                continue
            try:
                rec = json.loads(line)
            except (ValueError, RecursionError):
                continue
            if not isinstance(rec, dict) or rec.get("isSidechain") is True:
                continue
            out.append(rec)
            if rec.get("type") == "assistant":
                break
    return out


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def read_session(path: Path) -> Recorded:
    """What the transcript at PATH recorded about its first request."""
    rec = Recorded(str(path))
    listed: dict[str, str] = {}
    builtin: set[str] = set()
    seen_listing = False
    for r in _records(path):
        for key, attr in (("sessionId", "session_id"), ("version", "version"),
                          ("entrypoint", "entrypoint"), ("timestamp", "started")):
            if not getattr(rec, attr) and isinstance(r.get(key), str):
                setattr(rec, attr, r[key][:100])
        att = r.get("attachment") if r.get("type") == "attachment" else None
        if isinstance(att, dict) and att.get("type") == "agent_listing_delta":
            seen_listing = True
            types, lines = _list(att.get("addedTypes")), _list(att.get("addedLines"))
            for i, name in enumerate(types):
                if isinstance(name, str):
                    line = lines[i] if i < len(lines) and isinstance(lines[i], str) else ""
                    listed[name] = line
            for name in _list(att.get("removedTypes")):
                if isinstance(name, str):
                    listed.pop(name, None)
            builtin.update(t for t in _list(att.get("builtInTypes")) + _list(
                att.get("builtInPluginTypes")) if isinstance(t, str))
        elif isinstance(att, dict) and att.get("type") == "instructions":
            files = _list(att.get("files"))
            rec.memory_files = (rec.memory_files or []) + [
                f["path"] for f in files if isinstance(f, dict) and isinstance(f.get("path"), str)]
        if r.get("type") == "assistant":
            usage = (r.get("message") or {}).get("usage") if isinstance(r.get("message"), dict) \
                else None
            if isinstance(usage, dict):
                rec.usage = {"input": _int(usage.get("input_tokens")),
                             "cache_creation": _int(usage.get("cache_creation_input_tokens")),
                             "cache_read": _int(usage.get("cache_read_input_tokens"))}
    if seen_listing:
        rec.agents = {n: line for n, line in listed.items() if n not in builtin}
        rec.builtin_agents = sorted(builtin)
    if rec.memory_files is None and seen_listing:
        rec.memory_files = []  # the version records memory with the listing; none was sent
    return rec


@dataclass
class VerifyReport:
    """The comparison ``ctxtui verify`` prints."""

    transcript: str
    session_id: str
    version: str
    profile: str
    entrypoint: str
    agents_recorded: bool
    listed: list[str]
    predicted: list[str]
    missing: list[str]
    """Predicted but not listed: silently dropped by Claude Code."""
    extra: list[str]
    """Listed but not predicted."""
    differing_lines: list[str]
    memory_recorded: bool
    memory_sent: list[str]
    memory_predicted: list[str]
    memory_missing: list[str]
    memory_extra: list[str]
    measured: int | None
    predicted_total: int | None
    notes: list[str] = field(default_factory=list)

    @property
    def agrees(self) -> bool:
        """No agent or memory file differs (where recorded)."""
        return not (self.missing or self.extra or self.differing_lines or self.memory_missing
                    or self.memory_extra)

    def to_json(self) -> dict[str, Any]:
        """JSON form for ``verify --json``."""
        return {**asdict(self), "agrees": self.agrees}

    def lines(self) -> list[str]:
        """Human lines."""
        out = [f"session {self.session_id or '?'} ({self.transcript})",
               f"Claude Code {self.version or 'version not recorded'} "
               f"(rules of profile {self.profile}), entrypoint {self.entrypoint or '?'}"]
        if self.agents_recorded:
            out.append(f"agents: {len(self.listed)} listed, {len(self.predicted)} predicted")
            out += [f"  missing (silently dropped): {n}" for n in self.missing]
            out += [f"  extra (not predicted): {n}" for n in self.extra]
            out += [f"  listed differently: {n}" for n in self.differing_lines]
        else:
            out.append(f"agents: not recorded in the transcript ({len(self.predicted)} predicted)")
        if self.memory_recorded:
            out.append(f"memory files: {len(self.memory_sent)} sent, "
                       f"{len(self.memory_predicted)} predicted")
            out += [f"  missing: {p}" for p in self.memory_missing]
            out += [f"  extra: {p}" for p in self.memory_extra]
        else:
            out.append("memory files: not recorded in the transcript")
        if self.measured is None:
            out.append("first request tokens: not recorded (no response in the transcript)")
        else:
            pred = "no prediction" if self.predicted_total is None else f"{self.predicted_total:,}"
            out.append(f"first request tokens: {self.measured:,} measured "
                       f"(input + cache creation + cache read), {pred} predicted")
        out += [f"note: {n}" for n in self.notes]
        return out


def _fixed_total(profile: Profile, entrypoint: str) -> int | None:
    t = profile.fixed_tokens.get(entrypoint) or {}
    if "system_total" not in t:
        return None
    msgs = sum(m.get("tokens", 0) for m in t.get("messages", []) if isinstance(m, dict))
    return int(t["system_total"]) + int(t.get("tools_total", 0)) + msgs


def verify(settings: Settings, transcript: Path | None = None) -> VerifyReport:
    """Compare the newest session of the project (or TRANSCRIPT) with ctxtui's prediction."""
    from ctxtui.core import memory, tokens

    if transcript is None:
        folder = session_folder(settings)
        transcript = newest_transcript(folder) if folder.is_dir() else None
        if transcript is None:
            raise VerifyError(f"no Claude Code session of this project in {folder}; start "
                              "`claude` in the project once, then run verify")
    rec = read_session(transcript)
    profile = profile_for(rec.version or None)
    entry = "print" if rec.entrypoint in ("sdk-cli", "sdk-ts", "sdk-py") else "interactive"
    home = settings.claude_home
    agent_set = effective_agents(settings.workspace, profile, home=home.parent,
                                 env={"CLAUDE_CONFIG_DIR": str(home)})
    notes: list[str] = []
    then = _agents_then(settings, rec.started, agent_set, profile)
    if then is not None:
        agent_set, entry_id = then
        notes.append(f"ctxtui changed the agents after the session started (history entry "
                     f"{entry_id}); the prediction is for the files as they were before it")
    elif changed := _mtime_after(settings, rec.started):
        notes.append(f"{changed} changed after the session started; the prediction is for the "
                     "files as they are now")
    predicted = {v.name: v.line for v in agent_set.listed if v.name is not None}
    if not rec.version:
        notes.append(f"the transcript records no version; the rules of {profile.version} were used")
    if rec.agents is not None:
        listed = rec.agents
        missing = sorted(n for n in predicted if n not in listed)
        extra = sorted(n for n in listed if n not in predicted)
        differing = sorted(n for n in predicted if n in listed and listed[n]
                           and listed[n] != predicted[n])
    else:
        listed, missing, extra, differing = {}, [], [], []
        notes.append("this version keeps the agent listing in the Agent tool's description, "
                      "which transcripts do not record; run `ctxtui lint` to see what it skips")
    scan = memory.scan(settings.workspace, home if settings.include_user_scope else None)
    mem_pred = [str(f.path) for f in scan.files]
    sent = rec.memory_files if rec.memory_files is not None else []
    mem_missing = sorted(set(mem_pred) - set(sent)) if rec.memory_files is not None else []
    mem_extra = sorted(set(sent) - set(mem_pred)) if rec.memory_files is not None else []
    fixed = _fixed_total(profile, entry)
    predicted_total = None
    if fixed is not None:
        predicted_total = fixed + sum(tokens.count(line) + 1 for line in predicted.values()) \
            + scan.tokens
        notes.append("predicted total: the captured fixed request of "
                     f"{profile.version} plus agent lines and memory files, in cl100k tokens "
                     "(Claude's own tokenizer counts differently; see `ctxtui calibrate`)")
    return VerifyReport(
        transcript=str(transcript), session_id=rec.session_id, version=rec.version,
        profile=profile.version, entrypoint=rec.entrypoint, agents_recorded=rec.agents is not None,
        listed=sorted(listed), predicted=sorted(predicted), missing=missing, extra=extra,
        differing_lines=differing, memory_recorded=rec.memory_files is not None,
        memory_sent=sent, memory_predicted=mem_pred, memory_missing=mem_missing,
        memory_extra=mem_extra, measured=rec.measured, predicted_total=predicted_total,
        notes=notes)


def _timestamp(text: str) -> float | None:
    from datetime import datetime

    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _agents_then(settings: Settings, started: str, now: AgentSet, profile: Profile
                 ) -> tuple[AgentSet, str] | None:
    """The agents Claude Code had when the session started, when a ctxtui change (a history
    entry) came after it: the project folder's files from that entry's ``before`` snapshot,
    the other folders as they are now. None when no recorded change came after."""
    from ctxtui.core.claude_code.agents import load_agent, resolve
    from ctxtui.core.history import History

    t0 = _timestamp(started)
    if t0 is None:
        return None
    history = History(settings)
    later = [e for e in history.entries() if (_timestamp(e.time) or 0) > t0]
    if not later:
        return None
    first = later[0]
    agents = settings.agents_dir.absolute()
    project: list[AgentVerdict] = []
    for rel, sha in sorted(first.before.items()):
        if rel.startswith(".claude/agents/") and rel.endswith(".md"):
            try:
                data = history.blob(sha)
            except CtxtuiError:
                return None  # the snapshot is incomplete: predict from the files now
            v = load_agent(settings.workspace.absolute() / rel, data, profile)
            v.base_dir = str(agents)
            project.append(v)
    others = [v for v in now.verdicts if v.base_dir != str(agents)]
    for v in others:
        v.shadowed_by = None
    groups = [(src, [v for v in others if v.source == src])
              for src in ("plugin", "userSettings", "projectSettings")]
    ancestors = groups[-1][1]
    # among project folders the nearest wins (2.1.178+), else the farthest: later wins
    groups[-1] = ("projectSettings", ancestors + project if profile.deeper_folder_wins
                  else project + ancestors)
    groups.append(("policySettings", [v for v in others if v.source == "policySettings"]))
    return resolve(groups, profile), first.id


def _mtime_after(settings: Settings, started: str) -> str | None:
    """The first agent or memory file changed after STARTED (ISO time), if any."""
    t0 = _timestamp(started)
    if t0 is None:
        return None
    folder = settings.agents_dir
    if not folder.is_dir():
        return None
    for dirpath, _, files in os.walk(folder):
        for f in files:
            p = Path(dirpath, f)
            try:
                if p.stat().st_mtime > t0 + 1:
                    return str(p)
            except OSError:
                continue
    return None
