"""``ctxtui paths``: where every file and folder ctxtui uses is."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from ctxtui.cli.base import command
from ctxtui.cli.output import emit_json, wants_json
from ctxtui.core import config, tokens
from ctxtui.core.config import Settings


def library_roots(settings: Settings) -> list[Path]:
    """The library folders commands use: flags, else the project's recorded ``library``,
    else the bundled demo (the same rule as ``Workspace.library_roots``, without indexing)."""
    if not settings.library_dirs:
        try:
            cfg = config.load_workspace_config(settings.workspace)
        except config.ConfigError:
            cfg = None
        if cfg is not None and cfg.library:
            return [settings.cold_store, *cfg.library_paths(settings.workspace)]
    return settings.libraries


@command("paths")
def cmd_paths(args: argparse.Namespace, settings: Settings) -> int:
    data = {
        "workspace": str(settings.workspace),
        "agents": str(settings.agents_dir),
        "user_agents": str(settings.user_agents_dir),
        "libraries": [str(p) for p in library_roots(settings)],
        "cold_store": str(settings.cold_store),
        "state": str(settings.state_dir),
        "workspace_config": str(settings.workspace / config.WORKSPACE_CONFIG_NAME),
        "settings_file": str(config.settings_file()),
        "token_cache": str(settings.cache_path),
        "events": str(config.data_dir() / "events.sqlite"),
        "transcripts": str(settings.transcripts),
        "bpe_file": tokens.encoding_source(),
        "user_themes": str(config.config_dir() / "themes"),
    }
    if wants_json(args):
        emit_json(data)
    else:
        width = max(map(len, data))
        for k, v in data.items():
            print(f"{k:<{width}}  {v if isinstance(v, str) else os.pathsep.join(v)}")
    return 0
