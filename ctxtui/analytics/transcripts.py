"""Claude Code session transcripts, streamed.

Layout: ``~/.claude/projects/<escaped project path>/<sessionId>.jsonl``; newer versions write
each subagent's own transcript to ``<sessionId>/subagents/agent-<agentId>.jsonl`` (the
``agent-acompact-*`` files are internal compaction agents and are skipped); older versions
write subagent records inline with ``isSidechain: true``.

The subagent tool is ``Task`` (before Claude Code 2.1.63) or ``Agent`` (since);
``input.subagent_type`` names the persona. One API response is written as several lines that
repeat the same ``usage``: we count it once per ``message.id`` + ``requestId``, as ccusage does.
Files are read in 8 MB pieces (regular files only), so a multi-GB history is never loaded
whole; malformed, oversize, too deeply nested and non-object lines are skipped and counted.

Decoding is lazy: msgspec decodes each line into small structs holding only the fields read
here, and keeps the large parts (tool results, subagent progress, ``toolUseResult``, tool
inputs) as raw JSON, decoded only when the analysis needs them. A line msgspec refuses (it is
stricter: NaN, lone surrogates...) goes through the standard library's ``json`` and becomes
the same structs (:func:`_as`), so both paths give the same result; ``tests/test_transcripts.py``
holds them equal on the real corpora, odd JSON and fuzzed records.

A line whose kind the analysis never reads is not decoded at all: its top-level ``type`` is
read from its first bytes (:func:`line_kind`, only where that is certain; a short line is only
looked at for ``progress``, the kind most lines are). That leaves out progress events while no
subagent call waits for one, and the user lines of subagent transcripts (their tool results):
most of a real history's bytes and lines. Such a line is not checked, so it is never counted
as malformed.

A large history is read by forked processes, one per core, the caller's included
(:func:`start_read` starts them, so the caller loads what else it needs meanwhile; see
:mod:`ctxtui.analytics.forked`). With a cache folder, a main transcript whose fingerprint (it
and its subagent files, see :mod:`ctxtui.analytics.transcript_cache`) is unchanged is not read
again: most of a history is old sessions. Where the time goes on 630 MB (2 cores): msgspec
decoding the lines that are read is about a third; splitting lines, the per-record logic and
starting the process share the rest.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar, Union

import msgspec

from ctxtui.analytics import forked

SUBAGENT_TOOLS = {"Task", "Agent"}
_DECODER = json.JSONDecoder()
MAX_LINE_BYTES = 64 * 1024 * 1024
MAX_TEXT_DEPTH = 16
"""Tool results nested in tool results deeper than this contribute no text."""


@dataclass
class Usage:
    """Token usage of API responses."""

    input: int = 0
    output: int = 0
    cache_creation: int = 0
    cache_read: int = 0

    def add(self, u: _UsageFields) -> None:
        """Add one ``message.usage`` object (a value that is not an integer counts 0)."""
        # type() is int: JSON integers only (a bool is not one); inlined, as this runs per response
        if type(v := u.input_tokens) is int:
            self.input += v
        if type(v := u.output_tokens) is int:
            self.output += v
        if type(v := u.cache_creation_input_tokens) is int:
            self.cache_creation += v
        if type(v := u.cache_read_input_tokens) is int:
            self.cache_read += v

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


def _open_regular(path: Path) -> int | None:
    """A read descriptor for a regular file; None for FIFOs, devices, sockets (never blocks)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    if stat.S_ISREG(os.fstat(fd).st_mode):
        return fd
    os.close(fd)
    return None


_READ_BYTES = 8 * 1024 * 1024


def iter_lines(path: Path, stats: ReadStats) -> Iterator[memoryview]:
    """Lines of a regular file, without their newline, as views into 8 MB reads; a line longer
    than MAX_LINE_BYTES is skipped and counted (and never held whole)."""
    for batch in _line_batches(path, stats):
        yield from batch  # type: ignore[misc]  # no kinds given: every item is a view


