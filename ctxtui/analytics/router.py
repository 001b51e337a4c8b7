"""The learned router: training data from transcripts, fitting, calibration, the model cache.

The model is softmax regression over the prompt's words, bigrams and stems, with a fixed
prior from the library: each learned persona scores its name and description terms by their
rarity (``description_prior``), so a persona is found by its speciality's words before users
have typed them for it; the learned weights add to that prior and are stored with it.

Examples are the user prompts of the main thread, each labelled with the persona the
subagent tool (``Task``/``Agent``) was called with before the next prompt, or NONE. Claude
Code's built-in agent types are not personas and count as NONE.

Calibration is cross-fitted by session: the training sessions (in time order) are dealt into
``folds`` groups; a model fitted on all but one group predicts that group, so every training
prompt gets an out-of-sample prediction from a model nearly the size of the final one (a
model fitted on a fraction of the data is less sure of itself, and a threshold chosen on it
would be needlessly timid). Those predictions fit one temperature (pooled likelihood) and
two thresholds, one per evidence band (``choose_bar``): a guess that at least two distinct
prompt words point to on their own is held to one, a guess resting on a single word (a
domain word dropped into an everyday request: "yes, same as for the statistical one") to
the other. Each is the lowest confidence above which that band's named personas were right
83% of the time (the 80% target plus a margin, given up a point at a time when the corpus
cannot reach it or when keeping it would leave the router all but silent) while the
false-fire rate stays under its cap. The final
model is then fitted on every training session. With too little data the threshold stays
above 1: the router never fires rather than guess. ``calibration="expanding"`` keeps the
older time-ordered scheme (earlier chunks predict the next), for comparison.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from hashlib import sha1
from pathlib import Path

from ctxtui.analytics import forked
from ctxtui.analytics.router_model import FORMAT, NONE, dumps, evidence, features, scores, softmax
from ctxtui.analytics.transcripts import Session, parse_time, read_all, transcript_files
from ctxtui.core.errors import CtxtuiError

BUILTIN_AGENTS = frozenset(
    {"general-purpose", "Explore", "Plan", "claude-code-guide", "statusline-setup",
     "output-style-setup", "verification"}
)
"""Agent types Claude Code ships: always available, so never worth routing to."""
NEVER = 2.0
"""A threshold no confidence reaches: the router abstains on everything."""
MODEL_FILE = "router-model.txt"


@dataclass(frozen=True)
class Example:
    """One prompt and what it led to."""

    text: str
    persona: str
    """A persona name, or NONE."""
    project: str
    time: str
    session: str


@dataclass
class RouterParams:
    """How the router is fitted and how cautious it is."""

    model: str = "logreg"
    """``logreg`` (softmax regression, the default) or ``nb`` (naive Bayes, kept to compare)."""
    l2: float = 1e-3
    """L2 penalty of the regression weights."""
    epochs: int = 8
    """Passes of AdaGrad over the examples."""
    learning_rate: float = 0.3
    description_samples: int = 20
    """Regression: a learned persona's description adds this many pseudo-prompts, each a few of
    its words drawn at random (how users mention a speciality: a handful of its terms)."""
    seed: int = 0
    prune: float = 0.05
    """Regression weights closer than this to their term's median are dropped when stored."""
    alpha: float = 0.3
    """Additive smoothing of the naive Bayes term counts."""
    max_examples: int = 20_000
    """Only the latest sessions' prompts up to this many are learned from (bounds a rebuild)."""
    min_examples: int = 2
    """A persona needs this many training prompts to become a class."""
    target_precision: float = 0.8
    """Named personas must be right this share of the time."""
    precision_margin: float = 0.03
    """Added to the target on the out-of-fold predictions the threshold is chosen on."""
    precision_from: str = "hits"
    """What the threshold's precision is measured by on the out-of-fold predictions: ``hits``
    (the share of named personas that were right) or ``fitted`` (the mean Platt-fitted chance
    of being right, the older rule)."""
    precision_z: float = 0.0
    """When above 0, also: the Wilson lower bound of that precision at this many standard
    errors must reach the target (thin evidence needs a wider margin). Off by default: with
    the 0.03 margin it left the router silent on some generated corpora (see ``choose_threshold``)."""
    min_fire_needed: float = 0.35
    """The precision margin is given up (a point at a time, never the target) while the threshold
    it needs fires on fewer than this share of the calibration prompts that needed a persona."""
    max_false_fire: float = 0.05
    """At most this share of no-persona prompts may fire on the calibration predictions."""
    folds: int = 5
    """Session groups for the cross-fitted calibration (time-ordered chunks for ``expanding``)."""
    calibration: str = "crossfit"
    """``crossfit`` (every session predicted by a model fitted on the other groups) or
    ``expanding`` (earlier chunks predict the next)."""
    min_train_share: float = 0.4
    """``expanding`` only: calibrate only on chunks whose model saw at least this share of the
    training sessions."""
    min_fires: int = 10
    """Held-out predictions naming a persona needed before a threshold is trusted, and the
    fewest a threshold may leave above it (its precision is counted over those)."""
    evidence_min: int = 2
    """A guess with at least this many distinct prompt words pointing to it (``router_model.
    evidence``) is held to ``threshold``; one with fewer to its own ``weak_threshold``, chosen
    by the same rule on those guesses alone (0: one threshold for all)."""
    evidence_margin: float = 0.7
    """A word is evidence for a persona when it alone adds this much to the calibrated log-odds
    of it over NONE."""
    use_project: bool = True
    """Add the project as a feature."""
    description_weight: float = 3.0
    """Naive Bayes: how many examples a learned persona's description counts as."""
    description_prior: float = 3.0
    """Regression: a fixed score a learned persona gets for each term of its name and
    description in the prompt, times the term's rarity among the library's descriptions
    (idf, scaled to at most 1). The weights are learned on top of it, so a persona with little
    usage is still found by its speciality's words (0: off)."""


