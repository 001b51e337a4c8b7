"""Live gauge benchmark: latency from a line appended to a transcript to the update, p50/p95.

Measured in one run:
* ``ctxtui watch --json`` (a subprocess): append -> its JSON line read back;
* the TUI pane (``ContextGauge`` in a headless app): append -> the widget holds the new state;
* the bare limits: a Python loop spinning on ``os.stat`` + read + ``json.loads`` (100% CPU; what
  no follower can beat) and the same watchfiles watcher and step doing only read + ``json.loads``
  (the floor of an event-driven follower, which the ratio is taken against);
* idle CPU of ``ctxtui watch`` over a few seconds with nothing appended;
* the first read of the largest shared transcript: ours vs a bare ``json.loads`` per line.
Target: p95 <= 300 ms. Run: python bench/bench_live.py [appends]
"""

from __future__ import annotations

import asyncio
import json
import os
import queue
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from ctxtui.analytics.live import SessionGauge, TranscriptFollower, project_dir_name

TARGET_P95_MS = 300.0
CORPUS = Path("/work/shared/corpora/transcripts/marot__spotter/258c7280-ae70-4798-800f-63464d01a85d.jsonl")


def record(n: int) -> bytes:
    usage = {"input_tokens": 3, "cache_creation_input_tokens": 100, "cache_read_input_tokens": n}
    rec = {"type": "assistant", "sessionId": "bench", "version": "2.1.112",
           "message": {"id": f"m{n}", "model": "claude-opus-4-6", "content": [], "usage": usage}}
    return (json.dumps(rec) + "\n").encode()


def tokens(n: int) -> int:
    return 103 + n


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def append(path: Path, data: bytes) -> float:
    with open(path, "ab") as fh:
        t = time.perf_counter()
        fh.write(data)
    return t


def bench_cli(n: int, tmp: Path) -> tuple[list[float], float]:
    """(latencies in ms, idle CPU seconds per second) of ``ctxtui watch --json``."""
    ws = tmp / "ws"
    ws.mkdir()
    home = tmp / "home"
    folder = home / "projects" / project_dir_name(str(ws.resolve()))
    folder.mkdir(parents=True)
    log = folder / "s.jsonl"
    log.write_bytes(record(1))
    env = dict(os.environ, CTXTUI_CONFIG_DIR=str(tmp / "cfg"))
    proc = subprocess.Popen([sys.executable, "-m", "ctxtui.cli.watch", "-w", str(ws), "--claude-home", str(home),
                             "--json", "--no-predict"], stdout=subprocess.PIPE, env=env)
    seen: queue.Queue = queue.Queue()

    def reader() -> None:
        for raw in proc.stdout:  # type: ignore[union-attr]
            seen.put((time.perf_counter(), json.loads(raw)["context_tokens"]))

    threading.Thread(target=reader, daemon=True).start()
    try:
        seen.get(timeout=60)
        idle = idle_cpu(proc.pid, 6.0)
        out = []
        for i in range(2, n + 2):
            t0 = append(log, record(i))
            while True:
                t1, value = seen.get(timeout=10)
                if value == tokens(i):
                    break
            out.append((t1 - t0) * 1000)
        return out, idle
    finally:
        proc.terminate()
        proc.wait(10)


def idle_cpu(pid: int, seconds: float) -> float:
    """CPU seconds per second a process uses while nothing happens (Linux /proc; -1 elsewhere)."""
    stat = Path(f"/proc/{pid}/stat")
    if not stat.exists():
        return -1.0
    tick = os.sysconf("SC_CLK_TCK")

    def cpu() -> float:
        fields = stat.read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / tick

    c0 = cpu()
    time.sleep(seconds)
    return (cpu() - c0) / seconds


async def bench_widget(n: int, tmp: Path) -> list[float]:
    from textual.app import App, ComposeResult

    from ctxtui.tui.widgets.gauge import ContextGauge

    folder = tmp / "wproj"
    folder.mkdir()
    log = folder / "s.jsonl"
    log.write_bytes(record(1))
    gauge = ContextGauge(folder)

    class BenchApp(App):
        def compose(self) -> ComposeResult:
            yield gauge

    out = []
    async with BenchApp().run_test() as pilot:
        while gauge.snapshot is None:
            await pilot.pause(0.01)
        for i in range(2, n + 2):
            t0 = append(log, record(i))
            while gauge.snapshot is None or gauge.snapshot.context_tokens != tokens(i):
                await asyncio.sleep(0.001)
            out.append((time.perf_counter() - t0) * 1000)
    return out


