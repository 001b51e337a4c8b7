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
from pathlib import Path

import msgspec

from ctxtui.core.config import ConfigError, config_error, read_json_object


class FineTunedModel(msgspec.Struct):
    """One registered model."""

    name: str
    personas: list[str] = msgspec.field(default_factory=list)
    """Personas the model embeds (they need no agent file)."""
    healthy: bool = True


class _Record(msgspec.Struct, kw_only=True):
    """A model in the keyed form (the key is its name unless it names itself)."""

    name: str | None = None
    personas: list[str] = msgspec.field(default_factory=list)
    healthy: bool = True


class Registry(msgspec.Struct):
    """The registry file."""

    models: list[FineTunedModel] | dict[str, _Record]

    def listed(self) -> list[FineTunedModel]:
        """Models in file order."""
        if isinstance(self.models, list):
            return self.models
        return [FineTunedModel(name=r.name if r.name is not None else k, personas=r.personas, healthy=r.healthy)
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
