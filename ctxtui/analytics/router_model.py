"""The router's model at prediction time: features, scoring, loading. Light on purpose.

The just-in-time hook imports this module on every prompt, so it needs only ``json``, ``math``
and ``re`` (no tiktoken, Textual, YAML or dataclasses). Training lives in ``router.py``.

The model is a linear scorer (softmax regression; naive Bayes fits the same form) over words,
bigrams and word stems, plus one token for the project. Confidence is the softmax
of ``score / temperature``, with the temperature fitted on held-out sessions; the router names
a persona only when that confidence reaches ``threshold`` (chosen for precision) and at
least ``evidence_min`` distinct words of the prompt point to it; a guess with less evidence
has its own, higher bar (``weak_threshold``).
"""

from __future__ import annotations

import json
import math
import re

FORMAT = 4
"""4: thresholds by evidence band (``threshold``, ``weak_threshold``, ``evidence_min``)."""
NONE = ""
"""The class of prompts that led to no persona."""
MAX_PROMPT_CHARS = 2000
"""Only the start of a prompt is read: pasted logs add noise, not intent."""
MAX_MODEL_BYTES = 32 * 1024 * 1024
EVIDENCE = 0.7
"""A word is evidence for a persona when it alone multiplies the odds of it over NONE by e**EVIDENCE
(see ``evidence``)."""
REFRESH_SECONDS = 3600
"""A model checked (built, or found current) longer ago than this is refreshed when its
transcripts changed; a younger one is used as it is. The session in progress changes its
transcript at every prompt: the hook refreshes in the background at most this often, and an
adaptive proposal does not retrain for every prompt typed since."""
JUMP = 32
"""Every JUMP-th stored term is indexed in the header (see ``LazyTerms``)."""

_WORD = re.compile(r"[a-z0-9][a-z0-9_+#.-]{0,39}")
STOP = frozenset(
    ["a", "an", "the", "and", "or", "of", "to", "for", "in", "on", "with", "at", "by", "from", "is", "are", "was", "were", "be", "been", "it", "its", "this", "that", "these", "those", "i", "you", "we", "me", "my", "our", "your", "can", "could", "would", "should", "will", "do", "does", "did", "have", "has", "had", "not", "no", "yes", "please", "use", "using", "want", "need", "make", "get", "so", "if", "then", "than", "just", "also", "what", "how", "why", "when", "where", "which", "who", "there", "here", "about", "into", "out", "up", "as", "let", "lets", "it's", "i'm", "don't", "all", "any", "some", "more", "most", "very", "now", "again", "ok", "okay", "sure", "thanks", "thank", "hi", "hey"]
)


def project_key(cwd: str) -> str:
    """Claude Code's folder name for a project: every character but ASCII letters and digits
    becomes '-' (a loop, not a regex: one compile less on the hook's path)."""
    return "".join(c if c.isascii() and c.isalnum() else "-" for c in cwd)


def features(prompt: str, project: str = "") -> list[str]:
    """Distinct words, bigrams and 5-letter stems of a prompt (stop words out), plus a project token."""
    words = [w.strip(".-+") for w in _WORD.findall(prompt[:MAX_PROMPT_CHARS].lower())]
    words = [w for w in words if w and w not in STOP and not w.isdigit()]
    out = dict.fromkeys(words)
    out.update(dict.fromkeys(f"{a} {b}" for a, b in zip(words, words[1:])))  # noqa: B905
    # word stems by prefix: "architectures" meets "architecture", many typos keep the start
    out.update(dict.fromkeys(f"{w[:5]}~" for w in words if len(w) > 6))
    if project:
        out[f"@project:{project}"] = None
    return list(out)


def scores(model: dict, feats: list[str]) -> list[float]:
    """Log posterior (up to a constant) of each class for a prompt's features."""
    default = model["default"]
    out = list(model["prior"])
    table = model["terms"]
    for f in feats:
        row = table.get(f)
        if row is None:
            continue  # a word never seen in training says nothing
        for i, d in enumerate(default):
            out[i] += d
        for ci, delta in row:
            out[ci] += delta
    return out


def evidence(model: dict, feats: list[str], ci: int) -> int:
    """How many distinct words of the prompt point to class ``ci`` on their own: the word (or,
    failing that, its stem) adds at least ``evidence_margin`` to its calibrated log-odds over NONE
    (the stored weight difference over the temperature)."""
    if ci <= 0:
        return 0
    table = model["terms"]
    margin = float(model.get("evidence_margin", EVIDENCE)) * (model.get("temperature", 1.0) or 1.0)

    def lift(term: str) -> float:
        row = table.get(term)
        if not row:
            return 0.0
        mine = none = 0.0
        for c, d in row:
            if c == ci:
                mine = d
            elif c == 0:
                none = d
        return mine - none

    n = 0
    for f in feats:
        if " " in f or f.endswith("~") or f.startswith("@"):
            continue
        if lift(f) >= margin or (len(f) > 6 and lift(f"{f[:5]}~") >= margin):
            n += 1
    return n


def softmax(values: list[float], temperature: float = 1.0) -> list[float]:
    """Probabilities from scores, numerically safe."""
    t = temperature if temperature > 0 else 1.0
    top = max(values)
    exps = [math.exp((v - top) / t) for v in values]
    total = sum(exps)
    return [e / total for e in exps]