def examples(sessions: Iterable[Session]) -> list[Example]:
    """Every main-thread prompt with the persona it led to (built-in agents count as NONE)."""
    out = []
    for s in sessions:
        labels: dict[int, str] = {}
        for inv in s.invocations:
            if not inv.trigger:
                continue
            # the latest prompt with the trigger's text that came before the call
            idx = next((i for i in range(len(s.prompts) - 1, -1, -1)
                        if s.prompts[i][1] == inv.trigger and (not inv.time or s.prompts[i][0] <= inv.time)),
                       None)
            if idx is not None and idx not in labels:
                labels[idx] = NONE if inv.persona in BUILTIN_AGENTS else inv.persona
        for i, (ts, text) in enumerate(s.prompts):
            out.append(Example(text, labels.get(i, NONE), s.project, ts or s.start, s.id))
    return out


def session_order(exs: list[Example]) -> list[list[Example]]:
    """Examples grouped by session, sessions by their first prompt's time."""
    groups: dict[str, list[Example]] = {}
    for e in exs:
        groups.setdefault(e.session, []).append(e)
    return sorted(groups.values(), key=lambda g: (parse_time(min(e.time for e in g) or ""), g[0].session))


def split_by_time(exs: list[Example], test_share: float = 0.3) -> tuple[list[Example], list[Example]]:
    """(train, test): the latest sessions are held out whole."""
    groups = session_order(exs)
    cut = len(groups) - max(1, round(len(groups) * test_share)) if len(groups) > 1 else len(groups)
    return [e for g in groups[:cut] for e in g], [e for g in groups[cut:] for e in g]


def _feats(e: Example, params: RouterParams) -> list[str]:
    return features(e.text, e.project if params.use_project else "")


def fit(exs: list[Example], params: RouterParams, descriptions: dict[str, str] | None = None) -> dict:
    """A model (without temperature and threshold) of the kind ``params.model`` names."""
    model = (fit_nb if params.model == "nb" else fit_logreg)(exs, params, descriptions)
    model["evidence_margin"] = params.evidence_margin
    return model


def _classes(exs: list[Example], params: RouterParams) -> list[str]:
    counts = Counter(e.persona for e in exs)
    return [NONE] + sorted(c for c, n in counts.items() if c != NONE and n >= params.min_examples)


