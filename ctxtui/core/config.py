"""Settings in one typed place, and the per-workspace ``hybrid-config.json``.

User settings come from, lowest to highest priority: built-in defaults, the settings file
(``settings.json`` under platformdirs' config dir, or ``$CTXTUI_CONFIG_DIR``), environment
variables (``CTXTUI_LIBRARY``, ``CTXTUI_CLAUDE_HOME``, ``CTXTUI_CACHE_DIR``), then CLI flags.
The workspace file holds what a team commits: strategy, cap, pins, profiles.
"""

from __future__ import annotations

import copy
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from ctxtui.core.errors import CtxtuiError
from ctxtui.core.tokens import DEFAULT_CLAUDE_FACTOR, Calibration

WORKSPACE_CONFIG_NAME = "hybrid-config.json"
STRATEGIES = ("eager", "lazy_loading", "fine_tuned", "hybrid", "adaptive")
DENSITIES = ("auto", "full", "names", "search")


class ConfigError(CtxtuiError, ValueError):
    """A configuration file or value is wrong; the message names the key and the problem."""


def bundled_dir(name: str) -> Path:
    """A data folder shipped with ctxtui (``personas`` or ``themes``): wheel or source tree."""
    pkg = Path(__file__).resolve().parent.parent
    for candidate in (pkg / "_data" / name, pkg.parent / name):
        if candidate.is_dir():
            return candidate
    return pkg.parent / name


def config_dir() -> Path:
    """Folder of the user settings file and user themes."""
    env = os.environ.get("CTXTUI_CONFIG_DIR")
    return Path(env) if env else Path(platformdirs.user_config_dir("ctxtui"))


def cache_dir() -> Path:
    """Folder of the token cache."""
    env = os.environ.get("CTXTUI_CACHE_DIR")
    return Path(env) if env else Path(platformdirs.user_cache_dir("ctxtui"))


def data_dir() -> Path:
    """Folder of the usage-event store."""
    env = os.environ.get("CTXTUI_DATA_DIR")
    return Path(env) if env else Path(platformdirs.user_data_dir("ctxtui"))


@dataclass
class Settings:
    """Everything a run of ctxtui needs to know about where things are and its limits."""

    workspace: Path = field(default_factory=Path.cwd)
    """The project folder whose ``.claude/agents/`` holds the hot set."""
    library_dirs: list[Path] = field(default_factory=list)
    """Cold-storage folders; empty means the bundled ``personas/`` library."""
    claude_home: Path = field(default_factory=lambda: Path.home() / ".claude")
    """The user's Claude Code folder (user-scope agents and CLAUDE.md)."""
    include_user_scope: bool = True
    """Count ``~/.claude/agents`` and ``~/.claude/CLAUDE.md`` in the budget."""
    window: int = 200_000
    """Context window the budget is measured against."""
    target: int = 8_000
    """Startup-token target; the budget turns to a warning colour past it."""
    calibration: dict[str, float] = field(default_factory=dict)
    """Per-model cl100k -> Claude factors (substring of the model name -> factor)."""
    default_factor: float = DEFAULT_CLAUDE_FACTOR
    """Factor used when no model-specific factor matches."""
    theme: str = "ctxtui-dark"
    """The TUI theme, remembered between runs."""
    cache_path: Path | None = None
    """SQLite token cache; None keeps it in memory."""
    transcripts_dir: Path | None = None
    """Claude Code transcripts folder (default ``claude_home/projects``)."""
    watch: bool = True
    """Watch files for changes in the TUI."""
    keymap: dict[str, str] = field(default_factory=dict)
    """TUI key remapping: binding id -> keys (e.g. {"toggle": "space"})."""

    @property
    def libraries(self) -> list[Path]:
        """Library roots in priority order: the workspace's cold store, then configured ones."""
        dirs = self.library_dirs or [bundled_dir("personas")]
        return [self.cold_store, *dirs]

    @property
    def state_dir(self) -> Path:
        """ctxtui's own folder inside the workspace (journal, cold store, history)."""
        return self.workspace / ".claude" / "ctxtui"

    @property
    def cold_store(self) -> Path:
        """Where adopted and edited personas are kept (part of the library, first on clashes)."""
        return self.state_dir / "cold"

    @property
    def agents_dir(self) -> Path:
        """The project's hot folder."""
        return self.workspace / ".claude" / "agents"

    @property
    def user_agents_dir(self) -> Path:
        """The user-scope hot folder."""
        return self.claude_home / "agents"

    @property
    def calibrator(self) -> Calibration:
        """The calibration factors as an object."""
        return Calibration(dict(self.calibration), self.default_factor)

    @property
    def transcripts(self) -> Path:
        """Where Claude Code session transcripts are read from."""
        return self.transcripts_dir or self.claude_home / "projects"


