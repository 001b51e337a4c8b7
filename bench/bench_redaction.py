"""Redaction benchmark: every text field of the transcript corpus through training redaction.

Prints throughput in MB/s and its ratio to a bare loop that only lower-cases each text and
looks for one keyword (the least any scan must do). No fixed target; watch the ratio.
Run: python bench/bench_redaction.py [repeat]
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from ctxtui.analytics.redaction import redact, rules

HERE = Path(__file__).resolve().parent
CORPUS = next((p / "shared" / "corpora" / "transcripts" for p in (HERE.parent.parent, Path("/work"))
               if (p / "shared" / "corpora" / "transcripts").is_dir()), Path("/nonexistent"))


def strings(value: object) -> Iterator[str]:
    """Every string inside a decoded JSON value."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            yield v
        elif isinstance(v, dict):
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)


def texts() -> list[str]:
    """The corpus's text fields, or a small synthetic set when it is absent."""
    out: list[str] = []
    for f in sorted(CORPUS.rglob("*.jsonl")) if CORPUS.is_dir() else []:
        for line in f.read_text(errors="replace").splitlines():
            try:
                out.extend(s for s in strings(json.loads(line)) if len(s) > 2)
            except ValueError:
                continue
    return out or ["Fix the flaky test; password: hunter2 and DB_PASS=x\n" * 50] * 2000


def main() -> None:
    repeat = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    data = texts()
    size = sum(len(t) for t in data) / 1e6
    rules()  # compile once, outside the timing
    start = time.perf_counter()
    for _ in range(repeat):
        for t in data:
            redact(t)
    full = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(repeat):
        for t in data:
            _ = "password" in t.lower()
    bare = time.perf_counter() - start
    print(f"{len(data):,} texts, {size:.1f} MB x {repeat}; {len(rules())} rules")
    print(f"redact: {size * repeat / full:.1f} MB/s; bare loop: {size * repeat / bare:.1f} MB/s; ratio {bare / full:.3f}")


if __name__ == "__main__":
    main()
