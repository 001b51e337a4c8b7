"""core.entry_words: a recorded change in plain words, from entries the real operations
record (what ``u`` in the TUI says it undid)."""

from __future__ import annotations

from dataclasses import replace

from ctxtui.core import strategies
from ctxtui.core.entry_words import describe
from ctxtui.core.history import History
from ctxtui.core.tiers import set_tier
from ctxtui.core.workspace import Workspace


def newest(settings):
    return History(settings).entries()[-1]


def test_moves_name_the_personas_and_the_pane(settings):
    ws = Workspace(settings)
    ws.activate(["alpha", "beta"])
    assert describe(newest(settings)) == "moved alpha, beta to hot"
    ws.deactivate(["beta"])
    assert describe(newest(settings)) == "moved beta to cold"


def test_more_than_three_names_are_counted(settings):
    ws = Workspace(settings)
    ws.activate(["alpha", "beta", "gamma"])
    three = newest(settings)
    assert describe(three) == "moved alpha, beta, gamma to hot"
    four = replace(three, changes=[three.changes[0] + " delta"], reason=three.reason + " delta")
    assert describe(four) == "moved 4 personas to hot"


def test_a_strategy_switch_names_both_strategies(settings):
    strategies.migrate(Workspace(settings), "eager", reason="from a test")
    assert describe(newest(settings)) == "strategy switch lazy_loading → eager"


def test_a_tier_change_names_the_personas_and_the_tier(settings):
    set_tier(Workspace(settings), ["alpha"], "skill")
    assert describe(newest(settings)) == "tier of alpha set to skill"
    set_tier(Workspace(settings), ["alpha"], "file", reason="my own words")
    assert describe(newest(settings)) == "tier change"  # a reason of the user's own says no tier


def test_an_undone_undo_is_a_rollback_of_its_own(settings):
    Workspace(settings).activate(["alpha"])
    entry = strategies.undo(Workspace(settings))
    assert describe(entry).startswith("undo to the state before entry ")
