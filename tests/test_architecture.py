"""The core, analytics and headless CLI never import Textual."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import ctxtui.analytics
import ctxtui.core


def modules(pkg) -> list[str]:
    return [f"{pkg.__name__}.{m.name}" for m in pkgutil.iter_modules(pkg.__path__)]


def test_headless_modules_do_not_import_textual():
    names = modules(ctxtui.core) + modules(ctxtui.analytics) + ["ctxtui.cli", "ctxtui.cli.agents"]
    code = (
        "import sys, importlib\n"
        f"for n in {names!r}: importlib.import_module(n)\n"
        "from ctxtui.cli import build_parser; build_parser()\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "print(len(bad)); assert not bad, bad\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "0"
