"""TUI first paint against a minimal Textual app, whole process, wall time, best of N.

- ours: ``ctxtui`` (the real app factory) on a library of N real-shaped personas with a warm token
  cache, from process start until the cold pane holds its rows and a frame was drawn (the
  child prints the wall clock then; exit time is not counted);
- peer: the smallest Textual app a user could write for the same job: read the same rows (name,
  startup and full tokens) from a JSON file and show them in a DataTable;
- transcripts: our first paint with a large transcript history against none (the history is read
  after the first frame, so the ratio should stay near 1).

Targets (issue 10): ours <= 1.2x the peer at 1,000 and 5,000 personas; first paint independent
of transcript history size. Also prints toggle -> budget update and live-reload latency.
Run: python bench/bench_tui.py [repeats]
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _corpus import HERE, make_library  # noqa: E402

TRANSCRIPTS = next((p / "shared" / "corpora" / "transcripts" for p in (HERE.parent.parent, HERE.parent.parent.parent)
                    if (p / "shared" / "corpora" / "transcripts").is_dir()), HERE / "missing")
SIZE = (140, 40)

#: The peer: a minimal Textual app showing the same rows in a DataTable, then exiting.
PEER = """
import json, sys, time
from textual.app import App
from textual.widgets import DataTable, Footer, Header

class Peer(App):
    def compose(self):
        yield Header()
        yield DataTable(id="rows")
        yield Footer()

    def on_mount(self):
        table = self.query_one(DataTable)
        table.add_columns("startup", "full", "name")
        rows = json.load(open(sys.argv[1]))
        table.add_rows([(r["startup"], r["full"], r["name"]) for r in rows])

async def until_painted(pilot):
    while not pilot.app.query_one(DataTable).row_count:
        await pilot.pause(0.002)
    await pilot.pause(0)  # every widget processed its queue (not "CPU idle": ours reads transcripts)
    print("PAINTED", time.time(), flush=True)
    pilot.app.exit()

Peer().run(headless=True, size=(140, 40), auto_pilot=until_painted)
"""

#: Ours: the real app, exiting once the cold pane shows its rows and a frame was drawn.
OURS = """
import sys, time
from pathlib import Path
from ctxtui.core.config import load_settings
from ctxtui.tui.app import make_app

lib, ws, cache, transcripts = map(Path, sys.argv[1:5])
settings = load_settings(workspace=ws, library_dirs=[lib], include_user_scope=False, cache_path=cache,
                         transcripts_dir=transcripts)
app = make_app(settings, watch_files=False, remember_theme=False)

async def until_painted(pilot):
    while not (pilot.app.screen.query("#cold") and pilot.app.screen.query_one("#cold").row_count):
        await pilot.pause(0.002)
    await pilot.pause(0)  # every widget processed its queue (not "CPU idle": ours reads transcripts)
    print("PAINTED", time.time(), flush=True)
    pilot.app.exit()