def bench_bare(n: int, tmp: Path) -> list[float]:
    """A spinning reader: the latency floor of noticing an append in Python."""
    log = tmp / "bare.jsonl"
    log.write_bytes(b"")
    stop = threading.Event()
    got: queue.Queue = queue.Queue()

    def spin() -> None:
        offset = 0
        while not stop.is_set():
            if os.stat(log).st_size > offset:
                offset = _read_new(log, offset, got)

    th = threading.Thread(target=spin, daemon=True)
    th.start()
    out = _latencies(log, got, n, pause=0.002)
    stop.set()
    th.join()
    return out


def _read_new(log: Path, offset: int, got: queue.Queue) -> int:
    """Read what was appended after ``offset``, queue each decoded line with its time."""
    with open(log, "rb") as fh:
        fh.seek(offset)
        data = fh.read()
    for raw in data.splitlines():
        got.put((time.perf_counter(), json.loads(raw)))
    return offset + len(data)


def _latencies(log: Path, got: queue.Queue, n: int, pause: float = 0.0) -> list[float]:
    """Append ``n`` records; milliseconds from each append until a reader queued it."""
    out = []
    for i in range(2, n + 2):
        t0 = append(log, record(i))
        t1, _ = got.get(timeout=10)
        out.append((t1 - t0) * 1000)
        if pause:
            time.sleep(pause)
    return out


def bench_bare_events(n: int, tmp: Path, step_ms: int = 50) -> list[float]:
    """The same watchfiles watcher and step as ours, doing only read + ``json.loads``: the floor
    of an event-driven follower (most of the latency is watchfiles' quiet-period ``step``)."""
    from watchfiles._rust_notify import RustNotify

    folder = tmp / "bare-events"
    folder.mkdir()
    log = folder / "s.jsonl"
    log.write_bytes(b"")
    got: queue.Queue = queue.Queue()
    stop = threading.Event()
    watcher = RustNotify([str(folder)], False, False, 300, False, False)

    def loop() -> None:
        offset = 0
        while watcher.watch(200, step_ms, 0, stop) != "stop":
            offset = _read_new(log, offset, got)

    th = threading.Thread(target=loop, daemon=True)
    th.start()
    out = _latencies(log, got, n)
    stop.set()
    th.join()
    watcher.close()
    return out


def bench_first_read() -> tuple[float, float, int] | None:
    if not CORPUS.is_file():
        return None
    best_ours = best_bare = float("inf")
    for _ in range(5):
        t = time.perf_counter()
        f, g = TranscriptFollower(CORPUS), SessionGauge(CORPUS)
        for rec in f.read()[0]:
            g.feed(rec)
        best_ours = min(best_ours, time.perf_counter() - t)
        t = time.perf_counter()
        with open(CORPUS, "rb") as fh:
            for raw in fh:
                json.loads(raw)
        best_bare = min(best_bare, time.perf_counter() - t)
    return best_ours * 1000, best_bare * 1000, CORPUS.stat().st_size


def show(name: str, ms: list[float], events_p50: float) -> None:
    p50, p95 = statistics.median(ms), pct(ms, 95)
    print(f"{name:<28} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  max {max(ms):7.1f} ms  "
          f"p95/target {p95 / TARGET_P95_MS:4.2f}  p50/bare-events {p50 / events_p50:4.2f}"
          f"  {'OK' if p95 <= TARGET_P95_MS else 'OVER'}")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        bare = bench_bare(n, tmp)
        events = bench_bare_events(n, tmp)
        cli, idle = bench_cli(n, tmp)
        widget = asyncio.run(bench_widget(n, tmp))
    events_p50 = statistics.median(events)
    print(f"appends: {n}, one at a time (each waits for its update); target p95 <= {TARGET_P95_MS:.0f} ms")
    print(f"{'bare spinning loop':<28} p50 {statistics.median(bare):7.3f} ms  p95 {pct(bare, 95):7.3f} ms"
          "  (100% CPU while waiting)")
    print(f"{'bare watchfiles loop':<28} p50 {events_p50:7.1f} ms  p95 {pct(events, 95):7.1f} ms"
          "  (same watcher and step, read + json.loads only)")
    show("ctxtui watch --json", cli, events_p50)
    show("TUI ContextGauge pane", widget, events_p50)
    print(f"idle CPU of ctxtui watch: {idle * 100:.2f}% of one core" if idle >= 0 else "idle CPU: n/a")
    first = bench_first_read()
    if first:
        ours, b, size = first
        print(f"first read of {size / 1e6:.1f} MB transcript: ours {ours:.1f} ms, bare json.loads loop {b:.1f} ms, "
              f"ratio {ours / b:.2f}")



if __name__ == "__main__":
    main()
