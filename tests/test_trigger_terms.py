"""Trigger terms: the log-odds ranking, held against its definition with Counter subtraction."""

from __future__ import annotations

import math
from collections import Counter

from conftest import TRANSCRIPTS
from ctxtui.analytics.transcripts import Invocation, Session, read_all
from ctxtui.analytics.usage import terms, trigger_terms


def by_definition(sessions: list[Session], top: int = 8, prior: float = 100.0) -> dict[str, list[tuple[str, float, int]]]:
    """Monroe et al.'s z-score, computed the direct way: rest = background - persona counts."""
    background: Counter[str] = Counter()
    for s in sessions:
        for _, text in s.prompts:
            background.update(terms(text))
    by_persona: dict[str, Counter[str]] = {}
    for s in sessions:
        for inv in s.invocations:
            if inv.trigger:
                by_persona.setdefault(inv.persona, Counter()).update(terms(inv.trigger))
    total = sum(background.values())
    out = {}
    for persona, counts in by_persona.items():
        rest = background - counts
        n_i, n_j = sum(counts.values()), sum(rest.values())
        ranked = []
        for term, y_i in counts.items():
            a_w = prior * (background[term] + 1) / (total + len(background) + 1)
            y_j = rest[term]
            d = math.log((y_i + a_w) / (n_i + prior - y_i - a_w)) - math.log((y_j + a_w) / (n_j + prior - y_j - a_w))
            ranked.append((term, round(d / math.sqrt(1 / (y_i + a_w) + 1 / (y_j + a_w)), 3), y_i))
        ranked.sort(key=lambda t: (-t[1], t[0]))
        out[persona] = ranked[:top]
    return out


def session(n: int, prompts: list[str], calls: list[tuple[int, str]]) -> Session:
    s = Session(id=str(n), project="p", path=None)  # type: ignore[arg-type]
    s.prompts = [("", p) for p in prompts]
    s.invocations = [Invocation(f"t{n}{i}", persona, "", "", "", trigger=prompts[at]) for i, (at, persona) in enumerate(calls)]
    return s


def test_trigger_terms_follow_the_definition_including_repeated_triggers():
    sessions = [
        session(1, ["fix the flaky pytest fixture", "review this pull request diff"], [(0, "test-automator"), (1, "code-reviewer")]),
        # one prompt triggering two calls counts its terms twice for that persona: more than the
        # background holds, which the definition floors at zero
        session(2, ["profile the slow query", "thanks"], [(0, "performance-engineer"), (0, "performance-engineer")]),
        session(3, ["review the slow query index", "flaky pytest again"], [(0, "database-architect"), (1, "test-automator")]),
    ]
    got = {k: [(t.term, t.z, t.count) for t in v] for k, v in trigger_terms(sessions).items()}
    assert got == by_definition(sessions)
    assert got["test-automator"][0][0] in {"flaky", "pytest", "flaky pytest"}


def test_trigger_terms_follow_the_definition_on_the_real_transcripts():
    sessions, _ = read_all(TRANSCRIPTS) if TRANSCRIPTS.is_dir() else ([], None)
    got = {k: [(t.term, t.z, t.count) for t in v] for k, v in trigger_terms(sessions, top=50).items()}
    assert got == by_definition(sessions, top=50)