app.run(headless=True, size=(140, 40), auto_pilot=until_painted)
"""


def wall(cmd: list[str], env: dict[str, str]) -> float:
    """Seconds from starting the process to its first painted frame with the rows."""
    t = time.time()
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    painted = [line.split()[1] for line in r.stdout.splitlines() if line.startswith("PAINTED ")]
    if r.returncode != 0 or not painted:
        raise SystemExit(f"{cmd[:3]} failed: {r.stderr[-800:]}")
    return float(painted[0]) - t


def large_history(dest: Path, megabytes: int) -> Path:
    """A transcript folder of about ``megabytes`` MB: the real transcripts copied many times."""
    files = sorted(TRANSCRIPTS.rglob("*.jsonl")) if TRANSCRIPTS.is_dir() else []
    if not files:
        return dest
    size, i = 0, 0
    while size < megabytes * 2**20:
        src = files[i % len(files)]
        out = dest / f"-project-{i // 50:03d}" / f"{i:05d}-{src.name}"
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, out)
        size += out.stat().st_size
        i += 1
    return dest


def rows_json(settings_lib: Path, cache: Path, out: Path) -> int:
    """The rows our cold pane shows, written for the peer (same names and counts)."""
    from ctxtui.core.library import TokenCache, index_library

    lib = index_library([settings_lib], TokenCache(cache))  # also warms the token cache
    rows = [{"name": p.name, "startup": f"{p.startup_tokens:,}", "full": f"{p.full_tokens:,}"} for p in lib.unique()]
    out.write_text(json.dumps(rows))
    return len(rows)


def first_paint(repeats: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        env = dict(os.environ)
        for var, sub in (("CTXTUI_CONFIG_DIR", "config"), ("CTXTUI_CACHE_DIR", "cache"),
                         ("CTXTUI_DATA_DIR", "data"), ("CTXTUI_CLAUDE_HOME", "home/.claude")):
            env[var] = str(root / "_env" / sub)
        env.pop("CTXTUI_LIBRARY", None)
        py = sys.executable
        none = root / "no-transcripts"
        big = large_history(root / "transcripts", 200)
        big_mb = sum(p.stat().st_size for p in big.rglob("*.jsonl")) / 2**20
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, best of {repeats}, "
              f"load {os.getloadavg()[0]:.1f}; whole process, headless, {SIZE[0]}x{SIZE[1]}")
        for n in (1000, 5000):
            lib = make_library(root / f"lib{n}", n)
            cache = root / f"cache{n}.sqlite"
            rows = rows_json(lib, cache, root / f"rows{n}.json")

            def ours_cmd(ws: Path, tr: Path, lib: Path = lib, cache: Path = cache) -> list[str]:
                return [py, "-c", OURS, str(lib), str(ws), str(cache), str(tr)]

            peer_cmd = [py, "-c", PEER, str(root / f"rows{n}.json")]
            (root / f"warm{n}").mkdir()
            wall(ours_cmd(root / f"warm{n}", none), env)  # first run: bytecode, page cache
            ours, peer, ours_big = [], [], []
            for r in range(repeats):  # interleaved, so all three see the same machine load
                ws = root / f"ws{n}-{r}"
                ws.mkdir()
                ours.append(wall(ours_cmd(ws, none), env))
                peer.append(wall(peer_cmd, env))
                ours_big.append(wall(ours_cmd(ws, big), env))
            o, p, b = min(ours), min(peer), min(ours_big)
            print(f"{n:>5} personas ({rows} rows): ours {o * 1000:6.0f} ms  minimal Textual DataTable app "
                  f"{p * 1000:6.0f} ms  ratio {o / p:4.2f}  target <= 1.2")
            print(f"{n:>5} personas: with {big_mb:.0f} MB of transcripts {b * 1000:6.0f} ms  "
                  f"without {o * 1000:6.0f} ms  ratio {b / o:4.2f}  target ~1.0 (independent)")


async def _toggle_and_reload(lib: Path, ws: Path, cache: Path) -> tuple[float, float]:
    """In-process: toggle -> budget on screen, and an external file write -> on screen."""
    from ctxtui.core.config import load_settings
    from ctxtui.tui.app import make_app
    from ctxtui.tui.widgets.budget_bar import BudgetBar

    settings = load_settings(workspace=ws, library_dirs=[lib], include_user_scope=False, cache_path=cache)
    app = make_app(settings, watch_files=True, remember_theme=False)
    async with app.run_test(size=SIZE) as pilot:
        while app.screen.model is None:  # type: ignore[attr-defined]
            await asyncio.sleep(0.002)
        screen = app.screen
        await pilot.pause(0.5)
        bar = screen.query_one(BudgetBar)
        before = bar.budget
        t = time.perf_counter()
        await pilot.press("t")
        while bar.budget is before:
            await asyncio.sleep(0.001)
        toggle = time.perf_counter() - t
        (ws / ".claude" / "agents").mkdir(parents=True, exist_ok=True)
        await pilot.pause(0.5)
        t = time.perf_counter()
        (ws / ".claude" / "agents" / "outsider.md").write_text("---\nname: outsider\ndescription: d\n---\n")
        while "outsider" not in [r.name for r in screen.model.hot]:  # type: ignore[attr-defined]
            await asyncio.sleep(0.002)
        return toggle, time.perf_counter() - t


def interactions(repeats: int) -> None:
    from ctxtui.core.library import TokenCache, index_library

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for var, sub in (("CTXTUI_CONFIG_DIR", "config"), ("CTXTUI_CACHE_DIR", "cache"), ("CTXTUI_DATA_DIR", "data"),
                         ("CTXTUI_CLAUDE_HOME", "home/.claude")):
            os.environ[var] = str(root / "_env" / sub)
        lib = make_library(root / "lib", 1000)
        cache = root / "cache.sqlite"
        index_library([lib], TokenCache(cache))
        results = []
        for r in range(repeats):
            ws = root / f"ws{r}"
            ws.mkdir()
            results.append(asyncio.run(_toggle_and_reload(lib, ws, cache)))
        toggle = statistics.median(t for t, _ in results)
        reload = statistics.median(x for _, x in results)
        print(f" 1000 personas: toggle -> budget {toggle * 1000:6.1f} ms, external write -> on screen "
              f"{reload * 1000:6.1f} ms (medians of {repeats})")


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    first_paint(n)
    interactions(3)
