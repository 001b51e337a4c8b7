"""Claude Code session transcripts, streamed.

Layout: ``~/.claude/projects/<escaped project path>/<sessionId>.jsonl``; newer versions write
each subagent's own transcript to ``<sessionId>/subagents/agent-<agentId>.jsonl`` (the
``agent-acompact-*`` files are internal compaction agents and are skipped); older versions
write subagent records inline with ``isSidechain: true``.

The subagent tool is ``Task`` (before Claude Code 2.1.63) or ``Agent`` (since);
``input.subagent_type`` names the persona. One API response is written as several lines that
repeat the same ``usage``: we count it once per ``message.id`` + ``requestId``, as ccusage does.
Files are read line by line, so a multi-GB history is never loaded whole; malformed, oversize
and non-object lines are skipped and counted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

SUBAGENT_TOOLS = {"Task", "Agent"}
_DECODER = json.JSONDecoder()
MAX_LINE_BYTES = 64 * 1024 * 1024


@dataclass
class Usage:
    """Token usage of API responses."""

    input: int = 0
    output: int = 0
    cache_creation: int = 0
    cache_read: int = 0

    def add(self, u: dict[str, Any]) -> None:
        """Add one ``message.usage`` object."""
        self.input += _int(u.get("input_tokens"))
        self.output += _int(u.get("output_tokens"))
        self.cache_creation += _int(u.get("cache_creation_input_tokens"))
        self.cache_read += _int(u.get("cache_read_input_tokens"))

    @property
    def prompt(self) -> int:
        """Everything sent to the model: input + cache creation + cache read."""
        return self.input + self.cache_creation + self.cache_read

    @property
    def total(self) -> int:
        """Prompt plus output."""
        return self.prompt + self.output


def _int(v: Any) -> int:
    return v if isinstance(v, int) and not isinstance(v, bool) else 0


@dataclass
class Invocation:
    """One call of the subagent tool."""

    tool_use_id: str
    persona: str
    description: str
    prompt: str
    time: str
    trigger: str = ""
    """The user prompt that came before the call in the main thread."""
    response: str = ""
    agent_id: str = ""
    tokens: int = 0
    """Tokens spent inside the subagent (its own usage), when the transcript says."""


@dataclass
class Session:
    """What one transcript file tells about a session."""

    id: str
    project: str
    path: Path
    cwd: str = ""
    version: str = ""
    start: str = ""
    end: str = ""
    prompts: list[tuple[str, str]] = field(default_factory=list)
    invocations: list[Invocation] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    first_prompt_tokens: int = 0
    """Prompt size of the first assistant turn: the real startup context."""
    model: str = ""


@dataclass
class ReadStats:
    """What reading skipped, so nothing fails silently."""

    files: int = 0
    lines: int = 0
    malformed: int = 0
    oversize: int = 0
    subagent_files: int = 0
    skipped_compaction: int = 0


def iter_lines(path: Path, stats: ReadStats) -> Iterator[bytes]:
    """Lines of a file, never more than MAX_LINE_BYTES each (longer ones are skipped)."""
    with open(path, "rb") as fh:
        while True:
            line = fh.readline(MAX_LINE_BYTES + 1)
            if not line:
                return
            if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
                stats.oversize += 1
                while True:  # drain the rest of the oversize line
                    rest = fh.readline(MAX_LINE_BYTES)
                    if not rest or rest.endswith(b"\n"):
                        break
                continue
            yield line


def iter_records(path: Path, stats: ReadStats) -> Iterator[dict[str, Any]]:
    """JSON objects of a JSONL file; bad lines are counted in ``stats``."""
    decode = _DECODER.decode  # str input skips json.loads' per-call encoding detection
    for line in iter_lines(path, stats):
        stats.lines += 1
        if not line.strip():
            continue
        try:
            text = line.decode("utf-8", "replace")
            rec = decode(text[1:] if text.startswith("\ufeff") else text)
        except ValueError:
            stats.malformed += 1
            continue
        if type(rec) is dict:
            yield rec
        else:
            stats.malformed += 1


def _blocks(content: Any) -> list[dict[str, Any]]:
    """The dict blocks of a message content (anything else yields nothing)."""
    return [b for b in content if isinstance(b, dict)] if isinstance(content, list) else []


def _text(content: Any) -> str:
    """Plain text of a message content (a string or a list of blocks)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for block in content:
            if isinstance(block, dict):
                if block.get("type") == "text" and isinstance(block.get("text"), str):
                    parts.append(block["text"])
                elif block.get("type") == "tool_result":
                    parts.append(_text(block.get("content")))
        return "\n".join(p for p in parts if p)
    return ""