def fit_logreg(exs: list[Example], params: RouterParams, descriptions: dict[str, str] | None = None) -> dict:
    """Softmax regression over binary features, L2-penalised, fitted by sparse AdaGrad.

    Each step updates only the classes whose gradient is not negligible (|p - y| > 1e-3), which
    keeps a pure-Python pass over thousands of prompts and dozens of classes within seconds.
    Weights within ``prune`` of their term's median are dropped from the stored model.
    """
    import random

    classes = _classes(exs, params)
    index = {c: i for i, c in enumerate(classes)}
    data = [(_feats(e, params), index[e.persona]) for e in exs if e.persona in index]
    rng = random.Random(params.seed)
    for name, text in sorted((descriptions or {}).items()):
        ci = index.get(name)
        if not ci or not text:
            continue
        words = [t for t in features(f"{name.replace('-', ' ')} {text}") if " " not in t]
        for _ in range(params.description_samples if words else 0):
            data.append((rng.sample(words, k=min(len(words), 4)), ci))
    k = len(classes)
    fixed = description_prior(classes, descriptions or {}, params.description_prior)
    weights: dict[str, dict[int, float]] = {}
    grads: dict[str, dict[int, float]] = {}
    bias, gbias = [0.0] * k, [1e-8] * k
    lr, l2 = params.learning_rate, params.l2
    exp, sqrt, classes_k = math.exp, math.sqrt, range(k)
    weights_get, fixed_get = weights.get, fixed.get
    for _ in range(params.epochs):
        rng.shuffle(data)
        for feats, y in data:
            s = bias[:]
            for t in feats:
                row = weights_get(t)
                if row:
                    for c, w in row.items():
                        s[c] += w
                row = fixed_get(t)
                if row:
                    for c, w in row.items():
                        s[c] += w
            top = max(s)
            ex = [exp(v - top) for v in s]
            z = sum(ex)
            g = [e / z for e in ex]
            g[y] -= 1.0
            active = [c for c in classes_k if abs(g[c]) > 1e-3]
            for c in active:
                gbias[c] += g[c] * g[c]
                bias[c] -= lr * g[c] / sqrt(gbias[c])
            for t in feats:
                row = weights.setdefault(t, {})
                grow = grads.setdefault(t, {})
                for c in active:
                    w = row.get(c, 0.0)
                    gc = g[c] + l2 * w
                    acc = grow.get(c, 1e-8) + gc * gc
                    grow[c] = acc
                    row[c] = w - lr * gc / sqrt(acc)
    for t, row in fixed.items():  # the prior is part of the stored weights
        merged = weights.setdefault(t, {})
        for c, w in row.items():
            merged[c] = merged.get(c, 0.0) + w
    terms = {}
    prune = params.prune
    for t, row in weights.items():
        # softmax ignores a constant added to a term's weight for every class: shifting by the
        # median makes most weights near zero, and those are dropped (a 5-10x smaller model)
        values = sorted([*row.values(), *[0.0] * (k - len(row))])  # a class the term never moved: 0.0
        shift = values[k // 2]
        if abs(shift) >= prune:  # every class may be kept, those at 0.0 too
            kept = [[c, round(w - shift, 3)] for c in range(k) if abs((w := row.get(c, 0.0)) - shift) >= prune]
        else:  # a class at 0.0 is within prune of the shift: only the term's own classes can be kept
            kept = [[c, round(w - shift, 3)] for c, w in sorted(row.items()) if abs(w - shift) >= prune]
        if kept:
            terms[t] = kept
    return {"format": FORMAT, "kind": "logreg", "classes": classes, "prior": [round(b, 4) for b in bias],
            "default": [0.0] * k, "terms": terms, "temperature": 1.0, "threshold": NEVER}


def description_prior(classes: list[str], descriptions: dict[str, str], weight: float) -> dict[str, dict[int, float]]:
    """Per term, per persona class: ``weight`` x the term's idf among the library's
    descriptions (scaled to at most 1) for each word and stem of the persona's name and
    description. Words every persona mentions ("expert") weigh next to nothing."""
    if weight <= 0 or not descriptions:
        return {}
    docs = {name: {t for t in features(f"{name.replace('-', ' ')} {text}") if " " not in t}
            for name, text in descriptions.items() if text}
    n = len(docs)
    df = Counter(t for d in docs.values() for t in d)
    top = math.log(n + 1)
    out: dict[str, dict[int, float]] = {}
    for ci, name in enumerate(classes):
        for t in docs.get(name, ()) if ci else ():
            idf = math.log((n + 1) / df[t]) / top
            if idf > 0:
                out.setdefault(t, {})[ci] = weight * idf
    return out


def fit_nb(exs: list[Example], params: RouterParams, descriptions: dict[str, str] | None = None) -> dict:
    """A naive Bayes model (without temperature and threshold) from labelled examples.

    A learned persona's description (from the library) counts as ``description_weight``
    extra examples of it: words a user has not used yet for it still point its way.
    """
    classes = _classes(exs, params)
    index = {c: i for i, c in enumerate(classes)}
    term_counts: list[dict[str, float]] = [{} for _ in classes]  # weights need not be whole
    docs = [0] * len(classes)
    for e in exs:
        ci = index.get(e.persona)
        if ci is None:
            continue  # too rare to learn; neither a class nor evidence for NONE
        docs[ci] += 1
        tc = term_counts[ci]
        for t in _feats(e, params):
            tc[t] = tc.get(t, 0) + 1
    for name, text in (descriptions or {}).items():
        ci = index.get(name)
        if ci and text:
            w = params.description_weight
            for t in features(f"{name.replace('-', ' ')} {text}"):
                term_counts[ci][t] = term_counts[ci].get(t, 0) + w
    vocab = set().union(*term_counts) if term_counts else set()
    v = len(vocab) or 1
    a = params.alpha
    total_docs = sum(docs)
    prior = [math.log((d + 1) / (total_docs + len(classes))) for d in docs]
    denom = [sum(tc.values()) + a * v for tc in term_counts]
    default = [math.log(a / dn) for dn in denom]
    terms: dict[str, list[list]] = {}
    for ci, tc in enumerate(term_counts):
        for t, n in tc.items():
            terms.setdefault(t, []).append([ci, round(math.log((n + a) / denom[ci]) - default[ci], 3)])
    return {"format": FORMAT, "kind": "nb", "classes": classes, "prior": [round(p, 4) for p in prior],
            "default": [round(d, 4) for d in default], "terms": terms,
            "temperature": 1.0, "threshold": NEVER}


def _score_rows(model: dict, exs: list[Example], params: RouterParams) -> list[tuple[list[float], str, bool]]:
    """(scores, true label, any known term) for each example."""
    out = []
    for e in exs:
        f = _feats(e, params)
        known = any(t in model["terms"] for t in f if not t.startswith("@project:"))
        out.append((scores(model, f), e.persona, known))
    return out


def fit_temperature(rows: list[tuple[list[float], str, bool]], classes: list[str]) -> float:
    """The temperature minimising the negative log-likelihood of the true labels."""
    return _temperature([(s, classes.index(y)) for s, y, known in rows if known and y in classes])


def _temperature(usable: list[tuple[list[float], int]]) -> float:
    """The temperature minimising the NLL of (scores, index of the true class) rows."""
    if not usable:
        return 1.0

    def nll(log_t: float) -> float:
        t = math.exp(log_t)
        total = 0.0
        for s, yi in usable:
            top = max(s)
            z = sum(math.exp((v - top) / t) for v in s)
            total -= (s[yi] - top) / t - math.log(z)
        return total

    lo, hi = math.log(0.25), math.log(50.0)
    for _ in range(40):  # golden-section search on log T; NLL is unimodal in T here
        m1, m2 = lo + (hi - lo) * 0.382, lo + (hi - lo) * 0.618
        if nll(m1) <= nll(m2):
            hi = m2
        else:
            lo = m1
    return round(math.exp((lo + hi) / 2), 4)


def fit_temperature_pooled(parts: list[tuple[list[tuple[list[float], str, bool]], list[str]]]) -> float:
    """One temperature for several models' held-out rows (each with its own class list),
    minimising their summed negative log-likelihood."""
    return _temperature([(s, classes.index(y)) for rows, classes in parts for s, y, known in rows
                         if known and y in classes])


@dataclass
class Prediction:
    """What a router (or a baseline) says about one prompt."""

    truth: str
    guess: str
    """The top class (NONE when the top is NONE or nothing matched)."""
    confidence: float
    evidence: int = 0
    """Distinct prompt words that point to the guess on their own (``router_model.evidence``)."""


def choose_threshold(preds: list[Prediction], params: RouterParams, never: float = NEVER,
                     scale: str = "logit") -> float:
    """The lowest confidence above which named personas are right ``target_precision`` (plus
    ``precision_margin``) of the time.

    Over the held-out predictions that named a persona, highest confidence first, the
    threshold is the lowest at which the share of them that were right (``precision_from``
    ``hits``; ``fitted``: the mean chance fitted by Platt scaling, a logistic fit of "right" on
    the confidence's logit, or on the raw score with ``scale="linear"`` as for BM25) reaches
    the target plus the margin, with the false-fire rate under ``max_false_fire``. ``never``
    when fewer than ``min_fires`` predictions named a persona, when no threshold qualifies, or
    (``fitted`` only) when confidence does not predict being right (the Platt slope is not
    positive). Counted hits need no slope: where precision is flat above the target (as within
    the strong evidence band), every confidence qualifies.

    The margin covers the step from out-of-fold predictions to sessions not seen yet; the
    Wilson bound widens it where the out-of-fold namings are few (a small project's first
    weeks). Counting hits met the targets more often than the fitted chance, which is flat
    where confidence stops predicting being right and then holds the threshold too high.
    What limits precision on the generated corpora is the corpora themselves: about 15% of
    persona-style prompts never led to a call, so no threshold gets far above 85%. With the
    description prior the router fires on about two thirds of the prompts that needed a
    persona, so a margin of 0.03 buys precision at a recall the target does not need (chosen
    on seeds 701-705; bench/eval_router.py). Adding a Wilson bound at one standard error on
    top of it left the router silent on one corpus in ten (its curve never cleared both).
    The same flat curve explains the corpora where the router fired on a few percent of the
    prompts that needed a persona: the margin was met only by the top handful of confidences
    and the first margin met was kept, however few it fired on. A margin is now kept only while
    its threshold fires on ``min_fire_needed`` of those prompts on the calibration predictions.
    """
    cands = [p for p in preds if p.guess != NONE]
    if len(cands) < params.min_fires:
        return never

    def tx(c: float) -> float:
        if scale == "linear":
            return c
        c = min(max(c, 1e-6), 1 - 1e-6)
        return math.log(c / (1 - c))

    xs = [tx(p.confidence) for p in cands]
    ys = [1.0 if p.guess == p.truth else 0.0 for p in cands]
    a, b = _platt(xs, ys)
    if b <= 1e-9 and params.precision_from != "hits":
        return never  # confidence does not predict being right, so the fitted chance is flat
    # the fitted chance of being right, smoothed over neighbours: stabler than raw hit counts
    ranked = sorted(((1 / (1 + math.exp(-min(max(a + b * x, -50), 50))), p) for x, p in zip(xs, cands, strict=True)),
                    key=lambda t: -t[1].confidence)
    none_total = sum(1 for p in preds if p.truth == NONE) or 1
    needed_total = sum(1 for p in preds if p.truth != NONE) or 1
    hits = params.precision_from == "hits"
    # the margin is a buffer over the target, given up a point at a time when the corpus cannot
    # afford it (its precision ceiling is near the target); the target itself never is. A
    # margin is kept only while its threshold still fires on ``min_fire_needed`` of the prompts
    # that needed a persona: where precision is flat near its ceiling, a margin met only by the
    # top handful buys no precision and leaves the router all but silent
    steps = max(0, round(params.precision_margin * 100))
    first: tuple[float, float | None] | None = None
    for margin in [params.precision_margin - k / 100 for k in range(steps)] + [0.0]:
        best, below, best_needed = never, None, 0
        total = false = 0.0
        fired_needed = 0
        for i, (right, p) in enumerate(ranked):
            total += (p.guess == p.truth) if hits else right
            false += p.truth == NONE
            fired_needed += p.truth != NONE
            if i + 1 < len(ranked) and ranked[i + 1][1].confidence == p.confidence:
                continue  # a threshold cannot split tied confidences
            if i + 1 < params.min_fires:
                continue  # a handful of sure hits at the very top is no evidence of precision
            if _clears(total, i + 1, params, margin) and false / none_total <= params.max_false_fire:
                best, best_needed = p.confidence, fired_needed
                below = ranked[i + 1][1].confidence if i + 1 < len(ranked) else None
        if best == never:
            continue
        if first is None:
            first = (best, below)
        if best_needed / needed_total >= params.min_fire_needed:
            first = (best, below)
            break
    if first is None:
        return never
    best, below = first
    # halfway to the next lower confidence: new prompts rarely repeat a calibration score exactly
    return (best + below) / 2 if below is not None else best * 0.95


def wilson_lower(p: float, n: int, z: float) -> float:
    """The Wilson score lower bound of a proportion ``p`` seen over ``n`` trials."""
    if n <= 0:
        return 0.0
    d = 1 + z * z / n
    centre = p + z * z / (2 * n)
    return (centre - z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))) / d


