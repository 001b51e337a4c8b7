"""Usage analysis: per-persona counts, co-usage with lift, trigger words, unused personas.

Trigger words are ranked by the log-odds ratio with an informative Dirichlet prior
(Monroe, Colaresi & Quinn, 2008): how much more often a term appears in the prompts that
came before a persona's invocations than in all other prompts, as a z-score that discounts
rare terms. Pairs are ranked by lift: P(A and B in a session) / (P(A) P(B)).
"""

from __future__ import annotations

import heapq
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from itertools import chain, combinations

from ctxtui.analytics.transcripts import ReadStats, Session

_WORD = re.compile(r"[a-z][a-z0-9_+#.-]{1,30}")
STOP = set(
    ["the", "a", "an", "and", "or", "of", "to", "for", "in", "on", "with", "at", "by", "from", "is", "are", "be", "it", "this", "that", "these", "those", "i", "you", "we", "me", "my", "our", "your", "can", "could", "would", "should", "will", "do", "does", "did", "have", "has", "had", "not", "no", "yes", "please", "use", "using", "want", "need", "make", "get", "so", "if", "then", "than", "just", "also", "what", "how", "why", "when", "where", "which", "who", "there", "here", "about", "into", "out", "up", "down", "as", "let", "lets", "it's", "i'm", "don't", "is", "it", "all", "any", "some", "more", "most", "very"]
)


def terms(text: str) -> list[str]:
    """Unigrams and bigrams of a prompt, lower-cased, without stop words."""
    words = [w.strip(".-") for w in _WORD.findall(text.lower())]
    words = [w for w in words if w and w not in STOP]
    return words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]


@dataclass
class PersonaUsage:
    """How one persona was used."""

    name: str
    invocations: int = 0
    sessions: int = 0
    projects: int = 0
    last_used: str = ""
    tokens: int = 0
    in_library: bool = True

    def to_json(self) -> dict:
        """JSON form (``analyze --json``)."""
        return dict(vars(self))


def persona_source(usage: PersonaUsage, builtins: frozenset[str]) -> str:
    """Where an invoked persona comes from: the library, Claude Code itself (``builtins``, see
    :func:`ctxtui.core.claude_code.profiles.builtin_agent_names`), or neither."""
    if usage.in_library:
        return "library"
    return "built-in" if usage.name in builtins else "not in library"


@dataclass
class Pair:
    """Two personas used in the same sessions."""

    a: str
    b: str
    sessions: int
    lift: float


@dataclass
class Trigger:
    """A term that predicts a persona."""

    term: str
    z: float
    count: int


@dataclass
class Analysis:
    """Everything ``ctxtui analyze`` reports."""

    sessions: int
    invocations: int
    personas: list[PersonaUsage]
    pairs: list[Pair]
    triggers: dict[str, list[Trigger]]
    never_used: list[str]
    hot_rarely_used: list[str]
    stats: ReadStats = field(default_factory=ReadStats)

    def rate(self, name: str) -> float:
        """Expected invocations of a persona per session."""
        p = next((p for p in self.personas if p.name == name), None)
        return (p.invocations / self.sessions) if p and self.sessions else 0.0

    def to_json(self) -> dict:
        """The JSON shape documented in README."""
        return {
            "sessions": self.sessions,
            "invocations": self.invocations,
            "personas": [p.to_json() for p in self.personas],
            "pairs": [vars(p) for p in self.pairs],
            "triggers": {k: [vars(t) for t in v] for k, v in self.triggers.items()},
            "never_used": self.never_used,
            "hot_rarely_used": self.hot_rarely_used,
            "read": vars(self.stats),
        }


