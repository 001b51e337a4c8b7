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


# ---------------------------------------------------------------- typed boundaries

key_names = st.sampled_from([
    "context_management", "lazy_loading", "fine_tuning", "analytics", "models", "adaptive", "profiles",
    "strategy", "library", "claude_version", "default_tier", "tiers", "max_active_personas", "pinned",
    "mode", "index_density", "auto_optimize_interval", "production", "default", "x",
])
scalars = st.none() | st.booleans() | st.integers(-3, 5) | st.floats(allow_nan=False) | st.sampled_from(
    ["eager", "lazy_loading", "hybrid", "file", "hidden", "skill", "30min", "2.1.112", "~/lib", "/abs", "", "a"])
any_json = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(key_names, inner, max_size=4),
                        max_leaves=20)


@settings(max_examples=400, deadline=None)
@given(any_json)
def test_any_json_gives_a_typed_config_or_one_line_naming_the_key(data):
    from ctxtui.core.config import WorkspaceConfig, decode_workspace_config

    try:
        cfg = decode_workspace_config(data)
    except ConfigError as exc:
        line = str(exc)
        assert "\n" not in line and line.startswith("hybrid-config.json: ")
        key = line.split(": ")[1]  # the key it names is one the file has
        assert key == "(top level)" or (isinstance(data, dict) and key.split(".")[0].split("[")[0] in data)
    else:
        assert isinstance(cfg, WorkspaceConfig) and cfg.lazy_loading.max_active_personas >= 1
        assert cfg.default_tier in ("file", "hidden", "skill")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.sampled_from(["window", "target", "theme", "library_dirs", "calibration", "keymap",
                                        "cache_path", "watch", "nope"]), scalars | st.lists(scalars, max_size=2), max_size=3))
def test_any_settings_file_loads_or_names_the_key(tmp_path, data):
    from ctxtui.core import config

    config.settings_file().parent.mkdir(parents=True, exist_ok=True)
    config.settings_file().write_text(json.dumps(data))
    try:
        s = load_settings()
    except ConfigError as exc:
        assert "\n" not in str(exc) and str(exc).startswith(f"{config.settings_file()}: ")
        assert str(exc).split(": ")[1].split("[")[0] in data
    else:
        assert s.window > 0 and s.target > 0


@pytest.mark.parametrize(("data", "message"), [
    ({"lazy_loading": {"max_active_personas": 0}}, "lazy_loading.max_active_personas: Expected int >= 1"),
    ({"lazy_loading": {"max_active_personas": True}}, "lazy_loading.max_active_personas: Expected int, got bool"),
    ({"lazy_loading": {"pinnned": []}}, "lazy_loading.pinnned: is not a known key"),
    ({"profiles": {"ok": ["a"], "bad": [1]}}, 'profiles["bad"][0]: Expected str, got int'),
    ({"tiers": {"sql-pro": "cold"}}, 'tiers["sql-pro"]: must be one of file, hidden, skill'),
    ({"default_tier": "warm"}, "default_tier: must be one of file, hidden, skill"),
    ({"claude_version": "latest"}, "claude_version: must be a version like 2.1.112"),
    ({"library": ["/home/me/agents"]}, "library[0]: '/home/me/agents' must be relative to the project or start with ~/"),
    ({"strategy": "eager", "context_management": {"strategy": "hybrid"}}, "strategy: says 'eager'"),
    ({"adaptive": {"default": "adaptive"}}, "adaptive.default: must be one of eager, fine_tuned, hybrid, lazy_loading"),
])
def test_each_wrong_value_names_its_key(data, message):
    with pytest.raises(ConfigError) as exc:
        validate_workspace_config(data)
    assert str(exc.value).startswith(f"hybrid-config.json: {message}")


def test_old_files_read_and_new_keys_are_typed(tmp_path):
    old = {"context_management": {"strategy": "hybrid", "mode": "experimental"},
           "lazy_loading": {"max_active_personas": 5, "pinned": [], "index_density": "names",
                            "auto_optimize_interval": "45s"},
           "fine_tuning": {"model_registry": "reg.json"}, "profiles": {"backend": ["a", "b"]}}
    (tmp_path / "hybrid-config.json").write_text(json.dumps(old))
    cfg = load_workspace_config(tmp_path)
    assert (cfg.preferred_strategy, cfg.lazy_loading.max_active_personas, cfg.profiles) == ("hybrid", 5, {"backend": ["a", "b"]})
    assert cfg.adaptive.pick(cfg.context_management.mode) == "fine_tuned"
    assert cfg.to_json()["lazy_loading"]["pinned"] == []
    # README's short spelling sets the preferred strategy
    assert validate_workspace_config({"strategy": "eager"}).preferred_strategy == "eager"
    new = validate_workspace_config({"library": ["agents", "~/lib"], "claude_version": "2.1.112",
                                     "default_tier": "hidden", "tiers": {"sql-pro": "skill"}})
    assert new.library_paths(tmp_path) == [tmp_path / "agents", (tmp_path.home() / "lib").absolute()]
    assert (new.tier_for("sql-pro"), new.tier_for("other")) == ("skill", "hidden")
    assert new.claude_version == "2.1.112"


def test_registry_errors_name_the_key(tmp_path):
    path = tmp_path / "reg.json"
    path.write_text(json.dumps({"models": [{"name": "m", "personas": ["a", 2]}]}))
    with pytest.raises(ConfigError, match=r"reg.json: models\[0\].personas\[1\]: Expected str, got int"):
        load_registry(path)
    path.write_text(json.dumps({"models": {"ft:x": {"personas": ["a"], "created": "2026"}}}))
    assert [(m.name, m.personas) for m in load_registry(path)] == [("ft:x", ["a"])]


def test_workspace_library_comes_from_the_config_when_no_folder_is_given(tmp_path):
    from conftest import persona_text
    from ctxtui.core.workspace import Workspace

    project = tmp_path / "project"
    (project / "team-agents").mkdir(parents=True)
    (project / "team-agents" / "kappa.md").write_text(persona_text("kappa"))
    (project / "hybrid-config.json").write_text(json.dumps({"library": ["team-agents"]}))
    ws = Workspace(load_settings(workspace=project))
    assert "kappa" in ws.library.by_name and ws.library_roots()[1] == project / "team-agents"
    other = tmp_path / "other"
    other.mkdir()
    (other / "omega.md").write_text(persona_text("omega"))
    ws = Workspace(load_settings(workspace=project, library_dirs=[other]))  # a flag wins
    assert "omega" in ws.library.by_name and "kappa" not in ws.library.by_name
