"""Themes as data: JSON files in the bundled ``themes/`` folder and the user's theme folder."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from textual.theme import Theme

from ctxtui.core.config import bundled_dir, config_dir

_COLOURS = ("primary", "secondary", "accent", "foreground", "background", "surface", "panel",
            "success", "warning", "error", "boost")
THEME_VARIABLES = {"budget-ok": "#6CC08B", "budget-over": "#E5636B", "hot-pane": "#1E2A1E",
                   "drop-target": "#3B4A5C"}


@dataclass
class ThemeLoad:
    """Themes read from disk and the files that could not be used (reported once)."""

    themes: list[Theme] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def theme_dirs() -> list[Path]:
    """Bundled themes first, then the user's (a user theme may replace a bundled one)."""
    return [bundled_dir("themes"), config_dir() / "themes"]


def parse_theme(path: Path) -> Theme:
    """One theme file -> a Textual Theme. Raises ValueError with a one-line reason."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path.name}: not readable JSON ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("name"), str) or not isinstance(data.get("primary"), str):
        raise ValueError(f"{path.name}: needs at least 'name' and 'primary'")
    variables = {**THEME_VARIABLES, **{str(k): str(v) for k, v in (data.get("variables") or {}).items()}}
    kwargs = {k: data[k] for k in _COLOURS if isinstance(data.get(k), str)}
    try:
        theme = Theme(name=data["name"], dark=bool(data.get("dark", True)), variables=variables, **kwargs)
        theme.to_color_system()  # validates every colour now, not at paint time
    except Exception as exc:  # noqa: BLE001 - Textual raises several kinds for bad colours
        raise ValueError(f"{path.name}: {exc}") from None
    return theme


def load_themes(dirs: list[Path] | None = None) -> ThemeLoad:
    """Every readable theme file; broken ones are listed in ``problems`` and skipped."""
    out = ThemeLoad()
    for folder in dirs or theme_dirs():
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.json")):
            try:
                out.themes.append(parse_theme(path))
            except ValueError as exc:
                out.problems.append(str(exc))
    return out
