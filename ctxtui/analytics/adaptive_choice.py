"""What Adaptive does in this project: a proposal of tiers from its usage, or a pick by mode.

With usage of the project in the transcripts, ``adaptive`` is the usage and router proposal
(:mod:`ctxtui.analytics.adaptive`); without, ``strategies.resolve`` picks a strategy by the
configured context mode. ``ctxtui migrate --to adaptive`` and the TUI's Adaptive both plan
through :func:`plan_adaptive` and say the pick in the same words (:func:`picked_by_mode`).
Heavy modules (the router, the transcript reader) are imported when a proposal is made.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ctxtui.core import strategies
from ctxtui.core.config import Settings
from ctxtui.core.workspace import Workspace

if TYPE_CHECKING:
    from ctxtui.analytics.adaptive import AdaptivePlan
    from ctxtui.analytics.transcripts import Session


def picked_by_mode(picked: str) -> str:
    """The note on a plan for which adaptive had no usage to go on."""
    return f"no usage of this project in the transcripts: adaptive picked {picked} by the context mode"


def adaptive_proposal(ws: Workspace, settings: Settings, transcripts: Path | None, half_life: float = 14.0,
                      sessions: list[Session] | None = None) -> AdaptivePlan | None:
    """The adaptive proposal from this project's transcripts (or ``sessions``, already read)
    and the router's held-out figures (the cached model, rebuilt when the transcripts
    changed); None without usage to go on."""
    from ctxtui.analytics import adaptive, router
    from ctxtui.analytics.transcripts import read_all

    root = transcripts or settings.transcripts
    if not root.exists():
        return None
    if sessions is None:
        from ctxtui.analytics.transcript_cache import default_folder

        sessions = read_all(root, cache=default_folder())[0]
    sessions = adaptive.project_sessions(ws, sessions)
    if not any(s.invocations for s in sessions):
        return None
    return adaptive.propose_for(ws, sessions, router.load(router_model(settings, root)), half_life)


def router_model(settings: Settings, root: Path) -> Path:
    """The router's cached model for these transcripts, built first if they changed and it
    was last checked more than :data:`~ctxtui.analytics.router_model.REFRESH_SECONDS` ago, as
    the hook does (a build takes seconds on a large history: a caller holding a lock asks
    for it before taking the lock)."""
    from ctxtui.analytics import router
    from ctxtui.analytics.router_model import REFRESH_SECONDS
    from ctxtui.core.config import bundled_dir, cache_dir

    descriptions, paths = router.library_personas(settings.library_dirs or [bundled_dir("personas")])
    return router.build(root, cache_dir(), locations=paths, descriptions=descriptions,
                        fresh_for=REFRESH_SECONDS).path


def plan_adaptive(ws: Workspace, prop: AdaptivePlan | None, *, reason: str, **kwargs: Any) -> strategies.Plan:
    """The migration Adaptive asks for: the proposal's hot set and tiers (decided again under
    the lock), or, with no proposal (no usage), the strategy the context mode picks, with a
    note saying so. ``kwargs`` go to :func:`ctxtui.core.strategies.plan`."""
    if prop is not None:
        return strategies.plan(ws, "adaptive", reason=reason, hot=prop.hot, tiers=prop.tiers,
                               decide=prop.decide, **kwargs)
    plan = strategies.plan(ws, "adaptive", reason=reason, **kwargs)
    plan.notes.append(picked_by_mode(plan.to_strategy))
    return plan
