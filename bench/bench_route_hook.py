"""Latency of the UserPromptSubmit hook, end to end: spawn Python, read stdin, answer.

A model is trained on generated sessions (tests/router_corpus.py) with the wshobson library,
then the hook process is run once per prompt (held-out prompts: some fire, most do not).
Peers measured in the same run, interleaved so machine load hits all alike:
- ``python -c pass``: the floor of any hook written in Python;
- bare: ``python -c`` reading stdin and decoding the JSON, the unavoidable work.
Prints p50/p95 of each and the hook's p95 overhead over the floor. Target: p95 <= 50 ms warm
(bytecode compiled, files in the page cache; the machine's load shows in the floor's figures).
Run: python bench/bench_route_hook.py [RUNS]
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from router_corpus import WSHOBSON, generate  # noqa: E402

from ctxtui.analytics import router  # noqa: E402

BARE = "import sys, json; d = json.loads(sys.stdin.buffer.read()); d.get('prompt')"


def timed(cmd: list[str], stdin: bytes, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, input=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=False)
    return (time.perf_counter() - start) * 1000


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def main(runs: int = 200) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        env = {**os.environ, "CTXTUI_CACHE_DIR": str(root / "cache"), "CTXTUI_DATA_DIR": str(root / "data"),
               "CTXTUI_CLAUDE_HOME": str(root / "claude"), "PYTHONPYCACHEPREFIX": str(root / "pycache")}
        # warm means compiled: an installed ctxtui has its .pyc files (a source checkout run with
        # PYTHONDONTWRITEBYTECODE would recompile every module on every prompt)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        generate(root / "claude" / "projects", sessions=240, seed=23)
        descriptions, paths = router.library_personas([WSHOBSON])
        res = router.build(root / "claude" / "projects", root / "cache", locations=paths, descriptions=descriptions)
        size = res.path.stat().st_size
        sessions, _ = router.read_all(root / "claude" / "projects")
        _, test = router.split_by_time(router.examples(sessions))
        prompts = [json.dumps({"session_id": "b", "cwd": "/home/dev/projects/shop-api", "prompt": e.text,
                               "hook_event_name": "UserPromptSubmit"}).encode() for e in test]
        hook = [sys.executable, "-m", "ctxtui.route_hook"]
        # the shape of a console script (``ctxtui route --hook`` once the CLI dispatches early)
        script = [sys.executable, "-c", "import sys; from ctxtui.route_hook import main; sys.exit(main([]))"]
        floor = [sys.executable, "-c", "pass"]
        bare = [sys.executable, "-c", BARE]
        for _ in range(5):  # warm the page cache and the bytecode
            timed(hook, prompts[0], env)
        t_hook, t_script, t_floor, t_bare, fired = [], [], [], [], 0
        for i in range(runs):
            stdin = prompts[i % len(prompts)]
            t_floor.append(timed(floor, stdin, env))
            t_bare.append(timed(bare, stdin, env))
            t_hook.append(timed(hook, stdin, env))
            t_script.append(timed(script, stdin, env))
        # the hook's own work once Python is up: import + answer, in this process (env applied)
        code = ("import sys, time, json; t = time.perf_counter(); from ctxtui import route_hook; "
                "t1 = time.perf_counter(); ps = [l.encode() for l in sys.stdin.read().splitlines()]; out = []\n"
                "for p in ps:\n s = time.perf_counter(); route_hook.answer(p); out.append(time.perf_counter() - s)\n"
                "print(json.dumps([t1 - t, out]))")
        r = subprocess.run([sys.executable, "-c", code], input=b"\n".join(prompts), capture_output=True, env=env,
                           check=True)
        import_s, answers = json.loads(r.stdout)
        answers_ms = [a * 1000 for a in answers]
        for stdin in prompts[: min(len(prompts), runs)]:
            out = subprocess.run(hook, input=stdin, capture_output=True, env=env, check=False).stdout
            fired += bool(out.strip())
        print(f"model: {res.classes} personas, {size / 1024:.0f} KiB; {runs} runs; "
              f"fired on {fired}/{min(len(prompts), runs)} held-out prompts")
        print(f"{'':22}{'p50 ms':>8}{'p95 ms':>8}")
        for name, t in (("python -c pass", t_floor), ("bare stdin+json", t_bare),
                        ("hook (-m route_hook)", t_hook), ("hook (script shape)", t_script)):
            print(f"{name:22}{statistics.median(t):8.1f}{pct(t, 0.95):8.1f}")
        print(f"in process: import ctxtui.route_hook {import_s * 1000:.1f} ms; answer() p50 "
              f"{statistics.median(answers_ms):.2f} ms, p95 {pct(answers_ms, 0.95):.2f} ms over {len(answers_ms)} prompts")
        over = pct(t_script, 0.95) - pct(t_floor, 0.95)
        print(f"hook p95 {pct(t_script, 0.95):.1f} ms (target <= 50), {over:+.1f} ms over python -c pass; "
              f"p50 ratio hook/bare {statistics.median(t_script) / statistics.median(t_bare):.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