_WRAPPERS = ("<local-command", "<system-reminder", "<task-notification", "<bash-", "<user-prompt-submit-hook", "[Request interrupted")
_COMMAND = re.compile(r"<command-name>(.*?)</command-name>", re.S)
_ARGS = re.compile(r"<command-args>(.*?)</command-args>", re.S)


def prompt_text(content: Any) -> str:
    """The user's words in a prompt; a slash command becomes ``/name args``."""
    text = _text(content).strip()
    if text.startswith("<command-"):
        name, args = _COMMAND.search(text), _ARGS.search(text)
        return f"{name.group(1).strip() if name else ''} {args.group(1).strip() if args else ''}".strip()
    return text


def _is_prompt(content: Any) -> bool:
    """A real user prompt, not a tool result, a hook or system notice."""
    if isinstance(content, str):
        return bool(content.strip()) and not content.lstrip().startswith(_WRAPPERS)
    if isinstance(content, list):
        texts = [b.get("text") for b in content if isinstance(b, dict) and b.get("type") == "text"]
        return bool(texts) and not any(isinstance(t, str) and t.lstrip().startswith(_WRAPPERS) for t in texts) and not any(
            isinstance(b, dict) and b.get("type") == "tool_result" for b in content
        )
    return False


def _usage_key(msg: dict[str, Any], rec: dict[str, Any]) -> tuple[str, str] | None:
    """message id + request id (ccusage's de-duplication key); None when there is no id,
    so records without one are each counted rather than merged."""
    mid = msg.get("id") or rec.get("uuid")
    return (str(mid), str(rec.get("requestId") or "")) if mid else None


def read_session(path: Path, stats: ReadStats, project: str = "") -> Session:
    """Read one main transcript, then link its subagent files."""
    stats.files += 1
    s = Session(id=path.stem, project=project or path.parent.name, path=path)
    seen: set[tuple[str, str]] = set()
    pending: dict[str, Invocation] = {}
    by_agent: dict[str, Invocation] = {}
    sidechain_usage: dict[str, Usage] = {}
    last_prompt = ""
    for rec in iter_records(path, stats):
        rtype = rec.get("type")
        if rtype == "progress":
            data = rec.get("data")
            if isinstance(data, dict) and data.get("agentId"):
                inv = pending.get(str(rec.get("parentToolUseID") or ""))
                if inv is not None and not inv.agent_id:
                    inv.agent_id = str(data["agentId"])
                    by_agent[inv.agent_id] = inv
            continue
        if rtype not in ("user", "assistant"):
            continue
        ts = rec.get("timestamp") or ""
        if isinstance(ts, str) and ts:
            s.start = s.start or ts
            s.end = ts
        if not s.cwd and isinstance(rec.get("cwd"), str):
            s.cwd = rec["cwd"]
        if not s.version and isinstance(rec.get("version"), str):
            s.version = rec["version"]
        if isinstance(rec.get("sessionId"), str) and s.id != rec["sessionId"] and not s.invocations:
            s.id = rec["sessionId"]
        msg = rec.get("message")
        if not isinstance(msg, dict):
            continue
        sidechain = rec.get("isSidechain") is True
        if rtype == "assistant":
            usage = msg.get("usage")
            key = _usage_key(msg, rec)
            if isinstance(usage, dict) and (key is None or key not in seen):
                if key is not None:
                    seen.add(key)
                if sidechain:
                    sidechain_usage.setdefault(str(rec.get("agentId") or ""), Usage()).add(usage)
                else:
                    s.usage.add(usage)
                    if not s.first_prompt_tokens:
                        first = Usage()
                        first.add(usage)
                        s.first_prompt_tokens = first.prompt
                        s.model = str(msg.get("model") or "")
            if sidechain:
                continue
            for block in _blocks(msg.get("content")):
                name = block.get("name")
                if block.get("type") == "tool_use" and isinstance(name, str) and name in SUBAGENT_TOOLS:
                    inp = block.get("input") if isinstance(block.get("input"), dict) else {}
                    inv = Invocation(
                        tool_use_id=str(block.get("id") or ""),
                        persona=str(inp.get("subagent_type") or "general-purpose"),
                        description=str(inp.get("description") or ""),
                        prompt=str(inp.get("prompt") or ""),
                        time=ts if isinstance(ts, str) else "",
                        trigger=last_prompt,
                    )
                    s.invocations.append(inv)
                    pending[inv.tool_use_id] = inv
        else:  # user
            content = msg.get("content")
            if sidechain:
                continue
            if _is_prompt(content) and not rec.get("isMeta") and not rec.get("isCompactSummary"):
                text = prompt_text(content)
                if text:
                    last_prompt = text
                    s.prompts.append((ts if isinstance(ts, str) else "", text))
            if isinstance(content, list):
                result = rec.get("toolUseResult")
                for block in _blocks(content):
                    if block.get("type") == "tool_result":
                        inv = pending.get(str(block.get("tool_use_id")))
                        if inv is None:
                            continue
                        inv.response = _text(block.get("content"))
                        agent = (result.get("agentId") if isinstance(result, dict) else None) or rec.get("agentId")
                        if agent and not inv.agent_id:
                            inv.agent_id = str(agent)
                            by_agent[inv.agent_id] = inv
                        if isinstance(result, dict):
                            inv.tokens = _int(result.get("totalTokens")) or inv.tokens
    for agent_id, usage in sidechain_usage.items():
        inv = by_agent.get(agent_id)
        if inv is None and not agent_id and len(s.invocations) == 1:
            inv = s.invocations[0]  # old inline sidechains without ids: only one candidate
        if inv is not None and not inv.tokens:
            inv.tokens = usage.total
    _link_subagent_files(path, s, by_agent, stats)
    return s


