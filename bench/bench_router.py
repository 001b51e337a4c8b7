"""Router training benchmark: ``ctxtui router train --force`` on a generated history.

Whole processes, wall clock, best of several interleaved runs, all in one run of this script:

  ours      ``router train --force``: the held-out models and the final one are fitted side by
            side on the usable cores (``ctxtui/analytics/forked.py``)
  one core  the same command with ``CTXTUI_WORKERS=1``: every model fitted in turn, the
            limit a single process reaches; target: ours <= 0.65x its time on 2 or more cores

Both read the transcripts from ctxtui's parse cache (filled by the warm-up run), so the rows
time the training. The history is generated from the real transcripts (bench/_history.py);
its size is $CTXTUI_BENCH_MB (default 300) or --mb.
Run: python bench/bench_router.py [--mb 300] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _history import generate  # noqa: E402
from _measure import (  # noqa: E402
    PYTHON,
    Runs,
    history_env,
    load_note,
    print_table,
    ratio_row,
    run,
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=float(os.environ.get("CTXTUI_BENCH_MB", "300")))
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        claude = tmp / "claude"
        size, files = generate(claude / "projects", args.mb)
        print(f"history: {size / 1e6:.0f} MB in {files:,} files")
        ws = tmp / "ws"
        ws.mkdir()
        env = history_env(tmp, claude)
        env.pop("CTXTUI_WORKERS", None)
        cmd = [PYTHON, "-m", "ctxtui", "--workspace", str(ws), "--claude-home", str(claude), "--no-user-scope",
               "router", "train", "--force"]
        envs = {"ours": env, "one core": dict(env, CTXTUI_WORKERS="1")}
        runs = {k: Runs(k) for k in envs}
        run(cmd, env)  # the parse cache
        for _ in range(args.repeats):
            for key, e in envs.items():
                wall, rss = run(cmd, e)
                runs[key].walls.append(wall)
                runs[key].rss_kib.append(rss)
    ours, one = runs["ours"], runs["one core"]
    ok = ours.best <= 0.65 * one.best if cores >= 2 else True
    target = "<= 0.65x" if cores >= 2 else "- (1 core)"
    print(f"router train benchmark, best of {args.repeats} whole-process runs; {load_note()}")
    print_table([ratio_row("router train --force vs one core (time)", ours.best, one.best, target, ok),
                 ratio_row("  peak RSS vs one core (info)", ours.rss_mib, one.rss_mib, "-", True, unit="MiB")])
    print("noise (worst/best wall): " + ", ".join(f"{k} {r.spread:.2f}" for k, r in runs.items()))


if __name__ == "__main__":
    main()