_BATCH_LINES = 16384
"""At most this many lines are handed on at once (a read of 8 MB of short lines holds millions)."""
_TYPE_KEY = b'"type":"'
_TYPE_WINDOW = 4096
"""How far into a line its top-level ``type`` is looked for (Claude Code writes it after a
few short fields: ids, cwd, version, branch, slug)."""
_SORTED_BYTES = 4096
"""Lines at least this long are sorted by :func:`line_kind` before decoding: below it,
telling any line's kind costs about what decoding it does."""
_GATE_SHORT_LINES = True
"""Shorter lines are looked at for the gated kind only (most lines of a history are short
progress events): one search for its marker in the line's first :data:`_MARKER_WINDOW` bytes
(False: every short line is decoded, the reference)."""
_MARKER_WINDOW = 1024


def line_kind(data: bytes, start: int, end: int) -> bytes | None:
    """The top-level ``type`` of the JSON line ``data[start:end]``, read from its first bytes
    without decoding it, or None when that cannot be told for sure that way.

    Sure means: the line is ``{...}``, the first ``"type":"`` lies within :data:`_TYPE_WINDOW`
    with no ``{`` before it (so it is a key of the line's own object, not of a nested one),
    right after ``{`` or ``,`` (so its quote opens the key: inside a JSON string every quote is
    escaped), and its value holds no escape. A line that repeats its top-level key is read by
    its first one here (a decoder takes the last); Claude Code never writes one."""
    if end - start < 10 or data[start] != 123 or data[end - 1] != 125:  # { ... }
        return None
    p = data.find(_TYPE_KEY, start, min(end, start + _TYPE_WINDOW))
    if p < 0 or data[p - 1] not in (44, 123) or data.find(b"{", start + 1, p) >= 0:
        return None
    q = data.find(b'"', p + 8, min(end, p + 72))
    if q < 0:
        return None
    kind = data[p + 8 : q]
    return None if b"\\" in kind else kind


def _line_batches(path: Path, stats: ReadStats, keep: frozenset[bytes] | None = None,
                  gated: bytes = b"") -> Iterator[list[memoryview | tuple[memoryview]]]:
    """:func:`iter_lines`, one list per read (a loop over a list costs less per line than
    resuming a generator: a large history has millions of lines); every line is counted in
    ``stats.lines``.

    With ``keep``, a line whose :func:`line_kind` is known and is neither in ``keep`` nor
    ``gated`` is dropped undecoded (most of a history's bytes are lines the analysis never
    reads: progress events, and the tool results inside subagent transcripts); a ``gated``
    line comes as a 1-tuple, for the caller to decode only when it needs it."""
    limit = MAX_LINE_BYTES
    try:
        fd = _open_regular(path)
    except OSError:
        return
    if fd is None:
        return
    kind_of = line_kind
    sorted_bytes, window = _SORTED_BYTES, _MARKER_WINDOW
    # short lines are looked at for the gated kind's marker only (see _GATE_SHORT_LINES)
    marker = _TYPE_KEY + gated + b'"' if gated and keep is not None and _GATE_SHORT_LINES else b""
    with open(fd, "rb", buffering=0) as fh:
        head = b""  # the start of a line continued in the next read
        skipping = False  # inside an oversize line: drop everything up to its newline
        while chunk := fh.read(_READ_BYTES):
            if skipping:
                cut = chunk.find(b"\n")
                if cut < 0:
                    continue
                chunk, skipping = chunk[cut + 1 :], False
            data = head + chunk if head else chunk
            view = memoryview(data)
            batch: list[memoryview | tuple[memoryview]] = []
            find = data.find
            start = 0
            lines = 0  # counted here, added to stats.lines when the batch goes
            while (end := data.find(b"\n", start)) >= 0:
                if end - start > limit:
                    stats.oversize += 1
                    start = end + 1
                    continue
                lines += 1
                if end == start:
                    pass  # a blank line: nothing to decode
                elif end - start < sorted_bytes:
                    # line_kind's rules for one kind: the marker opens a key of the line's own object
                    if marker and (mark := find(marker, start, end if end - start < window else start + window)) > 0 \
                            and data[mark - 1] in b",{" and data[start] == 123 and data[end - 1] == 125 \
                            and find(b"{", start + 1, mark) < 0:
                        batch.append((view[start:end],))
                    else:
                        batch.append(view[start:end])
                elif keep is None or (kind := kind_of(data, start, end)) is None or kind in keep:
                    batch.append(view[start:end])
                elif kind == gated:
                    batch.append((view[start:end],))
                start = end + 1
                if len(batch) >= _BATCH_LINES:  # a read of short lines: a view each would be GBs
                    stats.lines += lines
                    yield batch
                    batch, lines = [], 0
            stats.lines += lines
            yield batch
            head = data[start:]
            if len(head) > limit:
                stats.oversize += 1
                head, skipping = b"", True
        if head and not skipping:
            stats.lines += 1
            yield [memoryview(head)]


