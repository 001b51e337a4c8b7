"""Settings in one typed place, and the per-workspace ``hybrid-config.json``.

User settings come from, lowest to highest priority: built-in defaults, the settings file
(``settings.json`` under platformdirs' config dir, or ``$CTXTUI_CONFIG_DIR``), environment
variables (``CTXTUI_LIBRARY``, ``CTXTUI_CLAUDE_HOME``, ``CTXTUI_CACHE_DIR``), then CLI flags.
The workspace file holds what a team commits: strategy, cap, pins, profiles.
"""

from __future__ import annotations

import contextvars
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec

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
    if env:
        return Path(env)
    import platformdirs  # only when no folder is given (~10 ms of imports)

    return Path(platformdirs.user_config_dir("ctxtui"))


def cache_dir() -> Path:
    """Folder of the token cache."""
    env = os.environ.get("CTXTUI_CACHE_DIR")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_cache_dir("ctxtui"))


def data_dir() -> Path:
    """Folder of the usage-event store."""
    env = os.environ.get("CTXTUI_DATA_DIR")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_data_dir("ctxtui"))


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
    demo: bool = False
    """Use the bundled demo personas as the library (``--demo``)."""
    claude_version: str | None = None
    """Claude Code version whose loader rules apply (``--claude-version``); None: detect."""

    @property
    def libraries(self) -> list[Path]:
        """Library roots in priority order: the workspace's cold store, then configured ones.
        The bundled personas are a demo: used with ``demo``, or when no library is given and
        the project has no agents of its own (so they never pose as the user's library)."""
        dirs = list(self.library_dirs)
        if self.demo or (not dirs and not any(self.agents_dir.glob("**/*.md"))):
            dirs.append(bundled_dir("personas"))
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

    @property
    def session_folder(self) -> Path:
        """Where the project's sessions are written: ``transcripts`` / the project's name.

        Claude Code keeps its files under ``$CLAUDE_CONFIG_DIR`` when that is set; we follow it
        unless a transcripts folder or a Claude home other than ``~/.claude`` was configured.
        """
        from ctxtui.core.sessions import project_transcripts

        root = self.transcripts
        env = os.environ.get("CLAUDE_CONFIG_DIR")
        if env and self.transcripts_dir is None and self.claude_home == Path.home() / ".claude":
            root = Path(env).expanduser() / "projects"
        return project_transcripts(root, self.workspace)


def settings_file() -> Path:
    """The user settings file."""
    return config_dir() / "settings.json"


class SettingsFile(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, omit_defaults=True):
    """The user settings file: every key optional, each one a :class:`Settings` field."""

    workspace: str | msgspec.UnsetType = msgspec.UNSET
    library_dirs: list[str] | msgspec.UnsetType = msgspec.UNSET
    claude_home: str | msgspec.UnsetType = msgspec.UNSET
    include_user_scope: bool | msgspec.UnsetType = msgspec.UNSET
    window: Annotated[int, msgspec.Meta(gt=0)] | msgspec.UnsetType = msgspec.UNSET
    target: Annotated[int, msgspec.Meta(gt=0)] | msgspec.UnsetType = msgspec.UNSET
    calibration: dict[str, float] | msgspec.UnsetType = msgspec.UNSET
    default_factor: Annotated[float, msgspec.Meta(gt=0)] | msgspec.UnsetType = msgspec.UNSET
    theme: str | msgspec.UnsetType = msgspec.UNSET
    cache_path: str | None | msgspec.UnsetType = msgspec.UNSET
    transcripts_dir: str | None | msgspec.UnsetType = msgspec.UNSET
    watch: bool | msgspec.UnsetType = msgspec.UNSET
    keymap: dict[str, str] | msgspec.UnsetType = msgspec.UNSET
    demo: bool | msgspec.UnsetType = msgspec.UNSET
    claude_version: Annotated[str, msgspec.Meta(pattern=_VERSION)] | None | msgspec.UnsetType = msgspec.UNSET


_PATHS = {"workspace", "claude_home", "cache_path", "transcripts_dir"}


