"""Transcript analysis benchmark: ``ctxtui analyze`` on a large generated history.

Whole processes, wall clock, best of several runs, all in one run of this script:

  ours      ``ctxtui analyze --json`` (read, link, analyse, print) on a history analysed
            before: unchanged transcripts come from ctxtui's parse cache, as on a user's
            second run (the warm-up run below fills it)
  cold      ``ctxtui analyze --json --no-cache``: every line of every transcript parsed
  ccusage   ccusage 20's native build, its per-session usage report (``claude session
            --offline --json``) on the same folder; target: ours at least as fast
  bare      a Python process that only reads every ``.jsonl`` line of the same folder and
            decodes it with the standard library's json; target: cold >= 1.5x its throughput

The history is generated from the real transcripts (bench/_history.py); its size is
$CTXTUI_BENCH_MB (default 600) or --mb. ccusage is installed with npm into a temporary folder
(``npm install ccusage@20.0.24``); without npm, or with --no-ccusage, that row is skipped.
Run: python bench/bench_transcripts.py [--mb 600] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import stat
import subprocess
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

CCUSAGE = "ccusage@20.0.24"
BARE = """
import json, os, sys
loads = json.loads
n = 0
for dirpath, _, files in os.walk(sys.argv[1]):
    for name in files:
        if name.endswith(".jsonl"):
            with open(os.path.join(dirpath, name), "rb") as fh:
                for line in fh:
                    try:
                        loads(line)
                    except ValueError:
                        pass
                    n += 1
print(n)
"""


def install_ccusage(dest: Path) -> Path | None:
    """ccusage's native binary for this platform, installed with npm; None if unavailable."""
    npm = shutil.which("npm")
    if npm is None:
        print("bench: npm not found; ccusage skipped")
        return None
    done = subprocess.run([npm, "install", "--prefix", str(dest), "--no-audit", "--no-fund", CCUSAGE],
                          capture_output=True, text=True)
    if done.returncode != 0:
        print(f"bench: npm install {CCUSAGE} failed; ccusage skipped: {done.stderr.strip()[-300:]}")
        return None
    found = sorted((dest / "node_modules" / "@ccusage").glob("ccusage-*/bin/ccusage"))
    if not found:
        print("bench: ccusage ships no native binary for this platform; skipped")
        return None
    found[0].chmod(found[0].stat().st_mode | stat.S_IXUSR)
    return found[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=float(os.environ.get("CTXTUI_BENCH_MB", "600")))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-ccusage", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        claude = tmp / "claude"
        size, files = generate(claude / "projects", args.mb)
        print(f"history: {size / 1e6:.0f} MB in {files:,} files")
        ccusage = None if args.no_ccusage else install_ccusage(tmp / "npm")
        ws = tmp / "ws"
        ws.mkdir()
        env = history_env(tmp, claude)
        commands = {
            "bare": [PYTHON, "-c", BARE, str(claude / "projects")],
            "ours": [PYTHON, "-m", "ctxtui", "--workspace", str(ws), "--claude-home", str(claude),
                     "--no-user-scope", "analyze", "--json"],
        }
        commands["cold"] = [*commands["ours"], "--no-cache"]
        if ccusage is not None:
            commands["ccusage"] = [str(ccusage), "claude", "session", "--offline", "--json"]
        runs = {k: Runs(k) for k in commands}
        for cmd in commands.values():  # page cache, library index cache, transcript parse cache
            run(cmd, env)
        for _ in range(args.repeats):
            for key, cmd in commands.items():
                wall, rss = run(cmd, env)
                runs[key].walls.append(wall)
                runs[key].rss_kib.append(rss)
    ours, cold, bare = runs["ours"], runs["cold"], runs["bare"]
    mb = size / 1e6
    rows = [ratio_row("analyze --no-cache vs bare json loop (time)", cold.best, bare.best, "<= 0.67x",
                      cold.best * 1.5 <= bare.best)]
    rows.append([f"  throughput {mb / cold.best:.0f} MB/s vs {mb / bare.best:.0f} MB/s", "", "", f"{bare.best / cold.best:.2f}x",
                 ">= 1.50x", "PASS" if cold.best * 1.5 <= bare.best else "FAIL"])
    if "ccusage" in runs:
        cc = runs["ccusage"]
        rows.append(ratio_row("analyze (parse cache) vs ccusage session (time)", ours.best, cc.best, "<= 1.00x",
                              ours.best <= cc.best))
        rows.append(ratio_row("analyze --no-cache vs ccusage session (time)", cold.best, cc.best, "<= 1.00x",
                              cold.best <= cc.best))
        rows.append(ratio_row("  peak RSS vs ccusage (info)", cold.rss_mib, cc.rss_mib, "-", True, unit="MiB"))
    rows.append(ratio_row("  peak RSS vs bare loop (info)", cold.rss_mib, bare.rss_mib, "-", True, unit="MiB"))
    print(f"analyze benchmark, best of {args.repeats} whole-process runs; {load_note()}")
    print("(peak RSS is the main process's; the forked readers of a large history each hold their runs' sessions)")
    print_table(rows)
    print("noise (worst/best wall): " + ", ".join(f"{k} {r.spread:.2f}" for k, r in runs.items()))


if __name__ == "__main__":
    main()