class _Block(msgspec.Struct):
    type: Any = None
    text: Any = None
    name: Any = None
    id: Any = None
    tool_use_id: Any = None
    input: msgspec.Raw = msgspec.Raw()
    content: msgspec.Raw = msgspec.Raw()


class _UsageFields(msgspec.Struct):
    """``message.usage``: the four token counts (decoded as a struct: no dict per response)."""

    input_tokens: Any = None
    output_tokens: Any = None
    cache_creation_input_tokens: Any = None
    cache_read_input_tokens: Any = None


class _Message(msgspec.Struct):
    id: Any = None
    model: Any = None
    usage: _UsageFields | None = None  # another shape: the reference decoder reads the line
    content: str | list[_Block] | None = None


class _Record(msgspec.Struct):
    """The fields of a transcript line the analysis reads; big parts stay raw JSON."""

    type: Any = None
    timestamp: Any = None
    cwd: Any = None
    version: Any = None
    sessionId: Any = None
    isSidechain: Any = None
    isMeta: Any = None
    isCompactSummary: Any = None
    agentId: Any = None
    requestId: Any = None
    uuid: Any = None
    parentToolUseID: Any = None
    message: _Message | None = None
    data: msgspec.Raw = msgspec.Raw()
    toolUseResult: msgspec.Raw = msgspec.Raw()


class _Input(msgspec.Struct):
    subagent_type: Any = None
    description: Any = None
    prompt: Any = None


class _AgentRef(msgspec.Struct):
    """``progress.data`` and ``toolUseResult``: only the agent id and its token total."""

    agentId: Any = None
    totalTokens: Any = None


_RECORD = msgspec.json.Decoder(_Record)
_LAZY = {
    "content": msgspec.json.Decoder(Union[str, list[_Block]]),  # noqa: UP007 - a runtime type
    "input": msgspec.json.Decoder(_Input),
    "data": msgspec.json.Decoder(_AgentRef),
    "toolUseResult": msgspec.json.Decoder(_AgentRef),
}
_GENERIC = msgspec.json.Decoder()
_Raw = msgspec.Raw


def _stdlib(data: bytes | memoryview | str) -> Any:
    """The reference decoder: the standard library on text (invalid UTF-8 as U+FFFD)."""
    text = str(data, "utf-8", "replace") if not isinstance(data, str) else data
    return _DECODER.decode(text[1:] if text.startswith("\ufeff") else text)


def _lazy(raw: msgspec.Raw, key: str) -> Any:
    """Decode a raw part when it is read: as its struct, else as plain JSON values."""
    if not raw:
        return None  # the key was absent
    try:
        return _LAZY[key].decode(raw)
    except (msgspec.ValidationError, UnicodeDecodeError):  # another shape than the struct (a list, a
        pass  # string...), or bytes that are not UTF-8 (a raw part is checked only when it is decoded)
    except RecursionError:
        return None
    try:
        return _GENERIC.decode(raw)
    except (msgspec.MsgspecError, UnicodeDecodeError):  # let the reference decoder judge
        pass
    except RecursionError:
        return None
    try:
        return _stdlib(raw)
    except (ValueError, RecursionError):
        return None


def _part(value: Any, key: str) -> Any:
    """A field that may still be raw JSON, decoded now (see :func:`_lazy`)."""
    return _lazy(value, key) if type(value) is _Raw else value


_S = TypeVar("_S", bound=msgspec.Struct)
_J = TypeVar("_J")


def _as(cls: type[_S], value: Any) -> _S | None:
    """``value`` as a ``cls`` struct if it is a JSON object (decoded as ``cls`` already, or a
    plain dict from the reference decoder), else None."""
    if type(value) is cls:
        return value
    if type(value) is dict:
        return cls(**{f: value.get(f) for f in cls.__struct_fields__})
    return None


