"""The fine-tuned model registry: which models exist, which personas each embeds, health.

A JSON file (``fine_tuning.model_registry``, relative to the workspace)::

    {"models": [{"name": "ft:claude-haiku:acme:backend", "personas": ["backend-engineer"],
                 "healthy": true}]}
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ctxtui.core.config import ConfigError


@dataclass
class FineTunedModel:
    """One registered model."""

    name: str
    personas: list[str] = field(default_factory=list)
    healthy: bool = True


def load_registry(path: Path) -> list[FineTunedModel]:
    """Models in the registry; an absent file is an empty registry."""
    if not path.is_file():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid JSON ({exc})") from None
    models = data.get("models") if isinstance(data, dict) else None
    if isinstance(models, dict):
        models = [{"name": k, **v} for k, v in models.items()]
    if not isinstance(models, list):
        raise ConfigError(f"{path}: expected an object with a 'models' list")
    out = []
    for i, m in enumerate(models):
        if not isinstance(m, dict) or not isinstance(m.get("name"), str):
            raise ConfigError(f"{path}: models[{i}] needs a 'name'")
        personas = m.get("personas", [])
        if not isinstance(personas, list) or not all(isinstance(p, str) for p in personas):
            raise ConfigError(f"{path}: models[{i}].personas must be a list of names")
        out.append(FineTunedModel(m["name"], personas, bool(m.get("healthy", True))))
    return out


def pick_model(models: list[FineTunedModel], preferred: str | None = None) -> FineTunedModel | None:
    """The preferred model if registered, else the first healthy one, else the first."""
    if preferred:
        for m in models:
            if m.name == preferred:
                return m
    return next((m for m in models if m.healthy), models[0] if models else None)
