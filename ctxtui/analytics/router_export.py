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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ctxtui.analytics import router, training
from ctxtui.analytics.router_model import NONE
from ctxtui.analytics.transcripts import Session
from ctxtui.core.journal import atomic_write
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
    val_path = out.with_name(f"{out.stem}.val{out.suffix or '.jsonl'}")
    atomic_write(out, ("\n".join(train) + ("\n" if train else "")).encode())
    atomic_write(val_path, ("\n".join(val) + ("\n" if val else "")).encode())
    summary.train, summary.validation = len(train), len(val)
    summary.files = [str(out), str(val_path)]
    return summary


# --- what a fine-tuned model must prove before the fine_tuned strategy uses it ---------------

MIN_HELDOUT_PROMPTS = 50
"""Fewer held-out prompts than this prove nothing either way."""
BASELINE = "lazy_loading"


def validation_problem(record: Mapping[str, Any] | None) -> str | None:
    """Why a registered fine-tuned model may not be used, or None when its validation record
    shows it was compared with the lazy baseline on held-out prompts and did no worse.

    The record is the ``validation`` object of the model's registry entry::

        {"baseline": "lazy_loading", "heldout_prompts": 200,
         "model_score": 0.83, "baseline_score": 0.80, "metric": "task success",
         "date": "2026-11-20"}

    Both scores are the same metric on the same held-out prompts (prompts the model was not
    trained on), higher is better. Pure: no ctxtui imports, so ``core`` can call it.
    """
    if record is None:
        return "it has no validation record (compare it with the lazy baseline on held-out prompts first)"
    if not isinstance(record, Mapping):
        return "its validation record is not an object"
    if record.get("baseline") != BASELINE:
        return f"its validation record does not compare it with the {BASELINE} baseline"
    n = record.get("heldout_prompts")
    if not isinstance(n, int) or isinstance(n, bool) or n < MIN_HELDOUT_PROMPTS:
        return f"its validation used fewer than {MIN_HELDOUT_PROMPTS} held-out prompts"
    scores = [s for s in (record.get("model_score"), record.get("baseline_score"))
              if isinstance(s, (int, float)) and not isinstance(s, bool) and 0 <= s <= 1]
    if len(scores) != 2:
        return "its validation record lacks model_score and baseline_score between 0 and 1"
    if scores[0] < scores[1]:
        return (f"it scored {scores[0]:.2f} against the lazy baseline's {scores[1]:.2f} on held-out "
                "prompts")
    return None
