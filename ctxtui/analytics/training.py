"""Training data for the fine-tuning track, from real usage.

Each example: the persona's instructions (its body), the request it was given (the
subagent prompt, with the user's triggering prompt kept as metadata) and its actual
response from the transcript. Duplicates are dropped, secrets and e-mail addresses are
redacted in every text field (:mod:`ctxtui.analytics.redaction`, rules as data), and
examples are split into train and validation by a stable hash.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from ctxtui.analytics.redaction import redact
from ctxtui.analytics.transcripts import Session
from ctxtui.core.errors import CtxtuiError
from ctxtui.core.journal import atomic_write
from ctxtui.core.library import read_body
from ctxtui.core.workspace import Workspace

FORMATS = ("openai-chat", "anthropic", "jsonl")
__all__ = ["DEFAULT_FORMAT", "EXPORT_FORMATS", "FORMATS", "Example", "ExportSummary", "examples", "export", "redact"]
"""Formats written here; they include Claude's responses (``router_export.TERMS_NOTICE``)."""
EXPORT_FORMATS = ("router", *FORMATS)
"""What ``export-training --format`` offers; ``router`` is written by ``router_export``."""
DEFAULT_FORMAT = "router"


@dataclass
class Example:
    """One fine-tuning example."""

    persona: str
    instructions: str
    request: str
    trigger: str
    response: str
    session: str

    @property
    def key(self) -> str:
        """Identity for de-duplication and the train/validation split."""
        return hashlib.sha256(f"{self.persona}\0{self.request}\0{self.response}".encode()).hexdigest()

    def render(self, fmt: str) -> dict:
        """The example in one output format."""
        if fmt == "openai-chat":
            return {"messages": [
                {"role": "system", "content": self.instructions},
                {"role": "user", "content": self.request},
                {"role": "assistant", "content": self.response},
            ], "metadata": {"persona": self.persona}}
        if fmt == "anthropic":
            return {"system": self.instructions, "messages": [
                {"role": "user", "content": self.request},
                {"role": "assistant", "content": self.response},
            ], "metadata": {"persona": self.persona}}
        return {"persona": self.persona, "instructions": self.instructions, "request": self.request,
                "trigger": self.trigger, "response": self.response, "session": self.session}


@dataclass
class ExportSummary:
    """Counts written and skipped."""

    train: int = 0
    validation: int = 0
    per_persona: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)

    def skip(self, why: str) -> None:
        """Count a skipped invocation."""
        self.skipped[why] = self.skipped.get(why, 0) + 1


def examples(ws: Workspace, sessions: list[Session], summary: ExportSummary) -> list[Example]:
    """Deduplicated, redacted examples for library personas with a recorded response."""
    bodies: dict[str, str] = {}
    out: dict[str, Example] = {}
    for s in sessions:
        for inv in s.invocations:
            persona = ws.library.get(inv.persona)
            if persona is None or not persona.usable:
                summary.skip("persona not in the library (built-in or removed)")
                continue
            if not inv.response.strip() or not inv.prompt.strip():
                summary.skip("no request or no response in the transcript")
                continue
            if inv.persona not in bodies:
                bodies[inv.persona] = read_body(persona).strip()
            ex = Example(inv.persona, redact(bodies[inv.persona] or persona.description), redact(inv.prompt),
                         redact(inv.trigger), redact(inv.response), s.id)
            if ex.key in out:
                summary.skip("duplicate")
                continue
            out[ex.key] = ex
    return list(out.values())


def export(ws: Workspace, sessions: list[Session], out: Path, fmt: str = "openai-chat",
           validation_pct: int = 10) -> ExportSummary:
    """Write ``<out>`` (train) and ``<out stem>.val<suffix>`` (validation) as JSONL."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
    if not out.absolute().parent.is_dir():  # never create folders wherever a typo points
        raise CtxtuiError(f"--out {out}: folder {out.absolute().parent} does not exist; create it first")
    if out.is_dir():
        raise CtxtuiError(f"--out {out} is a folder; name a file")
    summary = ExportSummary()
    train: list[str] = []
    val: list[str] = []
    for ex in sorted(examples(ws, sessions, summary), key=lambda e: e.key):
        bucket = val if int(ex.key[:8], 16) % 100 < validation_pct else train
        bucket.append(json.dumps(ex.render(fmt), ensure_ascii=False))
        summary.per_persona[ex.persona] = summary.per_persona.get(ex.persona, 0) + 1
    summary.train, summary.validation = len(train), len(val)
    summary.files = write_split(out, train, val)
    return summary


def write_split(out: Path, train: list[str], val: list[str]) -> list[str]:
    """Write the training lines to OUT and the validation lines beside it (``NAME.val.jsonl``),
    each atomically; returns both paths."""
    val_path = out.with_name(f"{out.stem}.val{out.suffix or '.jsonl'}")
    atomic_write(out, ("\n".join(train) + ("\n" if train else "")).encode())
    atomic_write(val_path, ("\n".join(val) + ("\n" if val else "")).encode())
    return [str(out), str(val_path)]