def _clears(right: float, n: int, params: RouterParams, margin: float) -> bool:
    """Whether ``right`` of ``n`` named personas clears the precision target: by ``margin``,
    and by the Wilson lower bound at ``precision_z`` standard errors."""
    p = right / n
    return p >= params.target_precision + margin - 1e-12 and (
        params.precision_z <= 0 or wilson_lower(p, n, params.precision_z) >= params.target_precision)


def _platt(xs: list[float], ys: list[float], l2: float = 1e-3) -> tuple[float, float]:
    """(a, b) of P(y=1 | x) = sigmoid(a + b x), by Newton's method on the penalised log-loss."""
    n = len(xs)
    mean = sum(xs) / n
    sd = math.sqrt(sum((x - mean) ** 2 for x in xs) / n) or 1.0
    zs = [(x - mean) / sd for x in xs]
    a = b = 0.0
    for _ in range(50):
        ga, gb, haa, hab, hbb = 0.0, l2 * b, 1e-9, 0.0, l2
        for z, y in zip(zs, ys, strict=True):
            p = 1 / (1 + math.exp(-(a + b * z))) if -(a + b * z) < 700 else 0.0
            w = p * (1 - p)
            ga += p - y
            gb += (p - y) * z
            haa += w
            hab += w * z
            hbb += w * z * z
        det = haa * hbb - hab * hab
        if abs(det) < 1e-12:
            break
        da = (hbb * ga - hab * gb) / det
        db = (haa * gb - hab * ga) / det
        a, b = a - da, b - db
        if abs(da) + abs(db) < 1e-9:
            break
    return a - b * mean / sd, b / sd


