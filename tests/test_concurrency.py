"""Two ctxtui processes and an editor at once: no edit lost, no traceback, the cap held.

The editor writes a unique marker into hot agent files (in place, as an editor holding the
file would), CLAUDE.md and .claude/settings.local.json (in place or by atomic rename) every
few tens of milliseconds, while two processes loop activate / deactivate / migrate /
claude-md --write / profile use. At the end, the last marker written to every file must be
somewhere in the project: in place, in the cold store, in versions/ or in conflicts/.
``CTXTUI_STRESS_SECONDS`` sets the length (default 30).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

from conftest import persona_text
from ctxtui.core import strategies
from ctxtui.core.workspace import Workspace

SECONDS = float(os.environ.get("CTXTUI_STRESS_SECONDS", "30"))
WORKER = Path(__file__).with_name("stress_worker.py")


class Editor(threading.Thread):
    """Writes marked edits; remembers the last marker that reached each file."""

    def __init__(self, workspace: Path, stop: threading.Event, seed: int) -> None:
        super().__init__(daemon=True)
        self.ws, self.stop, self.rng = workspace, stop, random.Random(seed)
        self.last: dict[str, str] = {}
        self.written = 0

    def token(self) -> str:
        return f"EDIT-{uuid.uuid4().hex}"

    def write_in_place(self, path: Path, data: bytes) -> bool:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_TRUNC)  # never creates: a gone file stays gone
        except OSError:
            return False
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
        return True

    def write_atomic(self, path: Path, data: bytes) -> bool:
        tmp = path.with_name(f".{path.name}.editor-{uuid.uuid4().hex[:6]}")
        tmp.write_bytes(data)
        os.replace(tmp, path)
        return True

    def edit_agent(self) -> None:
        agents = self.ws / ".claude" / "agents"
        files = sorted(agents.glob("*.md")) if agents.is_dir() else []
        if not files:
            return
        path = self.rng.choice(files)
        tok = self.token()
        name = path.stem
        if self.write_in_place(path, persona_text(name, f"Use {name}.", f"marker {tok}\n").encode()):
            self.last[f"agent:{name}"] = tok
            self.written += 1

    def edit_text(self, path: Path, make) -> None:
        try:
            old = path.read_bytes()
        except OSError:
            return
        tok = self.token()
        data = make(old, tok)
        if data is None:
            return
        writer = self.write_atomic if self.rng.random() < 0.5 else self.write_in_place
        if writer(path, data):
            self.last[str(path.relative_to(self.ws))] = tok
            self.written += 1

    def run(self) -> None:
        md = self.ws / "CLAUDE.md"
        local = self.ws / ".claude" / "settings.local.json"

        def settings(old: bytes, tok: str) -> bytes | None:
            try:
                data = json.loads(old)
            except ValueError:
                return None  # caught mid-write by ctxtui: try later
            data["editorMarker"] = tok
            return (json.dumps(data, indent=2) + "\n").encode()

        while not self.stop.is_set():
            roll = self.rng.random()
            if roll < 0.5:
                self.edit_agent()
            elif roll < 0.8:
                self.edit_text(md, lambda old, tok: old + f"note {tok}\n".encode())
            else:
                self.edit_text(local, settings)
            time.sleep(self.rng.uniform(0.01, 0.05))


def found_in(root: Path, token: str) -> list[str]:
    hits = []
    needle = token.encode()
    for p in root.rglob("*"):
        if p.is_file() and not p.is_symlink() and "blobs" not in p.parts and needle in p.read_bytes():
            hits.append(str(p.relative_to(root)))
    return hits


def test_two_ctxtui_processes_and_an_editor_lose_nothing(settings, library, tmp_path):
    ws_dir = settings.workspace
    (ws_dir / "hybrid-config.json").write_text(json.dumps({
        "analytics": {"track_usage": False}, "profiles": {"backend": ["beta", "gamma"]},
    }))
    reg = ws_dir / "models" / "fine-tuned.json"
    reg.parent.mkdir()
    reg.write_text(json.dumps({"models": [{"name": "ft:acme-1", "personas": ["alpha"], "healthy": True,
                                           "validation": {"baseline": "lazy_loading", "heldout_prompts": 60,
                                                          "model_score": 0.9, "baseline_score": 0.8}}]}))
    (ws_dir / "CLAUDE.md").write_text("# Project notes\n")
    (ws_dir / ".claude").mkdir()
    (ws_dir / ".claude" / "settings.local.json").write_text('{"permissions": {}}\n')
    strategies.migrate(Workspace(settings), "lazy_loading", hot=["alpha"], force=True)

    stop = threading.Event()
    editor = Editor(ws_dir, stop, seed=7)
    env = dict(os.environ, CTXTUI_LOCK_TIMEOUT="60")
    procs = [
        subprocess.Popen(
            [sys.executable, str(WORKER), str(ws_dir), str(library), str(SECONDS), str(seed), str(tmp_path / f"w{seed}.json")],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for seed in (1, 2)
    ]
    editor.start()
    hangs = 0
    outputs = []
    for p in procs:
        try:
            outputs.append(p.communicate(timeout=SECONDS + 120))
        except subprocess.TimeoutExpired:
            hangs += 1
            p.kill()
            outputs.append(p.communicate())
    stop.set()
    editor.join(10)
    Workspace(settings)  # anything left pending completes here

    results = [json.loads((tmp_path / f"w{s}.json").read_text()) for s in (1, 2) if (tmp_path / f"w{s}.json").exists()]
    lost = {k: tok for k, tok in editor.last.items() if not found_in(ws_dir, tok)}
    tracebacks = [t for r in results for t in r["tracebacks"]] + [err for _, err in outputs if "Traceback" in err]
    violations = [v for r in results for v in r["cap_violations"]]
    duplicates = [v for r in results for v in r["duplicates"]]
    figures = {
        "seconds": SECONDS, "edits_written": editor.written, "edits_lost": len(lost),
        "tracebacks": len(tracebacks), "hangs": hangs, "ctxtui_ops": sum(r["ops"] for r in results),
        "exit_codes": [r["exit"] for r in results], "cap_violations": len(violations),
        "duplicate_files": len(duplicates),
        "slowest_op_s": round(max((r["slowest"] for r in results), default=0), 2),
        "refusals": {k: v for r in results for k, v in r["errors"].items()},
    }
    print("\nstress figures:", json.dumps(figures, indent=1))
    assert hangs == 0 and len(results) == 2, outputs
    assert tracebacks == [], tracebacks[:3]
    assert violations == [], violations[:3]
    assert duplicates == [], duplicates[:3]
    assert lost == {}, lost
    assert editor.written > SECONDS  # the editor really was busy
    assert all(r["ops"] > 0 for r in results)
