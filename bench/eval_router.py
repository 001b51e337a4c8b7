"""Held-out router figures on generated corpora, one row per seed (``router eval`` per corpus).

Each seed writes a fresh corpus (tests/router_corpus.py, wshobson library), splits its
sessions by time (latest 30% held out) and scores the router and BM25 on the held-out part.
Run: python bench/eval_router.py SEED [SEED ...] [--sessions N] [--param KEY=VALUE] [--json]

Settings were chosen on seeds 701-705 (the description prior, the 0.03 margin) and 701-715
(the evidence bands, the fire floor of the margin) only, and are reported on seeds never used
to choose anything (801-810, 901-910, 1001-1010, then 1101-1120 once).

What caps precision is the corpus, and it is realistic: about 15% of the generator's
persona-style prompts never lead to a call (Claude handles them itself; the real transcripts
in shared/corpora show no custom-persona call at all, so real delegation is if anything
rarer), and "needed a persona" means "led to a persona call", the only thing a transcript
records. So no threshold gets far above 85%, a corpus with ~100-150 held-out namings lands
within about 3 points of its mean either side, and a seed below 80% is expected now and
then: the pooled figure is the steadier one. Firing more often at that ceiling narrows the
spread; firing on a domain word dropped into an everyday request lowers the mean, which is
why a guess resting on one word has its own bar (router.choose_bar).

Measured (240 sessions a seed): on 801-810, 901-910, 1001-1010 the router met all three
targets on 19 of 30 seeds with one threshold, on 29 of 30 with the evidence bands (pooled
precision 82.5% -> 84.2%, fire on needed ~53% -> 64.3%, false fires at most 5.7%); on the
fresh seeds 1101-1120, run once, 17 of 20 (pooled 84.4%, 62.2%; misses 1105, 1106, 1118).
BM25 over descriptions, same rule: pooled precision 77-78% while firing on ~6% of needed.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from router_corpus import generate, load_library  # noqa: E402

from ctxtui.analytics import router, router_eval  # noqa: E402
from ctxtui.analytics.transcripts import read_all  # noqa: E402


def one(seed: int, sessions: int, descriptions: dict[str, str], params: router.RouterParams | None = None) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        generate(root, sessions=sessions, seed=seed)
        exs = router.examples(read_all(root)[0])
    start = time.perf_counter()
    ev = router_eval.evaluate(exs, descriptions, params=params)
    return {"seed": seed, "seconds": round(time.perf_counter() - start, 1), **ev.to_json()}


def _params(pairs: list[str]) -> router.RouterParams:
    """RouterParams with KEY=VALUE overrides (to compare settings on the same seeds)."""
    params = router.RouterParams()
    for pair in pairs:
        key, _, value = pair.partition("=")
        old = getattr(params, key)
        setattr(params, key, type(old)(value))
    return params


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("seeds", type=int, nargs="+")
    ap.add_argument("--sessions", type=int, default=240)
    ap.add_argument("--param", action="append", default=[], metavar="KEY=VALUE", help="a RouterParams override")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    params = _params(a.param)
    descriptions = {p.name: p.description for p in load_library()}
    print(f"{'seed':>5} {'method':7} {'prec':>6} {'fire(need)':>10} {'recall':>7} {'false':>6} {'fires':>6} {'need':>5} {'s':>6}")
    met = 0
    rows: list[dict] = []
    for seed in a.seeds:
        r = one(seed, a.sessions, descriptions, params)
        if a.json:
            print(json.dumps(r))
        for m in ("router", "bm25"):
            s = r[m]
            print(f"{seed:>5} {m:7} {s['precision']:>6.1%} {s['fire_rate_needed']:>10.1%} {s['recall']:>7.1%} "
                  f"{s['false_fire_rate']:>6.1%} {s['fires']:>6} {s['needed']:>5} {r['seconds']:>6}", flush=True)
        s = r["router"]
        rows.append(s)
        met += s["precision"] >= 0.8 and s["fire_rate_needed"] >= 0.3 and s["false_fire_rate"] <= 0.1
    for label, pick in (("mean", lambda xs: sum(xs) / len(xs)), ("min", min), ("max", max)):
        print(f"{label:>5} {'router':7} " + " ".join(
            f"{pick([s[k] for s in rows]):>{w}.1%}" for k, w in
            (("precision", 6), ("fire_rate_needed", 10), ("recall", 7), ("false_fire_rate", 6))))
    pooled = {k: sum(s[k] for s in rows) for k in ("fires", "correct", "needed", "fires_on_needed")}
    print(f"pooled over seeds: precision {pooled['correct'] / max(pooled['fires'], 1):.1%} of {pooled['fires']} "
          f"namings, fire(needed) {pooled['fires_on_needed'] / max(pooled['needed'], 1):.1%} of {pooled['needed']}")
    print(f"router met all three targets on {met} of {len(a.seeds)} seeds")


if __name__ == "__main__":
    main()