def load_settings(**overrides: Any) -> Settings:
    """Defaults < settings file < environment < overrides (None values are ignored)."""
    s = Settings(cache_path=cache_dir() / "tokens.sqlite")
    path = settings_file()
    if os.path.lexists(path):
        data = read_json_object(path)
        try:
            typed = msgspec.convert(data, SettingsFile)
        except msgspec.ValidationError as exc:
            raise config_error(str(path), exc, data, SettingsFile) from None
        _apply(s, msgspec.structs.asdict(typed))
    env_lib = os.environ.get("CTXTUI_LIBRARY")
    if env_lib:
        s.library_dirs = [Path(p).expanduser() for p in env_lib.split(os.pathsep) if p]
    if os.environ.get("CTXTUI_CLAUDE_HOME"):
        s.claude_home = Path(os.environ["CTXTUI_CLAUDE_HOME"]).expanduser()
    unknown = [k for k in overrides if k not in SettingsFile.__struct_fields__]
    if unknown:
        raise TypeError(f"unknown setting override {unknown[0]!r}")  # a bug in a face
    _apply(s, {k: v for k, v in overrides.items() if v is not None})
    s.workspace = Path(s.workspace).expanduser().absolute()
    s.library_dirs = [Path(p).expanduser().absolute() for p in s.library_dirs]
    return s


def _apply(s: Settings, values: dict[str, Any]) -> None:
    """Set typed values on Settings (paths expanded; UNSET skipped)."""
    for key, value in values.items():
        if value is msgspec.UNSET:
            continue
        if key in _PATHS and value is not None:
            value = Path(value).expanduser()
        elif key == "library_dirs":
            value = [Path(v).expanduser() for v in value]
        elif key == "calibration":
            value = dict(value)
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
    try:
        msgspec.convert(data, SettingsFile)
    except msgspec.ValidationError as exc:
        raise config_error(str(path), exc, data, SettingsFile) from None
    atomic_write(path, (json.dumps(data, indent=2) + "\n").encode())


# ---------------------------------------------------------------- workspace config

Strategy = Literal["eager", "lazy_loading", "fine_tuned", "hybrid", "adaptive"]
Concrete = Literal["eager", "lazy_loading", "fine_tuned", "hybrid"]
Density = Literal["auto", "full", "names", "search"]
Tier = Literal["file", "hidden", "skill"]
TIERS: tuple[str, ...] = ("file", "hidden", "skill")
ModelName = Annotated[str, msgspec.Meta(min_length=1)]
PersonaNames = list[str]
_VERSION = r"^\d+\.\d+\.\d+$"


