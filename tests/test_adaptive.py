"""The adaptive proposal: hot set and tiers from usage and the router's held-out figures."""

from __future__ import annotations

from pathlib import Path

import pytest
from router_corpus import generate, load_library

from conftest import WSHOBSON
from ctxtui.analytics import adaptive, optimize, router
from ctxtui.analytics.adaptive import PersonaStats, RouterFigures, propose, router_figures
from ctxtui.analytics.router import Prediction
from ctxtui.analytics.router_model import NONE, dumps, loads
from ctxtui.analytics.transcripts import read_all
from ctxtui.core.persona import Persona

GOOD = RouterFigures(needed=20, fires=14, right=13)
POOR = RouterFigures(needed=20, fires=3, right=2)


def _p(name: str, rate: float, *, startup: int = 100, full: int = 1500, skill: int = 30, **kw) -> PersonaStats:
    return PersonaStats(name, startup, full, skill, rate, **kw)


def test_router_figures_count_per_persona_at_the_threshold() -> None:
    preds = [Prediction("a", "a", 0.9), Prediction("a", "a", 0.4), Prediction(NONE, "a", 0.95),
             Prediction("b", "a", 0.99), Prediction("b", NONE, 1.0)]
    figs = router_figures(preds, 0.5)
    assert figs["a"] == RouterFigures(needed=2, fires=3, right=1)
    assert figs["b"] == RouterFigures(needed=2, fires=0, right=0)
    assert figs["a"].recall == 0.5 and figs["a"].precision == pytest.approx(1 / 3)


def test_counts_from_a_crafted_model_file_are_checked() -> None:
    counts = {"ok": [3, 2, 1], "neg": [1, -1, 0], "short": [1, 2], "bool": [True, 1, 1], "text": "x"}
    assert adaptive.figures_from_model({"persona_counts": counts}) == {"ok": RouterFigures(3, 2, 1)}
    assert adaptive.figures_from_model({"persona_counts": [1]}) == {}


def test_pins_and_the_most_used_worthwhile_personas_fill_the_cap() -> None:
    plan = propose([_p("pin", 0.0, pinned=True), _p("daily", 0.9), _p("weekly", 0.2), _p("often", 0.5),
                    _p("cheap-rare", 0.01)], cap=3)
    assert plan.hot == ["daily", "often", "pin"]
    d = {x.name: x for x in plan.decisions}
    assert d["weekly"].tier == "skill" and d["cheap-rare"].tier == "skill"  # no router figures
    assert "cap is full" in d["weekly"].reason  # 0.2 x 1500 > 100: worth a slot, none left


def test_a_used_persona_the_router_names_reliably_is_left_to_the_router() -> None:
    plan = propose([_p("sql", 0.03, router=GOOD, in_agents_folder=True),
                    _p("k8s", 0.03, router=GOOD)], cap=0)
    d = {x.name: x for x in plan.decisions}
    assert d["sql"].tier == "hidden" and d["k8s"].tier == "file" and not d["k8s"].hot
    assert d["sql"].startup_tokens == 0
    assert d["sql"].on_demand_tokens == pytest.approx(0.03 * 0.65 * (1500 + adaptive.HINT_TOKENS))
    assert "65% of 20 held-out prompts" in d["sql"].reason


def test_a_used_persona_the_router_misses_becomes_a_skill_with_the_behaviour_note() -> None:
    plan = propose([_p("rust", 0.03, router=POOR), _p("go", 0.03, router=None)], cap=0)
    assert plan.tiers == {"go": "skill", "rust": "skill"}
    assert plan.startup_after == 60
    assert any("forked subagent" in n for n in plan.notes)


def test_unused_personas_cost_nothing_and_plugin_agents_are_only_ever_hidden() -> None:
    plan = propose([_p("old", 0.0, in_agents_folder=True, listed_tokens=100), _p("lib", 0.0),
                    _p("plug", 0.03, plugin=True, router=POOR, listed_tokens=100)], cap=0)
    assert plan.tiers == {"old": "hidden", "lib": "file", "plug": "hidden"}
    assert plan.startup_before == 200 and plan.startup_after == 0
    assert "plugin agents can only be hidden" in {d.name: d for d in plan.decisions}["plug"].reason


def test_skills_past_the_listing_budget_are_flagged() -> None:
    plan = propose([_p(f"s{i}", 0.02 - i / 1000, skill=40) for i in range(5)], cap=0, skill_budget_tokens=100)
    flagged = [d.name for d in plan.decisions if "by name only" in d.reason]
    assert flagged == ["s2", "s3", "s4"]  # the least used past 100 tokens


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("adaptive")
    generate(root, sessions=120, seed=31)
    return root


def test_proposal_from_generated_sessions_is_consistent_and_saves_startup_tokens(generated: Path) -> None:
    sessions, _ = read_all(generated)
    project = max({s.project for s in sessions}, key=lambda p: sum(s.project == p for s in sessions))
    mine = [s for s in sessions if s.project == project]
    exs = router.examples(sessions)
    model, cal = router.train(exs)
    figures = router_figures(cal.predictions, router.Bar.of(model))
    assert adaptive.figures_from_model(loads(dumps(model))) == figures  # kept in the cached model
    lib = load_library(WSHOBSON)
    used = {inv.persona for s in mine for inv in s.invocations}
    personas = [Persona(Path(f"{p.name}.md"), p.name, p.description, startup_tokens=len(p.description) // 4,
                        full_tokens=1200 + len(p.description)) for p in lib if p.name in used][:6]
    personas += [Persona(Path(f"{p.name}.md"), p.name, p.description, startup_tokens=len(p.description) // 4,
                         full_tokens=1200) for p in lib if p.name not in used][:10]
    rates = optimize.rates(mine)
    stats = adaptive.stats_from(personas, rates, figures=figures,
                                listed={p.name: p.startup_tokens for p in personas},
                                skill_tokens={p.name: 25 for p in personas})
    plan = propose(stats, cap=2)
    assert len(plan.hot) <= 2 and set(plan.tiers) == {p.name for p in personas}
    assert all(plan.tiers[n] in ("hidden", "file") and not rates.get(n) for n in plan.tiers if n not in used)
    hot_rates = [rates.get(n, 0) for n in plan.hot]
    others = [rates.get(d.name, 0) for d in plan.decisions if not d.hot and "cap is full" in d.reason]
    assert not others or min(hot_rates) >= max(others)  # the most used win the slots
    assert plan.startup_after < plan.startup_before
    for d in plan.decisions:
        assert d.reason and (d.startup_tokens == 0) == (not d.hot and d.tier != "skill")
    assert plan.to_json()["tiers"] == plan.tiers
