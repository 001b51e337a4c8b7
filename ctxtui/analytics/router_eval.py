"""Held-out evaluation of the router against BM25 over persona descriptions.

Sessions are split by time: the router (and BM25's threshold) learn from the earlier ones
and are scored on the latest, held out whole. Both abstain below a threshold chosen on the
training sessions only, by the same rule (``router.choose_threshold``).

Figures, over held-out prompts:
- precision: of the prompts where it named a persona, the share where that persona was used;
- fire rate (needed): share of prompts that led to a persona on which it named one;
- recall: share of prompts that led to a persona on which it named the right one;
- false fires: share of prompts that led to no persona on which it named one;
- abstention: share of all prompts on which it stayed silent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path

from ctxtui.analytics import router
from ctxtui.analytics.router import Bar, Example, Prediction, RouterParams
from ctxtui.analytics.router_model import NONE
from ctxtui.core.persona import Persona
from ctxtui.core.search import rank


@dataclass
class Scores:
    """One method's figures on held-out prompts."""

    method: str
    prompts: int
    needed: int
    fires: int
    correct: int
    fires_on_needed: int
    false_fires: int
    threshold: float
    weak_threshold: float = router.NEVER
    """The bar for guesses with fewer evidence words (the router's; ``never`` for BM25)."""
    evidence_min: int = 0
    """Evidence words a guess needs to be held to ``threshold`` rather than ``weak_threshold``."""

    @property
    def precision(self) -> float:
        """Right when it names a persona."""
        return self.correct / self.fires if self.fires else 0.0

    @property
    def fire_rate_needed(self) -> float:
        """Fires on prompts that needed a persona."""
        return self.fires_on_needed / self.needed if self.needed else 0.0

    @property
    def recall(self) -> float:
        """Names the right persona on prompts that needed one."""
        return self.correct / self.needed if self.needed else 0.0

    @property
    def false_fire_rate(self) -> float:
        """Fires on prompts that needed none."""
        none = self.prompts - self.needed
        return self.false_fires / none if none else 0.0

    @property
    def abstention(self) -> float:
        """Silent on this share of all prompts."""
        return 1 - self.fires / self.prompts if self.prompts else 0.0

    def to_json(self) -> dict:
        """Counts and rates."""
        d = dict(vars(self))
        for k in ("precision", "fire_rate_needed", "recall", "false_fire_rate", "abstention"):
            d[k] = round(getattr(self, k), 4)
        return d


def score(method: str, preds: list[Prediction], threshold: float | Bar) -> Scores:
    """Figures for predictions at a threshold (or a threshold per evidence band)."""
    rule = threshold if isinstance(threshold, Bar) else Bar(threshold)
    fired = [p for p in preds if rule.fires(p)]
    return Scores(
        method=method,
        prompts=len(preds),
        needed=sum(p.truth != NONE for p in preds),
        fires=len(fired),
        correct=sum(p.guess == p.truth for p in fired),
        fires_on_needed=sum(p.truth != NONE for p in fired),
        false_fires=sum(p.truth == NONE for p in fired),
        threshold=round(rule.threshold, 4),
        weak_threshold=round(rule.weak_threshold, 4),
        evidence_min=rule.evidence_min,
    )


def bm25_predictions(exs: list[Example], descriptions: dict[str, str]) -> list[Prediction]:
    """The top BM25 hit over names and descriptions for each prompt, its score as confidence."""
    personas = [Persona(path=Path(f"{n}.md"), name=n, description=d) for n, d in sorted(descriptions.items())]
    out = []
    for e in exs:
        hits = rank(personas, e.text, limit=1)
        out.append(Prediction(e.persona, hits[0].persona.name, hits[0].score) if hits
                   else Prediction(e.persona, NONE, 0.0))
    return out


def router_predictions(model: dict, exs: list[Example], params: RouterParams) -> list[Prediction]:
    """The router's top class and calibrated confidence for each prompt."""
    return router._predictions(model, exs, params)


@dataclass
class Evaluation:
    """Both methods on one split."""

    train_sessions: int
    test_sessions: int
    train_prompts: int
    router: Scores
    bm25: Scores
    classes: int
    others: list[Scores] = field(default_factory=list)
    """Extra methods asked for (naive Bayes)."""

    def to_json(self) -> dict:
        """JSON form (``router eval --json``)."""
        return {"train_sessions": self.train_sessions, "test_sessions": self.test_sessions,
                "train_prompts": self.train_prompts, "classes": self.classes,
                "router": self.router.to_json(), "bm25": self.bm25.to_json(),
                **{s.method: s.to_json() for s in self.others}}


def evaluate(exs: list[Example], descriptions: dict[str, str], *, test_share: float = 0.3,
             params: RouterParams | None = None, with_nb: bool = False) -> Evaluation:
    """Train on the earlier sessions, score the router and BM25 (and naive Bayes) on the latest."""
    params = params or RouterParams()
    train, test = router.split_by_time(exs, test_share)
    model, _ = router.train(train, params, descriptions)
    bm_train = bm25_predictions(train, descriptions)
    bm_threshold = router.choose_threshold(bm_train, params, never=math.inf, scale="linear")
    others = []
    if with_nb:
        nb_params = replace(params, model="nb")
        nb, _ = router.train(train, nb_params, descriptions)
        others.append(score("naive-bayes", router_predictions(nb, test, nb_params), Bar.of(nb)))
    return Evaluation(
        train_sessions=len({e.session for e in train}),
        test_sessions=len({e.session for e in test}),
        train_prompts=len(train),
        router=score("router", router_predictions(model, test, params), Bar.of(model)),
        bm25=score("bm25", bm25_predictions(test, descriptions), bm_threshold),
        classes=len(model["classes"]) - 1,
        others=others,
    )


def table(ev: Evaluation) -> str:
    """The figures as an aligned text table."""
    head = f"{'method':11} {'precision':>9} {'fire(needed)':>12} {'recall':>7} {'false fire':>10} {'abstain':>8} {'fires':>6} {'threshold':>9}"
    lines = [
        f"held out: {ev.test_sessions} sessions, {ev.router.prompts} prompts "
        f"({ev.router.needed} needed a persona); trained on {ev.train_sessions} sessions, "
        f"{ev.train_prompts} prompts, {ev.classes} personas learned",
        head,
    ]
    for s in (ev.router, *ev.others, ev.bm25):
        never = s.threshold == math.inf or (s.method != "bm25" and s.threshold >= router.NEVER)
        th = "never" if never else f"{s.threshold:.3f}"
        lines.append(f"{s.method:11} {s.precision:>9.1%} {s.fire_rate_needed:>12.1%} {s.recall:>7.1%} "
                     f"{s.false_fire_rate:>10.1%} {s.abstention:>8.1%} {s.fires:>6} {th:>9}")
    if ev.bm25.threshold == math.inf:
        lines.append("bm25 never fires: on the training prompts no threshold makes its top hit reach the "
                     "precision the router is held to")
    r = ev.router
    if r.evidence_min > 0 and (r.threshold < router.NEVER or r.weak_threshold < router.NEVER):
        weak = "never" if r.weak_threshold >= router.NEVER else f"{r.weak_threshold:.3f}"
        lines.append(f"router threshold applies when {r.evidence_min}+ words of the prompt point to the persona; "
                     f"with fewer: {weak}")
    return "\n".join(lines)