class Gate:
    """Whether :func:`iter_records` decodes the gated lines now (the reader opens it while a
    subagent call waits for the progress line that names its agent)."""

    __slots__ = ("open",)

    def __init__(self) -> None:
        self.open = False


def iter_records(path: Path, stats: ReadStats, *, fast: bool = True, keep: frozenset[bytes] | None = None,
                 gated: bytes = b"", gate: Gate | None = None) -> Iterator[_Record]:
    """The JSON objects of a JSONL file; bad lines are counted in ``stats``. ``fast=False``
    decodes every line with the standard library (the reference path). ``keep`` and ``gated``
    (see :func:`_line_batches`) leave out lines the caller does not read; a gated line is
    decoded while ``gate.open``. A line left out is not decoded, so it is not counted as
    malformed: only a line that is read can be. The reference path leaves nothing out: what
    the fast path sorts out by its first bytes is checked against it."""
    decode = _RECORD.decode
    if not fast:
        keep, gated = None, b""
    for batch in _line_batches(path, stats, keep, gated):
        for item in batch:
            if isinstance(item, tuple):
                if gate is None or not gate.open:
                    continue
                line = item[0]
            else:
                line = item
            if fast:
                try:
                    record = decode(line)
                except (msgspec.MsgspecError, UnicodeDecodeError, RecursionError):
                    pass  # blank, not an object, or JSON msgspec is stricter about: ask the reference
                else:
                    yield record
                    continue
            fallback = _reference(line, stats)
            if fallback is not None:
                yield fallback


def _reference(line: memoryview, stats: ReadStats) -> _Record | None:
    """A line through the standard library's json: None for a blank line or a bad one (the
    latter counted in ``stats``)."""
    if not bytes(line).strip():
        return None
    try:
        rec = _stdlib(line)
    except (ValueError, RecursionError):
        stats.malformed += 1
        return None
    record = _as(_Record, rec)
    if record is None:
        stats.malformed += 1
    return record


def _blocks(content: Any) -> list[_Block]:
    """The object blocks of a message content (anything else yields nothing)."""
    if not isinstance(content, list):
        return []
    # msgspec decodes a content list as blocks only (its type says so); the reference path
    # gives plain values and never a block: the first item tells which path it came from
    if not content or type(content[0]) is _Block:
        return content
    return [b for b in (_as(_Block, x) for x in content) if b is not None]


