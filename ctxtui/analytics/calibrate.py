"""Calibrate ``estimated Claude tokens`` against what sessions really sent.

The first assistant turn of a session reports the real prompt size (input + cache creation
+ cache read). It also holds Claude Code's own system prompt and tool definitions, which
ctxtui cannot see, so we fit ``measured = fixed + factor x estimate`` by least squares over
sessions whose hot sets differed; ctxtui's own events say what was hot when each started.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from ctxtui.analytics.events import Event
from ctxtui.analytics.transcripts import Session, parse_time
from ctxtui.core.workspace import Workspace


@dataclass
class Point:
    """One session: ctxtui's raw estimate and the measured startup prompt."""

    session: str
    estimate: int
    measured: int
    hot: list[str]


@dataclass
class Calibration:
    """The fit, and what it rests on."""

    factor: float | None
    fixed: float | None
    n: int
    spread: float | None
    r2: float | None
    points: list[Point] = field(default_factory=list)
    note: str = ""

    def to_json(self) -> dict:
        """JSON form."""
        return {"factor": self.factor, "fixed": self.fixed, "sessions": self.n, "spread": self.spread,
                "r2": self.r2, "note": self.note, "points": [vars(p) for p in self.points]}


def hot_at(events: list[Event], when: float) -> list[str] | None:
    """Replay ctxtui's events up to a time; None if none happened before it."""
    hot: set[str] = set()
    seen = False
    for e in events:
        if e.time > when:
            break
        seen = True
        if e.action == "activate":
            hot.add(e.persona)
        elif e.action == "deactivate":
            hot.discard(e.persona)
        elif isinstance(e.data.get("hot"), list):
            hot = set(e.data["hot"])
    return sorted(hot) if seen else None


def fit(points: list[Point]) -> Calibration:
    """Ordinary least squares of measured on estimate."""
    n = len(points)
    xs = [p.estimate for p in points]
    if n < 2 or len(set(xs)) < 2:
        return Calibration(None, None, n, None, None, points,
                           "need at least two sessions whose hot sets differed; keeping the configured factor")
    ys = [p.measured for p in points]
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    factor = sxy / sxx
    fixed = my - factor * mx
    residuals = [y - (fixed + factor * x) for x, y in zip(xs, ys, strict=True)]
    sse = sum(r * r for r in residuals)
    sst = sum((y - my) ** 2 for y in ys)
    spread = math.sqrt(sse / (n - 2)) if n > 2 else 0.0
    return Calibration(round(factor, 4), round(fixed, 1), n, round(spread, 1),
                       round(1 - sse / sst, 4) if sst else None, points)


def calibrate(ws: Workspace, sessions: list[Session], events: list[Event]) -> Calibration:
    """Fit over the sessions of this workspace that ctxtui's events can explain."""
    root = str(Path(ws.settings.workspace).resolve())
    points = []
    for s in sessions:
        if not s.first_prompt_tokens or not s.start or (s.cwd and str(Path(s.cwd)) != root):
            continue
        hot = hot_at(events, parse_time(s.start).timestamp())
        if hot is None:
            continue
        personas = [ws.library.by_name[n] for n in hot if n in ws.library.by_name]
        estimate = ws.budget(hot=personas).startup_tokens  # memory files + both scopes' agents
        points.append(Point(s.id, estimate, s.first_prompt_tokens, hot))
    return fit(points)
