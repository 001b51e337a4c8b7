"""A session's first request to the Messages API, as its transcript recorded it.

Newer Claude Code releases (2.1.332) write the request into the session transcript: an
``api-request-shape`` record (``system`` blocks and ``tools``, keyed by ``shapeHash``),
``api-request-blob`` records (one message each, keyed by ``hash``) and an ``api-request``
record naming its shape and its messages (``tail``). From these the startup context is measured
rather than estimated. 2.1.112 records none of this (None is returned).

The transcript is written by Claude Code but lives in a folder others can write to: reads are
bounded and every record is checked before use.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ctxtui.core import tokens
from ctxtui.core.safe_io import UnsafeReadError, read_head_lines

HEAD_BYTES = 16 * 1024 * 1024
"""The first request comes within a session's first records: only this much of a transcript is
read (whole lines), however long the session has grown."""
MAX_RECORDS = 20_000
"""... and within this many of them."""


@dataclass
class RecordedRequest:
    """The first request: its system blocks, tools and messages, and the typed prompt."""

    version: str
    system: list[str]
    tools: list[dict[str, Any]]
    messages: list[dict[str, Any]]
    prompt: str = ""
    entrypoint: str = ""
    """``interactive`` or ``print`` (``-p``), from the session's records (``cli`` /
    ``sdk-*``); empty when they do not say."""

    def system_tokens(self) -> int:
        """cl100k tokens of the system blocks (the billing header is added when sent)."""
        return sum(tokens.count_many(self.system))

    def tool_tokens(self) -> dict[str, int]:
        """Each tool as compact JSON, cl100k."""
        texts = [json.dumps(t, separators=(",", ":"), ensure_ascii=False) for t in self.tools]
        return {str(t.get("name")): n for t, n in zip(self.tools, tokens.count_many(texts),
                                                      strict=True)}

    def message_texts(self) -> list[str]:
        """Every text part of every message, the typed prompt left out."""
        out = []
        for msg in self.messages:
            content = msg.get("content")
            parts = [content] if isinstance(content, str) else [
                p.get("text", "") for p in (content if isinstance(content, list) else [])
                if isinstance(p, dict) and p.get("type") == "text" and isinstance(p.get("text"), str)]
            out += [t for t in parts if t.strip() != self.prompt.strip()]
        return out

    def total(self) -> int:
        """The whole startup context as recorded: system + tools + messages (prompt excluded)."""
        return (self.system_tokens() + sum(self.tool_tokens().values())
                + sum(tokens.count_many(self.message_texts())))


def _text_of(block: Any) -> str | None:
    if isinstance(block, dict) and isinstance(block.get("text"), str):
        return block["text"]
    return block if isinstance(block, str) else None


def _entrypoint(value: Any) -> str:
    """A record's ``entrypoint`` as an account's: ``cli`` is interactive, the SDK's (``sdk-cli``
    for ``-p``, ``sdk-ts``, ...) print; anything else is not known."""
    if not isinstance(value, str):
        return ""
    return "interactive" if value == "cli" else "print" if value.startswith("sdk") else ""


def first_request(transcript: Path) -> RecordedRequest | None:
    """The first recorded request of TRANSCRIPT, or None when it records none."""
    try:
        data = read_head_lines(transcript, HEAD_BYTES)
    except (OSError, UnsafeReadError):
        return None
    shapes: dict[str, dict] = {}
    blobs: dict[str, dict] = {}
    prompt = entrypoint = ""
    for n, line in enumerate(data.splitlines()):
        if n >= MAX_RECORDS:
            break
        if b'"api-request' not in line and not (not prompt and b'"user"' in line):
            continue
        try:
            rec = json.loads(line)
        except (ValueError, RecursionError):
            continue
        if not isinstance(rec, dict):
            continue
        kind = rec.get("type")
        if kind == "user" and not prompt:
            msg = rec.get("message")
            content = msg.get("content") if isinstance(msg, dict) else None
            prompt = content if isinstance(content, str) else ""
            entrypoint = _entrypoint(rec.get("entrypoint"))
        elif kind == "api-request-shape" and isinstance(rec.get("shape"), dict):
            shapes[str(rec.get("shapeHash"))] = rec["shape"]
        elif kind == "api-request-blob" and isinstance(rec.get("message"), dict):
            blobs[str(rec.get("hash"))] = rec["message"]
        elif kind == "api-request":
            shape = shapes.get(str(rec.get("shapeHash")))
            tail = rec.get("tail")
            if shape is None or not isinstance(tail, list) or not all(
                    str(h) in blobs for h in tail):
                continue
            system_raw, tools_raw = shape.get("system") or [], shape.get("tools") or []
            if not isinstance(system_raw, list) or not isinstance(tools_raw, list):
                continue  # not the shape Claude Code writes: a record we cannot trust
            system = [t for t in map(_text_of, system_raw) if t is not None]
            tools = [t for t in tools_raw if isinstance(t, dict)]
            return RecordedRequest(str(rec.get("version", "")), system, tools,
                                   [blobs[str(h)] for h in tail], prompt, entrypoint)
    return None