def settings_file() -> Path:
    """The user settings file."""
    return config_dir() / "settings.json"


def load_settings(**overrides: Any) -> Settings:
    """Defaults < settings file < environment < overrides (None values are ignored)."""
    s = Settings(cache_path=cache_dir() / "tokens.sqlite")
    path = settings_file()
    if os.path.lexists(path):
        data = read_json_object(path)
        _apply(s, data, str(path))
    env_lib = os.environ.get("CTXTUI_LIBRARY")
    if env_lib:
        s.library_dirs = [Path(p).expanduser() for p in env_lib.split(os.pathsep) if p]
    if os.environ.get("CTXTUI_CLAUDE_HOME"):
        s.claude_home = Path(os.environ["CTXTUI_CLAUDE_HOME"]).expanduser()
    _apply(s, {k: v for k, v in overrides.items() if v is not None}, "option")
    s.workspace = Path(s.workspace).expanduser().absolute()
    s.library_dirs = [Path(p).expanduser().absolute() for p in s.library_dirs]
    return s


_SETTING_TYPES: dict[str, type | tuple[type, ...]] = {
    "workspace": (str, Path), "library_dirs": list, "claude_home": (str, Path),
    "include_user_scope": bool, "window": int, "target": int, "calibration": dict,
    "default_factor": (int, float), "theme": str, "cache_path": (str, Path, type(None)),
    "transcripts_dir": (str, Path, type(None)), "watch": bool, "keymap": dict,
}
_PATHS = {"workspace", "claude_home", "cache_path", "transcripts_dir"}


def _apply(s: Settings, data: dict, origin: str) -> None:
    for key, value in data.items():
        if key not in _SETTING_TYPES:
            raise ConfigError(f"{origin}: unknown setting {key!r}")
        if not isinstance(value, _SETTING_TYPES[key]):
            raise ConfigError(f"{origin}: {key} has the wrong type ({type(value).__name__})")
        if key == "library_dirs" and not all(isinstance(v, (str, Path)) for v in value):
            raise ConfigError(f"{origin}: library_dirs must be a list of folders")
        if key == "calibration" and not all(
            isinstance(k, str) and isinstance(v, (int, float)) and not isinstance(v, bool) for k, v in value.items()
        ):
            raise ConfigError(f"{origin}: calibration must map model names to numbers")
        if key == "keymap" and not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
            raise ConfigError(f"{origin}: keymap must map binding ids to keys")
        if key in ("window", "target") and (isinstance(value, bool) or value <= 0):
            raise ConfigError(f"{origin}: {key} must be a positive whole number")
        if key in _PATHS and value is not None:
            value = Path(value).expanduser()
        if key == "library_dirs":
            value = [Path(v).expanduser() for v in value]
        setattr(s, key, value)


def save_setting(key: str, value: Any) -> None:
    """Persist one user setting (e.g. the theme) atomically."""
    from ctxtui.core.journal import atomic_write

    path = settings_file()
    try:
        data = read_json_object(path) if os.path.lexists(path) else {}
    except ConfigError as exc:  # a broken file is reported, never replaced
        from ctxtui.core.errors import WriteError

        raise WriteError(f"{exc}; not overwritten") from None
    data[key] = value
    atomic_write(path, (json.dumps(data, indent=2) + "\n").encode())


# ---------------------------------------------------------------- workspace config

DEFAULT_WORKSPACE_CONFIG: dict[str, Any] = {
    "context_management": {"strategy": "lazy_loading", "mode": "production"},
    "lazy_loading": {
        "enabled": True,
        "max_active_personas": 3,
        "auto_optimize": False,
        "auto_optimize_interval": "30min",
        "pinned": ["persona-manager"],
        "index_density": "auto",
    },
    "fine_tuning": {
        "experimental": False,
        "fallback_enabled": True,
        "model_registry": "models/fine-tuned.json",
    },
    "analytics": {"track_usage": True, "generate_training_data": False, "compare_strategies": True},
    "models": {
        "research": "claude-opus-4-1",
        "production": "claude-sonnet-4-5",
        "fallback": "claude-sonnet-4-5",
    },
    "adaptive": {"experimental": "fine_tuned", "production": "lazy_loading", "default": "hybrid"},
    "profiles": {},
}