def _link_subagent_files(path: Path, s: Session, by_agent: dict[str, Invocation], stats: ReadStats) -> None:
    folder = path.with_suffix("") / "subagents"
    if not folder.is_dir():
        return
    for sub in sorted(folder.glob("agent-*.jsonl")):
        if sub.name.startswith("agent-acompact"):
            stats.skipped_compaction += 1
            continue
        stats.subagent_files += 1
        agent_id = sub.stem[len("agent-"):]
        usage = Usage()
        seen: set[tuple[str, str]] = set()
        last_text = ""
        for rec in iter_records(sub, stats):
            agent_id = str(rec.get("agentId") or agent_id)
            msg = rec.get("message")
            if rec.get("type") != "assistant" or not isinstance(msg, dict):
                continue
            key = _usage_key(msg, rec)
            if isinstance(msg.get("usage"), dict) and (key is None or key not in seen):
                if key is not None:
                    seen.add(key)
                usage.add(msg["usage"])
            text = _text(msg.get("content"))
            if text:
                last_text = text
        inv = by_agent.get(agent_id)
        if inv is None:
            continue
        inv.tokens = inv.tokens or usage.total
        if not inv.response:
            inv.response = last_text


def transcript_files(root: Path) -> list[tuple[str, Path]]:
    """(project, main transcript) pairs under a projects folder (or one project folder)."""
    if root.is_file():
        return [(root.parent.name, root)]
    out = []
    # <root>/<session>.jsonl (one project) or <root>/<project>/<session>.jsonl; deeper files
    # belong to a session (its subagents) and are read through it.
    for p in sorted(root.glob("*.jsonl")) + sorted(root.glob("*/*.jsonl")):
        out.append((p.parent.name, p))
    return out


def read_all(root: Path, *, project: str | None = None, since: datetime | None = None,
             stats: ReadStats | None = None) -> tuple[list[Session], ReadStats]:
    """Every session under a folder, optionally one project's, optionally since a date."""
    stats = stats or ReadStats()
    sessions = []
    for proj, path in transcript_files(root):
        if project and project not in proj and project not in str(path.parent):
            continue
        s = read_session(path, stats, proj)
        if project and s.cwd and project not in s.cwd and project not in proj:
            continue
        if since is not None and s.end and parse_time(s.end) < since:
            continue
        if s.prompts or s.invocations or s.usage.total:
            sessions.append(s)
    return sessions, stats


def parse_time(ts: str) -> datetime:
    """An ISO timestamp as an aware datetime (naive ones are taken as UTC)."""
    from datetime import timezone

    try:
        dt = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    except ValueError:
        return datetime.min.replace(tzinfo=timezone.utc)
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)
