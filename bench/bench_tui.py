"""TUI benchmark: first paint and a toggle-to-budget update, 1,000 personas vs 10.

Prints each time and the ratio (1,000 / 10) measured in one run. Headless (App.run_test).
Run: python bench/bench_tui.py
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _corpus import make_library  # noqa: E402
from ctxtui.core.config import load_settings  # noqa: E402
from ctxtui.core.library import TokenCache, index_library  # noqa: E402
from ctxtui.tui.app import make_app  # noqa: E402
from ctxtui.tui.widgets.budget_bar import BudgetBar  # noqa: E402


async def measure(lib: Path, ws: Path, cache: Path) -> tuple[float, float]:
    settings = load_settings(workspace=ws, library_dirs=[lib], include_user_scope=False, cache_path=cache)
    app = make_app(settings, watch_files=False, remember_theme=False)
    t0 = time.perf_counter()
    async with app.run_test(size=(140, 40)) as pilot:
        while True:  # first paint = the first model on screen
            screen = app.screen
            if getattr(screen, "ready", None) is not None and screen.ready.is_set():
                break
            await asyncio.sleep(0.001)
        first = time.perf_counter() - t0
        await pilot.pause(0.6)  # let the detail pane finish rendering, as it would before a keypress
        budget = screen.query_one(BudgetBar)
        before, version = budget.budget, screen.model_version
        t1 = time.perf_counter()
        screen.action_toggle()  # what the `t` key runs
        while screen.model_version == version:
            await asyncio.sleep(0.001)
        toggle = time.perf_counter() - t1
        assert budget.budget is not before
        await pilot.press("u")
        await pilot.pause(0.3)
    return first, toggle


async def reload_latency(lib: Path, ws: Path, cache: Path) -> float:
    """Seconds from another program writing an agent file to it being on screen."""
    settings = load_settings(workspace=ws, library_dirs=[lib], include_user_scope=False, cache_path=cache)
    app = make_app(settings, watch_files=True, remember_theme=False)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = app.screen
        while not screen.ready.is_set():
            await asyncio.sleep(0.005)
        (ws / ".claude" / "agents").mkdir(parents=True, exist_ok=True)
        await pilot.pause(0.5)
        t = time.perf_counter()
        (ws / ".claude" / "agents" / "outsider.md").write_text("---\nname: outsider\ndescription: d\n---\n")
        while not screen.model or "outsider" not in [r.name for r in screen.model.hot]:
            await asyncio.sleep(0.002)
        return time.perf_counter() - t


def main(repeats: int = 5) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        results = {}
        warm_lib = make_library(Path(tmp) / "warmup", 10)
        (Path(tmp) / "warmup-ws").mkdir()
        asyncio.run(measure(warm_lib, Path(tmp) / "warmup-ws", Path(tmp) / "warmup.sqlite"))  # imports, CSS
        for n in (10, 1000):
            lib = make_library(Path(tmp) / f"lib{n}", n)
            cache = Path(tmp) / f"cache{n}.sqlite"
            index_library([lib], TokenCache(cache))  # warm cache: the usual start
            firsts, toggles = [], []
            for r in range(repeats):
                ws = Path(tmp) / f"ws{n}-{r}"
                ws.mkdir()
                f, t = asyncio.run(measure(lib, ws, cache))
                firsts.append(f)
                toggles.append(t)
            results[n] = (statistics.median(firsts), statistics.median(toggles))
            print(f"      first paints (ms): {[round(f * 1000) for f in firsts]}")
            print(f"{n:>5} personas: first paint {results[n][0] * 1000:7.1f} ms, toggle→budget {results[n][1] * 1000:7.1f} ms")
            lat = [asyncio.run(reload_latency(lib, Path(tmp) / f"rl{n}-{r}", cache)) for r in range(3)]
            print(f"{n:>5} personas: external file change → on screen {statistics.median(lat) * 1000:7.1f} ms")
        print(f"first paint ratio 1000/10   = {results[1000][0] / results[10][0]:.2f}")
        print(f"toggle→budget ratio 1000/10 = {results[1000][1] / results[10][1]:.2f}")


if __name__ == "__main__":
    main()
