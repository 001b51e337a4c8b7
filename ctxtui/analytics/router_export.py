"""Training export, router first: prompts and the persona each led to, nothing Claude wrote.

The default format (``router``) is what a persona router learns from: one JSON line per
main-thread prompt with the persona it led to (``null`` when none), the project and the
time, redacted with ``training.redact``. Formats that carry Claude's responses
(``openai-chat``, ``anthropic``, ``jsonl``) stay available through ``training.export``;
choosing one prints :data:`TERMS_NOTICE` once.

Also here, because it belongs to the same question (may a model trained on usage be used?):
:func:`validation_problem`, the check a fine-tuned model's registry record must pass before
the ``fine_tuned`` strategy uses it. It is pure and imports nothing from ctxtui, so it can
move into ``core`` as it is.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ctxtui.analytics import router, training
from ctxtui.analytics.router_model import NONE
from ctxtui.analytics.transcripts import Session
from ctxtui.core.workspace import Workspace

FORMAT = "router"
MAX_PROMPT_CHARS = 8000
"""Longer prompts are cut (and marked): pasted logs add size, not intent."""
TERMS_NOTICE = (
    "note: this format includes Claude's responses; Anthropic's terms restrict using Claude's "
    "outputs to develop models that compete with Anthropic's, so check the terms that apply to "
    "you before training on it (the default `router` format holds only prompts and persona choices)"
)


def notice(fmt: str) -> str | None:
    """The one line to print for an export format, or None (the router format needs none)."""
    return TERMS_NOTICE if fmt in training.FORMATS else None


def export_any(ws: Workspace, sessions: list[Session], out: Path, fmt: str = training.DEFAULT_FORMAT,
               validation_pct: int = 10) -> tuple[RouterExportSummary | training.ExportSummary, str | None]:
    """``export-training`` in one call: the summary, and the notice line to print (or None)."""
    if fmt == FORMAT:
        return export(sessions, out, validation_pct), None
    if fmt not in training.FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(training.EXPORT_FORMATS)}")
    return training.export(ws, sessions, out, fmt, validation_pct), notice(fmt)


@dataclass(frozen=True)
class RouterRecord:
    """One prompt and the persona it led to."""

    prompt: str
    persona: str | None
    project: str
    time: str
    session: str
    truncated: bool = False

    def to_json(self) -> dict[str, Any]:
        """The exported line's fields."""
        out: dict[str, Any] = {"prompt": self.prompt, "persona": self.persona, "project": self.project,
                               "time": self.time}
        if self.truncated:
            out["truncated"] = True
        return out


@dataclass
class RouterExportSummary:
    """Counts written."""

    train: int = 0
    validation: int = 0
    needed: int = 0
    """Prompts that led to a persona."""
    per_persona: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0
    files: list[str] = field(default_factory=list)


def records(sessions: Iterable[Session]) -> list[RouterRecord]:
    """Redacted router records, one per main-thread prompt (exact repeats within a session
    dropped). Built-in agents (Explore, Plan...) count as no persona, as for the router."""
    out: list[RouterRecord] = []
    seen: set[tuple[str, str, str]] = set()
    for e in router.examples(sessions):
        key = (e.session, e.text, e.persona)
        if key in seen:
            continue
        seen.add(key)
        text = e.text[:MAX_PROMPT_CHARS]
        out.append(RouterRecord(
            prompt=training.redact(text), persona=e.persona if e.persona != NONE else None,
            project=training.redact(e.project), time=e.time, session=e.session,
            truncated=len(e.text) > MAX_PROMPT_CHARS,
        ))
    return out


def in_validation(session: str, validation_pct: int) -> bool:
    """Stable split by session: all prompts of a session land on the same side."""
    return int(hashlib.sha256(session.encode()).hexdigest()[:8], 16) % 100 < validation_pct


def export(sessions: Iterable[Session], out: Path, validation_pct: int = 10) -> RouterExportSummary:
    """Write ``<out>`` (train) and ``<out stem>.val<suffix>`` (validation) as JSONL, in time order."""
    if not 0 <= validation_pct <= 100:
        raise ValueError("the validation share must be between 0 and 100 percent")
    summary = RouterExportSummary()
    all_sessions = list(sessions)
    recs = records(all_sessions)
    summary.duplicates = sum(len(s.prompts) for s in all_sessions) - len(recs)
    train: list[str] = []
    val: list[str] = []
    for r in sorted(recs, key=lambda r: (r.time, r.session)):
        (val if in_validation(r.session, validation_pct) else train).append(
            json.dumps(r.to_json(), ensure_ascii=False))
        if r.persona:
            summary.needed += 1
            summary.per_persona[r.persona] = summary.per_persona.get(r.persona, 0) + 1
    summary.train, summary.validation = len(train), len(val)
    summary.files = training.write_split(out, train, val)
    return summary


# What a fine-tuned model must prove lives with the registry (core may not import analytics).
from ctxtui.core.registry import BASELINE, MIN_HELDOUT_PROMPTS, validation_problem  # noqa: E402,F401