def analyze(sessions: list[Session], library: set[str] | None = None, hot: set[str] | None = None,
            stats: ReadStats | None = None, rare: int = 1) -> Analysis:
    """Analyse sessions against a library and a hot set."""
    library = library or set()
    hot = hot or set()
    usage: dict[str, PersonaUsage] = {}
    per_session: list[set[str]] = []
    projects: dict[str, set[str]] = {}
    for s in sessions:
        used: set[str] = set()
        for inv in s.invocations:
            u = usage.setdefault(inv.persona, PersonaUsage(inv.persona, in_library=inv.persona in library))
            u.invocations += 1
            u.tokens += inv.tokens
            u.last_used = max(u.last_used, inv.time)
            used.add(inv.persona)
            projects.setdefault(inv.persona, set()).add(s.project)
        for name in used:
            usage[name].sessions += 1
        per_session.append(used)
    for name, projs in projects.items():
        usage[name].projects = len(projs)
    personas = sorted(usage.values(), key=lambda u: (-u.invocations, u.name))
    n = len(sessions)
    pairs = []
    if n:
        together: Counter[tuple[str, str]] = Counter()
        for used in per_session:
            together.update(combinations(sorted(used), 2))
        for (a, b), both in together.items():
            lift = (both / n) / ((usage[a].sessions / n) * (usage[b].sessions / n))
            pairs.append(Pair(a, b, both, round(lift, 3)))
        pairs.sort(key=lambda p: (-p.lift, -p.sessions, p.a, p.b))
    return Analysis(
        sessions=n,
        invocations=sum(u.invocations for u in personas),
        personas=personas,
        pairs=pairs,
        triggers=trigger_terms(sessions),
        never_used=sorted(library - set(usage)),
        hot_rarely_used=sorted(h for h in hot if usage.get(h, PersonaUsage(h)).invocations <= rare),
        stats=stats or ReadStats(),
    )


def trigger_terms(sessions: list[Session], top: int = 8, prior: float = 100.0) -> dict[str, list[Trigger]]:
    """Per persona, the terms of its trigger prompts ranked by log-odds z-score."""
    seen: dict[str, list[str]] = {}  # each distinct text split once (a trigger is also a prompt)
    for s in sessions:
        for _, text in s.prompts:
            if text not in seen:
                seen[text] = terms(text)
    background = Counter(chain.from_iterable(seen[text] for s in sessions for _, text in s.prompts))
    triggered: dict[str, list[list[str]]] = {}  # per persona, the split texts of its triggers
    for s in sessions:
        for inv in s.invocations:
            if inv.trigger:
                split = seen.get(inv.trigger)
                if split is None:
                    split = seen[inv.trigger] = terms(inv.trigger)
                triggered.setdefault(inv.persona, []).append(split)
    by_persona = {persona: Counter(chain.from_iterable(splits)) for persona, splits in triggered.items()}
    total_bg = sum(background.values())
    denominator = total_bg + len(background) + 1
    bg_count = background.get
    log, sqrt = math.log, math.sqrt
    out: dict[str, list[Trigger]] = {}
    for persona, counts in by_persona.items():
        n_i = sum(counts.values())
        # z depends on a term only through (its count here, its background count): thousands
        # of terms share a few hundred pairs, so each pair is scored once
        groups: dict[tuple[int, int], list[str]] = {}
        shared = 0
        for term, y_i in counts.items():
            bg = bg_count(term, 0)
            shared += y_i if y_i < bg else bg
            if (group := groups.get((y_i, bg))) is None:
                groups[y_i, bg] = [term]
            else:
                group.append(term)
        # "rest" is the background without this persona's counts, floored at zero as
        # Counter subtraction does; only the persona's own terms change, so only they are
        # visited (subtracting a whole Counter per persona is quadratic in practice).
        n_j = total_bg - shared
        scored = []
        for (y_i, bg), group in groups.items():
            a_w = prior * (bg + 1) / denominator
            y_j = bg - y_i if bg > y_i else 0
            d = log((y_i + a_w) / (n_i + prior - y_i - a_w)) - log((y_j + a_w) / (n_j + prior - y_j - a_w))
            z = d / sqrt(1 / (y_i + a_w) + 1 / (y_j + a_w))
            scored.append((-round(z, 3), y_i, group))
        scored.sort(key=lambda row: row[0])
        # the best `top` by (rounded z, term) lie among the groups up to the one that fills
        # `top`, with every group that ties its rounded z
        ranked: list[tuple[float, str, int]] = []
        for neg_z, y_i, group in scored:
            if len(ranked) >= top and neg_z != ranked[-1][0]:
                break
            ranked += [(neg_z, term, y_i) for term in group]
        out[persona] = [Trigger(term, -neg_z, y_i) for neg_z, term, y_i in heapq.nsmallest(top, ranked)]
    return out