def _predictions(model: dict, exs: list[Example], params: RouterParams) -> list[Prediction]:
    out = []
    for e, (s, truth, known) in zip(exs, _score_rows(model, exs, params), strict=True):
        f = _feats(e, params)
        if not known:
            out.append(Prediction(truth, NONE, 1.0))
            continue
        probs = softmax(s, model["temperature"])
        best = max(range(len(probs)), key=probs.__getitem__)
        out.append(Prediction(truth, model["classes"][best], probs[best], evidence(model, f, best)))
    return out


@dataclass(frozen=True)
class Bar:
    """When a prediction names its guess: confidence at least ``threshold`` with at least
    ``evidence_min`` evidence words, else at least ``weak_threshold``."""

    threshold: float = NEVER
    weak_threshold: float = NEVER
    evidence_min: int = 0

    @classmethod
    def of(cls, model: dict) -> Bar:
        """The abstention rule stored in a model."""
        return cls(model.get("threshold", NEVER), model.get("weak_threshold", NEVER), model.get("evidence_min", 0))

    def fires(self, p: Prediction) -> bool:
        """Whether ``p`` names a persona."""
        if p.guess == NONE:
            return False
        return p.confidence >= (self.threshold if p.evidence >= self.evidence_min else self.weak_threshold)


def choose_bar(preds: list[Prediction], params: RouterParams) -> Bar:
    """Thresholds for the two evidence bands, each by ``choose_threshold`` over its own guesses
    (the no-persona guesses count in both, for the false-fire and fire-rate shares)."""
    if params.evidence_min <= 0:
        return Bar(choose_threshold(preds, params))
    strong = [p for p in preds if p.guess == NONE or p.evidence >= params.evidence_min]
    weak = [p for p in preds if p.guess == NONE or p.evidence < params.evidence_min]
    return Bar(choose_threshold(strong, params), choose_threshold(weak, params), params.evidence_min)


