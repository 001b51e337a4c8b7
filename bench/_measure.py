"""Shared bench helpers: time whole processes (wall clock, peak RSS) and print a verdict table."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

PYTHON = sys.executable


def compile_package() -> None:
    """Byte-compile ctxtui as an install does (pip writes .pyc files): a source checkout run with
    PYTHONDONTWRITEBYTECODE would compile every changed module from source on every run."""
    import compileall
    from pathlib import Path

    import ctxtui

    compileall.compile_dir(str(Path(ctxtui.__file__).parent), quiet=2)


def installed_env(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` as an installed ctxtui runs in: from its bytecode (see :func:`compile_package`)."""
    return {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}


def history_env(tmp: Path, claude: Path) -> dict[str, str]:
    """The environment a bench runs ctxtui in over a generated history at CLAUDE (whose
    ``projects`` folder holds it): config, data and cache folders of its own under TMP, run
    from bytecode (see :func:`compile_package`, called here), no colour."""
    compile_package()
    return installed_env(dict(os.environ, HOME=str(tmp / "home"), CLAUDE_CONFIG_DIR=str(claude),
                              CTXTUI_CONFIG_DIR=str(tmp / "cfg"), CTXTUI_DATA_DIR=str(tmp / "data"),
                              CTXTUI_CACHE_DIR=str(tmp / "cache"), NO_COLOR="1"))


@dataclass
class Runs:
    """Wall times (s) and peak resident sizes (KiB) of repeated runs of one command."""

    label: str
    walls: list[float] = field(default_factory=list)
    rss_kib: list[int] = field(default_factory=list)

    @property
    def best(self) -> float:
        """Best (lowest) wall time: the least disturbed run on a shared machine."""
        return min(self.walls)

    @property
    def rss_mib(self) -> float:
        """Peak RSS of the lowest run (peak RSS barely varies between runs)."""
        return min(self.rss_kib) / 1024

    @property
    def spread(self) -> float:
        """Worst / best wall time: how noisy the machine was for this command."""
        return max(self.walls) / min(self.walls)


def run(cmd: Sequence[str], env: Mapping[str, str] | None = None, stdout=subprocess.DEVNULL) -> tuple[float, int]:
    """Run one process to completion: (wall seconds, peak RSS KiB of that process)."""
    t = time.perf_counter()
    proc = subprocess.Popen(list(cmd), env=dict(env) if env is not None else None,
                            stdout=stdout, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"bench: {' '.join(cmd)} failed ({proc.returncode}): {err.strip()[-2000:]}")
    return wall, usage.ru_maxrss


def ratio_row(what: str, ours: float, peer: float, target: str, ok: bool, unit: str = "s") -> list[str]:
    """One table row: what, ours, peer or limit, ratio, target, verdict."""
    fmt = (lambda v: f"{v:.3f} s") if unit == "s" else (lambda v: f"{v:.0f} {unit}")
    return [what, fmt(ours), fmt(peer), f"{ours / peer:.2f}x" if peer else "-", target, "PASS" if ok else "FAIL"]


def print_table(rows: list[list[str]]) -> None:
    """A plain fixed-width table (stdout, so it pastes into a note)."""
    head = ["measure", "ours", "peer/limit", "ratio", "target", "verdict"]
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    print(line.format(*head))
    print(line.format(*("-" * w for w in widths)))
    for r in rows:
        print(line.format(*r))


def load_note() -> str:
    """The machine's load, to read the numbers against."""
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return ""
    return f"load average {one:.1f} / {five:.1f} on {os.cpu_count()} cores"
