"""The fine-tuned model registry: which models exist, which personas each embeds, health.

A JSON file (``fine_tuning.model_registry``, relative to the workspace)::

    {"models": [{"name": "ft:claude-haiku:acme:backend", "personas": ["backend-engineer"],
                 "healthy": true}]}

``models`` may also be an object keyed by model name. Registries are written by training
tools, so keys ctxtui does not use are ignored; a key it uses with the wrong type is a
ConfigError naming it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec

from ctxtui.core.config import ConfigError, config_error, read_json_object


class FineTunedModel(msgspec.Struct):
    """One registered model."""

    name: str
    personas: list[str] = msgspec.field(default_factory=list)
    """Personas the model embeds (they need no agent file)."""
    healthy: bool = True
    validation: dict[str, Any] | None = None
    """How the model compared with the lazy baseline on held-out prompts (see
    :func:`validation_problem`); a model without it is never used."""


class _Record(msgspec.Struct, kw_only=True):
    """A model in the keyed form (the key is its name unless it names itself)."""

    name: str | None = None
    personas: list[str] = msgspec.field(default_factory=list)
    healthy: bool = True
    validation: dict[str, Any] | None = None


class Registry(msgspec.Struct):
    """The registry file."""

    models: list[FineTunedModel] | dict[str, _Record]

    def listed(self) -> list[FineTunedModel]:
        """Models in file order."""
        if isinstance(self.models, list):
            return self.models
        return [FineTunedModel(name=r.name if r.name is not None else k, personas=r.personas, healthy=r.healthy,
                               validation=r.validation)
                for k, r in self.models.items()]


def load_registry(path: Path) -> list[FineTunedModel]:
    """Models in the registry; an absent file is an empty registry."""
    if not os.path.lexists(path):
        return []
    data = read_json_object(path)
    try:
        return msgspec.convert(data, Registry).listed()
    except msgspec.ValidationError as exc:
        raise config_error(str(path), exc, data, Registry) from None


def pick_model(models: list[FineTunedModel], preferred: str | None = None) -> FineTunedModel | None:
    """The preferred model if registered, else the first healthy one, else the first."""
    if preferred:
        for m in models:
            if m.name == preferred:
                return m
    return next((m for m in models if m.healthy), models[0] if models else None)


__all__ = ["ConfigError", "FineTunedModel", "Registry", "load_registry", "pick_model"]


# --- what a fine-tuned model must prove before the fine_tuned strategy uses it ---------------

MIN_HELDOUT_PROMPTS = 50
"""Fewer held-out prompts than this prove nothing either way."""
BASELINE = "lazy_loading"


def validation_problem(record: Mapping[str, Any] | None) -> str | None:
    """Why a registered fine-tuned model may not be used, or None when its validation record
    shows it was compared with the lazy baseline on held-out prompts and did no worse.

    The record is the ``validation`` object of the model's registry entry::

        {"baseline": "lazy_loading", "heldout_prompts": 200,
         "model_score": 0.83, "baseline_score": 0.80, "metric": "task success",
         "date": "2026-11-20"}

    Both scores are the same metric on the same held-out prompts (prompts the model was not
    trained on), higher is better.
    """
    if record is None:
        return "it has no validation record (compare it with the lazy baseline on held-out prompts first)"
    if not isinstance(record, Mapping):
        return "its validation record is not an object"
    if record.get("baseline") != BASELINE:
        return f"its validation record does not compare it with the {BASELINE} baseline"
    n = record.get("heldout_prompts")
    if not isinstance(n, int) or isinstance(n, bool) or n < MIN_HELDOUT_PROMPTS:
        return f"its validation used fewer than {MIN_HELDOUT_PROMPTS} held-out prompts"
    scores = [s for s in (record.get("model_score"), record.get("baseline_score"))
              if isinstance(s, (int, float)) and not isinstance(s, bool) and 0 <= s <= 1]
    if len(scores) != 2:
        return "its validation record lacks model_score and baseline_score between 0 and 1"
    if scores[0] < scores[1]:
        return (f"it scored {scores[0]:.2f} against the lazy baseline's {scores[1]:.2f} on held-out "
                "prompts")
    return None
