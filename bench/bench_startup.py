"""CLI start-up: ``ctxtui --help`` against an empty Python, ``ctxtui status`` (tiny, warm
workspace) against ``python -c "import tiktoken"``. Whole process, wall time, best of N.

Targets (issue 10): --help <= 4x ``python -c pass``; status <= 1.5x ``import tiktoken``.
The runs see a fresh HOME (no CTXTUI_*_DIR, no XDG_*): ctxtui finds its folders as it does for
a user, through platformdirs.

"Warm" means what a user's second ``status`` in an unchanged project is: the workspace's files
are older than the status cache's racy window (it trusts no file changed within 2 s of a run),
the first runs of ``status`` and ``status --json`` fill the token and status caches, and only
the later runs are timed. Each timed run still stats every file the first run read and replays
only if all are unchanged; the script checks that the timed runs were replayed
(``CTXTUI_CACHE_DEBUG``). Rows that are not targets: status with the cache off
(``CTXTUI_NO_CACHE=1``, every figure computed), and the floor the libraries set when it is off:
importing only what an uncached status cannot do without (the typed config is msgspec, the
caches are SQLite, the human table is rich).
Run: python bench/bench_startup.py [repeats]
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import compile_package  # noqa: E402

#: What an uncached ``status --json`` imports besides the standard library tiktoken itself needs.
DEPS = "import argparse, dataclasses, hashlib, json, pathlib, sqlite3, msgspec, platformdirs"
#: ... and the human table.
DEPS_RICH = DEPS + ", rich.console, rich.table"
PERSONA = "---\nname: {name}\ndescription: Use {name} for task {i}.\ntools: Read, Grep\n---\n\nYou are {name}.\n"


def ctxtui_cmd() -> list[str]:
    """The console script next to this Python (what users run), else ``python -m ctxtui``."""
    script = Path(sys.executable).parent / "ctxtui"
    return [str(script)] if script.exists() else [sys.executable, "-m", "ctxtui"]


def once(cmd: list[str], env: dict[str, str]) -> float:
    """Wall time of one run."""
    t = time.perf_counter()
    r = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - t
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {r.stderr.decode()[-500:]}")
    return elapsed


def best_pair(ours: list[str], peer: list[str], env: dict[str, str], repeats: int) -> tuple[float, float]:
    """Fastest of ``repeats`` runs each, ours and the peer alternating so both see the same load."""
    a, b = [], []
    for _ in range(repeats):
        a.append(once(ours, env))
        b.append(once(peer, env))
    return min(a), min(b)


def tiny_workspace(root: Path) -> tuple[Path, Path]:
    """Five personas in a library, an empty project."""
    lib, ws = root / "lib", root / "project"
    lib.mkdir()
    ws.mkdir()
    for i, name in enumerate(["alpha", "beta", "gamma", "delta", "epsilon"]):
        (lib / f"{name}.md").write_text(PERSONA.format(name=name, i=i))
    return lib, ws


def row(label: str, ours: float, peer: float, peer_label: str, target: float) -> None:
    ratio = ours / peer
    verdict = "ok" if ratio <= target else "over"
    print(f"{label:<18} {ours * 1000:7.1f} ms   {peer_label:<26} {peer * 1000:7.1f} ms   "
          f"ratio {ratio:5.2f}   target <= {target:<4} {verdict}")



def main(repeats: int = 15) -> None:
    compile_package()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("CTXTUI_", "XDG_")) and k != "PYTHONDONTWRITEBYTECODE"}
        env["HOME"] = str(root / "_env" / "home")  # settings, caches and ~/.claude in here
        (root / "_env" / "home").mkdir(parents=True)
        lib, ws = tiny_workspace(root)
        cmd = ctxtui_cmd()
        status = [*cmd, "status", "-l", str(lib), "-w", str(ws)]
        for _ in range(2):  # fill the caches; the first round creates ~/.cache, changing HOME itself
            time.sleep(2.1)  # past the status cache's racy window: the files are as a user's are
            for args in ([], ["--json"]):
                once([*status, *args], env)
        for args in ([], ["--json"]):
            r = subprocess.run([*status, *args], env={**env, "CTXTUI_CACHE_DEBUG": "1"},
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=True)
            if r.stderr:
                print(f"note: status {' '.join(args)} is not replayed: {r.stderr.decode().strip()}")
        py = sys.executable
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, best of {repeats}, load {os.getloadavg()[0]:.1f}")
        row("ctxtui --help", *best_pair([*cmd, "--help"], [py, "-c", "pass"], env, repeats),
            "python -c pass", 4.0)
        row("ctxtui status", *best_pair(status, [py, "-c", "import tiktoken"], env, repeats),
            'python -c "import tiktoken"', 1.5)
        row("status --json", *best_pair([*status, "--json"], [py, "-c", "import tiktoken"], env, repeats),
            'python -c "import tiktoken"', 1.5)
        # Not targets: status computed afresh, and what the libraries it needs cost on their own.
        row("(status, no cache)", *best_pair(status, [py, "-c", "import tiktoken"],
                                             {**env, "CTXTUI_NO_CACHE": "1"}, repeats),
            'python -c "import tiktoken"', 1.5)
        row("(deps of --json)", *best_pair([py, "-c", DEPS], [py, "-c", "import tiktoken"], env, repeats),
            'python -c "import tiktoken"', 1.5)
        row("(deps + rich)", *best_pair([py, "-c", DEPS_RICH], [py, "-c", "import tiktoken"], env, repeats),
            'python -c "import tiktoken"', 1.5)
        shutil.rmtree(root / "_env", ignore_errors=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 15)