def _top(model: dict, feats: list[str]) -> tuple[int, float]:
    """The index of the most likely class and its calibrated confidence (0 for "no persona")."""
    if not any(f in model["terms"] for f in feats if not f.startswith("@project:")):
        return 0, 1.0  # nothing recognisable: never guess from the prior alone
    probs = softmax(scores(model, feats), model.get("temperature", 1.0))
    best = max(range(len(probs)), key=probs.__getitem__)
    return best, probs[best]


def predict(model: dict, prompt: str, project: str = "") -> tuple[str, float]:
    """The most likely class and its calibrated confidence (NONE for "no persona")."""
    best, conf = _top(model, features(prompt, project))
    return model["classes"][best], conf


def bar(model: dict, evidence_words: int) -> float:
    """The confidence a guess must reach: ``threshold`` when at least ``evidence_min`` words
    point to it, else ``weak_threshold`` (a guess resting on one word is right far less often)."""
    if evidence_words >= model.get("evidence_min", 0):
        return float(model.get("threshold", 2.0))
    return float(model.get("weak_threshold", 2.0))


def explain(model: dict, prompt: str, project: str = "") -> tuple[str, float, int, float]:
    """(top class, its confidence, evidence words for it, the confidence it must reach)."""
    feats = features(prompt, project)
    best, conf = _top(model, feats)
    words = evidence(model, feats, best)
    return model["classes"][best], conf, words, bar(model, words)


def decide(model: dict, prompt: str, project: str = "") -> tuple[str, float]:
    """The persona to name, or NONE when the router abstains; with its confidence."""
    name, conf, _, needed = explain(model, prompt, project)
    if name == NONE or conf < needed:
        return NONE, conf
    return name, conf


class LazyTerms:
    """The term table of a stored model, parsed one row at a time on lookup.

    Parsing every row of a large model would cost the hook more than answering. Rows are
    sorted by term and the header keeps every ``JUMP``-th term with its offset, so a lookup is
    a bisection plus a search inside one small block; rows found are kept.
    """

    def __init__(self, body: str, jump: list | None = None) -> None:
        self._body = body
        jump = jump if isinstance(jump, list) and jump else [["", 0]]
        self._keys = [str(k) for k, _ in jump]
        self._offsets = [int(o) for _, o in jump]
        self._seen: dict[str, list[list] | None] = {}

    def get(self, term: str) -> list[list] | None:
        """The row of a term, or None."""
        if term in self._seen:
            return self._seen[term]
        from bisect import bisect_right

        i = bisect_right(self._keys, term) - 1
        row = None
        if i >= 0:
            end = self._offsets[i + 1] if i + 1 < len(self._offsets) else len(self._body)
            block = "\n" + self._body[self._offsets[i]:end]
            key = f"\n{term}\t"
            j = block.find(key)
            if j >= 0:
                k = block.find("\n", j + len(key))
                row = _row(block[j + len(key): k if k >= 0 else None])
        self._seen[term] = row
        return row

    def __contains__(self, term: object) -> bool:
        return isinstance(term, str) and self.get(term) is not None

    def items(self):
        """Every (term, row), parsed (for tools, not the hook)."""
        for line in self._body.split("\n"):
            if "\t" in line:
                term, row = line.split("\t", 1)
                yield term, _row(row)


def _row(text: str) -> list[list]:
    out = []
    for cell in text.split():
        ci, _, delta = cell.partition(":")
        out.append([int(ci), float(delta)])
    return out


def dumps(model: dict) -> bytes:
    """Stored form: one line of JSON (all but the terms), then one ``term<TAB>ci:delta ...``
    line per term. Terms never hold a tab or a newline (see ``features``)."""
    rows, jump, offset = [], [], 0
    for n, (term, row) in enumerate(sorted(model["terms"].items())):
        if "\t" in term or "\n" in term:
            continue
        line = term + "\t" + " ".join(f"{ci}:{delta:g}" for ci, delta in row) + "\n"
        if n % JUMP == 0:
            jump.append([term, offset])
        rows.append(line)
        offset += len(line)
    head = {k: v for k, v in model.items() if k != "terms"}
    head["jump"] = jump
    return (json.dumps(head, separators=(",", ":"), ensure_ascii=True) + "\n" + "".join(rows)).encode("utf-8")


def loads(data: bytes, *, lazy: bool = False) -> dict:
    """A model from its stored bytes; ValueError when it is not a model this version reads.
    ``lazy`` leaves the term rows unparsed until looked up (what the hook wants)."""
    text = data.decode("utf-8")
    head, _, body = text.partition("\n")
    model = json.loads(head)
    if not isinstance(model, dict) or model.get("format") != FORMAT:
        raise ValueError("not a ctxtui router model (or another format version)")
    classes, prior, default = (model.get(k) for k in ("classes", "prior", "default"))
    if not (isinstance(classes, list) and isinstance(prior, list) and isinstance(default, list)
            and len(classes) == len(prior) == len(default) and classes):
        raise ValueError("router model is malformed")
    terms = LazyTerms(body, model.pop("jump", None))
    model["terms"] = terms if lazy else dict(terms.items())
    return model