def persona_counts(preds: Iterable[Prediction], threshold: float | Bar) -> dict[str, list[int]]:
    """Per persona, [prompts that needed it, times it was named, times rightly] among held-out
    predictions at a threshold (kept in the model for the adaptive strategy)."""
    rule = threshold if isinstance(threshold, Bar) else Bar(threshold)
    out: dict[str, list[int]] = {}
    for p in preds:
        if p.truth != NONE:
            out.setdefault(p.truth, [0, 0, 0])[0] += 1
        if rule.fires(p):
            row = out.setdefault(p.guess, [0, 0, 0])
            row[1] += 1
            row[2] += p.guess == p.truth
    return dict(sorted(out.items()))


@dataclass
class Calibration:
    """The out-of-sample predictions behind the temperature and threshold."""

    temperature: float = 1.0
    threshold: float = NEVER
    weak_threshold: float = NEVER
    examples: int = 0
    predictions: list[Prediction] = field(default_factory=list)
    """Every out-of-sample prediction (per-persona figures for the adaptive strategy)."""


def train(exs: list[Example], params: RouterParams | None = None,
          descriptions: dict[str, str] | None = None) -> tuple[dict, Calibration]:
    """Fit, calibrate on expanding time windows, refit on everything."""
    params = params or RouterParams()
    groups = session_order(exs)
    kept: list[list[Example]] = []
    total = 0
    for g in reversed(groups):  # the latest sessions, up to max_examples prompts
        if total + len(g) > params.max_examples and kept:
            break
        kept.append(g)
        total += len(g)
    groups = kept[::-1]
    exs = [e for g in groups for e in g]
    splits = _held_out_splits(groups, params)
    # the held-out models and the final one are fitted side by side (each takes seconds)
    *fitted, model = _fit_all([train for train, _ in splits] + [exs], params, descriptions)
    held = [(m, test) for m, (_, test) in zip(fitted, splits, strict=True)]
    cal = Calibration()
    # one temperature for every fold, by their pooled likelihood (classes differ per fold)
    cal.temperature = fit_temperature_pooled(
        [(_score_rows(m, nxt, params), m["classes"]) for m, nxt in held])
    preds: list[Prediction] = []
    for m, nxt in held:
        m["temperature"] = cal.temperature
        preds.extend(_predictions(m, nxt, params))
    cal.examples = len(preds)
    cal.predictions = preds
    rule = choose_bar(preds, params)
    cal.threshold, cal.weak_threshold = rule.threshold, rule.weak_threshold
    model["temperature"] = cal.temperature
    model["threshold"] = cal.threshold
    model["weak_threshold"] = cal.weak_threshold
    model["evidence_min"] = rule.evidence_min
    model["examples"] = len(exs)
    model["persona_counts"] = persona_counts(preds, rule)
    model["params"] = {k: v for k, v in vars(params).items()}
    return model, cal