class _Section(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A section of ``hybrid-config.json``: unknown keys are refused with their name."""


class ContextManagement(_Section):
    """``context_management``: the preferred strategy and the context mode."""

    strategy: Strategy = "lazy_loading"
    """The strategy a workspace without a recorded migration is on."""
    mode: str = "production"
    """The context mode ``adaptive`` picks a strategy by."""


class LazyLoading(_Section):
    """``lazy_loading``: the cap, the pins and the CLAUDE.md index."""

    enabled: bool = True
    max_active_personas: Annotated[int, msgspec.Meta(ge=1)] = 3
    """The max-active cap: hot personas ctxtui lets into ``.claude/agents``."""
    auto_optimize: bool = False
    """Propose (never apply) a hot set from usage every interval."""
    auto_optimize_interval: str = "30min"
    pinned: PersonaNames = msgspec.field(default_factory=lambda: ["persona-manager"])
    """Personas that stay hot (they count against the cap)."""
    index_density: Density = "auto"

    def __post_init__(self) -> None:
        try:
            interval_seconds(self.auto_optimize_interval)
        except ConfigError as exc:
            raise ValueError(f"auto_optimize_interval: {exc}") from None


class FineTuning(_Section):
    """``fine_tuning``: the model registry and whether to fall back to lazy loading."""

    experimental: bool = False
    fallback_enabled: bool = True
    model_registry: str = "models/fine-tuned.json"
    """The registry file, relative to the workspace."""


class Analytics(_Section):
    """``analytics``: what usage data ctxtui keeps."""

    track_usage: bool = True
    generate_training_data: bool = False
    compare_strategies: bool = True


class Models(_Section):
    """``models``: model names per context mode."""

    research: ModelName = "claude-opus-4-1"
    production: ModelName = "claude-sonnet-4-5"
    fallback: ModelName = "claude-sonnet-4-5"

    def get(self, mode: str) -> str | None:
        """The model for a context mode (None for an unknown mode)."""
        return getattr(self, mode, None) if mode in self.__struct_fields__ else None


class Adaptive(_Section):
    """``adaptive``: the concrete strategy per context mode."""

    experimental: Concrete = "fine_tuned"
    production: Concrete = "lazy_loading"
    default: Concrete = "hybrid"

    def pick(self, mode: str) -> str:
        """The strategy for a context mode, else ``default``."""
        return getattr(self, mode) if mode in ("experimental", "production") else self.default


class WorkspaceConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """``hybrid-config.json``: what a team commits. Every key is optional."""

    context_management: ContextManagement = msgspec.field(default_factory=ContextManagement)
    lazy_loading: LazyLoading = msgspec.field(default_factory=LazyLoading)
    fine_tuning: FineTuning = msgspec.field(default_factory=FineTuning)
    analytics: Analytics = msgspec.field(default_factory=Analytics)
    models: Models = msgspec.field(default_factory=Models)
    adaptive: Adaptive = msgspec.field(default_factory=Adaptive)
    profiles: dict[str, PersonaNames] = msgspec.field(default_factory=dict)
    """Named hot sets (``ctxtui profile save|use``)."""
    strategy: Strategy | None = None
    """Short form of ``context_management.strategy`` (as README once documented it)."""
    library: list[str] = msgspec.field(default_factory=list)
    """Library folders, portable: relative to the project or ``~/...``."""
    claude_version: Annotated[str, msgspec.Meta(pattern=_VERSION)] | None = None
    """The Claude Code version (X.Y.Z) the project targets; None: detect it."""
    default_tier: Tier = "file"
    """How a lazy strategy keeps a persona out of the startup context (file, hidden, skill)."""
    tiers: dict[str, Tier] = msgspec.field(default_factory=dict)
    """Per-persona tier, overriding ``default_tier``."""

    def __post_init__(self) -> None:
        if self.strategy is not None:
            if "context_management" in _given.get() and self.strategy != self.context_management.strategy:
                raise ValueError(f"strategy: says {self.strategy!r} but context_management.strategy "
                                 f"says {self.context_management.strategy!r}; keep one")
            self.context_management.strategy = self.strategy
        for n, lib in enumerate(self.library):
            if not lib or os.path.isabs(lib) or (lib.startswith("~") and not lib.startswith("~/")):
                raise ValueError(f"library[{n}]: {lib!r} must be relative to the project or start with ~/")

    @property
    def preferred_strategy(self) -> str:
        """The configured strategy (either spelling)."""
        return self.context_management.strategy

    def tier_for(self, name: str) -> str:
        """The configured tier of a persona."""
        return self.tiers.get(name, self.default_tier)

    def library_paths(self, workspace: Path) -> list[Path]:
        """``library`` as absolute folders, ``..`` folded (a linked library keeps its own name)."""
        return [Path(os.path.normpath((workspace / p if not p.startswith("~") else Path(p).expanduser()).absolute()))
                for p in self.library]

    def to_json(self) -> dict[str, Any]:
        """The config as JSON data (defaults filled in)."""
        return msgspec.to_builtins(self)


# which top-level keys the file being decoded sets (for the two spellings of the strategy)
_given: contextvars.ContextVar[frozenset[str]] = contextvars.ContextVar("_given", default=frozenset())

_INTERVAL = r"^(\d+)\s*(s|sec|min|m|h|hr)$"  # patterns here are compiled when first used


def interval_seconds(text: str) -> int:
    """Parse an interval such as ``30min``, ``45s`` or ``2h``."""
    m = re.match(_INTERVAL, text.strip())
    if not m:
        raise ConfigError(f"interval {text!r} is not like 30min, 45s or 2h")
    unit = {"s": 1, "sec": 1, "min": 60, "m": 60, "h": 3600, "hr": 3600}[m.group(2)]
    return int(m.group(1)) * unit


DEFAULT_WORKSPACE_CONFIG: dict[str, Any] = WorkspaceConfig().to_json()
_AT = r"^(?P<msg>.*?)(?: - at `\$(?P<path>[^`]*)`)?$"
_UNKNOWN = r"^Object contains unknown field `(?P<key>.*)`$"
_OWN = r"^(?P<key>[A-Za-z_]+(?:\[\d+\])?): (?P<msg>.*)$"  # raised in __post_init__


def _dict_key(path: str, data: Any, top: type) -> str:
    """``.profiles[...][0]`` -> ``.profiles["backend"][0]``: the first key whose value fails."""
    m = re.match(r"^\.(\w+)\[\.\.\.\]", path)
    if not m or not isinstance(data, dict) or not isinstance(data.get(m.group(1)), dict):
        return path
    field_type = msgspec.inspect.type_info(top)
    info = next((f.type for f in getattr(field_type, "fields", ()) if f.name == m.group(1)), None)
    value_type = getattr(info, "value_type", None)
    for key, value in data[m.group(1)].items():
        try:
            msgspec.convert(value, _py_type(value_type))
        except (msgspec.ValidationError, TypeError):
            return path.replace("[...]", f"[{json.dumps(key)}]", 1)
    return path


def _py_type(info: Any) -> Any:
    if isinstance(info, msgspec.inspect.LiteralType):
        return Literal[tuple(info.values)]
    if isinstance(info, msgspec.inspect.ListType):
        return list[_py_type(info.item_type)]  # type: ignore[misc]
    if isinstance(info, msgspec.inspect.StrType):
        return str
    return Any


def _allowed(path: str, top: type) -> str | None:
    """The allowed values of the Literal field at ``path``, as text."""
    info: Any = msgspec.inspect.type_info(top)
    for part in re.findall(r"\.(\w+)|\[[^]]*\]", path):
        if part:
            info = next((f.type for f in getattr(info, "fields", ()) if f.name == part), None)
        else:
            info = getattr(info, "value_type", None) or getattr(info, "item_type", None)
        if isinstance(info, msgspec.inspect.UnionType):
            info = next((t for t in info.types if not isinstance(t, msgspec.inspect.NoneType)), None)
    return ", ".join(map(str, info.values)) if isinstance(info, msgspec.inspect.LiteralType) else None


def config_error(origin: str, exc: msgspec.ValidationError, data: Any = None,
                 top: type | None = None) -> ConfigError:
    """One line naming the file and the key: ``hybrid-config.json: lazy_loading.x: ...``."""
    m = re.match(_AT, str(exc), re.S)
    msg, path = (m.group("msg"), m.group("path") or "") if m else (str(exc), "")
    if top is not None:
        path = _dict_key(path, data, top)
    unknown = re.match(_UNKNOWN, msg, re.S)
    if unknown:
        path, msg = f"{path}.{unknown.group('key')}", "is not a known key"
    missing = re.match(r"^Object missing required field `(?P<key>.*)`$", msg, re.S)
    if missing:
        path, msg = f"{path}.{missing.group('key')}", "is required"
    own = re.match(_OWN, msg, re.S)
    if own and not unknown and not missing:
        path, msg = f"{path}.{own.group('key')}", own.group("msg")
    key = path.lstrip(".") or "(top level)"
    msg = " ".join(msg.replace("`", "").split())
    enum = re.match(r"Invalid enum value (.*)", msg)
    if enum:
        allowed = _allowed(path, top) if top is not None else None
        msg = f"must be one of {allowed} (got {enum.group(1)})" if allowed else f"{enum.group(1)} is not allowed"
    if "matching regex" in msg and key.endswith("version"):
        msg = "must be a version like 2.1.112"
    return ConfigError(f"{origin}: {key}: {msg}")


def decode_workspace_config(data: Any, origin: str = WORKSPACE_CONFIG_NAME) -> WorkspaceConfig:
    """Typed config from JSON data; raises ConfigError naming the key and the problem."""
    token = _given.set(frozenset(data) if isinstance(data, dict) else frozenset())
    try:
        return msgspec.convert(data, WorkspaceConfig)
    except msgspec.ValidationError as exc:
        raise config_error(origin, exc, data, WorkspaceConfig) from None
    finally:
        _given.reset(token)


def validate_workspace_config(data: Any) -> WorkspaceConfig:
    """Kept name of :func:`decode_workspace_config`."""
    return decode_workspace_config(data)


def library_roots(settings: Settings) -> list[Path]:
    """The library folders: ``--library`` flags, else the project's recorded ``library`` (after
    the cold store), else the bundled demo (``Settings.libraries``). The same rule as
    ``Workspace.library_roots``, without indexing, for paths that open no workspace (the
    prompt hook, ``paths``); a broken config reads as none recorded."""
    if not settings.library_dirs:
        try:
            cfg = load_workspace_config(settings.workspace)
        except ConfigError:
            cfg = None
        if cfg is not None and cfg.library:
            return [settings.cold_store, *cfg.library_paths(settings.workspace)]
    return settings.libraries


def load_workspace_config(workspace: Path) -> WorkspaceConfig:
    """The workspace's typed config; defaults when the file does not exist."""
    path = workspace / WORKSPACE_CONFIG_NAME
    if not os.path.lexists(path):
        return WorkspaceConfig()
    return decode_workspace_config(read_json_object(path))


MAX_CONFIG_BYTES = 4 * 1024 * 1024


def read_json_object(path: Path) -> dict[str, Any]:
    """A JSON object from a config file written by someone else: bounded, regular files
    only, UTF-8; anything else is a ConfigError naming the file and the problem."""
    from ctxtui.core.safe_io import NotAJsonObject, json_object, read_regular

    try:
        return json_object(read_regular(path, MAX_CONFIG_BYTES))
    except NotAJsonObject as exc:
        raise ConfigError(f"{path}: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror or exc})") from None