def _text(content: Any, depth: int = 0) -> str:
    """Plain text of a message content (a string or a list of blocks)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list) and depth < MAX_TEXT_DEPTH:
        parts = []
        for block in _blocks(content):
            if block.type == "text" and isinstance(block.text, str):
                parts.append(block.text)
            elif block.type == "tool_result":
                parts.append(_text(_part(block.content, "content"), depth + 1))
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
        blocks = _blocks(content)
        if any(b.type == "tool_result" for b in blocks):  # most user lines: a tool's result
            return False
        texts = [b.text for b in blocks if b.type == "text"]
        return bool(texts) and not any(isinstance(t, str) and t.lstrip().startswith(_WRAPPERS) for t in texts)
    return False


def _usage_key(msg: _Message, rec: _Record) -> tuple[str, str] | None:
    """message id + request id (ccusage's de-duplication key); None when there is no id,
    so records without one are each counted rather than merged."""
    mid = msg.id or rec.uuid
    return (str(mid), str(rec.requestId or "")) if mid else None


_MAIN_KINDS = frozenset((b"user", b"assistant"))
_SUBAGENT_KINDS = frozenset((b"assistant",))


def read_session(path: Path, stats: ReadStats, project: str = "", *, fast: bool = True) -> Session:
    """Read one main transcript, then link its subagent files."""
    stats.files += 1
    s = Session(id=path.stem, project=project or path.parent.name, path=path)
    seen: set[tuple[str, str]] = set()
    pending: dict[str, Invocation] = {}
    by_agent: dict[str, Invocation] = {}
    sidechain_usage: dict[str, Usage] = {}
    last_prompt = ""
    gate = Gate()  # open while a call waits for its agent id: only then are progress lines read
    waiting = 0  # pending calls without an agent id (counted: a session may hold thousands)
    for rec in iter_records(path, stats, fast=fast, keep=_MAIN_KINDS, gated=b"progress", gate=gate):
        rtype = rec.type
        if rtype == "progress":
            # most lines are progress: look at their (large) data only for a pending call
            inv = pending.get(str(rec.parentToolUseID or ""))
            if inv is not None and not inv.agent_id:
                data = _as(_AgentRef, _part(rec.data, "data"))
                if data is not None and data.agentId:
                    inv.agent_id = str(data.agentId)
                    by_agent[inv.agent_id] = inv
                    waiting -= 1
                    gate.open = waiting > 0
            continue
        if rtype not in ("user", "assistant"):
            continue
        ts = rec.timestamp or ""
        if isinstance(ts, str) and ts:
            s.start = s.start or ts
            s.end = ts
        if not s.cwd and isinstance(rec.cwd, str):
            s.cwd = rec.cwd
        if not s.version and isinstance(rec.version, str):
            s.version = rec.version
        if isinstance(rec.sessionId, str) and s.id != rec.sessionId and not s.invocations:
            s.id = rec.sessionId
        msg = rec.message
        if type(msg) is not _Message and (msg := _as(_Message, msg)) is None:
            continue
        sidechain = rec.isSidechain is True
        if rtype == "assistant":
            fields = _as(_UsageFields, msg.usage)
            key = _usage_key(msg, rec)
            if fields is not None and (key is None or key not in seen):
                if key is not None:
                    seen.add(key)
                if sidechain:
                    sidechain_usage.setdefault(str(rec.agentId or ""), Usage()).add(fields)
                else:
                    s.usage.add(fields)
                    if not s.first_prompt_tokens:
                        first = Usage()
                        first.add(fields)
                        s.first_prompt_tokens = first.prompt
                        s.model = str(msg.model or "")
            if sidechain:
                continue
            for block in _blocks(_part(msg.content, "content")):
                name = block.name
                if block.type == "tool_use" and isinstance(name, str) and name in SUBAGENT_TOOLS:
                    inp = _as(_Input, _part(block.input, "input")) or _Input()
                    if not isinstance(inp.subagent_type, str | None):
                        continue  # Claude Code refuses such a call: no persona ran
                    inv = Invocation(
                        tool_use_id=str(block.id or ""),
                        persona=str(inp.subagent_type or "general-purpose"),
                        description=str(inp.description or ""),
                        prompt=str(inp.prompt or ""),
                        time=ts if isinstance(ts, str) else "",
                        trigger=last_prompt,
                    )
                    s.invocations.append(inv)
                    replaced = pending.get(inv.tool_use_id)
                    if replaced is not None and not replaced.agent_id:
                        waiting -= 1  # a repeated id: the earlier call is no longer looked up
                    pending[inv.tool_use_id] = inv
                    waiting += 1
                    gate.open = True
        else:  # user
            content = _part(msg.content, "content")
            if sidechain:
                continue
            if _is_prompt(content) and not rec.isMeta and not rec.isCompactSummary:
                text = prompt_text(content)
                if text:
                    last_prompt = text
                    s.prompts.append((ts if isinstance(ts, str) else "", text))
            if isinstance(content, list):
                for block in _blocks(content):
                    if block.type == "tool_result":
                        inv = pending.get(str(block.tool_use_id))
                        if inv is None:
                            continue
                        inv.response = _text(_part(block.content, "content"))
                        result = _as(_AgentRef, _part(rec.toolUseResult, "toolUseResult"))  # large: only now
                        agent = (result.agentId if result is not None else None) or rec.agentId
                        if agent and not inv.agent_id:
                            inv.agent_id = str(agent)
                            by_agent[inv.agent_id] = inv
                            waiting -= 1
                            gate.open = waiting > 0
                        if result is not None:
                            inv.tokens = _int(result.totalTokens) or inv.tokens
    for agent_id, usage in sidechain_usage.items():
        inv = by_agent.get(agent_id)
        if inv is None and not agent_id and len(s.invocations) == 1:
            inv = s.invocations[0]  # old inline sidechains without ids: only one candidate
        if inv is not None and not inv.tokens:
            inv.tokens = usage.total
    _link_subagent_files(path, s, by_agent, stats, fast)
    return s


def _link_subagent_files(path: Path, s: Session, by_agent: dict[str, Invocation], stats: ReadStats,
                         fast: bool = True) -> None:
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
        # only the assistant lines: the user lines of a subagent transcript are its tool results,
        # most of its bytes, and nothing in them is counted
        for rec in iter_records(sub, stats, fast=fast, keep=_SUBAGENT_KINDS):
            if rec.type != "assistant":
                continue
            agent_id = str(rec.agentId or agent_id)
            msg = _as(_Message, rec.message)
            if msg is None:
                continue
            key = _usage_key(msg, rec)
            if (fields := _as(_UsageFields, msg.usage)) is not None and (key is None or key not in seen):
                if key is not None:
                    seen.add(key)
                usage.add(fields)
            text = _text(_part(msg.content, "content"))
            if text:
                last_text = text
        inv = by_agent.get(agent_id)
        if inv is None:
            continue
        inv.tokens = inv.tokens or usage.total
        if not inv.response:
            inv.response = last_text


def transcript_files(root: Path) -> list[tuple[str, Path]]:
    """(project, main transcript) pairs under a projects folder (or one project folder):
    ``<root>/<session>.jsonl`` (one project) and ``<root>/<project>/<session>.jsonl``, each
    level in name order; deeper files belong to a session (its subagents) and are read through
    it. A link to a transcript listed already is not a second session."""
    if root.is_file():
        return [(root.parent.name, root)]
    top, folders = _jsonl_entries(root, folders=True)
    found = [(root.name, root / e.name, e) for e in top]
    for folder in folders:
        found += [(folder.name, folder / e.name, e) for e in _jsonl_entries(folder, folders=False)[0]]
    seen: set[tuple[int, int]] = set()
    again: set[int] = set()  # positions of files listed already under another name
    devices: dict[Path, int | None] = {}
    for n, (_, path, entry) in enumerate(found):  # files first: a link to one of them is the one left out
        if not entry.is_symlink() and (key := _file_key(path.parent, entry, devices)) is not None:
            if key in seen:
                again.add(n)  # the same file through a linked project folder
            seen.add(key)
    for n, (_, path, entry) in enumerate(found):
        if entry.is_symlink():
            try:
                st = os.stat(path)
            except OSError:
                continue  # a dangling link: read as nothing, as before
            if (st.st_dev, st.st_ino) in seen:
                again.add(n)
            seen.add((st.st_dev, st.st_ino))
    return [(project, path) for n, (project, path, _) in enumerate(found) if n not in again]


def _jsonl_entries(folder: Path, *, folders: bool) -> tuple[list[os.DirEntry[str]], list[Path]]:
    """FOLDER's ``*.jsonl`` entries and (with ``folders``) its sub-folders, each in name
    order (none if it cannot be listed)."""
    files: list[os.DirEntry[str]] = []
    subs: list[Path] = []
    try:
        with os.scandir(folder) as it:
            for e in it:
                if e.name.endswith(".jsonl"):
                    files.append(e)
                elif folders:
                    with contextlib.suppress(OSError):
                        if e.is_dir():
                            subs.append(folder / e.name)
    except OSError:
        return [], []
    files.sort(key=lambda e: e.name)
    subs.sort(key=lambda p: p.name)
    return files, subs


def _file_key(folder: Path, entry: os.DirEntry[str], devices: dict[Path, int | None]) -> tuple[int, int] | None:
    """(device, inode) of a listed file, the device taken from its folder (one stat a folder)."""
    if folder not in devices:
        try:
            devices[folder] = os.stat(folder).st_dev
        except OSError:
            devices[folder] = None
    dev = devices[folder]
    if dev is None:
        return None
    try:
        return dev, entry.inode()
    except OSError:
        return None


PARALLEL_BYTES = 48 * 1024 * 1024
"""Below this much transcript text, reading in one process is quicker than starting more."""


def read_all(root: Path, *, project: str | None = None, since: datetime | None = None,
             stats: ReadStats | None = None, fast: bool = True, workers: int | None = None,
             cache: Path | None = None) -> tuple[list[Session], ReadStats]:
    """Every session under a folder, optionally one project's, optionally since a date.

    ``fast=False`` decodes every line with the standard library (the reference path).
    A large history is read by ``workers`` processes (default: one per usable core), see
    :func:`start_read`; the result is the same as reading the files in order here. With a
    ``cache`` folder, a transcript unchanged since the last read is not read again."""
    return start_read(root, project=project, since=since, fast=fast, workers=workers, cache=cache).result(stats)


_Result = tuple[Session, ReadStats]
"""One main transcript read: its session and what reading it (with its subagents) counted."""


class _Entry(msgspec.Struct, array_like=True):
    fingerprint: str
    session: Session
    stats: ReadStats


class _CacheData(msgspec.Struct):
    code: str
    entries: dict[str, _Entry]


def _path_hook(kind: type, value: Any) -> Any:
    if kind is Path and isinstance(value, str):
        return Path(value)
    raise NotImplementedError


def _str_hook(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    raise NotImplementedError


def _encodes(encode: Callable[[Any], bytes], value: Any) -> bool:
    try:
        encode(value)
    except (msgspec.MsgspecError, OverflowError, UnicodeEncodeError, TypeError):
        return False
    return True


class ReadStopped(Exception):
    """A read given ``should_stop`` was called off before its end (nothing is stored)."""


class PendingRead:
    """A read of every session under a folder, started in other processes by :func:`start_read`;
    :meth:`result` joins it and returns what :func:`read_all` returns."""

    def __init__(self, root: Path, jobs: list[tuple[str, Path]], project: str | None, since: datetime | None,
                 fast: bool, workers: int | None, cache: Path | None,
                 should_stop: Callable[[], bool] | None = None) -> None:
        self._root, self._jobs, self._project, self._since, self._fast = root, jobs, project, since, fast
        self._should_stop = should_stop
        self._done: dict[int, _Result] = {}
        self._fingerprints: dict[int, str] = {}
        self._cache: tuple[Path, str, _CacheData | None] | None = None
        self._runs: list[list[int]] = []
        self._readers: forked.ForkedTasks[list[_Result]] | None = None
        if cache is not None and fast:
            self._from_cache(cache, root)
        todo = [i for i in range(len(jobs)) if i not in self._done]
        sizes = []
        for i in todo:
            try:
                sizes.append(jobs[i][1].stat().st_size)
            except OSError:
                sizes.append(0)
        n = workers if workers is not None else forked.usable_cores()
        if should_stop is not None:  # a read that may be called off file by file runs here
            n = 1
        # fork is only safe with no other thread alive (the TUI reads on a worker thread: serial)
        if n < 2 or sum(sizes) < PARALLEL_BYTES or len(todo) < 2 or not forked.can_fork():
            self._runs = [todo]
            return
        # small runs (up to forked.MAX_TASKS) even out uneven files and a busy core: the
        # readers finish within one small run of each other
        self._runs = _runs(todo, sizes, forked.MAX_TASKS)
        self._readers = forked.ForkedTasks(len(self._runs), self._read_run, n - 1)

    def _from_cache(self, folder: Path, root: Path) -> None:
        """Take every job whose stored fingerprint is still its fingerprint from the cache."""
        from ctxtui.analytics import transcript_cache

        file = transcript_cache.cache_file(folder, root)
        # the decoders' versions too: an edge case msgspec or json reads differently tomorrow
        code = transcript_cache.code_key(__file__, MAX_LINE_BYTES, MAX_TEXT_DEPTH, sorted(SUBAGENT_TOOLS),
                                         msgspec.__version__, sys.version_info[:3])
        stored = transcript_cache.load(file, msgspec.msgpack.Decoder(_CacheData, dec_hook=_path_hook))
        if stored is not None and stored.code != code:
            stored = None
        self._cache = (file, code, stored)
        entries = stored.entries if stored is not None else {}
        for i, (proj, path) in enumerate(self._jobs):
            mark = transcript_cache.fingerprint(path, proj)
            if mark is None:
                continue
            self._fingerprints[i] = mark
            entry = entries.get(self._key(path))
            if entry is not None and entry.fingerprint == mark:
                entry.session.path = path  # as this read names it (the folder may be spelt another way)
                self._done[i] = (entry.session, entry.stats)

    def _key(self, path: Path) -> str:
        """A transcript's name in the cache file: its path below the folder read, so that two
        spellings of one folder (a link and its target) share their entries."""
        return str(path.relative_to(self._root))

    def _read_job(self, index: int) -> _Result:
        if self._should_stop is not None and self._should_stop():
            raise ReadStopped
        proj, path = self._jobs[index]
        stats = ReadStats()
        return read_session(path, stats, proj, fast=self._fast), stats

    def _read_run(self, index: int) -> list[_Result]:
        return [self._read_job(i) for i in self._runs[index]]

    def result(self, stats: ReadStats | None = None) -> tuple[list[Session], ReadStats]:
        """Read this process's share, collect the children's, and filter, in file order."""
        stats = stats or ReadStats()
        runs = self._readers.join() if self._readers is not None else {0: self._read_run(0)}
        self._readers = None
        read: dict[int, _Result] = {}
        for run_index, results in runs.items():
            read.update(zip(self._runs[run_index], results, strict=True))
        self._store(read)
        sessions = []
        for i in range(len(self._jobs)):
            session, part = self._done.get(i) or read[i]
            _add_stats(stats, part)
            if self._keep(session):
                sessions.append(session)
        return sessions, stats

    def cancel(self) -> None:
        """Stop the forked readers (the caller gave up before :meth:`result`)."""
        if self._readers is not None:
            self._readers.cancel()
            self._readers = None

    def _store(self, read: dict[int, _Result]) -> None:
        """Write the cache when something was read (entries of files no longer there go)."""
        if self._cache is None or not read:
            return
        from ctxtui.analytics import transcript_cache

        file, code, stored = self._cache
        keep = {self._key(path) for _, path in self._jobs}
        entries = {k: v for k, v in stored.entries.items() if k not in keep} if stored is not None and self._project else {}
        for i, (_, path) in enumerate(self._jobs):
            mark = self._fingerprints.get(i)
            if mark is not None:
                session, part = self._done.get(i) or read[i]
                entries[self._key(path)] = _Entry(mark, session, part)
        encode = msgspec.msgpack.Encoder(enc_hook=_str_hook).encode
        try:
            data = encode(_CacheData(code, entries))
        except (msgspec.MsgspecError, OverflowError, UnicodeEncodeError, TypeError):
            # a session msgpack cannot hold (a lone surrogate from the reference decoder, an
            # integer past 64 bits) is left out: it is read again each time
            entries = {k: v for k, v in entries.items() if _encodes(encode, (k, v))}
            if not _encodes(encode, _CacheData(code, entries)):
                return
            data = encode(_CacheData(code, entries))
        transcript_cache.save(file, data)

    def _keep(self, s: Session) -> bool:
        project, since = self._project, self._since
        if project and s.cwd and project not in s.cwd and project not in s.project:
            return False
        if since is not None and s.end and parse_time(s.end) < since:
            return False
        return bool(s.prompts or s.invocations or s.usage.total)


def start_read(root: Path, *, project: str | None = None, since: datetime | None = None,
               fast: bool = True, workers: int | None = None, cache: Path | None = None,
               should_stop: Callable[[], bool] | None = None) -> PendingRead:
    """Start reading every session under a folder (see :func:`read_all`): a large history is
    read by forked processes that begin now, so the caller can load what else it needs
    meanwhile; :meth:`PendingRead.result` joins them (the caller reads a share too). With
    ``should_stop``, the read is done by the caller, file by file, and :meth:`~PendingRead.result`
    raises :class:`ReadStopped` as soon as ``should_stop()`` is true."""
    jobs = [(proj, path) for proj, path in transcript_files(root)
            if not project or project in proj or project in str(path.parent)]
    return PendingRead(root, jobs, project, since, fast, workers, cache, should_stop)


def _add_stats(total: ReadStats, part: ReadStats) -> None:
    for name, value in vars(part).items():
        setattr(total, name, getattr(total, name) + value)


def _runs(jobs: list[_J], sizes: list[int], count: int) -> list[list[_J]]:
    """At most ``count`` consecutive runs of jobs of about equal total size, in order."""
    share = max(1, -(-sum(sizes) // count))  # rounded up: every run but the last reaches it
    runs: list[list[_J]] = [[]]
    total = 0
    for job, size in zip(jobs, sizes, strict=True):
        if total >= share and runs[-1]:
            runs.append([])
            total = 0
        runs[-1].append(job)
        total += size
    return runs


def parse_time(ts: str) -> datetime:
    """An ISO timestamp as an aware datetime (naive ones are taken as UTC)."""
    from datetime import timezone

    try:
        dt = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    except ValueError:
        return datetime.min.replace(tzinfo=timezone.utc)
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)
