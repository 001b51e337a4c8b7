"""A warm ``status`` loads only what it uses: no YAML parser (every verdict comes from the memo),
no platformdirs when the folders are given, no importlib.resources, no request parser without a
session. The timing itself is in bench/bench_startup.py; this holds the imports that set it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

PERSONA = "---\nname: {n}\ndescription: Use {n} for its task.\ntools: Read, Grep\n---\n\nYou are {n}.\n"


def _status_modules(tmp_path: Path, lib: Path, ws: Path) -> set[str]:
    probe = (
        "import os, sys, io, contextlib\n"
        f"for k in ('CONFIG', 'CACHE', 'DATA'): os.environ[f'CTXTUI_{{k}}_DIR'] = {str(tmp_path / 'env')!r} + k\n"
        f"os.environ['CTXTUI_CLAUDE_HOME'] = {str(tmp_path / 'home')!r}\n"
        "from ctxtui.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    assert main(['status', '-l', {str(lib)!r}, '-w', {str(ws)!r}]) == 0\n"
        "print('\\n'.join(sorted(sys.modules)))\n"
    )
    r = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert r.returncode == 0, r.stderr
    return set(r.stdout.split())


def test_warm_status_loads_no_yaml_platformdirs_or_resources(tmp_path):
    lib, ws = tmp_path / "lib", tmp_path / "ws"
    lib.mkdir()
    ws.mkdir()
    for n in ("alpha", "beta", "gamma"):
        (lib / f"{n}.md").write_text(PERSONA.format(n=n))
    cold = _status_modules(tmp_path, lib, ws)
    assert "yaml" in cold  # the first run judges the files: the parser is loaded then
    warm = _status_modules(tmp_path, lib, ws)
    assert "ctxtui.core.workspace" in warm and "rich.table" in warm
    heavy = {"yaml", "platformdirs", "importlib.resources", "ctxtui.core.first_request", "tiktoken"}
    assert not {m for m in warm if m in heavy or m.partition(".")[0] in heavy}
