"""Transcript analysis benchmark: a generated history of at least 500 MB.

Prints analysis throughput (read + parse + link + analyse) as a ratio to a bare loop that
only reads and JSON-decodes the same lines. Target: >= 0.7.
Run: python bench/bench_transcripts.py [MB]
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
import time
from pathlib import Path

from ctxtui.analytics.transcripts import read_all
from ctxtui.analytics.usage import analyze

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parent.parent / "shared" / "corpora" / "transcripts"
PERSONAS = ["backend-engineer", "code-reviewer", "test-engineer", "debugger", "security-auditor",
            "frontend-engineer", "database-architect", "devops-engineer"]


def sample_records() -> list[dict]:
    """Real records to vary; a small built-in set when the corpus is absent."""
    recs: list[dict] = []
    for f in sorted(CORPUS.rglob("*.jsonl")) if CORPUS.is_dir() else []:
        for line in f.read_text(errors="replace").splitlines():
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if isinstance(rec, dict):
                recs.append(rec)
    return recs or [{"type": "user", "message": {"role": "user", "content": "hello"}}]


def generate(dest: Path, megabytes: int, seed: int = 3) -> int:
    """Write sessions of real-shaped records (plus subagent calls) until the size is reached."""
    rng = random.Random(seed)
    recs = sample_records()
    lines = [json.dumps(r) for r in recs]
    size, n = 0, 0
    target = megabytes * 1024 * 1024
    while size < target:
        proj = dest / f"-home-user-project-{n % 7}"
        proj.mkdir(parents=True, exist_ok=True)
        sid = f"{n:08d}-0000-4000-8000-000000000000"
        chunk = []
        for i in range(400):
            if i % 40 == 5:
                persona = rng.choice(PERSONAS)
                chunk.append(json.dumps({"type": "user", "sessionId": sid, "timestamp": f"2026-11-{1 + n % 28:02d}T10:00:{i % 60:02d}Z",
                                         "message": {"role": "user", "content": f"please ask the {persona} about item {i}"}}))
                chunk.append(json.dumps({"type": "assistant", "sessionId": sid, "requestId": f"r{n}-{i}",
                                         "message": {"id": f"m{n}-{i}", "role": "assistant", "model": "claude-sonnet-4-5",
                                                     "usage": {"input_tokens": 10, "output_tokens": 20, "cache_read_input_tokens": 1000},
                                                     "content": [{"type": "tool_use", "id": f"t{n}-{i}", "name": "Task",
                                                                  "input": {"subagent_type": persona, "description": "d", "prompt": f"work on {i}"}}]}}))
                chunk.append(json.dumps({"type": "user", "sessionId": sid, "message": {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": f"t{n}-{i}", "content": [{"type": "text", "text": "done " * 50}]}]},
                    "toolUseResult": {"agentId": f"a{n}{i}", "totalTokens": 1234}}))
            else:
                chunk.append(rng.choice(lines))
        if n % 50 == 0:
            chunk.append('{"broken": ')  # malformed lines must be skipped, not fatal
        data = "\n".join(chunk) + "\n"
        (proj / f"{sid}.jsonl").write_text(data)
        size += len(data.encode())
        n += 1
    return size


def bare_loop(root: Path) -> int:
    """Only read and JSON-decode every line."""
    count = 0
    loads = json.loads
    for f in sorted(root.rglob("*.jsonl")):
        with open(f, "rb") as fh:
            for line in fh:
                try:  # noqa: SIM105 - the cheapest form keeps the baseline honest
                    loads(line)
                except ValueError:
                    pass
                count += 1
    return count


def main(megabytes: int = 500) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t = time.perf_counter()
        size = generate(root, megabytes)
        print(f"generated {size / 1e6:.0f} MB in {time.perf_counter() - t:.1f} s")
        bare_loop(root)  # warm the page cache for both runs
        bares, fulls = [], []
        for _ in range(3):  # alternate, keep the median of each
            t = time.perf_counter()
            lines = bare_loop(root)
            bares.append(time.perf_counter() - t)
            t = time.perf_counter()
            sessions, stats = read_all(root)
            a = analyze(sessions, set(PERSONAS), set(), stats)
            fulls.append(time.perf_counter() - t)
        bare, full = sorted(bares)[1], sorted(fulls)[1]
        print(f"bare read+decode {bare:.2f} s ({size / 1e6 / bare:.0f} MB/s, {lines:,} lines)")
        print(f"ctxtui analysis  {full:.2f} s ({size / 1e6 / full:.0f} MB/s): {a.sessions:,} sessions, "
              f"{a.invocations:,} invocations, {stats.malformed} malformed lines skipped")
        print(f"throughput ratio analysis / bare loop = {bare / full:.2f}   (target >= 0.7)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500)
