"""The fine_tuned strategy uses a model only when it proved itself against the lazy baseline."""

from __future__ import annotations

import pytest
from test_strategies import VALIDATED, register

from ctxtui.core import strategies
from ctxtui.core.workspace import Workspace


@pytest.mark.parametrize("validation, why", [
    (None, "no validation record"),
    (dict(VALIDATED, heldout_prompts=10), "fewer than 50"),
    (dict(VALIDATED, model_score=0.5), "scored 0.50"),
    (dict(VALIDATED, baseline="eager"), "lazy_loading baseline"),
])
def test_a_model_without_a_passing_validation_record_is_never_used(settings, validation, why):
    register(settings, validation=validation)
    entry = strategies.migrate(Workspace(settings), "fine_tuned", reason="try", force=True)
    assert entry.to_strategy == "lazy_loading" and why in entry.reason  # the fallback, with the reason


def test_a_validated_model_is_used(settings):
    register(settings)
    assert strategies.migrate(Workspace(settings), "fine_tuned", reason="try", force=True).to_strategy == "fine_tuned"