def _held_out_splits(groups: list[list[Example]], params: RouterParams) -> list[tuple[list[Example], list[Example]]]:
    """(training examples, the examples its model is calibrated on) pairs."""
    k = max(2, params.folds)
    splits: list[tuple[list[Example], list[Example]]] = []
    if params.calibration == "crossfit":
        if len(groups) < k:
            return splits
        for i in range(k):  # sessions dealt in time order: every group spans the whole period
            train = [e for j, g in enumerate(groups) if j % k != i for e in g]
            test = [e for j, g in enumerate(groups) if j % k == i for e in g]
            splits.append((train, test))
        return splits
    bounds = [round(len(groups) * i / k) for i in range(k + 1)]
    for i in range(1, k):
        if bounds[i] < params.min_train_share * len(groups):
            continue
        past = [e for g in groups[: bounds[i]] for e in g]
        nxt = [e for g in groups[bounds[i]: bounds[i + 1]] for e in g]
        if past and nxt:
            splits.append((past, nxt))
    return splits


def _fit_all(sets: list[list[Example]], params: RouterParams, descriptions: dict[str, str] | None) -> list[dict]:
    """:func:`fit` of each training set, on every usable core where forking is safe (a
    fit is deterministic: the same model wherever it runs)."""
    order = sorted(range(len(sets)), key=lambda i: -len(sets[i]))  # the largest first: the last ones even out

    def work(n: int) -> dict:
        return fit(sets[order[n]], params, descriptions)

    done = forked.ForkedTasks(len(sets), work, forked.usable_cores() - 1).join()
    fitted: list[dict] = [{}] * len(sets)
    for n, i in enumerate(order):
        fitted[i] = done[n]
    return fitted


# --- the cache -------------------------------------------------------------------------------


