"""Configuration files: any content gets a dict or a ConfigError naming the problem."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctxtui.core.config import (
    ConfigError,
    interval_seconds,
    load_settings,
    load_workspace_config,
    validate_workspace_config,
)
from ctxtui.core.registry import load_registry

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=15,
)
sections = st.dictionaries(
    st.sampled_from(["context_management", "lazy_loading", "fine_tuning", "analytics", "models", "adaptive", "profiles", "other"]),
    st.dictionaries(st.sampled_from(["strategy", "mode", "max_active_personas", "enabled", "pinned", "index_density",
                                     "auto_optimize_interval", "fallback_enabled", "track_usage", "production", "x"]),
                    json_values, max_size=3),
    max_size=4,
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(json_values, sections))
def test_any_workspace_config_is_valid_or_a_config_error(data):
    try:
        merged = validate_workspace_config(data)
    except ConfigError as exc:
        assert str(exc).startswith("hybrid-config.json: ")
    else:
        assert merged.lazy_loading.max_active_personas >= 1


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(json_values)
def test_any_registry_file_loads_or_is_a_config_error(tmp_path, data):
    path = tmp_path / "reg.json"
    path.write_text(json.dumps(data))
    try:
        models = load_registry(path)
    except ConfigError:
        return
    assert all(isinstance(m.name, str) for m in models)


def test_bad_json_and_bad_values_name_the_problem(tmp_path):
    (tmp_path / "hybrid-config.json").write_text("{not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_workspace_config(tmp_path)
    with pytest.raises(ConfigError, match="context_management.strategy: must be one of"):
        validate_workspace_config({"context_management": {"strategy": "turbo"}})
    with pytest.raises(ConfigError, match="auto_optimize_interval"):
        validate_workspace_config({"lazy_loading": {"auto_optimize_interval": "soon"}})
    assert interval_seconds("30min") == 1800 and interval_seconds("2h") == 7200


def test_settings_file_environment_and_flags_layer_in_order(tmp_path, monkeypatch):
    from ctxtui.core import config

    config.settings_file().parent.mkdir(parents=True, exist_ok=True)
    config.settings_file().write_text(json.dumps({"window": 100000, "target": 5000, "library_dirs": ["/from/file"]}))
    monkeypatch.setenv("CTXTUI_LIBRARY", "/from/env")
    s = load_settings(target=6000)
    assert (s.window, s.target) == (100000, 6000)
    assert [str(p) for p in s.library_dirs] == ["/from/env"]
    config.settings_file().write_text(json.dumps({"window": "big"}))
    with pytest.raises(ConfigError, match="settings.json: window: Expected int, got str"):
        load_settings()