_INTERVAL = re.compile(r"^(\d+)\s*(s|sec|min|m|h|hr)$")


def interval_seconds(text: str) -> int:
    """Parse an interval such as ``30min``, ``45s`` or ``2h``."""
    m = _INTERVAL.match(text.strip())
    if not m:
        raise ConfigError(f"interval {text!r} is not like 30min, 45s or 2h")
    unit = {"s": 1, "sec": 1, "min": 60, "m": 60, "h": 3600, "hr": 3600}[m.group(2)]
    return int(m.group(1)) * unit


def _check(cond: bool, key: str, problem: str) -> None:
    if not cond:
        raise ConfigError(f"{WORKSPACE_CONFIG_NAME}: {key} {problem}")


def validate_workspace_config(data: Any) -> dict[str, Any]:
    """Merge over defaults and validate; raises ConfigError naming the key and problem."""
    _check(isinstance(data, dict), "(top level)", "must be a JSON object")
    merged = copy.deepcopy(DEFAULT_WORKSPACE_CONFIG)
    for section, value in data.items():
        _check(section in merged, section, "is not a known section")
        _check(isinstance(value, dict), section, "must be an object")
        if section == "profiles":
            merged[section] = value
        else:
            for key in value:
                _check(key in merged[section], f"{section}.{key}", "is not a known key")
            merged[section].update(value)
    cm, ll, ft, an = (merged[k] for k in ("context_management", "lazy_loading", "fine_tuning", "analytics"))
    _check(cm["strategy"] in STRATEGIES, "context_management.strategy", f"must be one of {', '.join(STRATEGIES)} (got {cm['strategy']!r})")
    _check(isinstance(cm["mode"], str), "context_management.mode", "must be text")
    cap = ll["max_active_personas"]
    _check(isinstance(cap, int) and not isinstance(cap, bool) and cap >= 1, "lazy_loading.max_active_personas", f"must be a whole number >= 1 (got {cap!r})")
    flags = {"lazy_loading": ("enabled", "auto_optimize"), "fine_tuning": ("experimental", "fallback_enabled"), "analytics": tuple(an)}
    for section, keys in flags.items():
        for k in keys:
            value = merged[section][k]
            _check(isinstance(value, bool), f"{section}.{k}", f"must be true or false (got {value!r})")
    try:
        interval_seconds(str(ll["auto_optimize_interval"]))
    except ConfigError as exc:
        raise ConfigError(f"{WORKSPACE_CONFIG_NAME}: lazy_loading.auto_optimize_interval: {exc}") from None
    _check(isinstance(ll["pinned"], list) and all(isinstance(x, str) for x in ll["pinned"]), "lazy_loading.pinned", "must be a list of persona names")
    _check(ll["index_density"] in DENSITIES, "lazy_loading.index_density", f"must be one of {', '.join(DENSITIES)}")
    _check(isinstance(ft["model_registry"], str), "fine_tuning.model_registry", "must be a path")
    for k, v in merged["models"].items():
        _check(isinstance(v, str) and v, f"models.{k}", "must be a model name")
    for k, v in merged["adaptive"].items():
        _check(v in STRATEGIES and v != "adaptive", f"adaptive.{k}", "must name a concrete strategy")
    for k, v in merged["profiles"].items():
        _check(isinstance(v, list) and all(isinstance(x, str) for x in v), f"profiles.{k}", "must be a list of persona names")
    return merged


def load_workspace_config(workspace: Path) -> dict[str, Any]:
    """The workspace's validated config; defaults when the file does not exist."""
    path = workspace / WORKSPACE_CONFIG_NAME
    if not os.path.lexists(path):
        return copy.deepcopy(DEFAULT_WORKSPACE_CONFIG)
    return validate_workspace_config(read_json_object(path))


MAX_CONFIG_BYTES = 4 * 1024 * 1024


def read_json_object(path: Path) -> dict[str, Any]:
    """A JSON object from a config file written by someone else: bounded, regular files
    only, UTF-8; anything else is a ConfigError naming the file and the problem."""
    from ctxtui.core.safe_io import read_regular

    try:
        raw = read_regular(path, MAX_CONFIG_BYTES)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: must be a JSON object (found {type(data).__name__})")
    return data