def fingerprint(root: Path) -> str:
    """A cheap identity of the transcripts: every main file's path, size and mtime."""
    h = sha1()
    for _, path in transcript_files(root) if root.exists() else []:
        try:
            st = path.stat()
        except OSError:
            continue
        h.update(f"{path}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


@dataclass
class BuildResult:
    """What a (re)build did."""

    path: Path
    rebuilt: bool
    classes: int = 0
    examples: int = 0
    threshold: float = NEVER
    seconds: float = 0.0
    extra: dict = field(default_factory=dict)


def model_path(cache: Path) -> Path:
    """Where the router model is cached."""
    return cache / "router" / MODEL_FILE


def load(path: Path) -> dict | None:
    """The cached model, or None when missing or unreadable."""
    from ctxtui.analytics.router_model import MAX_MODEL_BYTES, loads

    try:
        if not path.is_file() or path.stat().st_size > MAX_MODEL_BYTES:
            return None
        return loads(path.read_bytes())
    except (OSError, ValueError):
        return None


def build(root: Path, cache: Path, *, locations: dict[str, str] | None = None,
          descriptions: dict[str, str] | None = None, params: RouterParams | None = None,
          force: bool = False, fresh_for: float = 0.0) -> BuildResult:
    """Train from the transcripts under ``root`` unless the cached model already matches them.

    ``locations`` maps persona names to their cold file paths (the hook names the file when
    the persona is not hot). The model is written atomically; an unchanged fingerprint (and
    the same parameters: a new threshold rule rebuilds) only touches the file, which tells
    the hook it was checked recently. With ``fresh_for``, a model of the same folder checked
    less than that many seconds ago is used even if transcripts changed since (see
    :data:`~ctxtui.analytics.router_model.REFRESH_SECONDS`).
    """
    start = time.perf_counter()
    path = model_path(cache)
    old = load(path)
    wanted = dict(vars(params or RouterParams()))
    same = old is not None and not force and old.get("params") == wanted and (
        locations is None or old.get("locations") == locations)
    if same and old is not None and fresh_for > 0 and old.get("root") == str(root.absolute()):
        with contextlib.suppress(OSError):
            if time.time() - path.stat().st_mtime < fresh_for:
                return BuildResult(path, False, len(old["classes"]) - 1, old.get("examples", 0),
                                   old.get("threshold", NEVER), time.perf_counter() - start)
    fp = fingerprint(root)
    if same and old is not None and old.get("fingerprint") == fp:
        os.utime(path)
        return BuildResult(path, False, len(old["classes"]) - 1, old.get("examples", 0),
                           old.get("threshold", NEVER), time.perf_counter() - start)
    from ctxtui.analytics.transcript_cache import default_folder

    sessions, _ = read_all(root, cache=default_folder()) if root.exists() else ([], None)
    exs = examples(sessions)
    model, cal = train(exs, params, descriptions)
    model["fingerprint"] = fp
    model["root"] = str(root.absolute())
    model["built"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    model["locations"] = dict(locations or {})
    model["calibration_examples"] = cal.examples
    save(model, path)
    return BuildResult(path, True, len(model["classes"]) - 1, len(exs), model["threshold"],
                       time.perf_counter() - start)


def save(model: dict, path: Path) -> None:
    """Write the model atomically (temp file + rename), compact."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(dumps(model))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def library_personas(dirs: list[Path]) -> tuple[dict[str, str], dict[str, str]]:
    """(descriptions, file paths) by persona name for the library folders (first wins)."""
    from ctxtui.core.library import discover
    from ctxtui.core.persona import parse_persona
    from ctxtui.core.safe_io import read_regular

    descriptions: dict[str, str] = {}
    paths: dict[str, str] = {}
    for root in dirs:
        if not root.is_dir():
            continue
        for path in discover(root):
            try:
                p = parse_persona(path, read_regular(path, 1024 * 1024))
            except (OSError, ValueError, CtxtuiError):
                continue
            if p.name and p.name not in paths:
                descriptions[p.name] = p.description
                paths[p.name] = str(path.absolute())
    return descriptions, paths


def refresh_from_settings(force: bool = False) -> BuildResult:
    """Build or refresh the cached model from the user's settings: transcripts and library."""
    from ctxtui.core.config import cache_dir, library_roots, load_settings

    settings = load_settings()
    descriptions, paths = library_personas(library_roots(settings))
    return build(settings.transcripts, cache_dir(), locations=paths, descriptions=descriptions, force=force)
