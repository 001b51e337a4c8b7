"""Rank personas for a query with BM25 over name, description and body (name weighted most)."""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

from ctxtui.core.persona import Persona

_WORD = re.compile(r"[a-z0-9]+")
_STOP = {"a", "an", "the", "and", "or", "of", "to", "for", "in", "on", "with", "use", "this", "agent", "when", "is", "be", "you", "your", "it"}


def terms(text: str) -> list[str]:
    """Lower-case word terms without stop words; hyphenated names split into parts too."""
    return [w for w in _WORD.findall(text.lower()) if w not in _STOP]


@dataclass
class Hit:
    """One ranked persona."""

    persona: Persona
    score: float


def rank(personas: list[Persona], query: str, bodies: dict[str, str] | None = None,
         k1: float = 1.2, b: float = 0.75, limit: int = 10) -> list[Hit]:
    """BM25 ranking; the name counts three times, the description twice, the body once."""
    docs = []
    for p in personas:
        body = (bodies or {}).get(p.name, "")
        docs.append(Counter(terms(p.name) * 3 + terms(p.description) * 2 + terms(body)))
    if not docs:
        return []
    avg = sum(sum(d.values()) for d in docs) / len(docs) or 1.0
    df: Counter[str] = Counter()
    for d in docs:
        df.update(d.keys())
    n = len(docs)
    q = terms(query)
    hits = []
    for p, d in zip(personas, docs, strict=True):
        length = sum(d.values())
        score = 0.0
        for t in q:
            if t in d:
                idf = math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5))
                tf = d[t]
                score += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * length / avg))
        if score > 0:
            hits.append(Hit(p, score))
    hits.sort(key=lambda h: (-h.score, h.persona.name))
    return hits[:limit]
