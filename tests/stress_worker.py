"""One ctxtui process looping real commands for the concurrency test (not collected).

Usage: python stress_worker.py WORKSPACE LIBRARY SECONDS SEED RESULT_JSON

Each command runs through ``ctxtui.cli.main`` in this process, with its stderr captured.
After each command the worker takes the workspace lock and checks the cap on the files in
``.claude/agents``. Anything that escapes ``main`` as an exception is a traceback (a bug).
"""

from __future__ import annotations

import contextlib
import io
import json
import random
import re
import sys
import time
import traceback
from pathlib import Path


def main() -> int:
    workspace, library, seconds, seed, result = sys.argv[1:6]
    from ctxtui.cli import main as ctxtui
    from ctxtui.core import lock
    from ctxtui.core.workspace import parse_state

    ws, lib = Path(workspace), Path(library)
    agents, state_dir = ws / ".claude" / "agents", ws / ".claude" / "ctxtui"
    names = ["alpha", "beta", "gamma", "delta", "epsilon"]
    rng = random.Random(int(seed))
    deadline = time.monotonic() + float(seconds)
    out = {"ops": 0, "exit": {}, "tracebacks": [], "cap_violations": [], "duplicates": [], "errors": {}, "slowest": 0.0}
    before: list[str] = []
    common = ["-w", str(ws), "-l", str(lib)]
    while time.monotonic() < deadline:
        roll = rng.random()
        if roll < 0.25:
            args = ["activate", rng.choice(names)]
        elif roll < 0.45:
            args = ["deactivate", rng.choice(names)]
        elif roll < 0.60:
            args = ["migrate", "--to", "lazy_loading", "--force", "--hot", *rng.sample(names, rng.randint(1, 2))]
        elif roll < 0.68:
            args = ["migrate", "--to", "hybrid", "--force", "--hot", rng.choice(names)]
        elif roll < 0.72:
            args = ["migrate", "--to", "eager"]
        elif roll < 0.85:
            args = ["claude-md", "--write"]
        elif roll < 0.95:
            args = ["profile", "use", "backend"]
        else:
            args = ["profile", "save", f"p{rng.randint(1, 3)}", "--personas", "gamma"]
        err = io.StringIO()
        started = time.monotonic()
        try:
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
                code = ctxtui([*args, *common])
        except BaseException:  # noqa: BLE001 - a traceback (or SystemExit) is what we count
            out["tracebacks"].append(" ".join(args) + "\n" + traceback.format_exc())
            code = -1
        out["slowest"] = max(out["slowest"], time.monotonic() - started)
        out["ops"] += 1
        out["exit"][str(code)] = out["exit"].get(str(code), 0) + 1
        for line in err.getvalue().splitlines():
            if "Traceback" in line:
                out["tracebacks"].append(err.getvalue())
            key = line.replace(str(ws), "<ws>").split("error:", 1)[-1].strip()[:90]
            out["errors"][key] = out["errors"].get(key, 0) + 1
        with lock.locked(state_dir):
            hot = sorted(p.name for p in agents.rglob("*.md")) if agents.is_dir() else []
            raw = (state_dir / "state.json").read_bytes() if (state_dir / "state.json").exists() else None
            strategy = parse_state(raw)[0].get("strategy")
            if strategy != "eager" and len(hot) > 3:
                out["cap_violations"].append({"after": args, "hot": hot, "strategy": strategy})
            dupes = [h for h in hot if h not in before and re.search(r"-\d+\.md$", h)]
            if dupes:
                out["duplicates"].append({"after": args, "before": before, "hot": hot, "err": err.getvalue()})
            before = hot
    Path(result).write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
